// Static stability of one edge node (in-process, SQLite store made unreachable on demand): it
// saves what it applies to local disk; started while the store is unreachable it serves that copy
// (degraded, saying why) without reporting to a store it has not checked its key against, and
// catches up once the store answers; a store holding another installation's key is fatal.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { openStore, SecretBox, SecretKeyMismatchError, verifySecretKey, type Store } from '../../src/store/index.ts';
import { LastKnownConfigFile, lastKnownConfigPath, startEdgeNode, type EdgeNodeHandle } from '../../src/sync/index.ts';
import { fingerprintOf, newCa, newInstallation, serverCert, type TestInstallation } from '../helpers/pki.ts';
import { startTlsOrigin, type EchoBody, type TestOrigin } from '../helpers/origin.ts';
import { Visitor } from '../edge/harness.ts';

let dir: string;
let store: Store;
let inst: TestInstallation;
let origin: TestOrigin;
let broken = false;
const nodes: EdgeNodeHandle[] = [];
const visitor = new Visitor();
const logger = pino({ level: 'silent' });

/** The store as the nodes see it: every call fails while `broken` is set. */
function flaky(real: Store): Store {
  return new Proxy(real, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (broken && prop !== 'onChange' && prop !== 'close') return async () => Promise.reject(new Error('connect ECONNREFUSED (test)'));
      return value.bind(target);
    },
  });
}

const config = loadConfig({
  env: {},
  flags: { httpListen: '127.0.0.1:0', httpsListen: '127.0.0.1:0', metricsListen: '127.0.0.1:0', heartbeatIntervalMs: 100 },
});

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'originpull-static-'));
  store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`, { pollIntervalMs: 10 });
  await store.migrate();
  inst = await newInstallation();
  await verifySecretKey(store, inst.secretBox);
  await store.initPki(inst.pki);
  origin = await startTlsOrigin({ cert: await serverCert(await newCa('o'), ['o.test']), clientCa: inst.originPullCa.certPem });
  const account = await store.ensureDefaultAccount();
  const zone = await store.createZone({ accountId: account.id, name: 'static.test' });
  await store.updateZoneSettings(zone.id, { tlsClientAuth: 'on' });
  await store.createDnsRecord({ zoneId: zone.id, name: 'www.static.test', type: 'A', content: '127.0.0.1', proxied: true, ttl: 1, originHttpPort: 80, originHttpsPort: origin.port, comment: null });
});

after(async () => {
  broken = false;
  for (const node of nodes) await node.destroy();
  await visitor.close();
  await origin.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const snapshotFile = () => new LastKnownConfigFile(lastKnownConfigPath(dir, 'node'));

test('every applied configuration is saved to local disk', async () => {
  const node = await startEdgeNode({ store: flaky(store), secretBox: inst.secretBox, config, logger, nodeName: 'first', lastKnown: snapshotFile() });
  nodes.push(node);
  const version = await store.currentVersion();
  await node.waitForVersion(version, 3_000);
  const zone = (await store.listZones({ name: 'static.test' }))[0];
  await store.updateZoneSettings(zone.id, { sslMode: 'strict' });
  await store.updateZoneSettings(zone.id, { sslMode: 'full' });
  await node.waitForVersion(version + 2, 3_000);
  // Copies are written at most once a second (LastKnownConfigFile's minIntervalMs): the latest lands.
  const deadline = Date.now() + 3_000;
  while ((await snapshotFile().load())?.version !== version + 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal((await snapshotFile().load())?.version, version + 2);
  await node.close();
  nodes.pop();
});

test('started while the store is unreachable: serves the saved copy, degraded, then catches up', async () => {
  broken = true;
  const saved = (await snapshotFile().load())!;
  const node = await startEdgeNode({
    store: flaky(store),
    secretBox: inst.secretBox,
    config,
    logger,
    nodeName: 'restarted',
    lastKnown: snapshotFile(),
    secretKeyVerified: false,
    retryMs: { min: 20, max: 100 },
  });
  nodes.push(node);
  assert.equal(node.appliedVersion, saved.version);
  const res = await visitor.get(node.addresses.http!.port, 'www.static.test');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json<EchoBody>().fingerprint, fingerprintOf(inst.global.certPem));
  const health = node.health();
  assert.equal(health.status, 'degraded');
  assert.equal((health.degraded as { reason: string }).reason, 'serving_last_known_config');
  const metrics = await node.registry.metrics();
  assert.match(metrics, /^originpull_edge_serving_last_known 1$/m);
  assert.match(metrics, /^originpull_edge_degraded 1$/m);

  // A change while unreachable; nothing reported to a store whose key was not checked.
  const zone = (await store.listZones({ name: 'static.test' }))[0];
  await store.updateZoneSettings(zone.id, { tlsClientAuth: 'off' });
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(!(await store.listEdges()).some((e) => e.name === 'restarted'));

  broken = false;
  await node.waitForVersion(await store.currentVersion(), 5_000);
  assert.equal(node.health().status, 'ok');
  assert.equal(node.degraded(), null);
  const after = await visitor.get(node.addresses.http!.port, 'www.static.test');
  assert.equal(after.status, 525, 'global AOP now off: no client certificate, so the origin refuses the handshake');
  await new Promise((r) => setTimeout(r, 300));
  assert.ok((await store.listEdges()).some((e) => e.name === 'restarted'), 'reports once the key is checked');
  await store.updateZoneSettings(zone.id, { tlsClientAuth: 'on' });
});

test('the deferred key check failing is fatal: onFatal is called and the node stops following', async () => {
  // Another installation's store: same data, but its key check value comes from another key.
  const other = await openStore(`sqlite:${join(dir, 'other.sqlite')}`);
  await other.migrate();
  await verifySecretKey(other, new SecretBox(randomBytes(32)));
  broken = true;
  let fatal: Error | null = null;
  const node = await startEdgeNode({
    store: flaky(other),
    secretBox: inst.secretBox,
    config,
    logger,
    nodeName: 'wrong-store',
    lastKnown: snapshotFile(),
    secretKeyVerified: false,
    retryMs: { min: 20, max: 100 },
    onFatal: (err) => (fatal = err),
  });
  nodes.push(node);
  broken = false;
  const until = Date.now() + 3_000;
  while (fatal === null && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.ok(fatal !== null && (fatal as Error) instanceof SecretKeyMismatchError, String(fatal));
  assert.equal((await other.listEdges()).length, 0);
  await other.close();
});
