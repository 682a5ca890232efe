// `node bench/tls-certs.ts`: what a new visitor TLS connection costs the edge with one custom
// certificate, and with 10,000 hostnames each holding its own (one zone each), in interleaved
// rounds of one run. The figure is the edge process's CPU per completed handshake (full
// handshakes: the load generator never resumes a session), reported as the ratio of the two.
// The data is written straight through the store (as bench/scale.ts does); the certificates share
// one key pair, so setup signs 10,000 times instead of generating 10,000 keys.
//
//   node bench/tls-certs.ts                       # 3 rounds of 5 s, 10,000 certificates
//   node bench/tls-certs.ts --certificates 2000 --rounds 1 --duration 2
//   node bench/tls-certs.ts --compare /tmp/op-old  # also the 1-certificate case on another checkout's edge
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { openNodeStore } from '../src/cli/control-plane.ts';
import { ensureInstallationPki } from '../src/api/index.ts';
import { validateEdgeCertificateUpload } from '../src/domain/index.ts';
import { createCa, exportPrivateKeyPem, generateKeyPair, signPublicKey, type PemPair } from '../src/pki/index.ts';
import { makeBenchPki } from './lib/pki.ts';
import { cpuSecondsOf, pinningAvailable, treePids, type CpuSet } from './lib/proc.ts';
import { median } from './lib/report.ts';
import { startOrigin } from './peers/origin.ts';
import { startOriginpullEdge, type EdgePeer } from './peers/originpull.ts';

const { values: opt } = parseArgs({
  options: {
    certificates: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '16' },
    keep: { type: 'boolean', default: false },
    /** Another checkout (with node_modules) whose edge also serves the 1-certificate installation: an A/B of the handshake path. */
    compare: { type: 'string' },
  },
});
const certificates = Number(opt.certificates);
const rounds = Number(opt.rounds);
const durationS = Number(opt.duration);
const concurrency = Number(opt.concurrency);
const pin = pinningAvailable() && availableParallelism() >= 2;
const PROXY_CPUS: CpuSet = pin ? '0' : null;
const LOAD_CPUS: CpuSet = pin ? '1' : null;

const started = Date.now();
const log = (msg: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
const workDir = mkdtempSync(join(tmpdir(), 'originpull-bench-tls-'));
const hostOf = (i: number) => `www.z${i}.certs.test`;
const zoneOf = (i: number) => `z${i}.certs.test`;

/** Writes `count` zones, each with one proxied hostname and its own custom certificate. */
async function writeInstallation(dataDir: string, count: number, ca: PemPair, originPort: number): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const cp = await openNodeStore({ ...loadConfig({ flags: { dataDir }, env: {} }) }, { migrate: true });
  const { store, secretBox } = cp;
  try {
    const account = await store.ensureDefaultAccount();
    await ensureInstallationPki(store, secretBox, { originKeyType: 'p256' });
    const keys = await generateKeyPair('p256');
    const keyPem = await exportPrivateKeyPem(keys.privateKey);
    const keySealed = secretBox.seal(keyPem);
    for (let i = 0; i < count; i += 64) {
      const batch = [];
      for (let k = i; k < Math.min(count, i + 64); k++) {
        batch.push(
          signPublicKey({ ca, commonName: hostOf(k), usage: 'server', dnsNames: [hostOf(k)], publicKey: keys.publicKey, days: 30 }).then(async (certPem) => {
            const zone = await store.createZone({ accountId: account.id, name: zoneOf(k) });
            await store.updateZoneSettings(zone.id, { sslMode: 'full' });
            await store.createDnsRecord({ zoneId: zone.id, name: hostOf(k), type: 'A', content: '127.0.0.1', proxied: true, ttl: 1, originHttpPort: 80, originHttpsPort: originPort, comment: null });
            const checked = validateEdgeCertificateUpload({ certificate: certPem, privateKey: keyPem }, zone.name);
            if (!checked.ok) throw new Error(`certificate ${k} refused: ${checked.error.message}`);
            const v = checked.value;
            await store.insertEdgeCertificate({
              zoneId: zone.id,
              certificatePem: v.certificatePem,
              privateKeySealed: keySealed,
              bundleMethod: 'ubiquitous',
              hosts: v.hosts,
              issuer: v.issuer,
              serialNumber: v.serialNumber,
              signature: v.signature,
              fingerprintSha256: v.fingerprintSha256,
              notBefore: v.notBefore,
              expiresOn: v.expiresOn,
            });
          }),
        );
      }
      await Promise.all(batch);
    }
  } finally {
    await store.close();
  }
}

// The load generator, a child process on the other core: `concurrency` loops of connect →
// verified full handshake → close, for `duration` seconds, SNI cycling through the first
// `names` host names (hostOf's pattern).
const LOADER = `
import tls from 'node:tls';
const [port, seconds, concurrency, ca, names] = JSON.parse(process.argv[1]);
let done = 0, failed = 0, next = 0;
const end = Date.now() + seconds * 1000;
function one() {
  if (Date.now() >= end) return Promise.resolve();
  const servername = 'www.z' + (next++ % names) + '.certs.test';
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername, ca, rejectUnauthorized: true, session: undefined }, () => { done++; s.destroy(); resolve(); });
    s.on('error', () => { failed++; s.destroy(); resolve(); });
  }).then(one);
}
await Promise.all(Array.from({ length: concurrency }, one));
process.stdout.write(JSON.stringify({ done, failed }));
`;

async function load(edge: EdgePeer, names: number, ca: string): Promise<{ done: number; failed: number; cpuPerHandshakeUs: number }> {
  const pids = treePids(edge.proc!.child.pid!);
  const before = cpuSecondsOf(pids).total;
  const args = ['--input-type=module', '-e', LOADER, JSON.stringify([edge.httpsPort, durationS, concurrency, ca, names])];
  const child = LOAD_CPUS === null ? spawn(process.execPath, args) : spawn('taskset', ['-c', LOAD_CPUS, process.execPath, ...args]);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  await new Promise((resolve) => child.once('exit', resolve));
  const cpu = cpuSecondsOf(pids).total - before;
  const r = JSON.parse(out) as { done: number; failed: number };
  return { ...r, cpuPerHandshakeUs: r.done === 0 ? NaN : (cpu * 1e6) / r.done };
}

const stoppers: (() => Promise<void>)[] = [];
try {
  const pki = await makeBenchPki(workDir);
  const origin = await startOrigin(workDir, pki, LOAD_CPUS);
  stoppers.push(() => origin.stop());
  const visitorCa = await createCa({ commonName: 'originpull bench visitor CA', keyType: 'p256' });
  log(`writing the 1-certificate installation and the ${certificates}-certificate one…`);
  await writeInstallation(join(workDir, 'one'), 1, visitorCa, origin.openPort);
  await writeInstallation(join(workDir, 'many'), certificates, visitorCa, origin.openPort);
  log('starting both edges…');
  const start = (name: string, dir: string, sourceTree?: string) =>
    startOriginpullEdge({ name, dataDir: join(workDir, dir), workers: 0, cpus: PROXY_CPUS, logFile: join(workDir, `${name}.log`), host: hostOf(0), logLevel: 'warn', readyTimeoutMs: 180_000, sourceTree });
  const one = await start('edge-1-cert', 'one');
  stoppers.push(() => one.stop());
  const many = await start(`edge-${certificates}-certs`, 'many');
  stoppers.push(() => many.stop());
  const other = opt.compare === undefined ? null : await start('edge-1-cert-compare', 'one', opt.compare);
  if (other !== null) stoppers.push(() => other.stop());
  // Warm-up: the first handshake per name builds nothing (contexts are made at snapshot build),
  // but the JIT and the session caches settle.
  await load(one, 1, visitorCa.certPem);
  await load(many, certificates, visitorCa.certPem);
  if (other !== null) await load(other, 1, visitorCa.certPem);
  const samples: { one: number[]; many: number[]; other: number[] } = { one: [], many: [], other: [] };
  const runs: ['one' | 'many' | 'other', EdgePeer, number][] = [['one', one, 1], ['many', many, certificates]];
  if (other !== null) runs.push(['other', other, 1]);
  for (let r = 0; r < rounds; r++) {
    for (const [which, edge, names] of runs) {
      const result = await load(edge, names, visitorCa.certPem);
      if (result.failed > 0) throw new Error(`${edge.name}: ${result.failed} handshakes failed`);
      samples[which].push(result.cpuPerHandshakeUs);
      log(`round ${r + 1} ${edge.name}: ${result.done} handshakes, ${result.cpuPerHandshakeUs.toFixed(0)} µs of edge CPU each`);
    }
  }
  const a = median(samples.one);
  const b = median(samples.many);
  process.stdout.write(
    `\nnew visitor TLS connection, edge CPU per full handshake (median of ${rounds} rounds of ${durationS} s, ${concurrency} concurrent):\n` +
      `  1 certificate:              ${a.toFixed(0)} µs\n` +
      `  ${certificates} certificates (SNI cycling through all): ${b.toFixed(0)} µs\n` +
      `  ratio: ${(b / a).toFixed(3)} (target ≤ 1.10)\n` +
      (other === null ? '' : `  1 certificate on ${opt.compare}: ${median(samples.other).toFixed(0)} µs (this checkout / that one: ${(a / median(samples.other)).toFixed(3)})\n`),
  );
} finally {
  for (const stop of stoppers.reverse()) await stop().catch(() => {});
  if (!opt.keep) rmSync(workDir, { recursive: true, force: true });
  else log(`kept ${workDir}`);
}
