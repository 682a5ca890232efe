// Losing PostgreSQL: two edges reach it through a TCP proxy the test cuts (the shared server
// stays up for everyone else), while the API reaches it directly. Under load no visitor request
// fails; the edges say `degraded` (why, since when) on /healthz and in /metrics; changes made
// meanwhile are applied once the proxy is restored. An edge started while the store is
// unreachable serves the copy of its last configuration kept in its data dir.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientCert, fingerprintOf, newCa, serverCert } from '../helpers/pki.ts';
import { startTlsOrigin, type EchoBody, type TestOrigin } from '../helpers/origin.ts';
import { Visitor } from '../edge/harness.ts';
import type { PemPair } from '../../src/pki/index.ts';
import {
  eventually,
  newSecretKey,
  newToken,
  PG_BASE,
  probePostgres,
  sleep,
  startApi,
  startEdge,
  TcpProxy,
  TestSchema,
  type ApiClient,
  type CertificateResult,
  type EdgeProcess,
  type NodeProcess,
} from './harness.ts';

const HOST = 'www.loss.test';
const unreachable = await probePostgres();
const schema = new TestSchema();
const secretKey = newSecretKey();
const visitor = new Visitor();
const dirs: string[] = [];
let proxy: TcpProxy | undefined;
let apiNode: NodeProcess | undefined;
let api: ApiClient;
const edges: EdgeProcess[] = [];
let origin: TestOrigin | undefined;
let userCa: PemPair;
let zoneId: string;

before(async () => {
  if (unreachable) return;
  proxy = await new TcpProxy(Number(new URL(PG_BASE).port || 5432), new URL(PG_BASE).hostname).start();
  ({ node: apiNode, api } = await startApi('api', { store: schema.url(), secretKey, token: newToken(), env: { ORIGINPULL_HEARTBEAT_LAPSE_MS: '4000' } }));
  for (const name of ['edge-x', 'edge-y']) {
    const dataDir = mkdtempSync(join(tmpdir(), `originpull-loss-${name}-`));
    dirs.push(dataDir);
    edges.push(await startEdge(name, { store: schema.url(proxy.port), secretKey, dataDir }));
  }
  userCa = await newCa('loss.test customer CA');
  origin = await startTlsOrigin({ cert: await serverCert(await newCa('origin CA'), [HOST]), clientCa: userCa.certPem });
  zoneId = (await api.ok<{ id: string }>('POST', '/zones', { name: 'loss.test' })).id;
  await api.ok('POST', `/zones/${zoneId}/dns_records`, { type: 'A', name: HOST, content: '127.0.0.1', proxied: true, origin_https_port: origin.port });
  await api.ok('PUT', `/zones/${zoneId}/origin_tls_client_auth/settings`, { enabled: true });
});

after(async () => {
  proxy?.restore();
  await Promise.all(edges.map((e) => e.stop()));
  await apiNode?.stop();
  await proxy?.close();
  await visitor.close();
  await origin?.close();
  if (!unreachable) await schema.drop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function upload(leaf: PemPair, wait = false): Promise<CertificateResult> {
  return api.ok<CertificateResult>('POST', `/zones/${zoneId}/origin_tls_client_auth${wait ? '?wait=active' : ''}`, { certificate: leaf.certPem, private_key: leaf.keyPem });
}

async function presentedVia(edge: EdgeProcess): Promise<string> {
  const res = await visitor.get(edge.ports.http, HOST);
  return res.status === 200 ? String(res.json<EchoBody>().fingerprint) : `HTTP ${res.status}: ${res.text.slice(0, 200)}`;
}

/** Requests through every edge, back to back, until stopped; counts what failed. */
function startLoad(targets: EdgeProcess[]) {
  let running = true;
  const failures: string[] = [];
  let requests = 0;
  const loops = targets.map(async (edge) => {
    while (running) {
      try {
        const res = await visitor.get(edge.ports.http, HOST);
        if (res.status !== 200) failures.push(`${edge.name}: HTTP ${res.status}`);
      } catch (err) {
        failures.push(`${edge.name}: ${(err as Error).message}`);
      }
      requests++;
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { requests, failures };
    },
  };
}

test('PostgreSQL lost under load: zero failed requests, degraded health and metrics, changes applied after it returns', { skip: unreachable ?? false }, async (t) => {
  const first = await clientCert(userCa, 'loss one');
  assert.equal((await upload(first, true)).status, 'active');
  for (const edge of edges) assert.equal(await presentedVia(edge), fingerprintOf(first.certPem));

  const load = startLoad(edges);
  await sleep(300);
  const cutAt = Date.now();
  proxy!.cut();
  for (const edge of edges) {
    const health = await eventually(`${edge.name} degraded`, () => edge.health(), (h) => h.status === 'degraded', 10_000);
    assert.equal(health.degraded?.reason, 'store_unreachable');
    assert.ok(Date.parse(health.degraded!.since) >= cutAt - 1_000, `since ${health.degraded!.since}`);
    assert.ok(health.degraded!.detail, 'the error is given');
    const metrics = await edge.metrics();
    assert.match(metrics, /^originpull_edge_degraded 1$/m);
    assert.match(metrics, /^originpull_edge_store_up 0$/m);
    assert.match(metrics, /^originpull_edge_serving_last_known 0$/m);
  }

  // A change made through the API (which still reaches PostgreSQL) while the edges cannot.
  const second = await clientCert(userCa, 'loss two');
  const pending = await upload(second);
  assert.equal(pending.status, 'pending_deployment');
  await sleep(1_000);
  for (const edge of edges) assert.equal(await presentedVia(edge), fingerprintOf(first.certPem), 'still the last applied snapshot');

  proxy!.restore();
  const restoredAt = Date.now();
  for (const edge of edges) {
    await eventually(`${edge.name} caught up`, () => presentedVia(edge), (fp) => fp === fingerprintOf(second.certPem), 15_000);
    t.diagnostic(`${edge.name} applied the change ${Date.now() - restoredAt} ms after PostgreSQL came back`);
    const health = await eventually(`${edge.name} ok again`, () => edge.health(), (h) => h.status === 'ok', 10_000);
    assert.equal(health.degraded, null);
    assert.match(await edge.metrics(), /^originpull_edge_degraded 0$/m);
  }
  await eventually('change active', () => api.ok<CertificateResult>('GET', `/zones/${zoneId}/origin_tls_client_auth/${pending.id}`), (c) => c.status === 'active');

  const { requests, failures } = await load.stop();
  assert.ok(requests > 50, `load ran (${requests} requests)`);
  assert.deepEqual(failures, [], `${failures.length} of ${requests} requests failed`);
});

test('an edge started while PostgreSQL is unreachable serves its local snapshot, then catches up', { skip: unreachable ?? false }, async () => {
  const edge = edges[1];
  const expected = await presentedVia(edge);
  await edge.stop();

  // The copy on disk: written atomically, owner-only, and with private keys still sealed.
  const dir = join(edge.dataDir, 'edge-snapshot');
  const files = readdirSync(dir);
  assert.deepEqual(files, [`${edge.name}.json`], 'no temp file left behind');
  assert.equal(statSync(join(dir, files[0])).mode & 0o777, 0o600);
  const text = readFileSync(join(dir, files[0]), 'utf8');
  assert.doesNotMatch(text, /PRIVATE KEY/, 'no plain private key on disk');

  proxy!.cut();
  const restarted = await startEdge(edge.name, { store: schema.url(proxy!.port), secretKey, dataDir: edge.dataDir, ports: edge.ports });
  edges[1] = restarted;
  const health = await restarted.health();
  assert.equal(health.status, 'degraded');
  assert.equal(health.degraded?.reason, 'serving_last_known_config');
  assert.equal(health.servingLastKnownConfig, true);
  assert.match(await restarted.metrics(), /^originpull_edge_serving_last_known 1$/m);
  assert.equal(await presentedVia(restarted), expected, 'serves the configuration it had before');

  const third = await clientCert(userCa, 'loss three');
  await upload(third);
  await sleep(500);
  assert.equal(await presentedVia(restarted), expected);

  proxy!.restore();
  await eventually('restarted edge caught up', () => presentedVia(restarted), (fp) => fp === fingerprintOf(third.certPem), 15_000);
  const after = await eventually('restarted edge ok', () => restarted.health(), (h) => h.status === 'ok', 10_000);
  assert.equal(after.servingLastKnownConfig, false);
});

test('a PostgreSQL that stops answering (connections stall, nothing refused) reads as unreachable; no request fails', { skip: unreachable ?? false }, async () => {
  const load = startLoad(edges);
  await sleep(200);
  proxy!.stall();
  const fourth = await clientCert(userCa, 'loss four');
  try {
    for (const edge of edges) {
      const health = await eventually(`${edge.name} degraded`, () => edge.health(), (h) => h.status === 'degraded', 10_000);
      assert.equal(health.degraded?.reason, 'store_unreachable');
    }
    await upload(fourth);
    await sleep(500);
  } finally {
    proxy!.restore();
  }
  for (const edge of edges) {
    await eventually(`${edge.name} ok again`, () => edge.health(), (h) => h.status === 'ok', 15_000);
    await eventually(`${edge.name} caught up`, () => presentedVia(edge), (fp) => fp === fingerprintOf(fourth.certPem), 15_000);
  }
  const { requests, failures } = await load.stop();
  assert.ok(requests > 20, `load ran (${requests} requests)`);
  assert.deepEqual(failures, [], `${failures.length} of ${requests} requests failed`);
});
