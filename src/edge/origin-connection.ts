// One connection to an origin (TCP, or TLS with the pool's client certificate), carrying one
// exchange at a time: it writes the request head (and streams the body the visitor side pumps
// into it), parses the response head, frames the body (length, chunked, or until close) and hands
// each piece to the exchange's handler (the phases', given at dispatch). A connection that ends an
// exchange cleanly goes back to its pool.
// Tested in test/edge/http1.test.ts, classify-upstream-error.test.ts and test/regressions/origin-retry.test.ts.
import net from 'node:net';
import tls, { type ConnectionOptions, type TLSSocket } from 'node:tls';
import { markConnectError } from './classify-upstream-error.ts';
import { OriginConnectTimeoutError, OriginProtocolError, OriginResponseTimeoutError } from './errors.ts';
import { downstreamFields, downstreamFieldsOf, type ResponseFacts } from './headers.ts';
import { ChunkedFramingError, ChunkedScanner } from './http1/chunked.ts';
import { findHeadEnd, HeadError, headerValue, MAX_HEAD_BYTES, parseResponseHead, parseStatusLine } from './http1/head.ts';
import { takeBlock, type ReadBlock } from './read-blocks.ts';
import type { BodySink, ExchangeHandler, OriginTunnelSide, RequestCtx } from './request-ctx.ts';

/** The origin closed the connection before its answer was complete (retryable on a reused connection). */
export class OriginClosedError extends Error {
  readonly code = 'ERR_ORIGIN_CLOSED';
}

export interface OriginDial {
  host: string;
  port: number;
  /** TLS options (client certificate, SNI, verification) or null for plain HTTP. */
  tls: ConnectionOptions | null;
  connectMs: number;
  /** Longest silence while an exchange is under way (no headers yet, or a stalled body). */
  responseMs: number;
}

/** What a connection reports to its pool. */
export interface ConnectionOwner {
  connected(conn: OriginConnection, socket: net.Socket, error: Error | null, started: number): void;
  released(conn: OriginConnection, reusable: boolean): void;
  closed(conn: OriginConnection): void;
  keepSession(session: Buffer): void;
}

const NO_BODY = 0;
const LENGTH = 1;
const CHUNKED = 2;
const UNTIL_CLOSE = 3;

let connectionIds = 0;
/** Ends a chunked answer whose trailer fields were left out (see ChunkedScanner). */
const CRLF = Buffer.from('\r\n');

export class OriginConnection implements BodySink {
  readonly id = ++connectionIds;
  /** The TLS session was resumed (false for plain HTTP, and until connected). */
  resumed = false;
  /** Exchanges carried so far (the first one is not a reuse). */
  requests = 0;
  /** performance.now() when it last went idle; how long it may stay so. */
  idleSince = 0;
  idleLimitMs = Infinity;
  /** Dialled for an upgrade request: never pooled, and a 101 makes it a tunnel. */
  readonly forUpgrade: boolean;
  readonly #owner: ConnectionOwner;
  readonly #socket: net.Socket;
  readonly #responseMs: number;
  #connected = false;
  readonly #started: number;
  #connectTimer: NodeJS.Timeout | null = null;
  #ctx: RequestCtx | null = null;
  /** Where the current exchange is reported. */
  #handler: ExchangeHandler;
  #closed = false;
  /** performance.now() of the last sign of life in the current exchange (see expire). */
  #lastActivity = 0;
  /** Not reading: the visitor is slow, which is not the origin's silence. */
  #paused = false;
  /** Where the socket reads into (see read-blocks.ts). */
  #block: ReadBlock = takeBlock();
  // Response state of the current exchange.
  #head: Buffer | null = null;
  #headDone = false;
  #framing = NO_BODY;
  #remaining = 0;
  #scanner: ChunkedScanner | null = null;
  #decode = false;
  #keepAlive = false;
  #requestSent = false;
  #tunnel: OriginTunnelSide | null = null;
  readonly #facts: ResponseFacts = { contentLength: -1, chunked: false, close: false, keepAlive: false, badLength: false, keepAliveTimeoutMs: 0 };

  constructor(dial: OriginDial, owner: ConnectionOwner, first: RequestCtx, handler: ExchangeHandler, forUpgrade = false) {
    this.forUpgrade = forUpgrade;
    this.#owner = owner;
    this.#responseMs = dial.responseMs;
    this.#ctx = first;
    this.#handler = handler;
    this.#started = performance.now();
    const onread = { buffer: this.#nextBuffer, callback: this.#onRead };
    const socket = dial.tls === null ? net.connect({ host: dial.host, port: dial.port, onread }) : tls.connect({ ...dial.tls, host: dial.host, port: dial.port, onread } as ConnectionOptions);
    this.#socket = socket;
    socket.setNoDelay(true);
    this.#connectTimer = setTimeout(() => {
      this.#fail(markConnectError(new OriginConnectTimeoutError(`connecting to the origin timed out after ${dial.connectMs} ms`)));
    }, dial.connectMs);
    if (dial.tls !== null) {
      // TLS 1.2 delivers the session during the handshake, TLS 1.3 tickets after it: listen from the start.
      socket.on('session', (s: Buffer) => owner.keepSession(s));
      socket.once('secureConnect', () => this.#onConnect());
    } else {
      socket.once('connect', () => this.#onConnect());
    }
    socket.on('error', (err: Error) => this.#fail(this.#connected ? err : markConnectError(err)));
    socket.on('close', () => this.#onClose());
    socket.on('drain', () => {
      if (this.#tunnel !== null) this.#tunnel.originDrained();
      else this.#ctx?.visitor.resumeBody();
    });
    // Only a tunnel is half-open (see #switch); elsewhere Node ends our side when the origin ends its.
    socket.on('end', () => this.#tunnel?.originEnd());
  }

  get usable(): boolean {
    return !this.#closed && this.#connected && this.#ctx === null && !this.forUpgrade;
  }

  #onConnect(): void {
    if (this.#connectTimer !== null) clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
    this.#connected = true;
    this.resumed = (this.#socket as TLSSocket).isSessionReused?.() ?? false;
    this.#owner.connected(this, this.#socket, null, this.#started);
    const ctx = this.#ctx;
    this.#ctx = null;
    if (ctx === null) return;
    if (ctx.visitorGone && (ctx.hasBody || this.forUpgrade)) {
      // The visitor left with its upload (or its upgrade) while we connected: nothing to send.
      ctx.upstreamDone = true;
      this.idleSince = performance.now();
      this.#owner.released(this, true);
      return;
    }
    this.send(ctx, this.#handler);
  }

  /** Starts an exchange: the head now, the body as the visitor side pumps it; `handler` hears how it goes. */
  send(ctx: RequestCtx, handler: ExchangeHandler): void {
    this.#ctx = ctx;
    this.#handler = handler;
    ctx.connection = this;
    ctx.reused = this.requests++ > 0;
    this.#headDone = false;
    this.#head = null;
    this.#requestSent = !ctx.hasBody;
    this.#lastActivity = performance.now();
    this.#socket.write(ctx.upstreamHead, 'latin1');
    if (ctx.hasBody) ctx.visitor.pipeBody(this, ctx.expectContinue);
  }

  writeBody(chunk: Buffer): boolean {
    this.#lastActivity = performance.now();
    return this.#socket.write(chunk);
  }

  endBody(): void {
    this.#requestSent = true;
  }

  /** Reads again after back-pressure (or to drain an abandoned answer); the silence clock restarts. */
  readonly resume = (): void => {
    this.#paused = false;
    this.#lastActivity = performance.now();
    this.#socket.resume();
  };

  /**
   * Called by the pool's sweep: an exchange under way that heard nothing from the origin for the
   * response timeout fails with a 524. (One sweep for all connections instead of a socket timer
   * each, which Node re-arms on every read and write.)
   */
  expire(now: number): void {
    if (this.#ctx !== null && this.#connected && !this.#paused && now - this.#lastActivity >= this.#responseMs) {
      this.#fail(new OriginResponseTimeoutError(`the origin sent nothing for ${this.#responseMs} ms`));
    }
  }

  /** Ends the exchange for good: the connection is cut and the request fails with `err`. */
  abort(err: Error): void {
    this.#fail(err);
  }

  /** Closes an idle connection (pool keep-alive expiry, retirement). */
  close(): void {
    this.#closed = true;
    this.#socket.destroy();
  }

  /** The buffer for the next read: the same block unless a visitor write still points into it. */
  readonly #nextBuffer = (): Buffer => {
    if (this.#block.lent) {
      this.#block.disown();
      this.#block = takeBlock();
    }
    return this.#block.buf;
  };

  readonly #onRead = (n: number, into: Uint8Array): boolean => {
    if (this.#tunnel !== null) {
      this.#tunnel.fromOrigin((into as Buffer).subarray(0, n), this.#block);
      return true;
    }
    const ctx = this.#ctx;
    if (ctx === null) {
      // Bytes nobody asked for: the connection's framing can no longer be trusted.
      this.close();
      return false;
    }
    this.#lastActivity = performance.now();
    let buf = (into as Buffer).subarray(0, n);
    let at = 0;
    if (!this.#headDone) {
      if (this.#head !== null) {
        buf = Buffer.concat([this.#head, buf]);
        this.#head = null;
      }
      at = this.#readHead(ctx, buf);
      if (at < 0) return true;
    }
    this.#body(ctx, buf, at);
    return true;
  };

  /** Parses the response head (skipping 1xx); returns where the body starts, or -1 to wait. */
  #readHead(ctx: RequestCtx, buf: Buffer): number {
    let at = 0;
    for (;;) {
      let end: number;
      try {
        end = findHeadEnd(buf, at, at);
      } catch (err) {
        this.#fail(new OriginProtocolError((err as HeadError).reason, 'the origin sent a response head with a bare LF line end'));
        return -1;
      }
      if (end < 0 ? buf.length - at > MAX_HEAD_BYTES : end - at > MAX_HEAD_BYTES) {
        this.#fail(new OriginProtocolError('head_too_large', 'the origin sent a response head larger than 32 KiB'));
        return -1;
      }
      if (end < 0) {
        // Copied: the read block is read into again.
        this.#head = Buffer.from(buf.subarray(at));
        return -1;
      }
      let head;
      let fields;
      let text;
      const facts = this.#facts;
      try {
        text = buf.toString('latin1', at, end);
        head = parseStatusLine(text);
        fields = downstreamFieldsOf(text, head.fieldsAt, ctx.rayId, facts) ?? downstreamFields(parseResponseHead(text).headers, ctx.rayId, facts);
      } catch (err) {
        this.#fail(err instanceof HeadError ? new OriginProtocolError(err.reason, `the origin sent an invalid response: ${err.message}`) : (err as Error));
        return -1;
      }
      at = end + 4;
      // 1xx: informational (the edge answered any 100-continue itself); the real answer follows.
      if (head.status < 200) {
        if (head.status === 101) {
          if (this.forUpgrade && ctx.upgrade !== '') this.#switch(ctx, text, fields, buf, at);
          else this.#fail(new OriginProtocolError('unexpected_101', 'the origin switched protocols, which the edge did not ask for'));
          return -1;
        }
        continue;
      }
      if (facts.badLength) {
        this.#fail(new OriginProtocolError('invalid_content_length', 'the origin sent an invalid Content-Length'));
        return -1;
      }
      this.#headDone = true;
      this.#keepAlive = head.minor === 1 ? !facts.close : facts.keepAlive;
      this.idleLimitMs = facts.keepAliveTimeoutMs > 0 ? facts.keepAliveTimeoutMs : Infinity;
      const status = head.status;
      let framing: number;
      if (ctx.method === 'HEAD' || status === 204 || status === 304) framing = NO_BODY;
      else if (facts.chunked) framing = CHUNKED;
      else if (facts.contentLength >= 0) framing = LENGTH;
      else framing = UNTIL_CLOSE;
      this.#framing = framing;
      this.#remaining = facts.contentLength;
      if (framing === UNTIL_CLOSE) this.#keepAlive = false;
      // HTTP/1.0 visitors cannot read chunks: decode them (the response then ends with the
      // connection); HTTP/2 streams frame the payload themselves.
      this.#decode = framing === CHUNKED && ctx.decodeChunked;
      if (framing === CHUNKED) this.#scanner = new ChunkedScanner();
      this.#handler.onHeaders(ctx, status, head.reason, fields, framing === CHUNKED && !this.#decode, framing === UNTIL_CLOSE || this.#decode, framing === NO_BODY);
      return at;
    }
  }

  /**
   * The origin accepted the upgrade: the 101 goes to the visitor and the connection becomes one
   * side of a tunnel (bytes after the head already belong to the new protocol). Half-open from
   * here: a FIN from the origin is passed on to the visitor, ours waits for the visitor's.
   */
  #switch(ctx: RequestCtx, text: string, fields: string, buf: Buffer, at: number): void {
    let protocol: string | undefined;
    try {
      protocol = headerValue(parseResponseHead(text).headers, 'upgrade');
    } catch {
      protocol = undefined;
    }
    if (protocol === undefined || protocol === '') {
      this.#fail(new OriginProtocolError('upgrade_missing', 'the origin switched protocols (101) without naming the protocol in Upgrade'));
      return;
    }
    if (ctx.done) {
      // The visitor left while the origin was accepting: nobody to relay to.
      this.#fail(new Error('visitor closed the connection'));
      return;
    }
    this.#ctx = null;
    this.#headDone = true;
    // (Documented for any Duplex: may be changed until 'end' is emitted.)
    this.#socket.allowHalfOpen = true;
    this.#handler.onUpgrade(ctx, fields, protocol);
    this.#tunnel = ctx.visitor.startTunnel(ctx, this.#socket);
    if (at < buf.length) this.#tunnel.fromOrigin(buf.subarray(at), this.#block);
  }

  #body(ctx: RequestCtx, buf: Buffer, at: number): void {
    const len = buf.length;
    switch (this.#framing) {
      case NO_BODY:
        if (at < len) this.#keepAlive = false;
        this.#complete(ctx);
        return;
      case LENGTH: {
        const n = Math.min(this.#remaining, len - at);
        this.#remaining -= n;
        if (n > 0 && !this.#deliver(ctx, at === 0 && n === len ? buf : buf.subarray(at, at + n))) return;
        if (this.#remaining === 0) {
          if (at + n < len) this.#keepAlive = false;
          this.#complete(ctx);
        }
        return;
      }
      case CHUNKED: {
        let end: number;
        try {
          end = this.#decode ? this.#scanner!.feed(buf, at, len, this.#deliverPart) : this.#scanner!.feed(buf, at, len);
        } catch (err) {
          const e = err as ChunkedFramingError;
          this.#fail(new OriginProtocolError(e.reason, `the origin sent a malformed chunked body: ${e.message}`));
          return;
        }
        // Short of `end` when the origin's trailer fields are left out.
        const pass = this.#scanner!.forwardEnd;
        // (Kept for visitor sides that can carry trailers as fields of their own: HTTP/2 streams.)
        if (ctx.keepTrailers && this.#scanner!.trailersDropped) ctx.trailers += buf.toString('latin1', pass, end >= 0 ? end : len);
        if (!this.#decode && pass > at && !this.#deliver(ctx, at === 0 && pass === len ? buf : buf.subarray(at, pass))) return;
        if (end >= 0) {
          if (!this.#decode && this.#scanner!.trailersDropped && !this.#deliver(ctx, CRLF)) return;
          if (end < len) this.#keepAlive = false;
          this.#complete(ctx);
        }
        return;
      }
      default:
        if (at < len) this.#deliver(ctx, at === 0 ? buf : buf.subarray(at));
    }
  }

  readonly #deliverPart = (buf: Buffer, start: number, end: number): void => {
    if (this.#ctx !== null && end > start) this.#deliver(this.#ctx, buf.subarray(start, end));
  };

  /** One piece of body to the visitor; false when the exchange ended under it. */
  #deliver(ctx: RequestCtx, piece: Buffer): boolean {
    if (!this.#handler.onData(ctx, piece, this.#block)) {
      // Back-pressure: the visitor socket is full; read on when it drains. A slow visitor is not a
      // silent origin: the response timeout waits while paused.
      this.#paused = true;
      this.#socket.pause();
      // Only for this exchange: a visitor that ends its connection never emits 'drain' (see #complete).
      ctx.visitor.onDrain(() => {
        if (this.#ctx === ctx) this.resume();
      });
    }
    return this.#ctx === ctx;
  }

  #complete(ctx: RequestCtx): void {
    this.#ctx = null;
    this.#scanner = null;
    // TLS hands over every record it has decrypted even after a pause, so an answer can end while
    // paused for its visitor; whose 'drain' may never come (a socket being ended emits none).
    // Pooled, the connection must read again, or the next exchange on it would wait forever.
    if (this.#paused) this.resume();
    const reusable = this.#keepAlive && this.#requestSent && !this.#closed;
    this.idleSince = performance.now();
    this.#owner.released(this, reusable);
    this.#handler.onComplete(ctx);
  }

  #fail(err: Error): void {
    if (this.#connectTimer !== null) clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
    const ctx = this.#ctx;
    this.#ctx = null;
    const wasConnected = this.#connected;
    if (!this.#closed) {
      this.#closed = true;
      this.#socket.destroy();
      if (!wasConnected) this.#owner.connected(this, this.#socket, err, this.#started);
    }
    if (ctx !== null) this.#handler.onError(ctx, err);
  }

  #onClose(): void {
    // The socket reads no more: its block goes back once no write points into it.
    this.#block.disown();
    if (this.#tunnel !== null) {
      this.#closed = true;
      this.#owner.closed(this);
      this.#tunnel.originClosed();
      return;
    }
    const ctx = this.#ctx;
    if (ctx !== null && this.#headDone && this.#framing === UNTIL_CLOSE) {
      // The body ran until the connection closed: that is its end.
      this.#closed = true;
      this.#ctx = null;
      this.#owner.closed(this);
      this.#handler.onComplete(ctx);
      return;
    }
    if (ctx !== null) this.#fail(this.#connected ? new OriginClosedError('the origin closed the connection before answering in full') : markConnectError(new OriginClosedError('the origin closed the connection while connecting')));
    this.#closed = true;
    this.#owner.closed(this);
  }
}
