// TcpHandleTransport on real loopback sockets, over both handles it drives: a listener whose
// connections are adopted as bare libuv TCP handles (plain net.Socket clients on the other end),
// and TLS sockets just past their handshake, driven through their TLS handle (tls.connect clients).
// The transport drives the handle by hand (onread, WriteWrap, ShutdownWrap, close), so each of the
// VisitorTransport promises a net.Socket keeps for free is checked here, once per handle: order,
// back-pressure, half-close, flushing before a close, and `done` callbacks repaid when the
// connection goes. (A TLS handle also takes one write at a time: the back-pressure, cork and
// destroy cases write many.)
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { adoptTcpConnections, adoptTlsSocket, type TcpHandleTransport } from '../../src/edge/tcp-handle-transport.ts';
import { newCa, serverCert } from '../helpers/pki.ts';
import type { TransportEvents } from '../../src/edge/visitor-transport.ts';

const CHUNK = 16 * 1024;
const MiB = 1024 * 1024;
/** How long a negative check waits for something that must not happen. */
const QUIET_MS = 150;

/** Resolves once `holds()` is true: checked now and after each of `events` on `emitter`. */
function until(emitter: EventEmitter, events: string[], holds: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (!holds()) return;
      for (const e of events) emitter.off(e, check);
      resolve();
    };
    for (const e of events) emitter.on(e, check);
    check();
  });
}

/** What the transport reports to its connection, recorded. */
class Recorder extends EventEmitter implements TransportEvents {
  readonly chunks: Buffer[] = [];
  ends = 0;
  closes = 0;
  onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.emit('event');
  }
  onEnd(): void {
    this.ends++;
    this.emit('event');
  }
  onClose(): void {
    this.closes++;
    this.emit('event');
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }
  until(holds: () => boolean): Promise<void> {
    return until(this, ['event'], holds);
  }
}

/** Records `done` callbacks by name, in the order they are called. */
class Dones extends EventEmitter {
  readonly called: string[] = [];
  cb(name = ''): () => void {
    return () => {
      this.called.push(name);
      this.emit('done');
    };
  }
  until(count: number): Promise<void> {
    return until(this, ['done'], () => this.called.length >= count);
  }
}

/** A plain client socket and what it has received. */
class Client {
  readonly chunks: Buffer[] = [];
  ended = false;
  closed = false;
  readonly socket: net.Socket;
  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => this.chunks.push(d));
    socket.on('end', () => (this.ended = true));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }
  get received(): Buffer {
    return Buffer.concat(this.chunks);
  }
  until(holds: () => boolean): Promise<void> {
    return until(this.socket, ['data', 'end', 'close'], holds);
  }
}

interface Pair {
  transport: TcpHandleTransport;
  client: Client;
  rec: Recorder;
  /** How often the server's own 'connection' event fired (adoption means never). */
  serverConnections: () => number;
  /** The client's TCP socket (under its TLS socket, for a TLS pair). */
  raw: net.Socket;
}

type Kind = 'tcp' | 'tls';

/**
 * A listener on 127.0.0.1:0 with its connections adopted, one client connected to it, and the
 * transport started with a Recorder. A `paused` client is paused before it connects, so it reads
 * nothing at all until resumed (net.Socket starts its first read on connect only when not
 * paused): its window fills, and the transport's writes stay in flight.
 */
async function connect(t: TestContext, kind: Kind, opts: { paused?: boolean } = {}): Promise<Pair> {
  return kind === 'tcp' ? connectTcp(t, opts) : connectTls(t, opts);
}

async function connectTcp(t: TestContext, opts: { paused?: boolean }): Promise<Pair> {
  let connections = 0;
  const server = net.createServer(() => connections++);
  // Before listen there is no handle to adopt from: the edge would keep net.Socket.
  assert.equal(adoptTcpConnections(server, () => {}).adopted, false);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const adopted = Promise.withResolvers<TcpHandleTransport>();
  assert.deepEqual(adoptTcpConnections(server, adopted.resolve), { adopted: true });
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  if (opts.paused === true) socket.pause();
  const client = new Client(socket);
  const transport = await adopted.promise;
  await until(socket, ['connect'], () => !socket.connecting);
  const rec = new Recorder();
  transport.start(rec);
  t.after(async () => {
    socket.destroy();
    transport.destroy();
    // Adopted connections are not the server's: close() does not wait for them.
    await new Promise((resolve) => server.close(resolve));
  });
  return { transport, client, rec, serverConnections: () => connections, raw: socket };
}

const serverPems = newCa('transport test CA').then((ca) => serverCert(ca, ['localhost']));

/**
 * A TLS server on 127.0.0.1:0 whose sockets are adopted through their TLS handle once secure, as
 * the edge's HTTPS/1.1 visitors are, and one tls.connect client. A `paused` client stops reading
 * once its handshake is done.
 */
async function connectTls(t: TestContext, opts: { paused?: boolean }): Promise<Pair> {
  const { certPem, keyPem } = await serverPems;
  let connections = 0;
  const adopted = Promise.withResolvers<TcpHandleTransport>();
  const server = tls.createServer({ cert: certPem, key: keyPem, allowHalfOpen: true }, (socket) => {
    connections++;
    const transport = adoptTlsSocket(socket);
    if (transport === null) adopted.reject(new Error('a TLS socket was not adopted'));
    else adopted.resolve(transport);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const raw = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1' });
  const socket = tls.connect({ socket: raw, rejectUnauthorized: false });
  const client = new Client(socket);
  await new Promise((resolve) => socket.once('secureConnect', resolve));
  if (opts.paused === true) socket.pause();
  const transport = await adopted.promise;
  const rec = new Recorder();
  transport.start(rec);
  t.after(async () => {
    socket.destroy();
    transport.destroy();
    server.close();
  });
  // The TLS server hands its sockets on itself ('secureConnection'): its count is of handshakes.
  return { transport, client, rec, serverConnections: () => connections - 1, raw };
}

/** A 16 KiB chunk stamped with its index all over: lost, repeated or reordered chunks show. */
function stamped(i: number): Buffer {
  const b = Buffer.allocUnsafe(CHUNK);
  for (let off = 0; off < CHUNK; off += 4) b.writeUInt32BE(i, off);
  return b;
}

/**
 * Writes 16 KiB chunks to a peer that does not read until write() asks to wait, then a margin
 * wider than what the kernel might still take once this turn ends, so the writes are surely still
 * in flight afterwards. Returns everything written, in order.
 */
function fill(transport: TcpHandleTransport, kind: Kind, done?: () => void): Buffer[] {
  const sent: Buffer[] = [];
  let blockedAt = -1;
  // Over TCP, writes the kernel takes complete at once, so write() asks to wait only once the
  // kernel's buffers are full. Over TLS every write completes on a later turn, so write() asks to
  // wait at once: the margin must outgrow the kernel's buffers itself (loopback's grow to MiBs).
  const margin = (kind === 'tcp' ? 1 : 32) * MiB;
  while (blockedAt < 0 || sent.length - blockedAt < margin / CHUNK) {
    const chunk = stamped(sent.length);
    sent.push(chunk);
    if (!transport.write(chunk, done) && blockedAt < 0) blockedAt = sent.length;
    assert.ok(sent.length * CHUNK < 256 * MiB, 'write() never asked to wait');
  }
  return sent;
}

for (const kind of ['tcp', 'tls'] as const) {
  test(kind + ': adopted connections reach onConnection, never the server, and deliver reads to onData', async (t) => {
    const { transport, client, rec, serverConnections } = await connect(t, kind);
    assert.equal(transport.remoteAddress, '127.0.0.1');
    assert.equal(transport.destroyed, false);
    assert.equal(transport.ended, false);
    client.socket.write('GET / HTTP/1.1\r\n\r\n');
    await rec.until(() => rec.text === 'GET / HTTP/1.1\r\n\r\n');
    assert.equal(serverConnections(), 0);
  });

  test(kind + ': writeLatin1 and write(buffer, done) reach the client in order and call done', async (t) => {
    const { transport, client } = await connect(t, kind);
    const dones = new Dones();
    assert.equal(transport.writeLatin1('HTTP/1.1 200 OK\r\n\r\n'), true);
    assert.equal(transport.write(Buffer.from('caf\xe9', 'latin1'), dones.cb()), true);
    transport.writeLatin1('!');
    await client.until(() => client.received.length === 24);
    assert.equal(client.received.toString('latin1'), 'HTTP/1.1 200 OK\r\n\r\ncaf\xe9!');
    await dones.until(1);
  });

  test(kind + ': cork() holds writes until uncork() sends them together, in order, repaying each done', async (t) => {
    const { transport, client } = await connect(t, kind);
    const dones = new Dones();
    transport.cork();
    transport.writeLatin1('head;');
    transport.write(Buffer.from('one;'), dones.cb('one'));
    transport.write(Buffer.alloc(CHUNK, 'x'), dones.cb('big'));
    transport.write(Buffer.from('two'), dones.cb('two'));
    // Held writes are not written yet, and a drain asked for now waits for them.
    const drained = new Promise<void>((resolve) => transport.onDrain(resolve));
    assert.deepEqual(dones.called, []);
    transport.uncork();
    const expected = 'head;one;' + 'x'.repeat(CHUNK) + 'two';
    await client.until(() => client.received.length === expected.length);
    assert.equal(client.received.toString('latin1'), expected);
    await dones.until(3);
    assert.deepEqual(dones.called, ['one', 'big', 'two']);
    await drained;
  });

  test(kind + ': back-pressure: write() asks to wait, and onDrain fires only once the client reads again', async (t) => {
    const { transport, client } = await connect(t, kind, { paused: true });
    const sent = fill(transport, kind);
    const drained = new Dones();
    transport.onDrain(drained.cb());
    // Negative check: no write can complete while the client does not read.
    await sleep(QUIET_MS);
    assert.deepEqual(drained.called, [], 'drained while the client was paused');
    client.socket.resume();
    await drained.until(1);
    transport.end();
    await client.until(() => client.ended);
    assert.ok(client.received.equals(Buffer.concat(sent)), 'the client got every byte, in order');
  });

  test(kind + ': half-close from the client: onEnd, a reply still goes out, end() ends the client, onClose follows', async (t) => {
    const { transport, client, rec } = await connect(t, kind);
    client.socket.end('last request');
    await rec.until(() => rec.ends === 1);
    assert.equal(rec.text, 'last request');
    assert.equal(transport.destroyed, false, 'a half-closed visitor can still be answered');
    transport.writeLatin1('the answer');
    transport.end();
    assert.equal(transport.ended, true);
    await client.until(() => client.ended);
    assert.equal(client.received.toString('latin1'), 'the answer');
    // Both directions done: the transport closes itself, as a half-open net.Socket does.
    await rec.until(() => rec.closes === 1);
    assert.equal(transport.destroyed, true);
    assert.equal(rec.ends, 1);
  });

  test(kind + ': closeWhenFlushed() with writes in flight closes only after every byte is out', async (t) => {
    const { transport, client, rec } = await connect(t, kind, { paused: true });
    const sent = fill(transport, kind);
    transport.closeWhenFlushed();
    assert.equal(transport.ended, true);
    assert.equal(transport.destroyed, false, 'closed with writes still in flight');
    assert.equal(transport.write(Buffer.from('too late')), false);
    client.socket.resume();
    await client.until(() => client.closed);
    assert.ok(client.ended, 'the client saw a FIN, not a reset');
    assert.ok(client.received.equals(Buffer.concat(sent)), 'the client got every byte, in order');
    await rec.until(() => rec.closes === 1);
  });

  test(kind + ': destroy() with writes in flight: every done is repaid before onClose, which comes once', async (t) => {
    const { transport, rec } = await connect(t, kind, { paused: true });
    const dones = new Dones();
    const sent = fill(transport, kind, dones.cb());
    assert.ok(dones.called.length < sent.length, 'some writes are in flight');
    let doneAtClose = -1;
    rec.on('event', () => {
      if (rec.closes === 1 && doneAtClose < 0) doneAtClose = dones.called.length;
    });
    transport.destroy();
    assert.equal(transport.destroyed, true);
    assert.equal(rec.closes, 0, 'onClose comes on a later turn than destroy()');
    transport.destroy(); // a second destroy() changes nothing
    await rec.until(() => rec.closes === 1);
    assert.equal(doneAtClose, sent.length);
    // A late duplicate would come from the handle's callbacks: give them time to show.
    await sleep(QUIET_MS);
    assert.equal(rec.closes, 1);
    assert.equal(dones.called.length, sent.length);
  });

  test(kind + ': destroy() while corked repays the held writes\' done by onClose', async (t) => {
    // VisitorTransport.write: `done` is called once written "or when the connection closes first"
    // (a net.Socket repays corked writes on destroy). Held writes never reached libuv, so the
    // handle's close cannot cancel them: the transport must repay them itself. (VisitorConnection
    // uncorks on the next turn anyway, which repays them then, after onClose.)
    const { transport, rec } = await connect(t, kind);
    const dones = new Dones();
    transport.cork();
    transport.write(Buffer.from('held'), dones.cb());
    transport.destroy();
    await rec.until(() => rec.closes === 1);
    assert.equal(dones.called.length, 1, 'a held write\'s done was not repaid by onClose');
  });

  test(kind + ': a client reset closes the transport', async (t) => {
    const { transport, client, rec, raw } = await connect(t, kind);
    client.socket.write('half a req');
    await rec.until(() => rec.text === 'half a req');
    raw.resetAndDestroy();
    await rec.until(() => rec.closes === 1);
    assert.equal(transport.destroyed, true);
    assert.equal(rec.ends, 0, 'a reset is not a half-close');
  });

  test(kind + ': pause() stops onData until resume()', async (t) => {
    const { transport, client, rec } = await connect(t, kind);
    transport.pause();
    client.socket.write('sent while paused');
    // Negative check: the bytes sit in the kernel, not delivered.
    await sleep(QUIET_MS);
    assert.equal(rec.chunks.length, 0, 'onData while paused');
    transport.resume();
    await rec.until(() => rec.text === 'sent while paused');
  });
}

test('a listener that is not TCP (a Unix socket) is not adopted', async (t) => {
  // Where the listener's handle is not as expected, adoption reports why not: a pipe's accepted
  // handles have no getpeername() or setNoDelay(), so adopting them throws on every connection.
  // No client connects here: that throw would be uncaught.
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(join(tmpdir(), `originpull-tht-${process.pid}.sock`), resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  assert.deepEqual(adoptTcpConnections(server, () => {}), { adopted: false, reason: 'the listener is not a TCP socket' });
});
