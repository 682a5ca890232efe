// Scale scenario: an installation with 100,000 proxied hostnames and 10,000 client certificates
// (10,000 zones × 10 hostnames, each zone with zone-level AOP and its own certificate). The data is
// written straight through the store (openStore + the Store's insert methods — the same rows the
// API writes, validated by the same domain function), not through HTTP, to keep setup to seconds;
// the certificates share one key pair (10,000 signatures, not 10,000 key generations).
// Measured: snapshot build (in this process, and as the edge logs it), the edge's RSS, and
// keep-alive throughput against the 1-hostname edge in interleaved rounds.
import { closeSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { loadConfig } from '../src/config.ts';
import { openNodeStore } from '../src/cli/control-plane.ts';
import { ensureInstallationPki } from '../src/api/index.ts';
import { validateCertificateUpload } from '../src/domain/index.ts';
import { exportPrivateKeyPem, generateKeyPair, signPublicKey } from '../src/pki/index.ts';
import { buildSnapshot } from '../src/sync/index.ts';
import type { BenchPki } from './lib/pki.ts';
import { median, type RunSample } from './lib/report.ts';
import type { ScaleFigures } from './lib/targets.ts';
import { rssBytesOf, treePids, type CpuSet } from './lib/proc.ts';
import type { Origin } from './peers/origin.ts';
import type { Peer } from './peers/peer.ts';
import { startOriginpullEdge, type EdgePeer } from './peers/originpull.ts';

export interface ScaleOptions {
  workDir: string;
  pki: BenchPki;
  origin: Origin;
  /**
   * Starts a fresh 1-hostname edge to measure in the same rounds. Fresh, because the main run's
   * edge has served every scenario by then and its heap is no longer comparable.
   */
  startBaseline(): Promise<Peer>;
  proxyCpus: CpuSet;
  loadCpus: CpuSet;
  hostnames: number;
  certificates: number;
  rounds: number;
  durationS: number;
  warmupS: number;
  connections: number;
  log(msg: string): void;
  measure(peer: Peer, round: number): Promise<RunSample>;
  stoppers: (() => Promise<void>)[];
}

export interface ScaleResult {
  figures: ScaleFigures;
  text: string;
  json: Record<string, unknown>;
}

export async function runScale(o: ScaleOptions): Promise<ScaleResult> {
  const dataDir = join(o.workDir, 'scale-data');
  mkdirSync(dataDir, { recursive: true });
  const config = loadConfig({ flags: { dataDir }, env: {} });
  const cp = await openNodeStore({ ...config }, { migrate: true });
  const { store, secretBox } = cp;
  const zonesCount = o.certificates;
  const perZone = Math.ceil(o.hostnames / zonesCount);
  let loadMs = 0;
  let loadConfigMs = NaN;
  let buildMs = NaN;
  let routes = 0;
  try {
    const account = await store.ensureDefaultAccount();
    await ensureInstallationPki(store, secretBox, { originKeyType: 'p256' });

    o.log(`scale: signing ${zonesCount} client certificates (one shared P-256 key)…`);
    let t = performance.now();
    const keys = await generateKeyPair('p256');
    const keyPem = await exportPrivateKeyPem(keys.privateKey);
    const keySealed = secretBox.seal(keyPem);
    const certs: string[] = new Array(zonesCount);
    const BATCH = 64;
    for (let i = 0; i < zonesCount; i += BATCH) {
      const batch = [];
      for (let k = i; k < Math.min(zonesCount, i + BATCH); k++) {
        batch.push(signPublicKey({ ca: o.pki.clientCa, commonName: zoneName(k), usage: 'client', publicKey: keys.publicKey }).then((pem) => (certs[k] = pem)));
      }
      await Promise.all(batch);
    }
    const signMs = performance.now() - t;

    o.log(`scale: writing ${zonesCount} zones, ${zonesCount * perZone} DNS records and ${zonesCount} zone certificates through the store…`);
    t = performance.now();
    let written = 0;
    for (let z = 0; z < zonesCount; z++) {
      const zone = await store.createZone({ accountId: account.id, name: zoneName(z) });
      await store.updateZoneSettings(zone.id, { sslMode: 'full', aopEnabled: true });
      const checked = validateCertificateUpload({ certificate: certs[z], privateKey: keyPem });
      if (!checked.ok) throw new Error(`scale certificate ${z} rejected: ${checked.error.message}`);
      const v = checked.value;
      await store.insertCertificate({
        zoneId: zone.id,
        kind: 'zone',
        certificatePem: v.certificatePem,
        privateKeySealed: keySealed,
        issuer: v.issuer,
        serialNumber: v.serialNumber,
        signature: v.signature,
        fingerprintSha256: v.fingerprintSha256,
        notBefore: v.notBefore,
        expiresOn: v.expiresOn,
      });
      for (let h = 0; h < perZone && written < o.hostnames; h++, written++) {
        await store.createDnsRecord({
          zoneId: zone.id,
          name: hostName(z, h),
          type: 'A',
          content: '127.0.0.1',
          proxied: true,
          ttl: 1,
          originHttpPort: 80,
          originHttpsPort: o.origin.verifyPort,
          comment: null,
        });
      }
    }
    loadMs = performance.now() - t;
    o.log(`scale: signed in ${(signMs / 1000).toFixed(1)} s, stored in ${(loadMs / 1000).toFixed(1)} s`);

    // The snapshot build as the edge does it (loadConfig + buildSnapshot), timed here three times.
    const loads: number[] = [];
    const builds: number[] = [];
    for (let i = 0; i < 3; i++) {
      t = performance.now();
      const data = await store.loadConfig();
      loads.push(performance.now() - t);
      t = performance.now();
      const snapshot = buildSnapshot(data, secretBox);
      builds.push(performance.now() - t);
      routes = snapshot.exact.size + snapshot.associated.size + snapshot.wildcards.size;
    }
    loadConfigMs = median(loads);
    buildMs = median(builds);
  } finally {
    await store.close();
  }

  const host = hostName(Math.floor(zonesCount / 2), 0);
  const logFile = join(o.workDir, 'originpull-edge-scale.log');
  o.log(`scale: starting an edge on ${routes} routes (load ${loadConfigMs.toFixed(0)} ms + build ${buildMs.toFixed(0)} ms here)…`);
  const edgeStart = performance.now();
  const edge = await startOriginpullEdge({ name: 'originpull-scale', dataDir, workers: 0, cpus: o.proxyCpus, logFile, host, logLevel: 'debug', readyTimeoutMs: 120_000 });
  const startMs = performance.now() - edgeStart;
  o.stoppers.push(() => edge.stop());
  const pids = treePids(edge.proc!.pid);
  const idleRss = rssBytesOf(pids);
  const edgeBuildMs = snapshotBuilds(logFile)[0] ?? NaN;

  const baseline = await o.startBaseline();
  o.stoppers.push(() => baseline.stop());
  const scaleRuns: RunSample[] = [];
  const baseRuns: RunSample[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    const order = round % 2 === 1 ? [edge, baseline] : [baseline, edge];
    for (const peer of order) {
      const s = await o.measure(peer, round);
      (peer === edge ? scaleRuns : baseRuns).push(s);
      o.log(`scale round ${round}/${o.rounds} ${peer === edge ? 'scale edge ' : '1-host edge'} ${Math.round(s.rps)} req/s  ${s.cpuUs.toFixed(1)} µs/req  ${(s.rssBytes / 1048576).toFixed(0)} MiB`);
    }
  }
  const changes = await measureChanges(o, config, edge, logFile);
  // The high-water mark includes the transient peak of loading and building that the samples
  // (after start, during load) can miss.
  const peakRss = peakRssBytesOf(edge.proc!.pid);
  await edge.stop();
  await baseline.stop();

  const scaleRps = median(scaleRuns.map((s) => s.rps));
  const baseRps = median(baseRuns.map((s) => s.rps));
  const loadRss = Math.max(...scaleRuns.map((s) => s.rssBytes));
  const figures: ScaleFigures = { snapshotBuildMs: Number.isNaN(edgeBuildMs) ? buildMs : edgeBuildMs, rssMiB: Math.max(idleRss, loadRss, peakRss || 0) / 1048576, throughputRatio: scaleRps / baseRps };
  const lines = [
    `${routes.toLocaleString('en-US')} routes (${o.hostnames.toLocaleString('en-US')} hostnames in ${zonesCount.toLocaleString('en-US')} zones), ${zonesCount.toLocaleString('en-US')} zone client certificates; written through the store in ${(loadMs / 1000).toFixed(1)} s (not through HTTP: see bench/README.md).`,
    '',
    '| figure | value |',
    '|---|---:|',
    `| store.loadConfig() (median of 3, bench process) | ${loadConfigMs.toFixed(0)} ms |`,
    `| buildSnapshot() (median of 3, bench process) | ${buildMs.toFixed(0)} ms |`,
    `| snapshot build as the edge logs it (debug "snapshot built") | ${Number.isNaN(edgeBuildMs) ? '–' : `${edgeBuildMs.toFixed(0)} ms`} |`,
    `| edge start to first proxied 200 | ${(startMs / 1000).toFixed(1)} s |`,
    `| edge RSS idle after start | ${(idleRss / 1048576).toFixed(0)} MiB |`,
    `| edge RSS under load (max) | ${(loadRss / 1048576).toFixed(0)} MiB |`,
    `| edge peak RSS since start (VmHWM) | ${Number.isNaN(peakRss) ? '–' : `${(peakRss / 1048576).toFixed(0)} MiB`} |`,
    `| keep-alive 1 KiB req/s, scale edge (median) | ${Math.round(scaleRps).toLocaleString('en-US')} |`,
    `| keep-alive 1 KiB req/s, fresh 1-hostname edge (same rounds) | ${Math.round(baseRps).toLocaleString('en-US')} |`,
    `| ratio | ${(scaleRps / baseRps).toFixed(3)}× |`,
    `| CPU µs/request, scale vs 1-hostname | ${median(scaleRuns.map((s) => s.cpuUs)).toFixed(1)} vs ${median(baseRuns.map((s) => s.cpuUs)).toFixed(1)} |`,
    `| a write (DNS record update) applied at the edge: median / slowest of ${changes.propagationMs.length} (healthz) | ${median(changes.propagationMs).toFixed(0)} / ${Math.max(...changes.propagationMs).toFixed(0)} ms |`,
    `| its snapshot build as the edge logs it: median / max | ${median(changes.buildMs).toFixed(1)} / ${Math.max(...changes.buildMs).toFixed(1)} ms |`,
  ];
  return {
    figures,
    text: lines.join('\n'),
    json: { routes, hostnames: o.hostnames, certificates: zonesCount, storeWriteMs: loadMs, changes, loadConfigMs, buildMs, edgeBuildMs, startMs, idleRssBytes: idleRss, peakRssBytes: peakRss, figures, scaleRuns, baseRuns },
  };
}

const CHANGE_WRITES = 20;

/**
 * Writes one DNS record at a time through the store (a comment: the route stays the same) and
 * times each until the edge's /healthz reports it applied; the edge's own log gives each build.
 */
async function measureChanges(
  o: ScaleOptions,
  config: ReturnType<typeof loadConfig>,
  edge: EdgePeer,
  logFile: string,
): Promise<{ propagationMs: number[]; buildMs: number[] }> {
  const healthUrl = edge.metricsUrl.replace(/\/metrics$/, '/healthz');
  const applied = async () => ((await (await fetch(healthUrl)).json()) as { appliedVersion: number }).appliedVersion;
  // The log holds every access line of the load rounds by now (hundreds of MB): read what follows.
  const logFrom = statSync(logFile).size;
  const { store } = await openNodeStore({ ...config }, { migrate: false });
  const propagationMs: number[] = [];
  try {
    o.log(`scale: ${CHANGE_WRITES} writes, each timed until the edge applies it…`);
    for (let i = 0; i < CHANGE_WRITES; i++) {
      const z = Math.floor((i * o.certificates) / CHANGE_WRITES);
      const [zone] = await store.listZones({ name: zoneName(z) });
      const [record] = await store.listDnsRecords(zone.id, { name: hostName(z, 0) });
      const t = performance.now();
      await store.updateDnsRecord(zone.id, record.id, { comment: `scale write ${i}` });
      const version = await store.currentVersion();
      while ((await applied()) < version) await new Promise((r) => setTimeout(r, 2));
      propagationMs.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await store.close();
  }
  return { propagationMs, buildMs: snapshotBuilds(logFile, logFrom) };
}

/** buildMs of every "snapshot built" line the edge logged (debug) from byte `from` on, in order. */
function snapshotBuilds(logFile: string, from = 0): number[] {
  const out: number[] = [];
  let fd: number;
  try {
    fd = openSync(logFile, 'r');
  } catch {
    return out; // no log
  }
  try {
    // In pieces: the whole file can be longer than the longest string V8 makes.
    const chunk = Buffer.allocUnsafe(1 << 20);
    const utf8 = new StringDecoder('utf8');
    let at = from;
    let rest = '';
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, at);
      if (n === 0) break;
      at += n;
      const lines = (rest + utf8.write(chunk.subarray(0, n))).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        if (!line.includes('"snapshot built"')) continue;
        const entry = JSON.parse(line) as { buildMs?: number };
        if (typeof entry.buildMs === 'number') out.push(entry.buildMs);
      }
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

const zoneName = (z: number) => `z${z}.scale.test`;
const hostName = (z: number, h: number) => `h${h}.z${z}.scale.test`;

/** VmHWM of one process (its largest RSS so far), in bytes; NaN when unreadable. */
function peakRssBytesOf(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))![1]) * 1024;
  } catch {
    return NaN;
  }
}

/** The edge's own figure: build of its first snapshot, from its debug log line. */
