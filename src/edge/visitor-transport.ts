// What a visitor connection reads from and writes to: the seam between the HTTP/1 logic
// (visitor-connection.ts) and the socket under it. Two implementations: SocketTransport over a
// net/tls socket (HTTPS visitors, and plain ones where a TCP handle cannot be adopted), and
// TcpHandleTransport (tcp-handle-transport.ts) straight over libuv's TCP handle.
// Tested in test/edge/tcp-handle-transport.test.ts and test/edge/visitor-transport-choice.test.ts.
import type { Socket } from 'node:net';

/** What a transport tells its connection. Each is called at most once, except onData. */
export interface TransportEvents {
  /** `chunk` may be the transport's read buffer, valid during the call: keep() what is held on to. */
  onData(chunk: Buffer): void;
  /** The visitor shut its sending side (half-close); writing may go on. */
  onEnd(): void;
  /** The connection is closed, for whatever reason; called on a later turn than destroy(). */
  onClose(): void;
}

export interface VisitorTransport {
  readonly remoteAddress: string | undefined;
  readonly destroyed: boolean;
  /** end() or closeWhenFlushed() was called: nothing more may be written. */
  readonly ended: boolean;
  /** Delivers reads to `events`; called once, right after construction. */
  start(events: TransportEvents): void;
  /** `chunk` (from onData), or a copy of it when it lives in a buffer the next read reuses. */
  keep(chunk: Buffer): Buffer;
  writeLatin1(text: string): boolean;
  /**
   * Writes `chunk` (kept, not copied, until written: `done` is called then, or when the
   * connection closes first). False when the write buffer is above its mark: wait for onDrain.
   */
  write(chunk: Buffer, done?: () => void): boolean;
  /** Writes until uncork() are held and leave together (one writev). */
  cork(): void;
  uncork(): void;
  /** Calls `fn` once what is buffered has been written. */
  onDrain(fn: () => void): void;
  pause(): void;
  resume(): void;
  /** Shuts our sending side once queued writes are out; reads go on until the visitor closes. */
  end(): void;
  /** Closes once queued writes are out, without waiting for the visitor. */
  closeWhenFlushed(): void;
  destroy(): void;
}

/** A visitor transport over a net.Socket or tls.TLSSocket. */
export class SocketTransport implements VisitorTransport {
  readonly #socket: Socket;
  readonly #tls: boolean;

  constructor(socket: Socket, tls: boolean) {
    this.#socket = socket;
    this.#tls = tls;
  }

  get remoteAddress(): string | undefined {
    return this.#socket.remoteAddress;
  }

  get destroyed(): boolean {
    return this.#socket.destroyed;
  }

  get ended(): boolean {
    return this.#socket.writableEnded;
  }

  start(events: TransportEvents): void {
    const socket = this.#socket;
    socket.on('data', (chunk: Buffer) => events.onData(chunk));
    // allowHalfOpen on the server: 'end' is the connection's to handle, not an automatic end().
    socket.on('end', () => events.onEnd());
    socket.on('error', noop);
    socket.on('close', () => events.onClose());
  }

  keep(chunk: Buffer): Buffer {
    return chunk;
  }

  writeLatin1(text: string): boolean {
    return this.#socket.write(text, 'latin1');
  }

  write(chunk: Buffer, done?: () => void): boolean {
    return done === undefined ? this.#socket.write(chunk) : this.#socket.write(chunk, done);
  }

  cork(): void {
    this.#socket.cork();
  }

  uncork(): void {
    if (!this.#socket.destroyed) this.#socket.uncork();
  }

  onDrain(fn: () => void): void {
    this.#socket.once('drain', fn);
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  end(): void {
    this.#socket.end();
  }

  closeWhenFlushed(): void {
    const socket = this.#socket;
    if (!this.#tls && socket.writableLength === 0) {
      // All written to the kernel: close(2) sends the FIN after it, no shutdown(2) needed. (TLS
      // visitors get close_notify through end(): it tells a complete answer from a cut one.)
      socket.destroy();
    } else {
      socket.end();
      socket.once('finish', () => socket.destroy());
    }
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

function noop(): void {}
