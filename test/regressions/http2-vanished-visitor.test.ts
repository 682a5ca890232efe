// Cause: HTTP/2 sessions outlived visitors that had gone. The visitor TLS sockets are half-open
// (for HTTP/1), so a visitor's FIN left its session open forever, and an answer held back by a
// visitor's closed flow-control window had no send deadline once the origin had finished it (only
// the edge's own buffer mark armed one). Seen as an edge whose graceful close never ended after
// h2load, cut at its -D deadline, had left.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import http2 from 'node:http2';
import tls from 'node:tls';
import { http2SessionChannel } from '../../src/edge/observe.ts';
import type { Http2SessionEvent } from '../../src/edge/http2-session.ts';
import { ConfigBuilder, newCa, newInstallation, serverCert, type TestInstallation } from '../helpers/pki.ts';
import { startTlsOrigin, type TestOrigin } from '../helpers/origin.ts';
import { startTestEdge, type TestEdge } from '../edge/harness.ts';

const HOST = 'www.gone.test';
let inst: TestInstallation;
let origin: TestOrigin;
let edge: TestEdge;

before(async () => {
  inst = await newInstallation();
  origin = await startTlsOrigin({
    cert: await serverCert(await newCa('o'), ['o.test']),
    clientCa: inst.originPullCa.certPem,
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 1024 });
      res.end(Buffer.alloc(1024, 97));
    },
  });
  const b = new ConfigBuilder(inst);
  b.record(b.zone('gone.test', { tlsClientAuth: 'on' }), HOST, { httpsPort: origin.port });
  // Keep-alive far beyond the test: only the fixes close these sessions.
  edge = await startTestEdge(inst, b.build(), { visitorKeepAliveMs: 600_000, visitorSendTimeoutMs: 500 });
});

after(async () => {
  await edge.close();
  await origin.close();
});

/** Resolves with the next session the edge reports closed. */
function nextSessionClosed(): Promise<Http2SessionEvent> {
  return new Promise((resolve) => {
    const onEvent = (e: unknown) => {
      if ((e as Http2SessionEvent).owner !== edge.edge) return;
      diagnostics.unsubscribe(http2SessionChannel.name, onEvent);
      resolve(e as Http2SessionEvent);
    };
    diagnostics.subscribe(http2SessionChannel.name, onEvent);
  });
}

/** An h2 session over a TLS socket the test holds, with the visitor's stream window at `window`. */
function connect(window: number): Promise<{ session: http2.ClientHttp2Session; socket: tls.TLSSocket }> {
  const socket = tls.connect({ host: '127.0.0.1', port: edge.httpsPort, servername: HOST, ca: inst.edgeCa.certPem, ALPNProtocols: ['h2'] });
  const session = http2.connect(`https://${HOST}:${edge.httpsPort}`, { createConnection: () => socket, settings: { initialWindowSize: window } });
  session.on('error', () => {});
  return new Promise((resolve, reject) => {
    session.once('connect', () => resolve({ session, socket }));
    session.once('error', reject);
  });
}

test('a visitor that shuts its side of an HTTP/2 connection, a stream unanswered on it, has its session closed', { timeout: 30_000 }, async () => {
  const closed = nextSessionClosed();
  const { session, socket } = await connect(0);
  const req = session.request({ ':path': '/held' }, { endStream: true });
  req.on('error', () => {});
  await new Promise((resolve) => req.once('response', resolve));
  // The answer's body waits on the window the visitor never opens; the visitor sends its FIN.
  socket.end();
  const event = await closed;
  assert.equal(event.streams, 1);
  session.destroy();
});

test('an answer held back by a visitor that never opens its window is cut after the send timeout', { timeout: 30_000 }, async () => {
  const { session } = await connect(0);
  try {
    const req = session.request({ ':path': '/never-read' }, { endStream: true });
    req.on('error', () => {});
    const code = await new Promise<number>((resolve) => req.once('close', () => resolve(req.rstCode)));
    assert.equal(code, http2.constants.NGHTTP2_CANCEL);
  } finally {
    session.destroy();
  }
});

test('graceful close ends once visitors whose streams were under way have left', { timeout: 30_000 }, async () => {
  const own = await startTestEdge(inst, (() => {
    const b = new ConfigBuilder(inst);
    b.record(b.zone('gone.test', { tlsClientAuth: 'on' }), HOST, { httpsPort: origin.port });
    return b.build();
  })(), { visitorKeepAliveMs: 600_000 });
  try {
    const socket = tls.connect({ host: '127.0.0.1', port: own.httpsPort, servername: HOST, ca: inst.edgeCa.certPem, ALPNProtocols: ['h2'] });
    const session = http2.connect(`https://${HOST}:${own.httpsPort}`, { createConnection: () => socket, settings: { initialWindowSize: 0 } });
    session.on('error', () => {});
    const req = session.request({ ':path': '/left' }, { endStream: true });
    req.on('error', () => {});
    await new Promise((resolve) => req.once('response', resolve));
    socket.end();
    await new Promise((resolve) => socket.once('close', resolve));
    await own.edge.close();
  } finally {
    await own.close();
  }
});
