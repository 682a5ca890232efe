// Cause: visitor TLS sockets still in their handshake were untracked and had Node's 120 s handshake timeout, so close() waited on clients that had vanished.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { ConfigBuilder, newInstallation } from '../helpers/pki.ts';
import { startTestEdge } from '../edge/harness.ts';

function connectSilent(port: number): Promise<net.Socket> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', () => {});
  });
}

test('a visitor that never finishes its TLS handshake is cut after the handshake timeout', async () => {
  const inst = await newInstallation();
  const edge = await startTestEdge(inst, new ConfigBuilder(inst).build(), { visitorHandshakeTimeoutMs: 300 });
  try {
    const socket = await connectSilent(edge.httpsPort);
    const closed = await Promise.race([new Promise((r) => socket.once('close', () => r('closed'))), new Promise((r) => setTimeout(r, 10_000, 'still open'))]);
    assert.equal(closed, 'closed');
  } finally {
    await edge.close();
  }
});

test('close() does not wait for handshakes in progress, and an established TLS visitor is not cut by it', async () => {
  const inst = await newInstallation();
  const edge = await startTestEdge(inst, new ConfigBuilder(inst).build());
  const silent = await connectSilent(edge.httpsPort);
  const established = tls.connect({ port: edge.httpsPort, host: '127.0.0.1', rejectUnauthorized: false });
  established.on('error', () => {});
  await new Promise((r) => established.once('secureConnect', r));
  const started = performance.now();
  const outcome = await Promise.race([edge.edge.close().then(() => 'closed'), new Promise((r) => setTimeout(r, 20_000, 'waited'))]);
  assert.equal(outcome, 'closed', `close() took over ${Math.round(performance.now() - started)} ms`);
  silent.destroy();
  established.destroy();
  await edge.close();
});
