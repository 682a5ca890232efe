// src/api/dashboard.ts on a bare Fastify app with the API's 404 handler shape: files, the SPA
// fallback for browser navigations, the 503 page without a build, and the API paths it leaves alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { dashboard } from '../../src/api/dashboard.ts';

async function appWith(root: string): Promise<FastifyInstance> {
  const app = Fastify();
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ success: false, errors: [{ code: 7003, message: `No route: ${request.url}` }] }));
  app.get('/client/v4/zones', async () => ({ success: true, result: [] }));
  await app.register(dashboard, { root });
  await app.ready();
  return app;
}

test('serves the built files, falls back to index.html for navigations, leaves the API alone', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'originpull-dist-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>dash</title>');
  writeFileSync(join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
  // A file beside the root that no URL may reach.
  const outside = join(root, '..', 'originpull-outside.txt');
  writeFileSync(outside, 'secret');
  t.after(() => rmSync(outside, { force: true }));
  const app = await appWith(root);
  t.after(() => app.close());

  const index = await app.inject({ url: '/' });
  assert.equal(index.statusCode, 200);
  assert.match(index.headers['content-type'] as string, /text\/html/);
  assert.match(index.headers['content-security-policy'] as string, /frame-ancestors 'none'/);
  assert.equal(index.headers['cache-control'], 'no-cache');
  assert.match(index.body, /<title>dash/);

  const asset = await app.inject({ url: '/assets/index-abc123.js' });
  assert.equal(asset.statusCode, 200);
  assert.match(asset.headers['cache-control'] as string, /immutable/);
  assert.match(asset.headers['content-type'] as string, /javascript/);

  const head = await app.inject({ method: 'HEAD', url: '/' });
  assert.equal(head.statusCode, 200);

  const nav = await app.inject({ url: '/zones/abc/dns', headers: { accept: 'text/html,application/xhtml+xml' } });
  assert.equal(nav.statusCode, 200);
  assert.match(nav.body, /<title>dash/);

  // Not a browser navigation, a missing file, an API path, another method: the JSON 404 as before.
  for (const req of [
    { url: '/zones/abc/dns' },
    { url: '/favicon.ico', headers: { accept: 'text/html' } },
    { url: '/client/v4/nope', headers: { accept: 'text/html' } },
    { url: '/client/v4', headers: { accept: 'text/html' } },
    { url: '/ssl/static/authenticated_origin_pull_ca.pem', headers: { accept: 'text/html' } },
    { method: 'POST' as const, url: '/', headers: { accept: 'text/html' } },
    { url: '/..%2f..%2foriginpull-outside.txt', headers: { accept: 'text/html' } },
    { url: '/%2e%2e/originpull-outside.txt' },
  ]) {
    const res = await app.inject(req);
    assert.equal(res.statusCode, 404, `${req.url} → ${res.statusCode}`);
    assert.equal(res.json().success, false);
  }
  assert.equal((await app.inject({ url: '/client/v4/zones' })).json().success, true);
});

test('without a build: a 503 page that says how to build', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'originpull-nodist-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const app = await appWith(join(root, 'dist'));
  t.after(() => app.close());
  for (const req of [{ url: '/' }, { url: '/zones/x/ssl-tls', headers: { accept: 'text/html' } }]) {
    const res = await app.inject(req);
    assert.equal(res.statusCode, 503);
    assert.match(res.headers['content-type'] as string, /text\/html/);
    assert.match(res.body, /dashboard not built: run npm run build:web/);
  }
  assert.equal((await app.inject({ url: '/client/v4/nope' })).statusCode, 404);
});
