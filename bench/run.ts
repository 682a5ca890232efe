// `npm run bench`: the originpull edge side by side with nginx, HAProxy, a minimal undici proxy and
// no proxy at all, each doing the same job (visitor HTTP → proxy → HTTPS + client certificate →
// nginx origin with `ssl_verify_client on`), loaded by wrk in interleaved rounds. Prints one table
// of medians with every figure's ratio to nginx; `--save NAME` writes bench/results/.
//
//   npm run bench -- --quick                 # < 2 minutes: 1 round of 3 s per scenario and peer
//   npm run bench                            # 3 rounds of 10 s, plus --workers 2 and the scale scenario
//   npm run bench -- --scenarios close-1k --peers originpull,nginx --profile
//
// See bench/README.md for what is measured and how to read it.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findBinary } from './lib/binaries.ts';
import { makeBenchPki, BENCH_HOST, PLAIN_HOST } from './lib/pki.ts';
import { cpuSecondsOf, pinningAvailable, pinSelf, rssBytesOf, treePids, type CpuSet } from './lib/proc.ts';
import { renderTable, summarize, type RunSample, type Summary } from './lib/report.ts';
import { runWrk } from './lib/wrk.ts';
import { evaluateTargets, renderTargets } from './lib/targets.ts';
import { startOrigin, type Origin } from './peers/origin.ts';
import { startNginxProxy } from './peers/nginx.ts';
import { startHaproxy } from './peers/haproxy.ts';
import { startRawFloor, startUndiciMinimal } from './peers/undici.ts';
import { configureBenchZones, startControlPlane, startOriginpullEdge, type ControlPlane } from './peers/originpull.ts';
import type { Peer } from './peers/peer.ts';
import { runScale, type ScaleResult } from './scale.ts';
import { summarizeProfiles } from './profile.ts';
import { writeFlameGraph } from './flamegraph.ts';

interface Scenario {
  id: string;
  title: string;
  path: '/1k' | '/64k';
  headers: string[];
  peers: string[];
  /** Visitors over HTTPS (the peers' tlsBaseUrl; wrk sends no SNI, so the default certificate answers). */
  tls?: boolean;
}

const CORE_PEERS = ['originpull', 'nginx', 'haproxy', 'undici-minimal', 'direct'];
const SCENARIOS: Scenario[] = [
  { id: 'ka-1k', title: 'keep-alive, 1 KiB', path: '/1k', headers: [], peers: [...CORE_PEERS, 'raw-floor'] },
  // Right after ka-1k: both rows use the same edge process, whose heap the 64 KiB runs disturb.
  { id: 'aop', title: 'keep-alive, 1 KiB: AOP cert vs none', path: '/1k', headers: [], peers: ['originpull', 'originpull-noaop', 'nginx'] },
  { id: 'close-1k', title: 'visitor Connection: close, 1 KiB', path: '/1k', headers: ['Connection: close'], peers: [...CORE_PEERS, 'raw-floor'] },
  { id: 'ka-64k', title: 'keep-alive, 64 KiB', path: '/64k', headers: [], peers: CORE_PEERS },
  { id: 'workers', title: 'keep-alive, 1 KiB: 2 workers on 2 cores', path: '/1k', headers: [], peers: ['originpull', 'originpull-w2', 'nginx', 'nginx-w2'] },
  { id: 'tls-ka-1k', title: 'HTTPS visitors, keep-alive, 1 KiB', path: '/1k', headers: [], peers: ['originpull', 'nginx', 'raw-floor'], tls: true },
  // wrk resumes no TLS session: every request pays a full handshake.
  { id: 'tls-new-1k', title: 'HTTPS visitors, a new TLS connection per request, 1 KiB', path: '/1k', headers: ['Connection: close'], peers: ['originpull', 'nginx', 'raw-floor'], tls: true },
];

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string', default: '50' },
    scenarios: { type: 'string' },
    peers: { type: 'string' },
    profile: { type: 'boolean', default: false },
    pin: { type: 'boolean', default: true },
    'no-pin': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    save: { type: 'string' },
    note: { type: 'string' },
    'edge-log-level': { type: 'string', default: 'info' },
    'edge-node-flags': { type: 'string' },
    compare: { type: 'string', multiple: true },
    'scale-hostnames': { type: 'string', default: '100000' },
    'scale-certificates': { type: 'string', default: '10000' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (opt.help) {
  process.stdout.write(`usage: npm run bench -- [options]
  --quick                 1 round, 3 s per run, 1 s warm-up; no workers/scale scenarios (< 2 min)
  --rounds N              interleaved rounds (default 3; quick 1)
  --duration S            measured seconds per run (default 10; quick 3)
  --warmup S              unmeasured warm-up seconds before each run (default 2; quick 1)
  --connections N         wrk connections (default 50; one wrk thread)
  --scenarios a,b         ${SCENARIOS.map((s) => s.id).join(', ')}, scale (default: all but workers/scale in --quick)
  --peers a,b             filter peers: originpull, originpull-noaop, originpull-w2, nginx, nginx-w2, haproxy, undici-minimal, raw-floor (1 KiB and HTTPS), direct
  --profile               run the originpull edge with --cpu-prof, print its top self-time frames and
                          draw a flame graph (flame.svg + flame.folded; copied to results/ by --save)
  --no-pin                do not pin with taskset (proxy on CPU 0, origin + wrk on CPU 1)
  --edge-log-level L      the edge's log level (default info: access log on, as shipped)
  --edge-node-flags "…"   extra Node flags for the originpull edge processes (e.g. --max-semi-space-size=16)
  --compare NAME=DIR[|log=LEVEL][|flags=NODE FLAGS][|env=K=V,K=V]
                          also run an edge from checkout DIR (with node_modules; "." = this one), as
                          peer originpull-NAME next to originpull in every scenario: an A/B in one run
  --save NAME             write bench/results/<date>-NAME.{md,json}
  --note TEXT             a line saved with the results (what changed)
  --keep                  keep the work directory (configs, logs, profiles)
`);
  process.exit(0);
}

const quick = opt.quick;
const rounds = Number(opt.rounds ?? (quick ? 1 : 3));
const durationS = Number(opt.duration ?? (quick ? 3 : 10));
const warmupS = Number(opt.warmup ?? (quick ? 1 : 2));
const connections = Number(opt.connections);
const pin = opt.pin && !opt['no-pin'] && pinningAvailable() && availableParallelism() >= 2;
const PROXY_CPUS: CpuSet = pin ? '0' : null;
const LOAD_CPUS: CpuSet = pin ? '1' : null;
const ALL_CPUS: CpuSet = pin ? '0,1' : null;
const wanted = opt.scenarios?.split(',').map((s) => s.trim()) ?? [...(quick ? ['ka-1k', 'aop', 'close-1k', 'ka-64k', 'tls-ka-1k', 'tls-new-1k'] : [...SCENARIOS.map((s) => s.id), 'scale'])];
const peerFilter = opt.peers?.split(',').map((s) => s.trim()) ?? null;
const scenarios = SCENARIOS.filter((s) => wanted.includes(s.id)).map((s) => ({ ...s, peers: s.peers.filter((p) => peerFilter === null || peerFilter.includes(p)) }));
const unknown = wanted.filter((w) => w !== 'scale' && !SCENARIOS.some((s) => s.id === w));
if (unknown.length > 0) throw new Error(`unknown scenario(s): ${unknown.join(', ')}`);
// A/B: edges from other checkouts run next to `originpull` wherever it runs.
const compares = (opt.compare ?? []).map((spec) => {
  const [head, ...extras] = spec.split('|');
  const eq = head.indexOf('=');
  if (eq <= 0) throw new Error(`--compare wants NAME=DIR[|log=LEVEL][|flags=NODE FLAGS][|env=K=V,K=V], got "${spec}"`);
  const extra = Object.fromEntries(extras.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const env = extra.env === undefined ? undefined : Object.fromEntries(extra.env.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  return { name: `originpull-${head.slice(0, eq)}`, dir: head.slice(eq + 1), logLevel: extra.log as string | undefined, nodeFlags: extra.flags?.split(/\s+/).filter(Boolean), env };
});
for (const s of scenarios) {
  const at = s.peers.indexOf('originpull');
  if (at >= 0) s.peers = [...s.peers.slice(0, at + 1), ...compares.map((c) => c.name), ...s.peers.slice(at + 1)];
}
const edgeNodeFlags = opt['edge-node-flags']?.split(/\s+/).filter(Boolean) ?? [];
const neededPeers = new Set(scenarios.flatMap((s) => s.peers));
// The scale scenario compares against a fresh 1-hostname edge on the same store.
if (wanted.includes('scale')) neededPeers.add('originpull');

for (const bin of ['wrk', 'nginx']) if (findBinary(bin) === undefined) throw new Error(`${bin} not installed: apt-get install ${bin}`);
if (neededPeers.has('haproxy') && findBinary('haproxy') === undefined) {
  process.stderr.write('haproxy not installed (apt-get install haproxy): its column is skipped\n');
  neededPeers.delete('haproxy');
}

const started = Date.now();
const workDir = mkdtempSync(join(tmpdir(), 'originpull-bench-'));
const profileDir = join(workDir, 'profiles');
const log = (msg: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);

const stoppers: (() => Promise<void>)[] = [];
let stopping = false;
async function stopAll(): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Reverse order: edges before the API before the origin.
  for (const stop of stoppers.reverse()) await stop().catch((err: Error) => log(`stop failed: ${err.message}`));
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping every process the bench started`);
    void stopAll().finally(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  // The bench runner shares CPU 1 with wrk and the origin; the proxy gets CPU 0 alone.
  if (pin) await pinSelf('1');
  log(`work dir ${workDir}; ${pin ? 'pinned: proxy → CPU 0, origin + wrk + runner → CPU 1' : 'not pinned'}`);
  log(`rounds ${rounds} × ${durationS} s (+${warmupS} s warm-up), wrk -t1 -c${connections}; scenarios ${wanted.join(', ')}`);
  const pki = await makeBenchPki(workDir);
  const origin = await startOrigin(workDir, pki, LOAD_CPUS);
  stoppers.push(() => origin.stop());
  log(`origin nginx: verify-client port ${origin.verifyPort}, open port ${origin.openPort}`);

  const peers = new Map<string, Peer>();
  let cp: ControlPlane | null = null;
  const dataDir = join(workDir, 'originpull-data');
  if ([...neededPeers].some((p) => p.startsWith('originpull'))) {
    mkdirSync(dataDir);
    cp = await startControlPlane(dataDir, LOAD_CPUS, join(workDir, 'originpull-api.log'));
    stoppers.push(() => cp!.stop());
    await configureBenchZones(cp, pki, origin.verifyPort, origin.openPort);
    log('originpull api: zones, records and the zone certificate configured through the API');
    if (neededPeers.has('originpull') || neededPeers.has('originpull-noaop')) {
      const edge = await startOriginpullEdge({
        name: 'originpull',
        dataDir,
        workers: 0,
        cpus: PROXY_CPUS,
        logFile: join(workDir, 'originpull-edge.log'),
        logLevel: opt['edge-log-level'],
        cpuProfDir: opt.profile ? profileDir : undefined,
        nodeFlags: edgeNodeFlags,
      });
      stoppers.push(() => edge.stop());
      peers.set('originpull', edge);
      peers.set('originpull-noaop', { ...edge, name: 'originpull-noaop', host: PLAIN_HOST });
    }
    if (neededPeers.has('originpull-w2')) {
      const edge = await startOriginpullEdge({
        name: 'originpull-w2',
        dataDir,
        workers: 2,
        cpus: ALL_CPUS,
        logFile: join(workDir, 'originpull-edge-w2.log'),
        logLevel: opt['edge-log-level'],
        nodeFlags: edgeNodeFlags,
      });
      stoppers.push(() => edge.stop());
      peers.set('originpull-w2', edge);
    }
    for (const c of compares) {
      if (!neededPeers.has(c.name)) continue;
      const edge = await startOriginpullEdge({
        name: c.name,
        dataDir,
        workers: 0,
        cpus: PROXY_CPUS,
        logFile: join(workDir, `${c.name}-edge.log`),
        logLevel: c.logLevel ?? opt['edge-log-level'],
        nodeFlags: c.nodeFlags ?? edgeNodeFlags,
        env: c.env,
        sourceTree: c.dir === '.' ? undefined : c.dir,
      });
      stoppers.push(() => edge.stop());
      peers.set(c.name, edge);
    }
  }
  if (neededPeers.has('nginx')) {
    const p = await startNginxProxy({ name: 'nginx', dir: workDir, pki, originPort: origin.verifyPort, workers: 1, cpus: PROXY_CPUS });
    stoppers.push(() => p.stop());
    peers.set('nginx', p);
  }
  if (neededPeers.has('nginx-w2')) {
    const p = await startNginxProxy({ name: 'nginx-w2', dir: workDir, pki, originPort: origin.verifyPort, workers: 2, cpus: ALL_CPUS });
    stoppers.push(() => p.stop());
    peers.set('nginx-w2', p);
  }
  if (neededPeers.has('haproxy')) {
    const p = await startHaproxy({ name: 'haproxy', dir: workDir, pki, originPort: origin.verifyPort, cpus: PROXY_CPUS });
    stoppers.push(() => p.stop());
    peers.set('haproxy', p);
  }
  if (neededPeers.has('undici-minimal')) {
    const p = await startUndiciMinimal({ name: 'undici-minimal', dir: workDir, pki, originPort: origin.verifyPort, cpus: PROXY_CPUS });
    stoppers.push(() => p.stop());
    peers.set('undici-minimal', p);
  }
  if (neededPeers.has('raw-floor')) {
    const p = await startRawFloor({ name: 'raw-floor', dir: workDir, pki, originPort: origin.verifyPort, cpus: PROXY_CPUS });
    stoppers.push(() => p.stop());
    peers.set('raw-floor', p);
  }
  if (neededPeers.has('direct')) {
    peers.set('direct', { name: 'direct', baseUrl: `https://127.0.0.1:${origin.openPort}`, host: BENCH_HOST, proc: null, stop: async () => {} });
  }
  log(`peers up: ${[...peers.keys()].join(', ')}`);

  const samples: RunSample[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const scenario of scenarios) {
      // Rotate the order each round so no peer always runs first (or right after another).
      const order = rotate(scenario.peers.filter((p) => peers.has(p) && (!scenario.tls || peers.get(p)!.tlsBaseUrl !== undefined)), round - 1);
      for (const name of order) {
        const sample = await measure(peers.get(name)!, scenario, round, origin);
        samples.push(sample);
        log(
          `round ${round}/${rounds} ${scenario.id.padEnd(8)} ${name.padEnd(16)} ${fmtInt(sample.rps).padStart(7)} req/s  p99 ${sample.p99.toFixed(2)} ms  ` +
            `${Number.isNaN(sample.cpuUs) ? '' : `${sample.cpuUs.toFixed(1)} µs/req (sys ${sample.sysPct.toFixed(0)}%)  ${(sample.rssBytes / 1048576).toFixed(0)} MiB  `}` +
            `new upstream ${sample.upstreamNew} (resumed ${sample.upstreamResumed})${sample.errors ? `  ERRORS ${sample.errors}` : ''}`,
        );
      }
    }
  }

  let scale: ScaleResult | null = null;
  if (wanted.includes('scale')) {
    scale = await runScale({
      workDir,
      pki,
      origin,
      startBaseline: () =>
        startOriginpullEdge({
          name: 'originpull-1host',
          dataDir,
          workers: 0,
          cpus: PROXY_CPUS,
          logFile: join(workDir, 'originpull-edge-1host.log'),
          logLevel: opt['edge-log-level'],
          nodeFlags: edgeNodeFlags,
        }),
      proxyCpus: PROXY_CPUS,
      loadCpus: LOAD_CPUS,
      hostnames: Number(opt['scale-hostnames']),
      certificates: Number(opt['scale-certificates']),
      rounds,
      durationS,
      warmupS,
      connections,
      log,
      measure: (peer, round) => measure(peer, { id: 'scale', title: 'scale', path: '/1k', headers: [], peers: [] }, round, origin),
      stoppers,
    });
  }

  await stopAll();
  const profile = opt.profile ? summarizeProfiles(profileDir, 25) : null;
  const flame = opt.profile ? writeFlameGraph([profileDir], join(profileDir, 'flame.svg'), `originpull edge, ${new Date(started).toISOString()}`) : null;
  if (flame !== null) log(`flame graph: ${flame} (and .folded)${opt.keep ? '' : ' — pass --keep to keep it, or --save to copy it into bench/results'}`);

  const summaries = summarize(samples);
  const titles = Object.fromEntries(SCENARIOS.map((s) => [s.id, s.title]));
  const table = renderTable(summaries, titles);
  const targets = evaluateTargets(summaries, scale);
  const meta = machineFacts();
  const header =
    `originpull bench — ${new Date(started).toISOString()} — ${meta.commit}\n` +
    `${meta.cpus} CPUs, load ${meta.loadBefore} → ${loadavg().map((l) => l.toFixed(2)).join(' ')}; node ${process.version}; ${meta.nginx}; ${meta.haproxy}; wrk -t1 -c${connections}\n` +
    `${rounds} interleaved round(s) × ${durationS} s (+${warmupS} s warm-up); medians; ± = spread of req/s between rounds; ` +
    `${pin ? 'proxy pinned to CPU 0, origin + wrk to CPU 1' : 'not pinned'}; edge log level ${opt['edge-log-level']}` +
    `${edgeNodeFlags.length > 0 ? `; edge node flags ${edgeNodeFlags.join(' ')}` : ''}` +
    compares.map((c) => `; ${c.name} = ${c.dir}${c.logLevel ? ` log ${c.logLevel}` : ''}${c.nodeFlags ? ` flags ${c.nodeFlags.join(' ')}` : ''}${c.env ? ` env ${Object.entries(c.env).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`).join('');
  const scaleText = scale === null ? '' : `\n\n## Scale\n\n${scale.text}`;
  const profileText = profile === null ? '' : `\n\n## CPU profile of the originpull edge (top self time)\n\n\`\`\`\n${profile}\n\`\`\``;
  const report = `${header}\n\n${table}\n\n## Targets (performance issue)\n\n${renderTargets(targets)}${scaleText}${profileText}\n`;
  process.stdout.write('\n' + report);

  if (opt.save !== undefined) {
    const resultsDir = join(import.meta.dirname, 'results');
    mkdirSync(resultsDir, { recursive: true });
    const base = `${new Date(started).toISOString().slice(0, 10)}-${opt.save.replace(/[^a-z0-9-]+/gi, '-')}`;
    const quote = (a: string) => (/[\s"'|]/.test(a) ? `'${a.replaceAll("'", "'\\''")}'` : a);
    const command = `npm run bench -- ${process.argv.slice(2).map(quote).join(' ')}`.trim();
    const note = opt.note ? `\n${opt.note}\n` : '';
    writeFileSync(join(resultsDir, `${base}.md`), `# ${opt.save}\n${note}\nCommand: \`${command}\`\n\n\`\`\`\n${header}\n\`\`\`\n\n${table}\n\n## Targets\n\n${renderTargets(targets)}${scaleText}${profileText}${flame !== null ? `\n\nFlame graph: [${base}-flame.svg](${base}-flame.svg)` : ''}\n`);
    writeFileSync(
      join(resultsDir, `${base}.json`),
      JSON.stringify({ name: opt.save, note: opt.note ?? null, command, startedAt: new Date(started).toISOString(), machine: meta, options: { rounds, durationS, warmupS, connections, pin, scenarios: wanted, edgeLogLevel: opt['edge-log-level'], edgeNodeFlags, compare: compares }, summaries, samples, targets, scale: scale?.json ?? null, profile }, null, 2) + '\n',
    );
    if (flame !== null) copyFileSync(flame, join(resultsDir, `${base}-flame.svg`));
    log(`saved bench/results/${base}.md and .json${flame !== null ? ' and -flame.svg' : ''}`);
  }
}

async function measure(peer: Peer, scenario: Scenario, round: number, origin: Origin): Promise<RunSample> {
  const url = (scenario.tls ? peer.tlsBaseUrl! : peer.baseUrl) + scenario.path;
  const headers = [`Host: ${peer.host}`, ...scenario.headers];
  if (warmupS > 0) await runWrk({ url, connections, threads: 1, durationS: warmupS, headers, cpus: LOAD_CPUS });
  const pids = peer.proc === null ? [] : treePids(peer.proc.pid);
  const mark = origin.mark();
  const cpuBefore = cpuSecondsOf(pids);
  let rssMax = 0;
  const sampleRss = () => {
    if (pids.length > 0) rssMax = Math.max(rssMax, rssBytesOf(pids));
  };
  const sampler = setInterval(sampleRss, 500);
  let result;
  try {
    result = await runWrk({ url, connections, threads: 1, durationS, headers, cpus: LOAD_CPUS });
  } finally {
    clearInterval(sampler);
  }
  sampleRss();
  const cpuAfter = cpuSecondsOf(pids);
  const cpuSeconds = cpuAfter.total - cpuBefore.total;
  const sysSeconds = cpuAfter.system - cpuBefore.system;
  const upstream = origin.connectionsSince(mark);
  return {
    scenario: scenario.id,
    peer: peer.name,
    round,
    rps: result.rps,
    p50: result.p50,
    p99: result.p99,
    cpuUs: pids.length === 0 ? NaN : (cpuSeconds / result.requests) * 1e6,
    sysPct: pids.length === 0 || cpuSeconds === 0 ? NaN : (sysSeconds / cpuSeconds) * 100,
    rssBytes: pids.length === 0 ? NaN : rssMax,
    requests: result.requests,
    errors: result.errors,
    // `direct` hits the origin itself: its "upstream" connections are wrk's own.
    upstreamNew: peer.proc === null ? 0 : upstream.connections,
    upstreamResumed: peer.proc === null ? 0 : upstream.resumed,
  };
}

function rotate<T>(list: T[], by: number): T[] {
  if (list.length === 0) return list;
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

const cpuCount = availableParallelism();
const loadBefore = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');
function machineFacts() {
  const run = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    } catch (err) {
      return ((err as { stderr?: string }).stderr ?? '').trim() || 'unknown';
    }
  };
  const commit = run('git', ['-C', import.meta.dirname, 'rev-parse', '--short', 'HEAD']);
  const dirty = run('git', ['-C', import.meta.dirname, 'status', '--porcelain', '--', 'src/edge', 'src/sync', 'bench']) === '' ? '' : ' (+ uncommitted changes)';
  // nginx -v prints on stderr.
  const nginxV = spawnSync(findBinary('nginx')!, ['-v'], { encoding: 'utf8' }).stderr.trim().replace('nginx version: ', '');
  const haproxyBin = findBinary('haproxy');
  const haproxy = haproxyBin ? run(haproxyBin, ['-v']).split('\n')[0].replace(/ - https.*$/, '').replace('version ', '') : 'haproxy missing';
  return { commit: `commit ${commit}${dirty}`, cpus: cpuCount, loadBefore, node: process.version, nginx: nginxV, haproxy, kernel: run('uname', ['-r']) };
}

try {
  await main();
} catch (err) {
  log(`bench failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
} finally {
  await stopAll();
  if (opt.keep) log(`work dir kept: ${workDir}`);
  else rmSync(workDir, { recursive: true, force: true });
}

export type { Summary };
