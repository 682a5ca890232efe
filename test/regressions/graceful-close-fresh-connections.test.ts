// Cause: a graceful close() cut connections that had not sent their first request yet (as if idle between requests) and TLS handshakes in progress, so visitors that connected just before a restart's hand-over got a reset and had no reason to send again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { startHttpOrigin, type TestOrigin } from '../helpers/origin.ts';
import { ConfigBuilder, newInstallation, type TestInstallation } from '../helpers/pki.ts';
import { startTestEdge } from '../edge/harness.ts';

const HOST = 'www.close.test';
let inst: TestInstallation;
let origin: TestOrigin;

before(async () => {
  origin = await startHttpOrigin({ handler: (_req, res) => res.end('served') });
  inst = await newInstallation();
});
after(() => origin.close());

function config() {
  const b = new ConfigBuilder(inst);
  const zone = b.zone('close.test', { sslMode: 'flexible' });
  b.record(zone, HOST, { httpPort: origin.port });
  return b.build();
}

/** Sends one request on `socket` and collects everything until the edge closes it. */
function exchange(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', (err) => (text += `\n<${(err as NodeJS.ErrnoException).code}>`));
    socket.on('close', () => resolve(text));
    socket.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  });
}

const connected = (port: number) =>
  new Promise<net.Socket>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
  });

test('a plain-HTTP connection accepted before close() may still send its first request; it is answered with Connection: close', async () => {
  const edge = await startTestEdge(inst, config());
  try {
    const socket = await connected(edge.httpPort);
    // Let the edge take the connection in before it closes.
    await new Promise((r) => setTimeout(r, 100));
    const closing = edge.edge.close();
    const text = await exchange(socket);
    assert.match(text, /^HTTP\/1\.1 200 /, text);
    assert.match(text, /\r\nconnection: close\r\n/i);
    assert.match(text, /served$/);
    const outcome = await Promise.race([closing.then(() => 'closed'), new Promise((r) => setTimeout(r, 15_000, 'still waiting'))]);
    assert.equal(outcome, 'closed', 'close() finished once the answer was sent');
  } finally {
    await edge.close();
  }
});

test('a TLS handshake in progress at close() completes, and its first request is answered', async () => {
  const edge = await startTestEdge(inst, config());
  try {
    const raw = await connected(edge.httpsPort);
    await new Promise((r) => setTimeout(r, 100));
    const closing = edge.edge.close();
    // The handshake starts only now, after close() began.
    const socket = tls.connect({ socket: raw, servername: HOST, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    const text = await exchange(socket);
    assert.match(text, /^HTTP\/1\.1 200 /, text);
    assert.match(text, /\r\nconnection: close\r\n/i);
    assert.match(text, /served$/);
    const outcome = await Promise.race([closing.then(() => 'closed'), new Promise((r) => setTimeout(r, 15_000, 'still waiting'))]);
    assert.equal(outcome, 'closed', 'close() finished once the answer was sent');
  } finally {
    await edge.close();
  }
});

test('a connection that sends nothing does not hold close() for long', async () => {
  const edge = await startTestEdge(inst, config());
  try {
    const silent = await connected(edge.httpPort);
    silent.on('error', () => {});
    const silentTls = await connected(edge.httpsPort);
    silentTls.on('error', () => {});
    await new Promise((r) => setTimeout(r, 100));
    const outcome = await Promise.race([edge.edge.close().then(() => 'closed'), new Promise((r) => setTimeout(r, 15_000, 'still waiting'))]);
    assert.equal(outcome, 'closed');
    silent.destroy();
    silentTls.destroy();
  } finally {
    await edge.close();
  }
});
