// The edge node against a real store (SQLite file): waits for the installation, follows changes
// without restart, reports the version it applied, coalesces bursts, and keeps serving its last
// snapshot while the store is down (saying so in /healthz and /metrics).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { startEdgeNode, type EdgeNodeHandle } from '../../src/sync/index.ts';
import { clientCert, fingerprintOf, newCa, newInstallation, serverCert, type TestInstallation } from '../helpers/pki.ts';
import { startTlsOrigin, type EchoBody, type TestOrigin } from '../helpers/origin.ts';
import { Visitor } from '../edge/harness.ts';
import type { PemPair } from '../../src/pki/index.ts';

let dir: string;
let store: Store;
let inst: TestInstallation;
let origin: TestOrigin;
let origin2: TestOrigin;
let customerCa: PemPair;
let node: EdgeNodeHandle;
let broken = false;
/** Calls of the store's loads by the node, by method. */
const loads = { loadConfig: 0, loadConfigChanges: 0 };
/** While set, loadConfigChanges answers null (a store that cannot tell what changed). */
let cannotTell = false;
const visitor = new Visitor();

/** The store as the node sees it: reads fail while `broken` is set (writes go to the real one). */
function flaky(real: Store): Store {
  const failing = new Set(['loadConfig', 'loadConfigChanges', 'currentVersion', 'reportEdge']);
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (broken && typeof prop === 'string' && failing.has(prop)) return async () => Promise.reject(new Error('store unreachable (test)'));
      if (prop === 'loadConfig' || prop === 'loadConfigChanges') loads[prop]++;
      if (prop === 'loadConfigChanges' && cannotTell) return async () => null;
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const config = loadConfig({
  env: {},
  flags: { httpListen: '127.0.0.1:0', httpsListen: '127.0.0.1:0', metricsListen: '127.0.0.1:0', heartbeatIntervalMs: 100, connectTimeoutMs: 1000, responseTimeoutMs: 2000 },
});

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'originpull-edge-node-'));
  store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`, { pollIntervalMs: 10 });
  await store.migrate();
  inst = await newInstallation();
  origin = await startTlsOrigin({ cert: await serverCert(await newCa('o'), ['o.test']), clientCa: inst.originPullCa.certPem });
  customerCa = await newCa('customer');
  origin2 = await startTlsOrigin({ cert: await serverCert(await newCa('o2'), ['o.test']), clientCa: customerCa.certPem });
});

after(async () => {
  await visitor.close();
  await node?.destroy();
  await origin.close();
  await origin2.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('waits for the installation, then serves and follows changes', async () => {
  const starting = startEdgeNode({ store: flaky(store), secretBox: inst.secretBox, config, logger: pino({ level: 'silent' }), nodeName: 'test-node', retryMs: { min: 20, max: 100 } });
  await new Promise((r) => setTimeout(r, 100));
  await store.initPki(inst.pki);
  node = await starting;
  assert.ok(node.appliedVersion >= 1);

  const account = await store.ensureDefaultAccount();
  const zone = await store.createZone({ accountId: account.id, name: 'node.test' });
  await store.updateZoneSettings(zone.id, { tlsClientAuth: 'on', sslMode: 'full' });
  await store.createDnsRecord({
    zoneId: zone.id,
    name: 'www.node.test',
    type: 'A',
    content: '127.0.0.1',
    proxied: true,
    ttl: 1,
    originHttpPort: 80,
    originHttpsPort: origin.port,
    comment: null,
  });
  await node.waitForVersion(await store.currentVersion(), 3_000);
  const res = await visitor.get(node.addresses.http!.port, 'www.node.test');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json<EchoBody>().fingerprint, fingerprintOf(inst.global.certPem));
});

test('reports the applied version to the store (heartbeat)', async () => {
  const version = await store.currentVersion();
  const until = Date.now() + 3_000;
  for (;;) {
    const edge = (await store.listEdges()).find((e) => e.id === node.id);
    if (edge && edge.appliedVersion === version) {
      assert.equal(edge.name, 'test-node');
      break;
    }
    if (Date.now() > until) assert.fail(`edge reported ${edge?.appliedVersion}, store is at ${version}`);
    await new Promise((r) => setTimeout(r, 50));
  }
});

test('a burst of writes converges on the last version; a new zone certificate is used at once', async () => {
  const zone = (await store.listZones({ name: 'node.test' }))[0];
  const leaf = await clientCert(customerCa, 'zone client');
  for (let i = 0; i < 10; i++) await store.updateZoneSettings(zone.id, { aopEnabled: i % 2 === 0 });
  const records = await store.listDnsRecords(zone.id);
  await store.updateDnsRecord(zone.id, records[0].id, { originHttpsPort: origin2.port });
  await store.insertCertificate({
    zoneId: zone.id,
    kind: 'zone',
    certificatePem: leaf.certPem,
    privateKeySealed: inst.secretBox.seal(leaf.keyPem),
    issuer: 'customer',
    serialNumber: '1',
    signature: 'ECDSAWithSHA256',
    fingerprintSha256: fingerprintOf(leaf.certPem),
    notBefore: Date.now() - 1000,
    expiresOn: Date.now() + 86_400_000,
  });
  await store.updateZoneSettings(zone.id, { aopEnabled: true });
  await node.waitForVersion(await store.currentVersion(), 3_000);
  const res = await visitor.get(node.addresses.http!.port, 'www.node.test');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json<EchoBody>().fingerprint, fingerprintOf(leaf.certPem));
});

test('store down: keeps serving the last snapshot, says so in /healthz and /metrics, catches up after', async () => {
  const admin = `http://127.0.0.1:${node.adminAddress!.port}`;
  const healthy = (await (await fetch(`${admin}/healthz`)).json()) as { status: string };
  assert.equal(healthy.status, 'ok');

  broken = true;
  const zone = (await store.listZones({ name: 'node.test' }))[0];
  await store.updateZoneSettings(zone.id, { sslMode: 'full' }); // a change the node cannot load
  const until = Date.now() + 3_000;
  let health: { status: string; store: { connected: boolean; lastError: string | null } };
  do {
    await new Promise((r) => setTimeout(r, 50));
    health = (await (await fetch(`${admin}/healthz`)).json()) as typeof health;
  } while (health.status !== 'degraded' && Date.now() < until);
  assert.equal(health.status, 'degraded');
  assert.match(health.store.lastError!, /unreachable/);
  assert.match(await (await fetch(`${admin}/metrics`)).text(), /originpull_edge_store_up 0/);
  const res = await visitor.get(node.addresses.http!.port, 'www.node.test');
  assert.equal(res.status, 200, 'the edge stopped serving while the store was down');

  broken = false;
  await node.waitForVersion(await store.currentVersion(), 5_000);
  const metrics = await (await fetch(`${admin}/metrics`)).text();
  assert.match(metrics, /originpull_edge_store_up 1/);
  assert.match(metrics, new RegExp(`originpull_edge_config_version ${node.appliedVersion}`));
  assert.match(metrics, /originpull_edge_client_certificate_expiry_seconds\{cert_id="[^"]+",fingerprint="[0-9a-f]{64}",level="zone"\} \d+/);
  assert.match(metrics, /originpull_edge_upstream_handshakes_total\{result="full"\} \d+/);
});

test('changes reload only the zones written to; a store that cannot tell gets a full load', async () => {
  const admin = `http://127.0.0.1:${node.adminAddress!.port}`;
  const account = await store.ensureDefaultAccount();
  const record = (zoneId: string, name: string) =>
    store.createDnsRecord({ zoneId, name, type: 'A', content: '127.0.0.1', proxied: true, ttl: 1, originHttpPort: 80, originHttpsPort: origin.port, comment: null });
  const other = await store.createZone({ accountId: account.id, name: 'other.test' });
  await store.updateZoneSettings(other.id, { tlsClientAuth: 'on' });
  await record(other.id, 'www.other.test');
  await node.waitForVersion(await store.currentVersion(), 3_000);
  const before = { ...loads };
  const builds = async (load: string) => Number(new RegExp(`originpull_edge_snapshot_build_seconds_count\\{load="${load}"\\} (\\d+)`).exec(await (await fetch(`${admin}/metrics`)).text())?.[1] ?? 0);
  const fullBuilds = await builds('full');

  await record(other.id, 'api.other.test');
  await node.waitForVersion(await store.currentVersion(), 3_000);
  assert.equal((await visitor.get(node.addresses.http!.port, 'api.other.test')).status, 200);
  assert.equal((await visitor.get(node.addresses.http!.port, 'www.node.test')).status, 200, 'the zone not written to still serves');
  assert.equal(await store.deleteZone(other.id), true);
  await node.waitForVersion(await store.currentVersion(), 3_000);
  assert.equal((await visitor.get(node.addresses.http!.port, 'www.other.test')).status, 404, "a deleted zone's routes are gone");
  assert.equal(loads.loadConfig, before.loadConfig, 'no full load for changes');
  assert.ok(loads.loadConfigChanges >= before.loadConfigChanges + 2);
  assert.equal(await builds('full'), fullBuilds);
  assert.ok((await builds('changes')) >= 2);

  cannotTell = true;
  try {
    const zone = (await store.listZones({ name: 'node.test' }))[0];
    await store.updateZoneSettings(zone.id, { sslMode: 'strict' });
    await node.waitForVersion(await store.currentVersion(), 3_000);
  } finally {
    cannotTell = false;
  }
  assert.ok(loads.loadConfig > before.loadConfig, 'loaded in full');
  assert.equal(await builds('full'), fullBuilds + 1);
  const res = await visitor.get(node.addresses.http!.port, 'www.node.test');
  assert.equal(res.status, 526, 'strict now applies: the test origin is not valid for www.node.test');
});

test('a store that stops answering: a call that timed out is not started again before it settles, so the calls do not pile up', async () => {
  // Calls into a store that hears nothing (a partition) settle only when released, as a store
  // connection does when its query timeout fires.
  let silent = false;
  const held: (() => void)[] = [];
  const inFlight = new Map<string, number>();
  const most = new Map<string, number>();
  const watched = new Set(['loadConfig', 'loadConfigChanges', 'currentVersion', 'reportEdge']);
  const quiet = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (typeof prop !== 'string' || !watched.has(prop)) return value.bind(target);
      return (...args: unknown[]) => {
        inFlight.set(prop, (inFlight.get(prop) ?? 0) + 1);
        most.set(prop, Math.max(most.get(prop) ?? 0, inFlight.get(prop)!));
        const done = () => inFlight.set(prop, inFlight.get(prop)! - 1);
        const call = () => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (!silent) return call().finally(done);
        return new Promise<void>((resolve) => held.push(resolve)).then(call).finally(done);
      };
    },
  });
  const quick = await startEdgeNode({
    store: quiet,
    secretBox: inst.secretBox,
    config,
    logger: pino({ level: 'silent' }),
    nodeName: 'quiet-node',
    retryMs: { min: 20, max: 100 },
    storeTimeoutMs: { load: 300, ping: 200 },
  });
  try {
    most.clear();
    silent = true;
    const zone = (await store.listZones({ name: 'node.test' }))[0];
    await store.updateZoneSettings(zone.id, { sslMode: 'full' }); // a change it cannot load yet
    // Ten ping timeouts and more: heartbeats, reports and load retries keep trying meanwhile.
    await new Promise((r) => setTimeout(r, 2_500));
    for (const method of watched) assert.ok((most.get(method) ?? 0) <= 1, `${method}: ${most.get(method)} calls at once (${JSON.stringify([...most])})`);
    assert.ok((most.get('currentVersion') ?? 0) === 1, 'the heartbeat kept trying');
    silent = false;
    for (const release of held.splice(0)) release();
    await quick.waitForVersion(await store.currentVersion(), 5_000);
  } finally {
    for (const release of held.splice(0)) release();
    await quick.destroy();
  }
});
