// Visitor connections straight over libuv's stream handles, without a net.Socket's stream
// machinery: plain-HTTP connections over the TCP handle the listener accepted, and HTTPS/1.1
// connections, once their handshake is done, over the TLS handle Node's TLS server made (the TLS
// layer stays Node's: that handle encrypts what is written and decrypts what is read, in C++).
//
// Why: a net.Socket is a Duplex stream. Per connection it builds the stream state, and per read
// and per write it runs Node's stream machinery (Readable.push → 'data', Writable buffering,
// resume through nextTick, 'close' through destroy()), and each read allocates its buffer. Origin
// sockets avoid the read side with net/tls's `onread`; an accepted socket has no such option, so
// its handle is driven here the way Node's own stream code drives it (lib/internal/
// stream_base_commons.js): `onread` with the read size in `streamBaseState`, writes through
// `WriteWrap` requests that complete in order, `ShutdownWrap` for a half-close. What it gains:
// bench/HISTORY.md (step 19) for plain HTTP, bench/results/2026-12-04-tls-handles.md for HTTPS.
//
// The bindings come from `process.binding('stream_wrap')`: Node internals, not an API. The
// `process.binding` door is deprecated (DEP0111, a warning under --pending-deprecation) and closed
// under the permission model (--permission), and nothing promises the binding's shape from one
// major to the next. So adoption is fenced: it runs only on the Node majors the test suite has
// passed (TESTED_NODE_MAJORS), never under the permission model, and only where the binding and
// the handles look as expected; otherwise it reports why not and the edge keeps net.Socket
// (SocketTransport), which the CI also runs the edge tests on.
import type { Server } from 'node:net';
import { constants } from 'node:os';
import type { TLSSocket } from 'node:tls';
import type { TransportEvents, VisitorTransport } from './visitor-transport.ts';

interface Req {
  handle: StreamHandle;
  oncomplete: (status: number) => void;
}

/** What Node's StreamBase offers on any stream handle: a TCP handle, and the TLS handle over one. */
interface StreamHandle {
  onread: () => void;
  readStart(): number;
  readStop(): number;
  useUserBuffer(buf: Buffer): void;
  writeBuffer(req: Req, chunk: Buffer): number;
  writeLatin1String(req: Req, text: string): number;
  writev(req: Req, chunks: Buffer[], allBuffers: true): number;
  shutdown(req: Req): number;
}

interface TcpHandle extends StreamHandle {
  close(callback: () => void): void;
  getpeername(out: { address?: string }): number;
  setNoDelay(on: boolean): number;
}

interface StreamBinding {
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
  WriteWrap: new () => Req;
  ShutdownWrap: new () => Req;
}

/** libuv's end-of-stream code (UV_EOF), the same on every platform. */
const UV_EOF = -4095;
/** libuv's "already reading" (errno, negated on Unix). */
const UV_EALREADY = -constants.errno.EALREADY;
/**
 * Linux's Nagle (with Minshall's variant) holds a segment back only while an earlier *small*
 * segment is unacknowledged, so nothing of a connection's first write is ever held, however
 * large: TCP_NODELAY (one setsockopt) can wait for the second write, which a visitor that sends
 * one request and closes never reaches. Classic Nagle (BSD, macOS) may hold the tail of a first
 * write larger than a segment: there it is set at accept.
 */
const LINUX_NAGLE = process.platform === 'linux';
const NO_DONES: readonly (() => void)[] = [];
/** Bytes in flight to the kernel before write() asks the caller to wait for a drain. */
const HIGH_WATER = 64 * 1024;

/**
 * Every adopted connection reads into this one buffer (libuv's user-buffer mode): a read is handed
 * on and dealt with before the next one, and keep() copies what a connection holds on to. Without
 * it each read allocated a 64 KiB ArrayBuffer, shrunk it to the bytes read, and left it to the GC.
 */
const READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);

/** Node majors whose stream_wrap binding the test suite has passed on; update after a run on a new one. */
export const TESTED_NODE_MAJORS: readonly number[] = [24];

/** Why bare handles are not used on this runtime, or null when they may be. */
export function adoptionBlocker(nodeVersion = process.versions.node, permissionModel = process.permission !== undefined): string | null {
  const major = Number(nodeVersion.split('.')[0]);
  if (!TESTED_NODE_MAJORS.includes(major)) {
    return `Node ${nodeVersion} is not one of the majors the TCP-handle fast path was tested on (${TESTED_NODE_MAJORS.join(', ')})`;
  }
  if (permissionModel) return "the permission model is on (--permission), which closes process.binding('stream_wrap')";
  return null;
}

let binding: StreamBinding | null | undefined;

function streamBinding(): StreamBinding | null {
  if (binding !== undefined) return binding;
  binding = null;
  try {
    const b = (process as unknown as { binding(name: string): Partial<StreamBinding> }).binding('stream_wrap');
    const usable =
      b.streamBaseState instanceof Int32Array &&
      typeof b.WriteWrap === 'function' &&
      typeof b.ShutdownWrap === 'function' &&
      typeof b.kReadBytesOrError === 'number' &&
      typeof b.kLastWriteWasAsync === 'number';
    if (usable) binding = b as StreamBinding;
  } catch {
    // No bindings: the caller keeps net.Socket.
  }
  return binding;
}

let tlsBlocker: { reason: string | null } | undefined;

/** Why HTTPS/1.1 visitors' TLS handles are not driven here, or null when they may be. */
export function tlsAdoptionBlocker(): string | null {
  // The runtime does not change while it runs: decided once, not per connection.
  tlsBlocker ??= { reason: adoptionBlocker() ?? (streamBinding() === null ? "process.binding('stream_wrap') is unavailable or not as expected" : null) };
  return tlsBlocker.reason;
}

/**
 * An HTTPS/1.1 visitor's TLS socket, just past its handshake, driven through its TLS handle the
 * way plain-HTTP connections are through theirs (the TLS layer stays Node's: the handle encrypts
 * what is written and decrypts what is read, in C++). Null where handles are not used here.
 */
export function adoptTlsSocket(socket: TLSSocket): TcpHandleTransport | null {
  if (tlsAdoptionBlocker() !== null) return null;
  const handle = (socket as unknown as { _handle?: Partial<StreamHandle> | null })._handle;
  if (handle == null || typeof handle.useUserBuffer !== 'function' || typeof handle.writeLatin1String !== 'function' || typeof handle.shutdown !== 'function') return null;
  return new TcpHandleTransport(null, socket);
}

/** Whether a listener's connections were adopted, and why not when they were not. */
export type Adoption = { adopted: true } | { adopted: false; reason: string };

/**
 * Takes over the connections `server` (listening) accepts: each becomes a TcpHandleTransport
 * handed to `onConnection`, and the server never sees it ('connection' is not emitted, and
 * close() does not wait for it). Not adopted (the server keeps its connections) when adoption is
 * not possible or not allowed here: the result says why.
 */
export function adoptTcpConnections(server: Server, onConnection: (transport: TcpHandleTransport) => void): Adoption {
  const blocker = adoptionBlocker();
  if (blocker !== null) return { adopted: false, reason: blocker };
  const listener = (server as unknown as { _handle?: { onconnection?: unknown } | null })._handle;
  // A pipe listener (a path, not host:port) hands over pipe handles: not TCP, not adopted.
  const tcp = typeof server.address() === 'object' && server.address() !== null;
  if (!tcp) return { adopted: false, reason: 'the listener is not a TCP socket' };
  if (streamBinding() === null) return { adopted: false, reason: "process.binding('stream_wrap') is unavailable or not as expected" };
  if (listener == null || typeof listener.onconnection !== 'function') return { adopted: false, reason: "the listener's handle is not as expected" };
  listener.onconnection = (status: number, client: TcpHandle | undefined) => {
    if (status !== 0 || client === undefined) return;
    if (!LINUX_NAGLE) client.setNoDelay(true);
    onConnection(new TcpHandleTransport(client));
  };
  return { adopted: true };
}

interface InFlight {
  bytes: number;
  /** Keeps the written memory alive until libuv is done with it. */
  data: Buffer | Buffer[] | null;
  done: (() => void) | null;
}

export class TcpHandleTransport implements VisitorTransport {
  readonly #handle: StreamHandle;
  /** The TCP handle itself (null over TLS: its TLSSocket owns the handles and closes them). */
  readonly #tcp: TcpHandle | null;
  /** Over TLS: the TLSSocket whose handle this drives, for the close (its 'close' says when). */
  readonly #tls: TLSSocket | null;
  readonly #b: StreamBinding;
  #events: TransportEvents | null = null;
  #remoteAddress: string | undefined;
  #closed = false;
  #ended = false;
  #readEnded = false;
  #shutdownDone = false;
  #closeWhenFlushed = false;
  /** Over TLS, closeWhenFlushed(): close once close_notify and the FIN are out. */
  #closeAfterShutdown = false;
  #closedDone = false;
  /** Over TLS: writes behind the one in flight (see #mustWait), and a shutdown behind them. */
  #waiting: Buffer[] = [];
  #waitingBytes = 0;
  #waitingDone: (() => void)[] = [];
  #shutdownWaiting = false;
  /** Writes handed to libuv so far (TCP_NODELAY is set before the second: see LINUX_NAGLE). */
  #writes = 0;
  /** Async writes in the order libuv will complete them. */
  readonly #inFlight: InFlight[] = [];
  #pendingBytes = 0;
  #corked: Buffer[] | null = null;
  #corkedBytes = 0;
  #corkedDone: (() => void)[] = [];
  #drain: (() => void)[] = [];

  constructor(handle: TcpHandle | null, tls: TLSSocket | null = null) {
    this.#b = binding!;
    this.#tcp = handle;
    this.#tls = tls;
    if (handle !== null) {
      this.#handle = handle;
      const out: { address?: string } = {};
      this.#remoteAddress = handle.getpeername(out) === 0 ? out.address : undefined;
    } else {
      this.#handle = (tls as unknown as { _handle: StreamHandle })._handle;
      this.#remoteAddress = tls!.remoteAddress;
      // Sockets are made with TCP_NODELAY at accept.
      this.#writes = 2;
    }
  }

  get remoteAddress(): string | undefined {
    return this.#remoteAddress;
  }

  get destroyed(): boolean {
    return this.#closed;
  }

  get ended(): boolean {
    return this.#ended;
  }

  start(events: TransportEvents): void {
    this.#events = events;
    const tls = this.#tls;
    this.#handle.useUserBuffer(READ_BUFFER);
    this.#handle.onread = this.#onRead;
    if (tls !== null) {
      // The TLS socket closes its handles (on an error of the TLS layer too): its 'close' is ours.
      tls.once('close', this.#afterClose);
      // What the TLS socket read before the hand-over (a request sent with the client's Finished).
      const early = tls.readableLength > 0 ? (tls.read() as Buffer | null) : null;
      if (early !== null) events.onData(early);
      // …and its end, if the visitor sent it during the handshake too (no read would report it again).
      if ((tls as unknown as { _readableState?: { ended?: boolean } })._readableState?.ended === true) {
        this.#readEnded = true;
        events.onEnd();
        return;
      }
    }
    // A TLS socket reads from its handshake on: its handle is already reading.
    const err = this.#handle.readStart();
    if (err !== 0 && !(tls !== null && err === UV_EALREADY)) this.destroy();
  }

  readonly #onRead = (): void => {
    const b = this.#b;
    const nread = b.streamBaseState[b.kReadBytesOrError];
    if (nread > 0) {
      if (!this.#closed) this.#events!.onData(READ_BUFFER.subarray(0, nread));
    } else if (nread === UV_EOF) {
      // libuv stops reading at EOF by itself.
      this.#readEnded = true;
      if (this.#closed) return;
      this.#events!.onEnd();
      if (this.#ended && this.#shutdownDone) this.destroy();
    } else if (nread < 0) {
      this.destroy();
    }
  };

  keep(chunk: Buffer): Buffer {
    return chunk.buffer === READ_BUFFER.buffer ? Buffer.from(chunk) : chunk;
  }

  writeLatin1(text: string): boolean {
    if (this.#corked !== null) return this.#hold(Buffer.from(text, 'latin1'), null);
    if (this.#closed || this.#ended) return false;
    if (this.#mustWait()) return this.#wait([Buffer.from(text, 'latin1')], text.length, NO_DONES);
    const req = this.#writeReq();
    return this.#afterDispatch(this.#handle.writeLatin1String(req, text), text.length, null, null);
  }

  write(chunk: Buffer, done?: () => void): boolean {
    if (this.#corked !== null) return this.#hold(chunk, done ?? null);
    if (this.#closed || this.#ended) {
      done?.();
      return false;
    }
    if (this.#mustWait()) return this.#wait([chunk], chunk.length, done === undefined ? NO_DONES : [done]);
    const req = this.#writeReq();
    return this.#afterDispatch(this.#handle.writeBuffer(req, chunk), chunk.length, chunk, done ?? null);
  }

  /**
   * A TLS handle takes one write at a time (it encrypts into one output buffer, and asserts it),
   * as net.Socket's stream machinery ensures: the next writes wait, and go out together (one
   * writev, one TLS record where they fit) when it completes.
   */
  #mustWait(): boolean {
    return this.#tls !== null && this.#inFlight.length > 0;
  }

  #wait(chunks: Buffer[], bytes: number, dones: readonly (() => void)[]): boolean {
    for (const c of chunks) this.#waiting.push(c);
    this.#waitingBytes += bytes;
    for (const d of dones) this.#waitingDone.push(d);
    return this.#pendingBytes + this.#waitingBytes < HIGH_WATER;
  }

  #sendWaiting(): void {
    const chunks = this.#waiting;
    const bytes = this.#waitingBytes;
    const dones = this.#waitingDone;
    this.#waiting = [];
    this.#waitingBytes = 0;
    this.#waitingDone = [];
    this.#dispatch(chunks, bytes, dones);
  }

  /** Hands `chunks` to the handle as one write (a writev for several); `dones` are called once it completes. */
  #dispatch(chunks: Buffer[], bytes: number, dones: (() => void)[]): void {
    const done = dones.length === 0 ? null : dones.length === 1 ? dones[0] : () => dones.forEach(call);
    const req = this.#writeReq();
    const err = chunks.length === 1 ? this.#handle.writeBuffer(req, chunks[0]) : this.#handle.writev(req, chunks, true);
    this.#afterDispatch(err, bytes, chunks.length === 1 ? chunks[0] : chunks, done);
  }

  #hold(chunk: Buffer, done: (() => void) | null): boolean {
    this.#corked!.push(chunk);
    this.#corkedBytes += chunk.length;
    if (done !== null) this.#corkedDone.push(done);
    return this.#pendingBytes + this.#corkedBytes < HIGH_WATER;
  }

  #writeReq(): Req {
    if (++this.#writes === 2 && LINUX_NAGLE) this.#tcp!.setNoDelay(true);
    const req = new this.#b.WriteWrap();
    req.handle = this.#handle;
    req.oncomplete = this.#afterWrite;
    return req;
  }

  /** After a write was handed to libuv: finished at once, or in flight until #afterWrite. */
  #afterDispatch(err: number, bytes: number, data: Buffer | Buffer[] | null, done: (() => void) | null): boolean {
    if (err !== 0) {
      done?.();
      this.destroy();
      return false;
    }
    const b = this.#b;
    if (b.streamBaseState[b.kLastWriteWasAsync] === 0) {
      done?.();
      return true;
    }
    this.#inFlight.push({ bytes, data, done });
    this.#pendingBytes += bytes;
    return this.#pendingBytes < HIGH_WATER;
  }

  readonly #afterWrite = (status: number): void => {
    const w = this.#inFlight.shift();
    if (w === undefined) return;
    this.#pendingBytes -= w.bytes;
    w.done?.();
    if (status < 0) {
      this.destroy();
      return;
    }
    if (this.#waiting.length > 0 && !this.#closed) this.#sendWaiting();
    if (this.#pendingBytes > 0 || this.#closed) return;
    if (this.#shutdownWaiting) this.#shutdown();
    else if (this.#closeWhenFlushed) this.destroy();
    else this.#drained();
  };

  #drained(): void {
    const drain = this.#drain;
    if (drain.length === 0) return;
    this.#drain = [];
    for (const fn of drain) fn();
  }

  cork(): void {
    this.#corked ??= [];
  }

  uncork(): void {
    const chunks = this.#corked;
    if (chunks === null) return;
    this.#corked = null;
    const bytes = this.#corkedBytes;
    this.#corkedBytes = 0;
    const dones = this.#corkedDone;
    this.#corkedDone = [];
    if (this.#closed || this.#ended || chunks.length === 0) {
      dones.forEach(call);
      return;
    }
    if (this.#mustWait()) {
      this.#wait(chunks, bytes, dones);
      return;
    }
    this.#dispatch(chunks, bytes, dones);
    // Held writes may have asked for a drain, and all went out at once.
    if (this.#pendingBytes === 0 && !this.#closed) this.#drained();
  }

  onDrain(fn: () => void): void {
    if (this.#pendingBytes === 0 && this.#corkedBytes === 0 && !this.#closed) queueMicrotask(fn);
    else this.#drain.push(fn);
  }

  pause(): void {
    if (!this.#closed && !this.#readEnded) this.#handle.readStop();
  }

  resume(): void {
    if (!this.#closed && !this.#readEnded) this.#handle.readStart();
  }

  end(): void {
    if (this.#closed || this.#ended) return;
    this.uncork();
    this.#ended = true;
    // libuv shuts the sending side down after the queued writes; a TLS handle, after its one write.
    if (this.#mustWait()) this.#shutdownWaiting = true;
    else this.#shutdown();
  }

  #shutdown(): void {
    this.#shutdownWaiting = false;
    const req = new this.#b.ShutdownWrap();
    req.handle = this.#handle;
    req.oncomplete = this.#afterShutdown;
    if (this.#handle.shutdown(req) !== 0) this.destroy();
  }

  readonly #afterShutdown = (status: number): void => {
    this.#shutdownDone = true;
    // Both sides done (as a half-open net.Socket destroys itself), or the shutdown failed.
    if (status < 0 || this.#readEnded || this.#closeAfterShutdown) this.destroy();
  };

  closeWhenFlushed(): void {
    if (this.#closed) return;
    if (this.#tls !== null) {
      // close_notify tells a complete answer from a cut one: shut down, then close.
      this.#closeAfterShutdown = true;
      this.end();
      return;
    }
    this.uncork();
    this.#ended = true;
    // All written to the kernel: close(2) sends the FIN after it, no shutdown(2) needed.
    if (this.#pendingBytes === 0) this.destroy();
    else this.#closeWhenFlushed = true;
  }

  destroy(): void {
    if (this.#closed) return;
    this.#markClosed();
    if (this.#tcp !== null) this.#tcp.close(this.#afterClose);
    else this.#tls!.destroy();
  }

  #markClosed(): void {
    this.#closed = true;
    // Held (corked) writes are dropped and repaid now; writes queued in libuv complete (cancelled)
    // before the close callback, repaying theirs.
    const held = this.#corkedDone;
    this.#corked = null;
    this.#corkedBytes = 0;
    this.#corkedDone = [];
    for (const fn of held) fn();
    const waiting = this.#waitingDone;
    this.#waiting = [];
    this.#waitingBytes = 0;
    this.#waitingDone = [];
    for (const fn of waiting) fn();
  }

  /** Once per connection: after destroy(), or when a TLS socket closed by itself (a TLS error). */
  readonly #afterClose = (): void => {
    if (this.#closedDone) return;
    this.#closedDone = true;
    if (!this.#closed) this.#markClosed();
    this.#events?.onClose();
  };
}

function call(fn: () => void): void {
  fn();
}
