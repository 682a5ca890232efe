// Edge worker processes (node:cluster): every worker follows the store and serves on the shared
// listeners; the primary aggregates /metrics and /healthz, restarts a worker that dies and
// stops them all at close(); a worker that dies before it listens fails the start.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import cluster from 'node:cluster';
import { loadConfig } from '../../src/config.ts';
import { openStore, SecretBox, verifySecretKey, type Store } from '../../src/store/index.ts';
import { runEdgeWorkers, type EdgeWorkersHandle } from '../../src/sync/index.ts';
import { fingerprintOf, newCa, newInstallation, serverCert, type TestInstallation } from '../helpers/pki.ts';
import { startTlsOrigin, type EchoBody, type TestOrigin } from '../helpers/origin.ts';
import { Visitor } from '../edge/harness.ts';
import { pino } from 'pino';

let dir: string;
let store: Store;
let inst: TestInstallation;
let origin: TestOrigin;
let workers: EdgeWorkersHandle | undefined;
const visitor = new Visitor();
const secretHex = randomBytes(32).toString('hex');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'originpull-workers-'));
  store = await openStore(`sqlite:${join(dir, 'originpull.db')}`, { pollIntervalMs: 10 });
  await store.migrate();
  inst = await newInstallation();
  // The installation is sealed with the key the workers will load.
  const box = SecretBox.fromString(secretHex);
  inst.secretBox = box;
  inst.pki.globalKeySealed = box.seal(inst.global.keyPem);
  inst.pki.edgeCaKeySealed = box.seal(inst.edgeCa.keyPem);
  inst.pki.originPullCaKeySealed = box.seal(inst.originPullCa.keyPem);
  await verifySecretKey(store, box);
  await store.initPki(inst.pki);
  origin = await startTlsOrigin({ cert: await serverCert(await newCa('o'), ['o.test']), clientCa: inst.originPullCa.certPem });
  const account = await store.ensureDefaultAccount();
  const zone = await store.createZone({ accountId: account.id, name: 'workers.test' });
  await store.updateZoneSettings(zone.id, { tlsClientAuth: 'on' });
  await store.createDnsRecord({ zoneId: zone.id, name: 'www.workers.test', type: 'A', content: '127.0.0.1', proxied: true, ttl: 1, originHttpPort: 80, originHttpsPort: origin.port, comment: null });
});

after(async () => {
  await visitor.close();
  await workers?.destroy();
  await origin.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('two workers serve, follow the store, and report; the primary aggregates metrics', async () => {
  const config = loadConfig({
    env: {},
    flags: {
      dataDir: dir,
      store: `sqlite:${join(dir, 'originpull.db')}`,
      secretKey: secretHex,
      httpListen: '127.0.0.1:0',
      httpsListen: '127.0.0.1:0',
      metricsListen: '127.0.0.1:0',
      heartbeatIntervalMs: 100,
      logLevel: 'warn',
    },
  });
  workers = await runEdgeWorkers(config, 2, { nodeName: 'wtest' });
  const health = workers.health() as { status: string; workers: { health: { listening: { http: number }; appliedVersion: number; visitorTransport: { http: string } } | null }[] };
  assert.equal(health.workers.length, 2);
  for (const w of health.workers) assert.equal(w.health!.visitorTransport.http, config.edgeTcpHandles ? 'tcp-handle' : 'socket');
  const port = health.workers[0].health!.listening.http;
  assert.ok(port > 0);

  for (let i = 0; i < 10; i++) {
    // A connection each: the kernel spreads them over both workers' listeners.
    const res = await visitor.get(port, 'www.workers.test', '/', { headers: { connection: 'close' } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json<EchoBody>().fingerprint, fingerprintOf(inst.global.certPem));
  }

  // A change reaches both workers, and both report it to the store.
  const zone = (await store.listZones({ name: 'workers.test' }))[0];
  await store.updateZoneSettings(zone.id, { sslMode: 'full' });
  const version = await store.currentVersion();
  const until = Date.now() + 5_000;
  for (;;) {
    const edges = (await store.listEdges()).filter((e) => e.name.startsWith('wtest-w'));
    if (edges.length === 2 && edges.every((e) => e.appliedVersion === version)) break;
    if (Date.now() > until) assert.fail(`workers did not report version ${version}: ${JSON.stringify(edges)}`);
    await new Promise((r) => setTimeout(r, 50));
  }

  const admin = `http://127.0.0.1:${workers.adminAddress!.port}`;
  const metrics = await (await fetch(`${admin}/metrics`)).text();
  const total = [...metrics.matchAll(/originpull_edge_requests_total\{status="200"\} (\d+)/g)].map((m) => Number(m[1]));
  assert.deepEqual(total, [10]);
  // Histograms and zone counters summed across workers: one series each, bucket by bucket.
  const sample = (name: string) => [...metrics.matchAll(new RegExp(`^${name.replace(/[{}+."]/g, '\\$&')} (\\S+)$`, 'gm'))].map((m) => Number(m[1]));
  assert.deepEqual(sample('originpull_edge_request_duration_seconds_count'), [10]);
  assert.deepEqual(sample('originpull_edge_request_duration_seconds_bucket{le="+Inf"}'), [10]);
  assert.deepEqual(sample('originpull_edge_origin_duration_seconds_count'), [10]);
  assert.deepEqual(sample('originpull_edge_zone_requests_total{zone="workers.test",status="2xx"}'), [10]);
  assert.equal(metrics.match(/^# TYPE originpull_edge_request_duration_seconds histogram$/gm)?.length, 1);
  const buckets = [...metrics.matchAll(/^originpull_edge_origin_duration_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm)];
  assert.equal(buckets.length, 18);
  assert.deepEqual(buckets.map((m) => Number(m[2])), buckets.map((m) => Number(m[2])).sort((a, b) => a - b));
  assert.deepEqual(sample(`originpull_edge_visitor_transport{listener="http",transport="${config.edgeTcpHandles ? 'tcp-handle' : 'socket'}"}`), [1]);
  const healthz = (await (await fetch(`${admin}/healthz`)).json()) as { status: string };
  assert.equal(healthz.status, 'ok');

  await workers.close();
  workers = undefined;
});

test('a dead worker is restarted with a back-off that grows while it keeps dying and resets once it ran healthily for a while', async () => {
  const config = loadConfig({
    env: {},
    flags: {
      dataDir: dir,
      store: `sqlite:${join(dir, 'originpull.db')}`,
      secretKey: secretHex,
      httpListen: '127.0.0.1:0',
      httpsListen: '127.0.0.1:0',
      heartbeatIntervalMs: 100,
      logLevel: 'warn',
    },
  });
  // What the primary logs for each death: the restart delay it chose.
  const restarts: number[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void (JSON.parse(line).restartInMs !== undefined && restarts.push(JSON.parse(line).restartInMs)) });
  const backoff = { minMs: 200, maxMs: 10_000, resetAfterMs: 2_000 };
  workers = await runEdgeWorkers(config, 1, { nodeName: 'wbackoff', logger, restartBackoff: backoff, metricsListen: null });
  const w = workers;
  const slot = () => (w.health() as unknown as { workers: { pid: number | null; health: unknown }[] }).workers[0];
  const pid = () => slot().pid;
  const listening = () => slot().health !== null;
  const until = async (what: string, ok: () => boolean, ms = 20_000) => {
    const deadline = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > deadline) assert.fail(`${what} within ${ms} ms (restarts logged: ${restarts.join(', ')})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const kill = async () => {
    const before = pid()!;
    process.kill(before, 'SIGKILL');
    await until('a new worker', () => pid() !== null && pid() !== before);
  };

  // Dies, then its replacement dies at once (before or just after it listens): backed off.
  await kill();
  await kill();
  await until('the replacement listens', listening);
  assert.deepEqual(restarts, [200, 400]);
  // Healthy for longer than resetAfterMs: the next death restarts it as quickly as the first.
  await new Promise((r) => setTimeout(r, backoff.resetAfterMs + 500));
  await kill();
  await until('the replacement listens', listening);
  assert.deepEqual(restarts, [200, 400, 200]);

  await workers.close();
  workers = undefined;
});

test('a worker that exits before it listens fails the start, and no worker is left running', async () => {
  const config = loadConfig({
    env: {},
    flags: {
      dataDir: dir,
      store: `sqlite:${join(dir, 'originpull.db')}`,
      // Another installation's key: the worker refuses the store and exits.
      secretKey: randomBytes(32).toString('hex'),
      httpListen: '127.0.0.1:0',
      httpsListen: '127.0.0.1:0',
      logLevel: 'silent',
    },
  });
  const quiet = pino({ level: 'silent' });
  await assert.rejects(runEdgeWorkers(config, 2, { nodeName: 'wrongkey', logger: quiet, metricsListen: null }), /edge worker \d exited before it started/);
  const deadline = Date.now() + 10_000;
  while (Object.values(cluster.workers ?? {}).some((w) => w && !w.isDead())) {
    if (Date.now() > deadline) assert.fail('workers still running after a failed start');
    await new Promise((r) => setTimeout(r, 20));
  }
});
