// One visitor connection (TCP or TLS), speaking HTTP/1.1 on the raw socket: it parses request
// heads, starts a RequestCtx for each, pumps request bodies to the origin connection with
// back-pressure, and writes what the phases give it. Requests are answered one at a time, in
// order; pipelined requests wait in the buffer (bounded) until the one before is answered.
// Tested in test/edge/http1.test.ts, test/edge/visitor-chaos.test.ts and test/regressions/http1.test.ts.
import { renderErrorPage } from './error-page.ts';
import { RequestRejectedError } from './errors.ts';
import { visitorIp } from './headers.ts';
import { ChunkedFramingError, ChunkedScanner } from './http1/chunked.ts';
import { findHeadEnd, HeadError, MAX_HEAD_BYTES, parseRequestHead } from './http1/head.ts';
import { respondEdgeError, runRequest, visitorLeft } from './phases.ts';
import type { ReadBlock } from './read-blocks.ts';
import { RequestCtx, type BodySink, type EdgeRuntime, type VisitorSide } from './request-ctx.ts';
import type { OpenVisitor } from './visitor-side.ts';
import type { TransportEvents, VisitorTransport } from './visitor-transport.ts';
import { UpgradeTunnel, type TunnelHost } from './upgrade-tunnel.ts';
import type { Socket } from 'node:net';

/** What a visitor connection needs from the edge that accepted it. */
export interface VisitorHost extends EdgeRuntime, TunnelHost {
  /** The edge is shutting down: answer what is in flight, then close. */
  readonly closing: boolean;
  forget(conn: OpenVisitor): void;
}

/** Unanswered bytes held before the socket stops being read (pipelined requests, early bodies). */
const HIGH_WATER = 64 * 1024;
/**
 * Answers up to this size (head and first body bytes) are copied into one buffer and leave in one
 * write; it is what Buffer.allocUnsafe serves from its shared pool, so the copy allocates nothing.
 */
const COALESCE_MAX = Buffer.poolSize >>> 1;
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
/** How long a connection the edge has ended may wait for the visitor to close its side. */
const END_GRACE_MS = 5_000;
/**
 * What a visitor may go on sending, read and discarded, once the edge will read no more of it (a
 * rejected head, an upload answered early): past it, or past END_GRACE_MS, the connection is cut.
 */
const LINGER_MAX_BYTES = 1024 * 1024;
/**
 * At shutdown, how long a connection that has not sent its first request yet (or a TLS handshake in
 * progress) may still send it. It was accepted just before the listeners closed, so its client has
 * sent, or is sending, a request it has no reason to send again elsewhere; one that stays silent
 * does not hold the drain longer than this.
 */
export const FIRST_REQUEST_GRACE_MS = 2_000;
/** Ends an upload whose trailer fields were left out (see ChunkedScanner). */
const CRLF = Buffer.from('\r\n');

export interface VisitorTimeouts {
  /** Idle between requests (a head trickling in counts as idle): the connection goes. */
  keepAliveMs: number;
  /** An answer the visitor reads none of for this long (nginx's send_timeout): the connection goes. */
  sendMs: number;
  /** An upgraded connection (WebSocket) with no byte either way for this long is cut. */
  upgradeIdleMs: number;
  /** At an edge shutdown, upgraded connections may run this long before they are cut. */
  upgradeShutdownMs: number;
}

export class VisitorConnection implements TransportEvents, VisitorSide, OpenVisitor {
  readonly http2 = false;
  readonly #socket: VisitorTransport;
  readonly #host: VisitorHost;
  readonly #scheme: 'http' | 'https';
  readonly #clientIp: string;
  #buffer: Buffer | null = null;
  /** How much of #buffer was already searched for the end of a head still coming in. */
  #scanned = 0;
  /** Bytes still to be discarded while lingering (see LINGER_MAX_BYTES). */
  #lingerLeft = LINGER_MAX_BYTES;
  #ctx: RequestCtx | null = null;
  #processing = false;
  #paused = false;
  #readEnded = false;
  #closing = false;
  /** No request has started on this connection yet. */
  #fresh = true;
  #corked = false;
  readonly #timeouts: VisitorTimeouts;
  /** performance.now() past which the edge's sweep closes the connection (idle, or ended and lingering). */
  #deadline: number;
  // Request body of the current request.
  #bodyLeft = false;
  #bodyRemaining = 0;
  #scanner: ChunkedScanner | null = null;
  #sink: BodySink | null = null;
  /** Set once the origin switched protocols: from then on bytes are relayed, not parsed. */
  #tunnel: UpgradeTunnel | null = null;

  constructor(socket: VisitorTransport, host: VisitorHost, scheme: 'http' | 'https', timeouts: VisitorTimeouts) {
    this.#socket = socket;
    this.#host = host;
    this.#scheme = scheme;
    this.#clientIp = visitorIp(socket.remoteAddress);
    this.#timeouts = timeouts;
    this.#deadline = performance.now() + timeouts.keepAliveMs;
    socket.start(this);
  }

  /** Called by the edge's sweep: past the deadline, the connection is cut. */
  expire(now: number): void {
    if (this.#tunnel !== null) this.#tunnel.expire(now);
    else if (now >= this.#deadline) this.#socket.destroy();
  }

  /** No further request will be read: set when closing, or when the edge shuts down. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Part of the current request's body is still unread. */
  get bodyPending(): boolean {
    return this.#bodyLeft;
  }

  /**
   * Edge shutdown: an idle connection closes now, a busy one after its answer, and one that has not
   * sent its first request yet gets FIRST_REQUEST_GRACE_MS for it (answered with Connection: close).
   */
  shutdown(): void {
    if (this.#fresh && this.#ctx === null && !this.#closing) {
      this.#deadline = Math.min(this.#deadline, performance.now() + FIRST_REQUEST_GRACE_MS);
      return;
    }
    this.#closing = true;
    if (this.#tunnel !== null) this.#tunnel.shutdown(this.#timeouts.upgradeShutdownMs);
    else if (this.#ctx === null) this.#end(this.#buffer !== null);
  }

  /**
   * The origin answered the current request with 101: the connection becomes a tunnel to `origin`.
   * What the visitor sent after its request head (bytes of the new protocol) goes first.
   */
  startTunnel(ctx: RequestCtx, origin: Socket): UpgradeTunnel {
    const host = this.#host;
    const tunnel = new UpgradeTunnel(ctx, this.#socket, origin, host, this.#timeouts.upgradeIdleMs);
    this.#tunnel = tunnel;
    this.#ctx = null;
    this.#deadline = Infinity;
    // Paused with a full buffer while waiting for the answer: the tunnel keeps its own pauses.
    this.#resume();
    const buffered = this.#buffer;
    this.#buffer = null;
    if (buffered !== null) tunnel.fromVisitor(buffered);
    if (this.#closing || host.closing) tunnel.shutdown(this.#timeouts.upgradeShutdownMs);
    return tunnel;
  }

  /**
   * Ends our side. With nothing of the visitor's left unread, the socket closes as soon as the
   * answer is flushed, as node:http and nginx (without lingering close) do: waiting for the
   * visitor's FIN costs a wake-up and a read per connection. Otherwise (`unread`: a body or
   * pipelined bytes we will not read), closing at once could reset the connection under the answer,
   * so it waits for the visitor to close its side, cut after a grace period.
   */
  #end(unread: boolean): void {
    const socket = this.#socket;
    if (socket.destroyed || socket.ended) return;
    if (unread && !this.#readEnded) {
      socket.end();
      this.#deadline = performance.now() + END_GRACE_MS;
    } else {
      socket.closeWhenFlushed();
      // A visitor that stopped reading would keep the answer's tail unflushed for ever.
      if (!socket.destroyed) this.#deadline = performance.now() + this.#timeouts.sendMs;
    }
  }

  destroy(): void {
    this.#socket.destroy();
  }

  onData(chunk: Buffer): void {
    if (this.#tunnel !== null) {
      this.#tunnel.fromVisitor(chunk);
      return;
    }
    if (this.#closing && this.#ctx === null) {
      // Nothing more will be parsed: what arrives is counted and dropped, never held.
      if ((this.#lingerLeft -= chunk.length) < 0) this.#socket.destroy();
      return;
    }
    this.#buffer = this.#buffer === null ? chunk : Buffer.concat([this.#buffer, chunk]);
    this.#process();
    // What is left (a partial head, pipelined bytes, a body the origin is not ready for) outlives the read.
    if (this.#buffer !== null) this.#buffer = this.#socket.keep(this.#buffer);
  }

  #process(): void {
    if (this.#processing) return;
    this.#processing = true;
    try {
      while (this.#buffer !== null && !this.#socket.destroyed) {
        if (this.#ctx !== null) {
          if (this.#bodyLeft && this.#sink !== null) this.#pump();
          else if (this.#buffer !== null && this.#buffer.length > HIGH_WATER) this.#pause();
          break;
        }
        if (this.#closing || !this.#nextRequest(this.#buffer)) break;
      }
      if (this.#ctx === null && this.#readEnded) this.#end(false);
    } finally {
      this.#processing = false;
    }
  }

  /** Parses the head at the start of `buf` and starts its request; false when the head is incomplete. */
  #nextRequest(buf: Buffer): boolean {
    // Empty lines before a request line are ignored (RFC 9112 §2.2).
    let start = 0;
    while (start < buf.length && (buf[start] === 13 || buf[start] === 10)) start++;
    const scanned = this.#scanned;
    this.#scanned = 0;
    let end: number;
    try {
      end = findHeadEnd(buf, start, scanned);
    } catch (err) {
      this.#reject(err as HeadError);
      return false;
    }
    if (end < 0 ? buf.length - start > MAX_HEAD_BYTES : end - start > MAX_HEAD_BYTES) {
      this.#reject(new HeadError(431, 'head_too_large', 'the request head is larger than 32 KiB'));
      return false;
    }
    if (end < 0) {
      this.#buffer = start === buf.length ? null : start === 0 ? buf : buf.subarray(start);
      if (this.#buffer !== null) this.#scanned = buf.length - start;
      return false;
    }
    this.#buffer = end + 4 === buf.length ? null : buf.subarray(end + 4);
    let head;
    try {
      head = parseRequestHead(buf.toString('latin1', start, end));
    } catch (err) {
      if (!(err instanceof HeadError)) throw err;
      this.#reject(err);
      return false;
    }
    const host = this.#host;
    const ctx = new RequestCtx(host, this, head, this.#scheme, host.rayIds.next(), this.#clientIp);
    ctx.bytesIn = end + 4;
    // The edge is shutting down (a first request in the grace of shutdown()): this one is the last.
    if (host.closing) ctx.closeAfter = this.#closing = true;
    this.#fresh = false;
    this.#ctx = ctx;
    // In flight: the origin side's timeouts apply, not the idle one.
    this.#deadline = Infinity;
    runRequest(ctx);
    return true;
  }

  /** A head that cannot be parsed: an error page, and the connection closes. */
  #reject(err: HeadError): void {
    this.#closing = true;
    this.#buffer = null;
    const error = new RequestRejectedError(err.status, err.reason, err.message);
    const page = renderErrorPage(error, this.#host.rayIds.next(), '', false);
    this.#socket.writeLatin1(
      `HTTP/1.1 ${error.status} ${error.title}\r\ncontent-type: ${page.contentType}\r\ncontent-length: ${Buffer.byteLength(page.body)}\r\nconnection: close\r\n\r\n${page.body}`,
    );
    // What followed the bad head (its body, more of it) is not read: linger.
    this.#end(true);
  }

  // ── request body ──

  /** The current request has a body: its framing, so its bytes are told from the next request's. */
  expectBody(ctx: RequestCtx): void {
    this.#bodyLeft = true;
    this.#bodyRemaining = ctx.contentLength;
    this.#scanner = ctx.chunked ? new ChunkedScanner() : null;
  }

  /** The origin connection is ready for the body: pump what is buffered, then stream the rest. */
  pipeBody(sink: BodySink, expectContinue: boolean): void {
    if (!this.#bodyLeft) {
      sink.endBody();
      return;
    }
    this.#sink = sink;
    if (expectContinue && this.#buffer === null) {
      this.#socket.writeLatin1(CONTINUE);
      if (this.#ctx !== null) this.#ctx.bytesOut += CONTINUE.length;
    }
    if (this.#buffer !== null) this.#pump();
    this.#resume();
  }

  /** The origin connection drained: read more of the body. */
  resumeBody(): void {
    if (this.#sink !== null) this.#resume();
  }

  #pump(): void {
    const sink = this.#sink!;
    while (this.#buffer !== null && this.#bodyLeft) {
      const buf = this.#buffer;
      let end: number;
      /** Up to here the bytes go on (a dropped trailer section stops short of `end`). */
      let pass: number;
      let done: boolean;
      const scanner = this.#scanner;
      if (scanner !== null) {
        let at: number;
        try {
          at = scanner.feed(buf, 0, buf.length);
        } catch (err) {
          // The upload's framing broke mid-way: the origin connection is cut (it saw a partial
          // body). The fault is the visitor's: a 400 naming it, unless an answer is already under
          // way (then the visitor is cut too); what it goes on sending is discarded, bounded.
          const e = err as ChunkedFramingError;
          const rejected = new RequestRejectedError(400, e.reason, `malformed chunked request body: ${e.message}`);
          if (this.#ctx !== null) respondEdgeError(this.#ctx, rejected);
          else this.#socket.destroy();
          sink.abort(rejected);
          return;
        }
        done = at >= 0;
        end = done ? at : buf.length;
        pass = scanner.forwardEnd;
      } else {
        end = Math.min(this.#bodyRemaining, buf.length);
        this.#bodyRemaining -= end;
        done = this.#bodyRemaining === 0;
        pass = end;
      }
      this.#buffer = end === buf.length ? null : buf.subarray(end);
      if (this.#ctx !== null) this.#ctx.bytesIn += end;
      if (done) {
        this.#bodyLeft = false;
        this.#scanner = null;
      }
      // The origin socket may queue the chunk rather than write it at once: it must outlive the read.
      const ok = pass === 0 || sink.writeBody(this.#socket.keep(pass === buf.length ? buf : buf.subarray(0, pass)));
      if (done) {
        if (scanner !== null && scanner.trailersDropped) sink.writeBody(CRLF);
        sink.endBody();
        this.#sink = null;
      } else if (!ok) {
        this.#pause();
        return;
      }
    }
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#socket.pause();
  }

  #resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#socket.resume();
  }

  // ── response ──

  writeHead(head: string): void {
    this.#socket.writeLatin1(head);
  }

  /** The head and the first body bytes (read into `block`, when they come from the origin), in one write. */
  writeHeadAndBody(head: string, body: Buffer, block: ReadBlock | null): boolean {
    const socket = this.#socket;
    if (head.length + body.length > COALESCE_MAX) {
      socket.cork();
      socket.writeLatin1(head);
      const ok = socket.write(body, block?.lend());
      socket.uncork();
      return ok;
    }
    const out = Buffer.allocUnsafe(head.length + body.length);
    out.write(head, 0, 'latin1');
    body.copy(out, head.length);
    return socket.write(out);
  }

  /**
   * A large body arrives as several TLS records (16 KiB each) in one turn. The first goes out at
   * once with the head; the rest are held in the corked socket until the end of the turn and
   * leave in one writev instead of a write(2) each (single-chunk answers never cork).
   */
  write(chunk: Buffer, block: ReadBlock): boolean {
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      setImmediate(this.#uncork);
    }
    return this.#socket.write(chunk, block.lend());
  }

  readonly #uncork = (): void => {
    this.#corked = false;
    this.#socket.uncork();
  };

  /**
   * Calls `fn` once the socket's write buffer has drained. Until then the send timeout runs: a
   * visitor that reads nothing for that long is cut, rather than holding its connection and the
   * paused origin connection for ever.
   */
  onDrain(fn: () => void): void {
    this.#deadline = performance.now() + this.#timeouts.sendMs;
    this.#socket.onDrain(() => {
      if (this.#ctx !== null) this.#deadline = Infinity;
      fn();
    });
  }

  /** The current response is complete: read the next request, or close. */
  responseFinished(ctx: RequestCtx): void {
    if (this.#ctx !== ctx) return;
    this.#ctx = null;
    this.#sink = null;
    if (ctx.closeAfter || this.#bodyLeft || this.#closing) {
      // An unread body cannot be told from a next request: the connection ends here.
      const unread = this.#bodyLeft || this.#buffer !== null;
      this.#closing = true;
      this.#bodyLeft = false;
      this.#buffer = null;
      this.#end(unread);
      return;
    }
    this.#deadline = performance.now() + this.#timeouts.keepAliveMs;
    this.#resume();
    if (this.#buffer !== null || this.#readEnded) this.#process();
  }

  onEnd(): void {
    this.#readEnded = true;
    if (this.#tunnel !== null) {
      this.#tunnel.visitorEnd();
      return;
    }
    // A visitor that shuts its side while its request is in flight has left (as nginx and Node's
    // server see it: 499); between requests, what it sent before is still answered.
    if (this.#ctx !== null) this.#socket.destroy();
    else this.#process();
  }

  onClose(): void {
    this.#host.forget(this);
    if (this.#tunnel !== null) {
      this.#tunnel.visitorClosed();
      return;
    }
    const ctx = this.#ctx;
    this.#ctx = null;
    if (ctx !== null) visitorLeft(ctx);
  }
}
