// WebSockets (and any upgrade the origin accepts with 101) through the edge: the `ws` package on
// both ends, the origin requiring the zone's client certificate, over HTTP visitors (both visitor
// transports) and HTTPS visitors; frames, a 10 MB message, ping/pong, close codes both ways,
// half-close and back-pressure on a raw upgraded stream, the idle timeout, the zone switch, h2c,
// a refused upgrade going on as HTTP, graceful shutdown, and what is logged and counted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import net, { type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { WebSocket, WebSocketServer, type ClientOptions, type RawData } from 'ws';
import { ConfigBuilder, clientCert, fingerprintOf, newCa, newInstallation, serverCert, type TestInstallation } from '../helpers/pki.ts';
import { startTestEdge, type TestEdge } from './harness.ts';
import type { PemPair } from '../../src/pki/index.ts';
import type { EdgeOptions, Route, Snapshot } from '../../src/edge/index.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { edgeOptionsFromConfig } from '../../src/sync/index.ts';

let inst: TestInstallation;
let zoneCa: PemPair;
let zoneLeaf: PemPair;
let zoneLeaf2: PemPair;
let originCa: PemPair;
let originCert: PemPair;

let ready: Promise<void>;
before(async () => {
  ready = setUp();
  await ready;
});

async function setUp(): Promise<void> {
  inst = await newInstallation();
  zoneCa = await newCa('customer CA');
  zoneLeaf = await clientCert(zoneCa, 'zone client');
  zoneLeaf2 = await clientCert(zoneCa, 'zone client, renewed');
  originCa = await newCa('origin server CA');
  originCert = await serverCert(originCa, ['ws.example.test']);
}

// ── the AOP origin: HTTPS requiring a client certificate of the zone's CA, with a ws echo server ──

interface WsOrigin {
  port: number;
  /** Client-certificate fingerprint and SNI of each upgraded connection. */
  upgrades: { fingerprint: string | null; servername: string | null; headers: http.IncomingHttpHeaders }[];
  /** Close code and reason of each server-side socket once closed. */
  closes: { code: number; reason: string }[];
  server: https.Server;
  wss: WebSocketServer;
  close(): Promise<void>;
}

async function startWsOrigin(): Promise<WsOrigin> {
  const server = https.createServer({ key: originCert.keyPem, cert: originCert.certPem, ca: zoneCa.certPem, requestCert: true, rejectUnauthorized: true });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => res.end(`plain ${req.url}`));
  const wss = new WebSocketServer({ server, maxPayload: 64 * 1024 * 1024 });
  const origin: WsOrigin = {
    port: 0,
    upgrades: [],
    closes: [],
    server,
    wss,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  wss.on('connection', (ws, req) => {
    const socket = req.socket as TLSSocket;
    origin.upgrades.push({
      fingerprint: socket.getPeerX509Certificate()?.fingerprint256.replaceAll(':', '').toLowerCase() ?? null,
      servername: (socket as TLSSocket & { servername?: string }).servername || null,
      headers: req.headers,
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const text = isBinary ? '' : data.toString();
      // `close:CODE:REASON` asks the origin to close; `ping` asks it to ping the visitor.
      const m = /^close:(\d+):(.*)$/.exec(text);
      if (m) ws.close(Number(m[1]), m[2]);
      else if (text === 'ping') ws.ping(Buffer.from('from-origin'));
      else ws.send(data, { binary: isBinary });
    });
    ws.on('close', (code, reason) => origin.closes.push({ code, reason: reason.toString() }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin.port = (server.address() as net.AddressInfo).port;
  return origin;
}

function memoryLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

const HOST = 'ws.example.test';

function aopConfig(originPort: number) {
  const b = new ConfigBuilder(inst);
  const z = b.zone('example.test', { sslMode: 'strict', aopEnabled: true });
  b.cert(z, 'zone', zoneLeaf);
  b.record(z, HOST, { httpsPort: originPort });
  return Object.assign(b, { aopZone: z });
}

async function edgeFor(b: ConfigBuilder, opts: Partial<EdgeOptions> = {}): Promise<TestEdge> {
  return startTestEdge(inst, b.build(), { originCaPem: originCa.certPem, ...opts });
}

type Scheme = 'http' | 'https';

function connect(edge: TestEdge, scheme: Scheme, path = '/'): WebSocket {
  if (scheme === 'http') return new WebSocket(`ws://127.0.0.1:${edge.httpPort}${path}`, { headers: { host: HOST }, maxPayload: 64 * 1024 * 1024 });
  // (ws passes TLS options on to tls.connect; its types leave servername out.)
  const options: ClientOptions = { headers: { host: HOST }, ca: inst.edgeCa.certPem, maxPayload: 64 * 1024 * 1024 };
  return new WebSocket(`wss://127.0.0.1:${edge.httpsPort}${path}`, Object.assign(options, { servername: HOST }));
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    ws.once('message', (data: RawData, isBinary: boolean) => resolve({ data: Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]), isBinary }));
    ws.once('error', reject);
  });
}

async function metric(edge: TestEdge, name: string): Promise<number> {
  const text = await edge.registry.metrics();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let origin: WsOrigin;
before(async () => {
  await ready;
  origin = await startWsOrigin();
});
after(async () => {
  await origin.close();
});

const transports: { name: string; scheme: Scheme; tcpHandles: boolean }[] = [
  { name: 'HTTP visitor (TCP handles)', scheme: 'http', tcpHandles: true },
  { name: 'HTTP visitor (net.Socket)', scheme: 'http', tcpHandles: false },
  { name: 'HTTPS visitor', scheme: 'https', tcpHandles: true },
];

for (const t of transports) {
  test(`${t.name}: text, binary, a 10 MB message each way, ping/pong, with the zone's client certificate; logged and counted`, async () => {
    const { logger, lines } = memoryLogger();
    const edge = await edgeFor(aopConfig(origin.port), { logger, tcpHandles: t.tcpHandles });
    try {
      const before = origin.upgrades.length;
      const ws = connect(edge, t.scheme, '/chat?room=1');
      await once(ws, 'open');
      assert.equal(origin.upgrades.length, before + 1);
      const seen = origin.upgrades.at(-1)!;
      assert.equal(seen.fingerprint, fingerprintOf(zoneLeaf.certPem), 'the origin saw the zone certificate on the upgraded connection');
      assert.equal(seen.servername, HOST);
      assert.equal(seen.headers['x-forwarded-proto'], t.scheme);
      assert.match(String(seen.headers['cf-ray']), /-TEST$/);
      assert.equal(await metric(edge, 'originpull_edge_upgraded_connections'), 1);

      ws.send('hello');
      let m = await nextMessage(ws);
      assert.equal(m.isBinary, false);
      assert.equal(m.data.toString(), 'hello');

      const binary = Buffer.from([0, 1, 2, 255, 254, 0]);
      ws.send(binary);
      m = await nextMessage(ws);
      assert.equal(m.isBinary, true);
      assert.deepEqual(m.data, binary);

      const big = Buffer.alloc(10 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i, i);
      ws.send(big);
      m = await nextMessage(ws);
      assert.equal(m.data.length, big.length);
      assert.ok(m.data.equals(big), 'the 10 MB message came back intact');

      // The visitor pings (the origin's ws answers), then the origin pings (the visitor's ws answers).
      ws.ping(Buffer.from('from-visitor'));
      const [pong] = (await once(ws, 'pong')) as [Buffer];
      assert.equal(pong.toString(), 'from-visitor');
      ws.send('ping');
      const [ping] = (await once(ws, 'ping')) as [Buffer];
      assert.equal(ping.toString(), 'from-origin');

      ws.close(1000, 'done');
      const [code] = (await once(ws, 'close')) as [number, Buffer];
      assert.equal(code, 1000);
      await waitFor('the access line', () => lines.some((l) => l.status === 101));
      const line = lines.find((l) => l.status === 101)!;
      assert.equal(line.upgrade, 'websocket');
      assert.equal(line.path, '/chat?room=1');
      assert.equal(line.scheme, t.scheme);
      assert.equal(line.aop, 'zone');
      assert.equal(line.certFingerprint, fingerprintOf(zoneLeaf.certPem));
      assert.ok((line.requestBytes as number) > big.length, `bytes from the visitor: ${String(line.requestBytes)}`);
      assert.ok((line.responseBytes as number) > big.length, `bytes to the visitor: ${String(line.responseBytes)}`);
      assert.ok(((line.ms as { total: number }).total) > 0);
      assert.equal(await metric(edge, 'originpull_edge_upgraded_connections'), 0);
      assert.match(await edge.registry.metrics(), /originpull_edge_requests_total\{status="101"\} 1/);
    } finally {
      await edge.close();
    }
  });
}

test('close codes and reasons pass both ways, whoever closes first', async () => {
  const edge = await edgeFor(aopConfig(origin.port));
  try {
    // The visitor closes.
    let ws = connect(edge, 'http');
    await once(ws, 'open');
    const closes = origin.closes.length;
    ws.close(4000, 'visitor says bye');
    await once(ws, 'close');
    await waitFor('the origin to see the close', () => origin.closes.length > closes);
    assert.deepEqual(origin.closes.at(-1), { code: 4000, reason: 'visitor says bye' });

    // The origin closes.
    ws = connect(edge, 'https');
    await once(ws, 'open');
    ws.send('close:4001:origin says bye');
    const [code, reason] = (await once(ws, 'close')) as [number, Buffer];
    assert.equal(code, 4001);
    assert.equal(reason.toString(), 'origin says bye');
  } finally {
    await edge.close();
  }
});

test('no tunnel outlives its client certificate: a replaced zone certificate retires the pool, whose deadline cuts it', async () => {
  const b = aopConfig(origin.port);
  const edge = await edgeFor(b, { drainTimeoutMs: 500 });
  try {
    const old = connect(edge, 'http');
    await once(old, 'open');
    assert.equal(origin.upgrades.at(-1)!.fingerprint, fingerprintOf(zoneLeaf.certPem));
    const closed = once(old, 'close');
    b.cert(b.aopZone, 'zone', zoneLeaf2);
    edge.apply(b.build());
    const fresh = connect(edge, 'http');
    await once(fresh, 'open');
    assert.equal(origin.upgrades.at(-1)!.fingerprint, fingerprintOf(zoneLeaf2.certPem), 'a new WebSocket presents the new certificate');
    const [code] = (await closed) as [number];
    assert.equal(code, 1006);
    fresh.send('still fine');
    assert.equal((await nextMessage(fresh)).data.toString(), 'still fine');
    fresh.close();
    await once(fresh, 'close');
  } finally {
    await edge.close();
  }
});

test('an upgraded connection silent for the idle timeout (ORIGINPULL_UPGRADE_IDLE_TIMEOUT_MS) is cut', async () => {
  assert.equal(loadConfig({ env: {} }).timeouts.upgradeIdleMs, 100_000, "Cloudflare's 100 s by default");
  assert.throws(() => loadConfig({ env: { ORIGINPULL_UPGRADE_IDLE_TIMEOUT_MS: '0' } }), ConfigError);
  const config = loadConfig({ env: { ORIGINPULL_UPGRADE_IDLE_TIMEOUT_MS: '600' } });
  const edge = await edgeFor(aopConfig(origin.port), { upgradeIdleMs: edgeOptionsFromConfig(config, undefined, 'test').upgradeIdleMs });
  try {
    const ws = connect(edge, 'http');
    await once(ws, 'open');
    // Traffic (pings here) keeps it open well past the idle time…
    const opened = Date.now();
    while (Date.now() - opened < 1_500) {
      ws.ping();
      await once(ws, 'pong');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(ws.readyState, WebSocket.OPEN);
    // …and silence closes it.
    const [code] = (await once(ws, 'close')) as [number];
    // Cut, not closed with a close frame: the edge relays bytes, it speaks no WebSocket itself.
    assert.equal(code, 1006);
  } finally {
    await edge.close();
  }
});

/** A snapshot whose routes all have `websockets` as given (the zone setting, as the builder sets it). */
function withWebsockets(snapshot: Snapshot, on: boolean): Snapshot {
  const map = (m: ReadonlyMap<string, Route>) => new Map([...m].map(([k, r]) => [k, Object.freeze({ ...r, websockets: on })]));
  return Object.freeze({ ...snapshot, version: snapshot.version + 1, exact: map(snapshot.exact), wildcards: map(snapshot.wildcards), associated: map(snapshot.associated) });
}

test('websockets off: the upgrade is refused with 403 naming the setting; the connection goes on as HTTP', async () => {
  const edge = await edgeFor(aopConfig(origin.port));
  try {
    edge.edge.apply(withWebsockets(edge.edge.snapshot, false));
    const before = origin.upgrades.length;
    const ws = connect(edge, 'http');
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, http.IncomingMessage];
    assert.equal(res.statusCode, 403);
    let body = '';
    for await (const chunk of res) body += String(chunk);
    assert.match(body, /WebSockets/);
    assert.match(body, /websockets/);
    ws.on('error', () => {});
    ws.terminate();
    assert.equal(origin.upgrades.length, before, 'nothing reached the origin');

    // On one raw connection: the refused upgrade, then a plain request answered on the same connection.
    const raw = await rawConnect(edge.httpPort);
    raw.socket.write(upgradeRequest('/'));
    const refused = await raw.readHead();
    assert.match(refused.head, /^HTTP\/1\.1 403 /);
    await raw.readBytes(refused.length);
    raw.socket.write(`GET /plain HTTP/1.1\r\nhost: ${HOST}\r\n\r\n`);
    const plain = await raw.readHead();
    assert.match(plain.head, /^HTTP\/1\.1 200 /);
    assert.equal((await raw.readBytes(plain.length)).toString(), 'plain /plain');
    raw.socket.destroy();

    edge.edge.apply(withWebsockets(edge.edge.snapshot, true));
    const again = connect(edge, 'http');
    await once(again, 'open');
    again.close();
    await once(again, 'close');
  } finally {
    await edge.close();
  }
});

// ── raw upgrades: any protocol the origin switches to, half-close, back-pressure, refusals ──

function upgradeRequest(path: string, protocol = 'websocket', extra = ''): string {
  const ws = protocol === 'websocket' ? 'sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n' : '';
  return `GET ${path} HTTP/1.1\r\nhost: ${HOST}\r\nconnection: Upgrade\r\nupgrade: ${protocol}\r\n${ws}${extra}\r\n`;
}

interface Raw {
  socket: Socket;
  readHead(): Promise<{ head: string; length: number }>;
  readBytes(n: number): Promise<Buffer>;
  /** Everything until the edge ends its side. */
  readToEnd(): Promise<Buffer>;
}

/** A visitor on a raw socket, reading heads and bytes in order. */
async function rawConnect(port: number): Promise<Raw> {
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  await once(socket, 'connect');
  let buf = Buffer.alloc(0);
  let ended = false;
  let wake: (() => void) | null = null;
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    wake?.();
  });
  socket.on('end', () => {
    ended = true;
    wake?.();
  });
  const until = async (ready: () => boolean) => {
    while (!ready()) {
      if (ended) throw new Error(`the connection ended; had ${JSON.stringify(buf.toString('latin1').slice(0, 200))}`);
      await new Promise<void>((r) => (wake = r));
      wake = null;
    }
  };
  return {
    socket,
    async readHead() {
      await until(() => buf.indexOf('\r\n\r\n') >= 0);
      const end = buf.indexOf('\r\n\r\n');
      const head = buf.toString('latin1', 0, end);
      buf = buf.subarray(end + 4);
      const cl = /\r\ncontent-length: (\d+)/i.exec(head);
      return { head, length: cl ? Number(cl[1]) : 0 };
    },
    async readBytes(n: number) {
      await until(() => buf.length >= n);
      const out = buf.subarray(0, n);
      buf = buf.subarray(n);
      return out;
    },
    async readToEnd() {
      while (!ended) {
        await new Promise<void>((r) => (wake = r));
        wake = null;
      }
      const out = buf;
      buf = Buffer.alloc(0);
      return out;
    },
  };
}

/**
 * A plain-HTTP origin that switches to `echo-test` on request: it echoes what it reads, says
 * `bye` and ends when the visitor ends, or (path /origin-ends) sends `first`, ends its side and
 * then reports what still arrives. Other paths answer without switching.
 */
async function startRawUpgradeOrigin() {
  const server = http.createServer((req, res) => {
    const body = `plain ${req.url} upgrade=${req.headers.upgrade ?? 'none'} connection=${req.headers.connection ?? 'none'}`;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  const afterEnd: string[] = [];
  const seen: http.IncomingHttpHeaders[] = [];
  let flood: Socket | null = null;
  const sockets = new Set<Socket>();
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => {});
    sockets.add(socket);
    seen.push(req.headers);
    if (req.url === '/refuse') {
      socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 6\r\ncontent-type: text/plain\r\n\r\nno way');
      return;
    }
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo-test\r\n\r\n');
    if (req.url === '/origin-ends') {
      socket.end('first');
      let late = '';
      socket.on('data', (d: Buffer) => (late += d.toString()));
      socket.on('end', () => afterEnd.push(late));
      return;
    }
    if (req.url === '/sink') {
      // Reads nothing until told to: the visitor's writes must back up, not pile up in the edge.
      flood = socket;
      socket.pause();
      return;
    }
    if (head.length > 0) socket.write(head);
    socket.on('data', (d: Buffer) => socket.write(d));
    socket.on('end', () => socket.end('bye'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    afterEnd,
    seen,
    sink: () => flood,
    close: () => new Promise<void>((resolve) => {
      // Upgraded sockets are the server's no more: closeAllConnections() does not see them.
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function plainConfig(port: number) {
  const b = new ConfigBuilder(inst);
  const z = b.zone('example.test', { sslMode: 'off' });
  b.record(z, HOST, { httpPort: port });
  return b;
}

for (const tcpHandles of [true, false]) {
  const name = tcpHandles ? 'TCP handles' : 'net.Socket';
  test(`any protocol the origin switches to; half-close passes both ways (${name})`, async () => {
    const raw = await startRawUpgradeOrigin();
    const edge = await edgeFor(plainConfig(raw.port), { tcpHandles });
    try {
      // The visitor ends first: the origin still answers after the visitor's FIN.
      let v = await rawConnect(edge.httpPort);
      v.socket.write(upgradeRequest('/echo', 'echo-test') + 'early');
      const { head } = await v.readHead();
      assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      assert.match(head, /\r\nconnection: upgrade\r\n/i);
      assert.match(head, /\r\nupgrade: echo-test(\r\n|$)/i);
      assert.equal((await v.readBytes(5)).toString(), 'early', 'bytes sent right after the head are the new protocol');
      v.socket.write('hello');
      assert.equal((await v.readBytes(5)).toString(), 'hello');
      v.socket.end();
      assert.equal((await v.readToEnd()).toString(), 'bye');
      assert.equal(raw.seen.at(-1)!.upgrade, 'echo-test');

      // The origin ends first: the visitor reads the end and can still send.
      v = await rawConnect(edge.httpPort);
      v.socket.write(upgradeRequest('/origin-ends', 'echo-test'));
      await v.readHead();
      assert.equal((await v.readToEnd()).toString(), 'first');
      const closed = once(v.socket, 'close');
      v.socket.end('still talking');
      await waitFor('the origin to read after its end', () => raw.afterEnd.length > 0);
      assert.equal(raw.afterEnd.at(-1), 'still talking');
      await closed;
    } finally {
      await edge.close();
      await raw.close();
    }
  });

  test(`visitor → origin back-pressure: an origin reading nothing stops the visitor (${name})`, async () => {
    const raw = await startRawUpgradeOrigin();
    const edge = await edgeFor(plainConfig(raw.port), { tcpHandles });
    try {
      // Visitor → origin: the origin reads nothing; the visitor's socket must back up.
      const v = await rawConnect(edge.httpPort);
      v.socket.write(upgradeRequest('/sink', 'echo-test'));
      await v.readHead();
      const chunk = Buffer.alloc(64 * 1024, 7);
      let sent = 0;
      while (v.socket.write(chunk)) sent += chunk.length;
      sent += chunk.length;
      // Wait until the visitor's socket stays blocked; kernel and edge buffers are bounded, so it does.
      const drained = await Promise.race([once(v.socket, 'drain').then(() => true), new Promise((r) => setTimeout(r, 1_500, false))]);
      let extra = 0;
      if (drained) {
        // Some buffers filled slowly: push until it stays blocked.
        while (sent + extra < 80 * 1024 * 1024) {
          if (!v.socket.write(chunk)) {
            extra += chunk.length;
            const again = await Promise.race([once(v.socket, 'drain').then(() => true), new Promise((r) => setTimeout(r, 1_000, false))]);
            if (!again) break;
          } else {
            extra += chunk.length;
          }
        }
      }
      assert.ok(sent + extra < 64 * 1024 * 1024, `the visitor could write ${sent + extra} bytes to an origin reading nothing`);
      // Now the origin reads: everything arrives.
      const sink = raw.sink()!;
      let got = 0;
      sink.on('data', (d: Buffer) => (got += d.length));
      sink.resume();
      await waitFor('the origin to read everything', () => got === sent + extra, 20_000);
      v.socket.destroy();
    } finally {
      await edge.close();
      await raw.close();
    }
  });
}

test('origin → visitor back-pressure: a visitor reading nothing stops the origin', async () => {
  const LIMIT = 128 * 1024 * 1024;
  const server = http.createServer();
  let written = 0;
  let blocked: Promise<void> | null = null;
  server.on('upgrade', (_req, socket: Socket) => {
    socket.on('error', () => {});
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: flood\r\n\r\n');
    const chunk = Buffer.alloc(64 * 1024, 1);
    blocked = new Promise<void>((resolve) => {
      const pump = () => {
        while (written < LIMIT) {
          written += chunk.length;
          if (!socket.write(chunk)) {
            // Stuck for a second: the edge stopped reading.
            const t = setTimeout(resolve, 1_000);
            socket.once('drain', () => {
              clearTimeout(t);
              pump();
            });
            return;
          }
        }
        resolve();
      };
      pump();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const edge = await edgeFor(plainConfig((server.address() as net.AddressInfo).port));
  try {
    const v = await rawConnect(edge.httpPort);
    v.socket.write(upgradeRequest('/', 'flood'));
    await v.readHead();
    v.socket.pause();
    await waitFor('the origin to start', () => blocked !== null);
    await blocked;
    assert.ok(written < LIMIT, `the origin wrote ${written} bytes to a visitor reading nothing`);
    v.socket.destroy();
  } finally {
    await edge.close();
    server.closeAllConnections();
    server.close();
  }
});

test('a refused upgrade (no 101) is relayed as a normal answer and the connection goes on as HTTP; h2c is never passed on', async () => {
  const raw = await startRawUpgradeOrigin();
  const edge = await edgeFor(plainConfig(raw.port));
  try {
    const v = await rawConnect(edge.httpPort);
    v.socket.write(upgradeRequest('/refuse', 'echo-test'));
    const refused = await v.readHead();
    assert.match(refused.head, /^HTTP\/1\.1 401 /);
    assert.equal((await v.readBytes(refused.length)).toString(), 'no way');
    v.socket.write(`GET /next HTTP/1.1\r\nhost: ${HOST}\r\n\r\n`);
    const next = await v.readHead();
    assert.match(next.head, /^HTTP\/1\.1 200 /);
    assert.equal((await v.readBytes(next.length)).toString(), 'plain /next upgrade=none connection=none');

    // h2c: the request is answered as HTTP/1.1, the origin sees no Upgrade.
    v.socket.write(`GET /h2c HTTP/1.1\r\nhost: ${HOST}\r\nconnection: Upgrade, HTTP2-Settings\r\nupgrade: h2c\r\nhttp2-settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`);
    const h2c = await v.readHead();
    assert.match(h2c.head, /^HTTP\/1\.1 200 /);
    assert.equal((await v.readBytes(h2c.length)).toString(), 'plain /h2c upgrade=none connection=none');
    // Listed with another protocol, h2c is dropped and the rest goes on.
    v.socket.write(upgradeRequest('/echo', 'h2c, echo-test'));
    const switched = await v.readHead();
    assert.match(switched.head, /^HTTP\/1\.1 101 /);
    assert.equal(raw.seen.at(-1)!.upgrade, 'echo-test');
    v.socket.destroy();
  } finally {
    await edge.close();
    await raw.close();
  }
});

test('graceful shutdown: open WebSockets keep working until the deadline, then are cut; close() resolves', async () => {
  const edge = await edgeFor(aopConfig(origin.port), { upgradeShutdownMs: 1_500 });
  const ws = connect(edge, 'http');
  await once(ws, 'open');
  const started = Date.now();
  const closed = edge.edge.close();
  ws.send('during shutdown');
  assert.equal((await nextMessage(ws)).data.toString(), 'during shutdown');
  const [code] = (await once(ws, 'close')) as [number];
  assert.equal(code, 1006);
  assert.ok(Date.now() - started >= 1_000, 'not cut before the deadline');
  await closed;
  await edge.close();
});

test('upgrade through TLS to an origin that refuses the edge without its certificate: 525, not a hang', async () => {
  const b = new ConfigBuilder(inst);
  const z = b.zone('example.test', { sslMode: 'strict' });
  b.record(z, HOST, { httpsPort: origin.port });
  const edge = await edgeFor(b);
  try {
    const ws = connect(edge, 'http');
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, http.IncomingMessage];
    assert.equal(res.statusCode, 525);
    res.resume();
    ws.on('error', () => {});
    ws.terminate();
  } finally {
    await edge.close();
  }
});
