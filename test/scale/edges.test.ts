// Three `originpull edge` processes and one `originpull api` on one PostgreSQL: a certificate is
// `active` only once every live edge applied it, and each edge then presents it to an origin that
// checks client certificates; a frozen edge keeps a change pending and is named when it times out;
// a stopped edge drops out of the live set after its heartbeat lapses and is no longer waited for.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
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
  probePostgres,
  startApi,
  startEdge,
  TestSchema,
  type ApiClient,
  type CertificateResult,
  type EdgeProcess,
  type NodeProcess,
} from './harness.ts';

const DEADLINE_MS = 2_000;
const LAPSE_MS = 6_000;
const HOST = 'app.scale.test';

const unreachable = await probePostgres();
const schema = new TestSchema();
const secretKey = newSecretKey();
const visitor = new Visitor();
const dirs: string[] = [];
let apiNode: NodeProcess | undefined;
let api: ApiClient;
const edges: EdgeProcess[] = [];
let origin: TestOrigin | undefined;
let userCa: PemPair;
let zoneId: string;

interface Effective {
  level: string;
  certificate: { id: string } | null;
  deployment: { required_version: number; edges: { id: string; name: string; applied_version: number; applied: boolean }[] };
}

before(async () => {
  if (unreachable) return;
  ({ node: apiNode, api } = await startApi('api', {
    store: schema.url(),
    secretKey,
    token: newToken(),
    env: { ORIGINPULL_DEPLOYMENT_DEADLINE_MS: String(DEADLINE_MS), ORIGINPULL_HEARTBEAT_LAPSE_MS: String(LAPSE_MS) },
  }));
  const started = await Promise.all(
    ['edge-a', 'edge-b', 'edge-c'].map((name) => {
      const dataDir = mkdtempSync(join(tmpdir(), `originpull-scale-${name}-`));
      dirs.push(dataDir);
      return startEdge(name, { store: schema.url(), secretKey, dataDir });
    }),
  );
  edges.push(...started);

  userCa = await newCa('scale.test customer CA');
  origin = await startTlsOrigin({ cert: await serverCert(await newCa('origin CA'), [HOST]), clientCa: userCa.certPem });
  const zone = await api.ok<{ id: string }>('POST', '/zones', { name: 'scale.test' });
  zoneId = zone.id;
  await api.ok('POST', `/zones/${zoneId}/dns_records`, { type: 'A', name: HOST, content: '127.0.0.1', proxied: true, origin_https_port: origin.port });
  await api.ok('PUT', `/zones/${zoneId}/origin_tls_client_auth/settings`, { enabled: true });
});

after(async () => {
  await Promise.all(edges.map((e) => e.stop()));
  await apiNode?.stop();
  await visitor.close();
  await origin?.close();
  if (!unreachable) await schema.drop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function upload(leaf: PemPair, wait = false): Promise<CertificateResult> {
  return api.ok<CertificateResult>('POST', `/zones/${zoneId}/origin_tls_client_auth${wait ? '?wait=active' : ''}`, {
    certificate: leaf.certPem,
    private_key: leaf.keyPem,
  });
}

function getCert(id: string): Promise<CertificateResult> {
  return api.ok<CertificateResult>('GET', `/zones/${zoneId}/origin_tls_client_auth/${id}`);
}

async function deployVersion(certId: string): Promise<number> {
  const [row] = await schema.query<{ deploy_version: string }>('SELECT deploy_version FROM certificates WHERE id = $1', [certId]);
  return Number(row.deploy_version);
}

function effective(): Promise<Effective> {
  return api.ok<Effective>('GET', `/zones/${zoneId}/origin_tls_client_auth/effective/${HOST}`);
}

/** The fingerprint of the client certificate the origin saw through this edge. */
async function presentedVia(edge: EdgeProcess): Promise<string | null> {
  const res = await visitor.get(edge.ports.http, HOST);
  return res.status === 200 ? res.json<EchoBody>().fingerprint : `HTTP ${res.status}`;
}

test('a zone certificate becomes active only after all three edges applied it; each edge then presents it', { skip: unreachable ?? false }, async () => {
  await eventually('three live edges', effective, (e) => e.deployment.edges.length === 3);
  const leaf = await clientCert(userCa, 'scale.test one');
  const uploaded = await upload(leaf);
  const version = await deployVersion(uploaded.id);
  // Answered right after the commit: no edge can have reported it yet.
  assert.equal(uploaded.status, 'pending_deployment');
  assert.ok(uploaded.lagging_edges && uploaded.lagging_edges.length > 0, 'a pending answer names the lagging edges');

  const names = new Set(edges.map((e) => e.name));
  await eventually(
    'certificate active',
    async () => {
      const cert = await getCert(uploaded.id);
      if (cert.status === 'pending_deployment') {
        for (const lagging of cert.lagging_edges ?? []) assert.ok(names.has(lagging.name) && lagging.applied_version < version, JSON.stringify(lagging));
      }
      if (cert.status === 'active') {
        // `active` is only said once every edge reports the version: none can be behind now.
        const applied = await Promise.all(edges.map(async (e) => (await e.health()).appliedVersion));
        assert.ok(applied.every((v) => v >= version), `active while edges applied ${applied} < ${version}`);
        assert.equal(cert.lagging_edges, undefined);
      }
      return cert.status;
    },
    (s) => s === 'active',
  );
  for (const edge of edges) assert.equal(await presentedVia(edge), fingerprintOf(leaf.certPem), `${edge.name} presents the new certificate`);

  const eff = await effective();
  assert.equal(eff.level, 'zone');
  assert.equal(eff.certificate?.id, uploaded.id);
  assert.equal(eff.deployment.required_version, version);
  assert.deepEqual(eff.deployment.edges.map((e) => e.name).sort(), [...names].sort());
  assert.ok(eff.deployment.edges.every((e) => e.applied && e.applied_version >= version));
});

test('a frozen edge (SIGSTOP) keeps an upload pending_deployment, then deployment_timed_out names it', { skip: unreachable ?? false }, async () => {
  const frozen = edges[2];
  const leaf = await clientCert(userCa, 'scale.test two');
  let certId = '';
  frozen.freeze();
  try {
    const started = Date.now();
    const uploaded = await upload(leaf);
    certId = uploaded.id;
    const seen: string[] = [];
    const timedOut = await eventually(
      'deployment timed out',
      async () => {
        const cert = await getCert(uploaded.id);
        if (seen.at(-1) !== cert.status) seen.push(cert.status);
        assert.notEqual(cert.status, 'active', 'active while an edge is frozen');
        return cert;
      },
      (c) => c.status === 'deployment_timed_out',
      LAPSE_MS,
    );
    assert.ok(Date.now() - started >= DEADLINE_MS, 'timed out only after the deadline');
    assert.deepEqual(seen, ['pending_deployment', 'deployment_timed_out']);
    assert.deepEqual(timedOut.lagging_edges?.map((e) => e.name), [frozen.name], 'the frozen edge is named, only it');
    // The others already present it.
    for (const edge of edges.slice(0, 2)) assert.equal(await presentedVia(edge), fingerprintOf(leaf.certPem));
    const eff = await effective();
    assert.deepEqual(eff.deployment.edges.filter((e) => !e.applied).map((e) => e.name), [frozen.name]);
  } finally {
    frozen.thaw();
  }
  // Thawed, it catches up and the status turns active.
  await eventually('active after thaw', () => getCert(certId), (c) => c.status === 'active');
  assert.equal(await presentedVia(frozen), fingerprintOf(leaf.certPem));
});

test('an edge frozen past the lapse and thawed (its first heartbeat stale) does not turn an active certificate back to pending', { skip: unreachable ?? false }, async () => {
  const frozen = edges[1];
  frozen.freeze();
  let thawed = false;
  try {
    await eventually('frozen edge left the live set', effective, (e) => !e.deployment.edges.some((x) => x.name === frozen.name), LAPSE_MS + 5_000);
    const uploaded = await upload(await clientCert(userCa, 'scale.test thaw'), true);
    assert.equal(uploaded.status, 'active', 'the live edges applied it');
    // Read the status without pause across the thaw, until the thawed edge is live and caught up.
    const seen = new Map<string, number>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const status = (await getCert(uploaded.id)).status;
        seen.set(status, (seen.get(status) ?? 0) + 1);
      }
    })();
    frozen.thaw();
    thawed = true;
    const version = await deployVersion(uploaded.id);
    await eventually('thawed edge live and caught up', effective, (e) => e.deployment.edges.some((x) => x.name === frozen.name && x.applied_version >= version), LAPSE_MS + 5_000);
    await new Promise((r) => setTimeout(r, 300));
    sampling = false;
    await sampler;
    assert.deepEqual([...seen.keys()], ['active'], `statuses read across the thaw: ${JSON.stringify([...seen])}`);
  } finally {
    if (!thawed) frozen.thaw();
  }
});

test('a stopped edge drops out of the live set after its heartbeat lapses; deployments no longer wait for it', { skip: unreachable ?? false }, async () => {
  const stopped = edges[2];
  await stopped.stop();
  // Within the lapse it still counts: `?wait=active` answers at the deadline, naming it.
  const first = await upload(await clientCert(userCa, 'scale.test three'), true);
  assert.equal(first.status, 'deployment_timed_out');
  assert.deepEqual(first.lagging_edges?.map((e) => e.name), [stopped.name]);

  const eff = await eventually('stopped edge left the live set', effective, (e) => !e.deployment.edges.some((x) => x.name === stopped.name), LAPSE_MS + 5_000);
  assert.equal(eff.deployment.edges.length, 2);
  assert.equal((await getCert(first.id)).status, 'active', 'the live edges all applied it');

  const started = Date.now();
  const leaf = await clientCert(userCa, 'scale.test four');
  const second = await upload(leaf, true);
  assert.equal(second.status, 'active');
  assert.ok(Date.now() - started < DEADLINE_MS, 'did not wait for the stopped edge');
  for (const edge of edges.slice(0, 2)) assert.equal(await presentedVia(edge), fingerprintOf(leaf.certPem));
});
