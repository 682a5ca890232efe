// Authentication (Bearer, legacy key/email), token scoping across two zones, read-only tokens,
// token management, and the admin token file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureAdminToken, hashTokenSecret } from '../../src/api/index.ts';
import { openStore } from '../../src/store/index.ts';
import { certFixtures, hasOpenssl } from '../helpers/cert-fixtures.ts';
import { createToken, createZone, startApi } from './harness.ts';

const skip = hasOpenssl() ? false : 'openssl not installed: apt-get install openssl';

test('credentials: none, malformed, unknown and legacy are told apart', async (t) => {
  const h = await startApi();
  t.after(() => h.close());
  const cases: [string, Record<string, string>, number, RegExp][] = [
    ['none', {}, 401, /no credentials/],
    ['basic', { authorization: 'Basic Zm9vOmJhcg==' }, 401, /Bearer/],
    ['unknown bearer', { authorization: 'Bearer not-a-token' }, 401, /invalid API token/],
    ['key without email', { 'x-auth-key': h.token }, 401, /X-Auth-Email/],
    ['legacy wrong key', { 'x-auth-key': 'nope', 'x-auth-email': 'a@b.c' }, 401, /invalid API token/],
  ];
  for (const [name, headers, status, message] of cases) {
    const res = await h.call('GET', '/zones', { as: null, headers });
    assert.equal(res.statusCode, status, name);
    const body = res.json();
    assert.equal(body.success, false);
    assert.equal(body.errors[0].code, 10000, name);
    assert.match(body.errors[0].message, /^Authentication error/, name);
    assert.match(body.errors[0].message, message, name);
  }
  const legacy = await h.call('GET', '/zones', { as: null, headers: { 'x-auth-key': h.token, 'x-auth-email': 'admin@example.com' } });
  assert.equal(legacy.statusCode, 200);
  const verify = await h.call('GET', '/user/tokens/verify');
  assert.equal(verify.statusCode, 200);
  assert.equal(verify.json().result.status, 'active');
  // A non-admin token is not accepted as the legacy admin key.
  const reader = await createToken(h, { name: 'reader', permission: 'read' });
  const asLegacy = await h.call('GET', '/zones', { as: null, headers: { 'x-auth-key': reader, 'x-auth-email': 'a@b.c' } });
  assert.equal(asLegacy.statusCode, 401);
});

test('token scoping across two zones: 403 outside, lists filtered, read-only enforced', { skip }, async (t) => {
  const f = await certFixtures();
  const h = await startApi();
  t.after(() => h.close());
  const a = await createZone(h, 'a.example');
  const b = await createZone(h, 'b.example');
  const readA = await createToken(h, { name: 'read A', permission: 'read', zones: [a] });
  const editA = await createToken(h, { name: 'edit A', permission: 'edit', zones: [a] });
  const editAll = await createToken(h, { name: 'edit all', permission: 'edit' });
  const upload = { certificate: f.leaf.certificate, private_key: f.leaf.privateKey };

  const expect = async (as: string, method: string, url: string, status: number, body?: unknown) => {
    const res = await h.call(method, url, { as, body });
    assert.equal(res.statusCode, status, `${method} ${url}: ${res.body.slice(0, 200)}`);
    if (status === 403) {
      assert.equal(res.json().errors[0].code, 10000);
      assert.match(res.json().errors[0].message, /^Forbidden/);
      assert.doesNotMatch(res.body, /b\.example/, 'a 403 names nothing of the other zone');
    }
    return res;
  };

  // Zone lists only show the token's zones.
  const listed = await expect(readA, 'GET', '/zones', 200);
  assert.deepEqual(listed.json().result.map((z: { id: string }) => z.id), [a]);
  assert.deepEqual((await expect(readA, 'GET', '/zones?name=b.example', 200)).json().result, []);
  assert.equal((await expect(editAll, 'GET', '/zones', 200)).json().result.length, 2);

  // Reading in scope works; the other zone is 403 whether it exists or not (no 404 leak).
  await expect(readA, 'GET', `/zones/${a}`, 200);
  await expect(readA, 'GET', `/zones/${a}/origin_tls_client_auth`, 200);
  await expect(readA, 'GET', `/zones/${b}`, 403);
  await expect(readA, 'GET', `/zones/${b}/settings/ssl`, 403);
  await expect(readA, 'GET', `/zones/${b}/origin_tls_client_auth/hostnames/certificates`, 403);
  await expect(readA, 'GET', '/zones/0123456789abcdef0123456789abcdef', 403);

  // Read tokens never write, even in scope.
  await expect(readA, 'PATCH', `/zones/${a}/settings/ssl`, 403, { value: 'strict' });
  await expect(readA, 'POST', `/zones/${a}/origin_tls_client_auth`, 403, upload);
  await expect(readA, 'PUT', `/zones/${a}/origin_tls_client_auth/settings`, 403, { enabled: true });

  // Edit tokens write in scope only.
  await expect(editA, 'POST', `/zones/${a}/origin_tls_client_auth`, 200, upload);
  await expect(editA, 'POST', `/zones/${b}/origin_tls_client_auth`, 403, upload);
  await expect(editA, 'PUT', `/zones/${b}/origin_tls_client_auth/hostnames`, 403, { config: [] });
  await expect(editA, 'POST', `/zones/${b}/dns_records`, 403, { type: 'A', name: 'x.b.example', content: '192.0.2.1' });
  await expect(editA, 'PATCH', `/zones/${a}/settings/tls_client_auth`, 200, { value: 'on' });
  assert.deepEqual(await h.store.listCertificates(b, 'zone'), [], 'nothing reached zone B');

  // Account-level actions need a token not limited to zones; token management needs the admin.
  await expect(editA, 'POST', '/zones', 403, { name: 'c.example' });
  await expect(editA, 'DELETE', `/zones/${a}`, 403);
  await expect(editAll, 'POST', '/zones', 200, { name: 'c.example' });
  await expect(editAll, 'GET', '/user/tokens', 403);
  await expect(editAll, 'POST', '/user/tokens', 403, { name: 'x' });
  await expect(readA, 'GET', '/user/tokens/verify', 200);
});

test('token management: secrets shown once, never listed; bad requests; deletion revokes', async (t) => {
  const h = await startApi();
  t.after(() => h.close());
  const a = await createZone(h, 'a.example');
  const created = await h.call('POST', '/user/tokens', { body: { name: 'ci', permission: 'edit', zones: [a, a] } });
  assert.equal(created.statusCode, 200);
  const token = created.json().result;
  assert.equal(token.value.length, 40);
  assert.deepEqual(token.zones, [a]);
  assert.equal(token.permission, 'edit');
  assert.equal(token.admin, false);
  const stored = await h.store.findTokenBySecretHash(hashTokenSecret(token.value));
  assert.equal(stored?.id, token.id, 'stored by hash');

  const list = await h.call('GET', '/user/tokens');
  assert.equal(list.statusCode, 200);
  assert.ok(!list.body.includes(token.value), 'secrets are not listed');
  assert.ok(!list.body.includes(stored!.secretHash), 'hashes are not listed');
  assert.deepEqual(list.json().result.map((x: { name: string }) => x.name).sort(), ['admin', 'ci']);
  assert.equal((await h.call('GET', `/user/tokens/${token.id}`)).json().result.name, 'ci');

  const bad: [unknown, number, RegExp][] = [
    [{ name: 'x', zones: ['nope'] }, 1151, /unknown zone nope/],
    [{ name: 'x', zones: [] }, 1151, /at least one zone/],
    [{ name: 'x', permission: 'admin' }, 1004, /permission must be one of "read", "edit"/],
    [{ name: '' }, 1004, /name must NOT have fewer than 1 characters/],
    [{ permission: 'read' }, 1004, /name is required/],
  ];
  for (const [body, code, message] of bad) {
    const res = await h.call('POST', '/user/tokens', { body });
    assert.equal(res.statusCode, 400, JSON.stringify(body));
    assert.equal(res.json().errors[0].code, code, res.body);
    assert.match(res.json().errors[0].message, message);
  }

  assert.equal((await h.call('GET', `/zones/${a}`, { as: token.value })).statusCode, 200);
  assert.equal((await h.call('DELETE', `/user/tokens/${token.id}`)).statusCode, 200);
  assert.equal((await h.call('GET', `/zones/${a}`, { as: token.value })).statusCode, 401);
  assert.equal((await h.call('DELETE', `/user/tokens/${token.id}`)).statusCode, 404);

  const admin = (await h.store.listTokens()).find((x) => x.admin)!;
  const refused = await h.call('DELETE', `/user/tokens/${admin.id}`);
  assert.equal(refused.statusCode, 409);
  assert.equal(refused.headers['x-should-retry'], 'false');
});

test('ensureAdminToken: generated once into a 0600 file; an env token is used instead', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'originpull-admin-'));
  const store = await openStore(`sqlite:${join(dir, 'originpull.db')}`);
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await store.migrate();

  const first = await ensureAdminToken(store, dir);
  assert.equal(first.created, true);
  assert.ok(first.token && first.token.length >= 32);
  const file = join(dir, 'admin-token');
  assert.equal(readFileSync(file, 'utf8').trim(), first.token);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const stored = await store.findTokenBySecretHash(hashTokenSecret(first.token));
  assert.equal(stored?.admin, true);
  assert.equal(stored?.zoneIds, null);
  assert.equal(stored?.permission, 'edit');
  assert.equal((await store.listTokens()).some((x) => x.secretHash === first.token), false, 'never stored in the clear');

  const again = await ensureAdminToken(store, dir);
  assert.deepEqual(again, { created: false });

  const fromEnv = await ensureAdminToken(store, dir, 'env-supplied-token-0123456789');
  assert.deepEqual(fromEnv, { created: true });
  assert.equal((await store.findTokenBySecretHash(hashTokenSecret('env-supplied-token-0123456789')))?.admin, true);
  assert.deepEqual(await ensureAdminToken(store, dir, 'env-supplied-token-0123456789'), { created: false });
});
