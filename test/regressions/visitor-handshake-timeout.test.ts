// Cause: visitor TLS sockets still in their handshake were untracked and had Node's 120 s handshake timeout, so close() waited on clients that had vanished.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { openStore } from '../../src/store/index.ts';
import { startEdgeNode } from '../../src/sync/index.ts';
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

test('close() waits for a handshake in progress only a short grace, not its timeout, and an established TLS visitor is not cut by it', async () => {
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

test('the handshake timeout is configurable: file, environment and flag, in that order, and an edge node honours it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'originpull-handshake-'));
  try {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ visitorHandshakeTimeoutMs: 4000 }));
    assert.equal(loadConfig({ env: {} }).timeouts.visitorHandshakeMs, 10_000);
    assert.equal(loadConfig({ env: {}, file }).timeouts.visitorHandshakeMs, 4000);
    assert.equal(loadConfig({ env: { ORIGINPULL_VISITOR_HANDSHAKE_TIMEOUT_MS: '3000' }, file }).timeouts.visitorHandshakeMs, 3000);
    assert.equal(loadConfig({ env: { ORIGINPULL_VISITOR_HANDSHAKE_TIMEOUT_MS: '3000' }, file, flags: { visitorHandshakeTimeoutMs: '2000' } }).timeouts.visitorHandshakeMs, 2000);
    assert.throws(() => loadConfig({ env: { ORIGINPULL_VISITOR_HANDSHAKE_TIMEOUT_MS: '0' } }), /visitor handshake timeout/);

    const inst = await newInstallation();
    const store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
    await store.migrate();
    await store.initPki(inst.pki);
    const config = loadConfig({
      env: {},
      flags: { httpListen: '127.0.0.1:0', httpsListen: '127.0.0.1:0', metricsListen: '127.0.0.1:0', visitorHandshakeTimeoutMs: '300' },
    });
    const node = await startEdgeNode({ store, secretBox: inst.secretBox, config, logger: pino({ level: 'silent' }), nodeName: 'handshake-node' });
    try {
      const socket = await connectSilent(node.addresses.https!.port);
      const closed = await Promise.race([new Promise((r) => socket.once('close', () => r('closed'))), new Promise((r) => setTimeout(r, 5_000, 'still open'))]);
      assert.equal(closed, 'closed', 'the configured 300 ms, not the 10 s default');
    } finally {
      await node.destroy();
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
