// HTTP/2 to visitors as real clients speak it: curl --http2, nghttp (many streams on one
// connection), h2load (connections × concurrent streams), and Chromium, whose navigation reports
// nextHopProtocol 'h2'. Each skips with what to install when its binary is missing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConfigBuilder, newCa, newInstallation, serverCert, type TestInstallation } from '../helpers/pki.ts';
import { startTlsOrigin, type TestOrigin } from '../helpers/origin.ts';
import { findBinary } from '../helpers/peers.ts';
import { CHROMIUM } from '../web/browser.ts';
import { startTestEdge, type TestEdge } from './harness.ts';

const run = promisify(execFile);
const HOST = 'www.h2.test';

/** Many streams at once dial many origin connections at once: a loaded box needs time for the handshakes. */
const GENEROUS = { timeouts: { connectMs: 20_000, responseMs: 20_000, keepAliveMs: 10_000 } };
let inst: TestInstallation;
let origin: TestOrigin;
let edge: TestEdge;
let dir: string;
let caFile: string;

function handler(req: IncomingMessage, res: ServerResponse): void {
  let bytes = 0;
  req.on('data', (c: Buffer) => (bytes += c.length));
  req.on('end', () => {
    if (req.url === '/page') {
      const html = '<!doctype html><title>h2</title><img src="/a.txt"><img src="/b.txt"><p>hello</p>';
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(html) });
      res.end(html);
      return;
    }
    const body = JSON.stringify({ url: req.url, bytes, host: req.headers.host, proto: req.headers['x-forwarded-proto'] });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}

before(async () => {
  inst = await newInstallation();
  origin = await startTlsOrigin({ cert: await serverCert(await newCa('o'), ['o.test']), clientCa: inst.originPullCa.certPem, handler });
  const b = new ConfigBuilder(inst);
  b.record(b.zone('h2.test', { tlsClientAuth: 'on' }), HOST, { httpsPort: origin.port });
  edge = await startTestEdge(inst, b.build(), GENEROUS);
  dir = mkdtempSync(join(tmpdir(), 'originpull-h2-peers-'));
  caFile = join(dir, 'edge-ca.pem');
  writeFileSync(caFile, inst.edgeCa.certPem);
});

after(async () => {
  await edge.close();
  await origin.close();
  rmSync(dir, { recursive: true, force: true });
});

const url = (path: string) => `https://${HOST}:${edge.httpsPort}${path}`;

test('curl --http2: HTTP/2 negotiated, verified against the edge CA, an upload through', async (t) => {
  if (!findBinary('curl')) return t.skip('curl not installed: apt-get install curl');
  const resolve = `${HOST}:${edge.httpsPort}:127.0.0.1`;
  const get = await run('curl', ['--http2', '-sS', '--cacert', caFile, '--resolve', resolve, '-w', '\n%{http_version} %{response_code}', url('/curl?x=1')]);
  const [body, tail] = get.stdout.split('\n');
  assert.equal(tail, '2 200');
  assert.deepEqual(JSON.parse(body), { url: '/curl?x=1', bytes: 0, host: `${HOST}:${edge.httpsPort}`, proto: 'https' });
  const file = join(dir, 'upload.bin');
  writeFileSync(file, Buffer.alloc(5 * 1024 * 1024, 7));
  const post = await run('curl', ['--http2', '-sS', '--cacert', caFile, '--resolve', resolve, '--data-binary', `@${file}`, '-w', '\n%{http_version}', url('/upload')]);
  const [echo, version] = post.stdout.split('\n');
  assert.equal(version, '2');
  assert.equal(JSON.parse(echo).bytes, 5 * 1024 * 1024);
});

test('nghttp: 100 requests as concurrent streams of one connection, all answered', async (t) => {
  if (!findBinary('nghttp')) return t.skip('nghttp not installed: apt-get install nghttp2-client');
  // nghttp names the host in SNI from the URL: an address sends none, and :authority routes.
  const out = await run('nghttp', ['-ns', '-m', '100', '-H', `:authority: ${HOST}`, `https://127.0.0.1:${edge.httpsPort}/nghttp`], { maxBuffer: 1 << 22 });
  const ok = out.stdout.split('\n').filter((line) => /\s200\s/.test(line) && line.includes('/nghttp'));
  assert.equal(ok.length, 100, out.stdout);
});

test('h2load: 10 connections × 10 concurrent streams, every request answered 2xx over h2', async (t) => {
  if (!findBinary('h2load')) return t.skip('h2load not installed: apt-get install nghttp2-client');
  const out = await run('h2load', ['-n', '2000', '-c', '10', '-m', '10', `--connect-to=127.0.0.1:${edge.httpsPort}`, url('/h2load')], { maxBuffer: 1 << 22 });
  assert.match(out.stdout, /Application protocol: h2/);
  assert.match(out.stdout, /requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored/);
  assert.match(out.stdout, /status codes: 2000 2xx/);
});

test("Chromium: the page and its resources come over HTTP/2 (nextHopProtocol 'h2')", async (t) => {
  if (!findBinary(CHROMIUM)) return t.skip('chromium not installed: apt-get install chromium');
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'originpull-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    ignoreHTTPSErrors: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--ignore-certificate-errors', `--host-resolver-rules=MAP ${HOST} 127.0.0.1`],
  });
  try {
    const page = await context.newPage();
    const res = await page.goto(url('/page'));
    assert.equal(res?.status(), 200);
    const protocols = await page.evaluate(async () => {
      await fetch('/fetched').then((r) => r.text());
      const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')] as PerformanceResourceTiming[];
      return entries.map((e) => [new URL(e.name).pathname, e.nextHopProtocol]);
    });
    const byPath = Object.fromEntries(protocols);
    assert.equal(byPath['/page'], 'h2', JSON.stringify(protocols));
    assert.equal(byPath['/fetched'], 'h2', JSON.stringify(protocols));
    assert.equal(byPath['/a.txt'], 'h2', JSON.stringify(protocols));
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
