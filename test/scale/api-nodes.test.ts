// Several API nodes on one PostgreSQL: two started at once on an empty schema migrate and set up
// the installation once; writes through both at the same time lose nothing, never store a
// certificate twice, and bump the config version once each, in order. `originpull migrate` runs
// safely twice at once. A node holding another secret key refuses to start, saying why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store/index.ts';
import { loadMigrations } from '../../src/store/migrations/index.ts';
import { clientCert, newCa } from '../helpers/pki.ts';
import {
  ApiClient,
  edgePorts,
  EdgeProcess,
  eventually,
  newSecretKey,
  newToken,
  NodeProcess,
  nodeEnv,
  probePostgres,
  spawnApi,
  TestSchema,
  type CertificateResult,
} from './harness.ts';

const unreachable = await probePostgres();
const skip = unreachable ?? false;
const schema = new TestSchema();
const secretKey = newSecretKey();
const token = newToken();
const nodes: NodeProcess[] = [];
const dirs: string[] = [];
let apis: ApiClient[] = [];
let feedStore: Store | undefined;

before(async () => {
  if (unreachable) return;
  // Both at once on an empty schema: migrations, PKI, default account and admin token race.
  const spawned = await Promise.all(['api-1', 'api-2'].map((name) => spawnApi(name, { store: schema.url(), secretKey, token })));
  for (const { node, port } of spawned) {
    nodes.push(node);
    await node.waitReady(async () => (await fetch(`http://127.0.0.1:${port}/ssl/static/authenticated_origin_pull_ca.pem`)).ok);
  }
  apis = spawned.map(({ port }) => new ApiClient(`http://127.0.0.1:${port}/client/v4`, token));
});

after(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await feedStore?.close();
  if (!unreachable) await schema.drop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test('two API nodes started at once set up one installation', { skip }, async () => {
  const migrations = await schema.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
  assert.deepEqual(migrations.map((m) => Number(m.version)), loadMigrations().map((m) => m.version));
  assert.equal((await schema.query('SELECT 1 FROM pki')).length, 1);
  assert.equal((await schema.query('SELECT 1 FROM accounts')).length, 1);
  assert.equal((await schema.query('SELECT 1 FROM api_tokens WHERE admin = 1')).length, 1);
  const [a, b] = await Promise.all(apis.map((api) => api.ok<{ id: string }[]>('GET', '/accounts')));
  assert.equal(a[0].id, b[0].id);
});

test('concurrent writes through two API nodes: no lost update, no duplicate certificate, versions strictly increasing', { skip }, async () => {
  // Every version the change feed delivers, as an edge would see them.
  feedStore = await openStore(schema.url(), { pollIntervalMs: 100 });
  const seen: number[] = [];
  feedStore.onChange((v) => seen.push(v));
  const [one, two] = apis;
  const zone = await one.ok<{ id: string }>('POST', '/zones', { name: 'concurrent.test' });
  const base = `/zones/${zone.id}`;
  const record = await two.ok<{ id: string }>('POST', `${base}/dns_records`, { type: 'A', name: 'www.concurrent.test', content: '127.0.0.1' });
  const [before] = await schema.query<{ v: string }>('SELECT v FROM config_version');
  let writes = 0;
  const counted = async <T>(p: Promise<{ status: number; body: { success: boolean; result: T } }>) => {
    const r = await p;
    if (r.status === 200) writes++;
    return r;
  };

  // 1. The same certificates uploaded through both nodes at once: each is stored once.
  const ca = await newCa('concurrent CA');
  const leaves = await Promise.all([0, 1, 2, 3].map((i) => clientCert(ca, `leaf ${i}`)));
  const uploads = await Promise.all(
    leaves.flatMap((leaf) =>
      apis.map((api) => counted(api.call<CertificateResult>('POST', `${base}/origin_tls_client_auth`, { certificate: leaf.certPem, private_key: leaf.keyPem }))),
    ),
  );
  for (let i = 0; i < leaves.length; i++) {
    const pair = uploads.slice(2 * i, 2 * i + 2).map((u) => u.status).sort();
    assert.deepEqual(pair, [200, 409], `certificate ${i}: one upload wins, the other conflicts (${pair})`);
  }

  // 2. Different fields of one record patched through both nodes at once, and new records on both.
  const patches = [];
  for (let i = 0; i < 6; i++) {
    patches.push(counted(one.call('PATCH', `${base}/dns_records/${record.id}`, { origin_http_port: 8000 + i })));
    patches.push(counted(two.call('PATCH', `${base}/dns_records/${record.id}`, { comment: `comment ${i}` })));
    patches.push(counted(apis[i % 2].call('POST', `${base}/dns_records`, { type: 'A', name: `r${i}.concurrent.test`, content: '127.0.0.1' })));
  }
  const results = await Promise.all(patches);
  assert.ok(results.every((r) => r.status === 200), JSON.stringify(results.filter((r) => r.status !== 200)));

  // Port and comment patches interleave in any order; neither kind may undo the other.
  const rec = await one.ok<{ origin_http_port: number; comment: string }>('GET', `${base}/dns_records/${record.id}`);
  assert.ok(rec.origin_http_port >= 8000 && rec.origin_http_port <= 8005, `a port patch survived the comment patches (${rec.origin_http_port})`);
  assert.match(rec.comment ?? '', /^comment \d$/, 'a comment patch survived the port patches');
  const records = await two.ok<{ name: string }[]>('GET', `${base}/dns_records?per_page=100`);
  assert.equal(records.length, 7);

  const certs = await schema.query<{ fingerprint_sha256: string; deploy_version: string }>('SELECT fingerprint_sha256, deploy_version FROM certificates');
  assert.equal(certs.length, leaves.length, 'no duplicate certificate');
  assert.equal(new Set(certs.map((c) => c.fingerprint_sha256)).size, leaves.length);
  assert.equal(new Set(certs.map((c) => c.deploy_version)).size, leaves.length, 'each upload has its own version');

  // One version per committed write, none skipped or repeated.
  const [after] = await schema.query<{ v: string }>('SELECT v FROM config_version');
  assert.equal(Number(after.v) - Number(before.v), writes);
  await eventually('feed caught up', async () => seen.at(-1), (v) => v === Number(after.v), 5_000);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] > seen[i - 1], `feed order: ${seen.join(',')}`);
});

test('`originpull migrate` twice at once on a fresh schema: both succeed, each migration applied once', { skip }, async () => {
  const fresh = new TestSchema();
  try {
    const runs = [0, 1].map((i) => {
      const dataDir = mkdtempSync(join(tmpdir(), `originpull-migrate-${i}-`));
      dirs.push(dataDir);
      return new NodeProcess(`migrate-${i}`, ['migrate', '--store', fresh.url(), '--data-dir', dataDir], nodeEnv({}));
    });
    const codes = await Promise.all(runs.map((r) => r.exited));
    assert.deepEqual(codes, [0, 0], runs.map((r) => r.output).join('\n'));
    for (const r of runs) assert.match(r.output, /migrations applied \(postgres\)/);
    const applied = await fresh.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    assert.deepEqual(applied.map((m) => Number(m.version)), loadMigrations().map((m) => m.version));
    assert.deepEqual(await fresh.query('SELECT key FROM meta'), [], 'migrate records no secret key check');
  } finally {
    await fresh.drop();
  }
});

test('a node with another secret key refuses to start with a clear error (api and edge)', { skip }, async () => {
  const wrongKey = newSecretKey();
  const { node: api } = await spawnApi('api-wrong-key', { store: schema.url(), secretKey: wrongKey, token });
  const dataDir = mkdtempSync(join(tmpdir(), 'originpull-wrong-key-edge-'));
  dirs.push(dataDir);
  const edge = new EdgeProcess('edge-wrong-key', { store: schema.url(), secretKey: wrongKey, dataDir, ports: await edgePorts() });
  nodes.push(api, edge);
  const [apiCode, edgeCode] = await Promise.all([api.exited, edge.exited]);
  for (const [node, code] of [[api, apiCode], [edge, edgeCode]] as const) {
    assert.notEqual(code, 0, `${node.name} exited ${code}`);
    assert.match(node.output, /secret key of this node differs from the one this installation was created with/, node.output);
  }
  assert.equal((await schema.query("SELECT 1 FROM edges WHERE name = 'edge-wrong-key'")).length, 0, 'the edge never registered');
});

test('an edge started before any API node waits, records nothing, and refuses the installation if its key differs', { skip }, async () => {
  const fresh = new TestSchema();
  const dataDir = mkdtempSync(join(tmpdir(), 'originpull-early-edge-'));
  dirs.push(dataDir);
  const edge = new EdgeProcess('edge-early', { store: fresh.url(), secretKey: newSecretKey(), dataDir, ports: await edgePorts() });
  nodes.push(edge);
  try {
    await new Promise((r) => setTimeout(r, 1_500));
    assert.ok(edge.running, edge.output);
    const { node: api } = await spawnApi('api-late', { store: fresh.url(), secretKey, token });
    nodes.push(api);
    await api.waitReady(async () => (await fresh.query("SELECT 1 FROM pki")).length === 1);
    assert.equal((await fresh.query<{ value: string }>("SELECT value FROM meta WHERE key = 'secret_key_check'")).length, 1);
    const code = await Promise.race([edge.exited, new Promise((r) => setTimeout(() => r('still running'), 15_000))]);
    assert.notEqual(code, 0);
    assert.notEqual(code, 'still running');
    assert.match(edge.output, /secret key of this node differs/);
    await api.stop();
  } finally {
    await edge.stop();
    await fresh.drop();
  }
});
