// WebSockets through the product as a user runs it: `originpull serve` (two edge workers) set up
// with the official `cloudflare` SDK, a zone certificate presented to a `ws` origin that requires
// it, visitors over HTTP and HTTPS, Chromium opening a WebSocket through the edge, and the open
// connections counted on the metrics listener.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import Cloudflare from 'cloudflare';
import { chromium } from 'playwright-core';
import { WebSocket, WebSocketServer, type ClientOptions, type RawData } from 'ws';
import { clientCert, fingerprintOf, newCa, serverCert } from '../helpers/pki.ts';
import { startServe, type ServePorts, type ServeProcess } from '../helpers/serve-process.ts';
import type { PemPair } from '../../src/pki/index.ts';

const CHROMIUM = '/usr/bin/chromium';
const HOST = 'chat.example.com';

let dataDir: string;
let ports: ServePorts;
let serve: ServeProcess;
let server: https.Server;
let wss: WebSocketServer;
let originPort = 0;
let zoneCert: PemPair;
let edgeCaPem = '';
const seenFingerprints: (string | null)[] = [];

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'originpull-e2e-ws-'));
  serve = await startServe({ dataDir });
  ports = serve.ports;
  edgeCaPem = await (await fetch(`http://127.0.0.1:${ports.api}/ssl/static/edge_ca.pem`)).text();

  // The origin: HTTPS that requires a client certificate of the user's CA, echoing WebSocket messages.
  const userCa = await newCa('example.com');
  zoneCert = await clientCert(userCa, 'example.com');
  const originCert = await serverCert(await newCa('origin server CA'), [HOST]);
  server = https.createServer({ key: originCert.keyPem, cert: originCert.certPem, ca: userCa.certPem, requestCert: true, rejectUnauthorized: true });
  wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    seenFingerprints.push((req.socket as TLSSocket).getPeerX509Certificate()?.fingerprint256.replaceAll(':', '').toLowerCase() ?? null);
    ws.on('message', (data: RawData, isBinary: boolean) => ws.send(isBinary ? data : `echo: ${String(data)}`, { binary: isBinary }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  originPort = (server.address() as AddressInfo).port;
});

after(async () => {
  await serve?.stop();
  for (const c of wss?.clients ?? []) c.terminate();
  wss?.close();
  server?.closeAllConnections();
  server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function openedOrFailed(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => {
    ws.once('open', () => resolve('open'));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(`status ${res.statusCode}`);
    });
    ws.once('error', (err) => resolve(`error ${err.message}`));
  });
}

async function echo(ws: WebSocket, text: string): Promise<string> {
  ws.send(text);
  const [data] = (await once(ws, 'message')) as [Buffer];
  return String(data);
}

async function openTunnels(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
  const m = /^originpull_edge_upgraded_connections (\S+)$/m.exec(text);
  return m ? Number(m[1]) : NaN;
}

test('a WebSocket app behind the edge, set up with the SDK: zone certificate on the upgraded connection, HTTP, HTTPS and Chromium', async (t) => {
  const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const sdk = new Cloudflare({ apiToken: token, baseURL: `http://127.0.0.1:${ports.api}/client/v4`, maxRetries: 0 });
  const account = (await sdk.accounts.list()).result[0];
  const zone = await sdk.zones.create({ account: { id: account.id }, name: 'example.com' });
  await sdk.dns.records.create({
    zone_id: zone.id,
    type: 'A',
    name: HOST,
    content: '127.0.0.1',
    proxied: true,
    ...({ origin_https_port: originPort } as object),
  } as Parameters<typeof sdk.dns.records.create>[0]);
  const uploaded = await sdk.originTLSClientAuth.zoneCertificates.create({ zone_id: zone.id, certificate: zoneCert.certPem, private_key: zoneCert.keyPem });
  await sdk.originTLSClientAuth.settings.update({ zone_id: zone.id, enabled: true });
  const activeBy = Date.now() + 20_000;
  while ((await sdk.originTLSClientAuth.zoneCertificates.get(uploaded.id!, { zone_id: zone.id })).status !== 'active') {
    if (Date.now() > activeBy) assert.fail('the zone certificate never became active');
    await new Promise((r) => setTimeout(r, 100));
  }

  await t.test('HTTP visitor', async () => {
    // Both workers must have applied the certificate: retry until an upgrade goes through.
    let ws: WebSocket;
    let state = '';
    const until = Date.now() + 15_000;
    for (;;) {
      ws = new WebSocket(`ws://127.0.0.1:${ports.http}/live`, { headers: { host: HOST } });
      state = await openedOrFailed(ws);
      if (state === 'open' || Date.now() > until) break;
      ws.terminate();
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(state, 'open', serve.output());
    assert.equal(seenFingerprints.at(-1), fingerprintOf(zoneCert.certPem));
    assert.equal(await echo(ws, 'over http'), 'echo: over http');
    assert.equal(await openTunnels(), 1);
    ws.close(1000);
    await once(ws, 'close');
  });

  await t.test('HTTPS visitor', async () => {
    const options: ClientOptions = { headers: { host: HOST }, ca: edgeCaPem };
    const ws = new WebSocket(`wss://127.0.0.1:${ports.https}/live`, Object.assign(options, { servername: HOST }));
    assert.equal(await openedOrFailed(ws), 'open');
    assert.equal(await echo(ws, 'over https'), 'echo: over https');
    ws.close(1000);
    await once(ws, 'close');
  });

  await t.test('Chromium opens a WebSocket through the edge', { skip: existsSync(CHROMIUM) ? false : 'chromium not installed: apt-get install chromium' }, async () => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // The page's host name resolves to the edge, as DNS would send a visitor to it.
      args: ['--no-sandbox', '--disable-gpu', `--host-resolver-rules=MAP ${HOST} 127.0.0.1`],
    });
    try {
      const page = await browser.newPage();
      const result = await page.evaluate(async (url: string) => {
        return await new Promise<{ opened: boolean; messages: string[]; binary: number; code: number }>((resolve) => {
          // The page's own WebSocket (the name `WebSocket` here is the ws package's).
          const ws = new globalThis.WebSocket(url);
          ws.binaryType = 'arraybuffer';
          const messages: string[] = [];
          let opened = false;
          let binary = 0;
          ws.onopen = () => {
            opened = true;
            ws.send('from chromium');
            ws.send(new Uint8Array(70_000).fill(9));
          };
          ws.onmessage = (e) => {
            if (typeof e.data === 'string') messages.push(e.data);
            else binary = (e.data as ArrayBuffer).byteLength;
            if (messages.length === 1 && binary > 0) ws.close(4002, 'bye from chromium');
          };
          ws.onclose = (e) => resolve({ opened, messages, binary, code: e.code });
          setTimeout(() => resolve({ opened, messages, binary, code: -1 }), 10_000);
        });
      }, `ws://${HOST}:${ports.http}/live`);
      assert.deepEqual(result, { opened: true, messages: ['echo: from chromium'], binary: 70_000, code: 4002 });
    } finally {
      await browser.close();
    }
  });

  await t.test('the metrics count no open upgraded connection once all are closed', async () => {
    const until = Date.now() + 10_000;
    while ((await openTunnels()) !== 0) {
      if (Date.now() > until) assert.fail(`still ${await openTunnels()} open`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
});
