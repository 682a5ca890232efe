// HTTP/2 visitor connections: TLS sockets whose ALPN chose `h2` are handed to one node:http2
// server (created without TLS: the edge's tls.Server did the handshake, and nghttp2 reads the
// TLSSocket's native stream directly), which makes an Http2Session of each. A session's streams
// are Http2VisitorStreams (http2-stream.ts). Limits per session: concurrent streams and header
// list size (advertised in SETTINGS, enforced by nghttp2), streams the visitor resets while the
// edge works on them (rapid reset, CVE-2023-44487: a ResetBudget, then GOAWAY ENHANCE_YOUR_CALM),
// an idle timeout, and GOAWAY on shutdown, letting the streams under way finish. Tested in
// test/edge/http2.test.ts, http2-abuse.test.ts (raw frames) and http2-peers.test.ts (curl, nghttp,
// h2load, Chromium).
import http2, { type Http2Server, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { TlsVersion } from './client-hello.ts';
import { routingHostname, visitorIp } from './headers.ts';
import { findRoute } from './snapshot.ts';
import { HeadError } from './http1/head.ts';
import { requestHeadOf } from './http2-head.ts';
import { Http2VisitorStream, type StreamOwner } from './http2-stream.ts';
import { http2SessionChannel } from './observe.ts';
import type { EdgeRuntime } from './request-ctx.ts';
import { ResetBudget } from './reset-budget.ts';
import type { OpenVisitor } from './visitor-side.ts';

const { NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_REFUSED_STREAM, NGHTTP2_FLAG_END_STREAM } = http2.constants;

export interface Http2Limits {
  /** SETTINGS_MAX_CONCURRENT_STREAMS (nginx's and Cloudflare's default: 128 and 256). */
  maxConcurrentStreams: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE: as large as an HTTP/1 head may be. */
  maxHeaderListSize: number;
  /** Streams a visitor may reset while in progress, at once… */
  resetBurst: number;
  /** …and per second after that; beyond, the session gets GOAWAY ENHANCE_YOUR_CALM. */
  resetsPerSecond: number;
}

export const HTTP2_LIMITS: Http2Limits = Object.freeze({
  maxConcurrentStreams: 128,
  maxHeaderListSize: 32 * 1024,
  resetBurst: 200,
  resetsPerSecond: 100,
});

/** Per-stream receive window: a 100 MB upload flows without waiting on WINDOW_UPDATEs each 64 KiB. */
const STREAM_WINDOW = 256 * 1024;
/** The connection's receive window, shared by its streams. */
const SESSION_WINDOW = 4 * 1024 * 1024;

/** What the HTTP/2 side needs from the edge. */
export interface Http2Host extends EdgeRuntime {
  readonly closing: boolean;
  adopt(visitor: OpenVisitor): void;
  forget(visitor: OpenVisitor): void;
}

export interface Http2Timeouts {
  keepAliveMs: number;
  sendMs: number;
}

/** Published on http2SessionChannel when a session ends. */
export interface Http2SessionEvent {
  owner: object;
  /** `reset_flood`: sent away for rapid resets; `shutdown`: GOAWAY from the edge closing; `closed`: anything else. */
  reason: 'reset_flood' | 'shutdown' | 'closed';
  streams: number;
  resets: number;
}

/** The node:http2 server that turns `h2` TLS sockets into sessions of Http2Visitor. */
export class Http2Visitors {
  readonly #server: Http2Server;
  readonly #host: Http2Host;
  readonly #timeouts: Http2Timeouts;
  readonly #limits: Http2Limits;

  constructor(host: Http2Host, timeouts: Http2Timeouts, limits: Http2Limits = HTTP2_LIMITS) {
    this.#host = host;
    this.#timeouts = timeouts;
    this.#limits = limits;
    this.#server = http2.createServer({
      settings: {
        maxConcurrentStreams: limits.maxConcurrentStreams,
        maxHeaderListSize: limits.maxHeaderListSize,
        initialWindowSize: STREAM_WINDOW,
        enablePush: false,
      },
      maxHeaderListPairs: 256,
      // nghttp2's own bound on RST_STREAM frames of any kind, above the edge's on costly ones.
      streamResetBurst: 1000,
      streamResetRate: 100,
      // Streams refused while the session is at its stream limit cost a RST_STREAM and no work;
      // the reset budget, not this count, decides when a visitor is sent away.
      maxSessionRejectedStreams: 10_000,
    });
    this.#server.on('session', (session: ServerHttp2Session) => {
      const visitor = new Http2Visitor(this.#host, session, this.#timeouts, this.#limits);
      this.#host.adopt(visitor);
    });
  }

  /** A TLS socket that negotiated `h2`. */
  accept(socket: TLSSocket): void {
    // The visitor TLS servers keep sockets half-open for HTTP/1 (answers to pipelined requests
    // still go out after the visitor shuts its side); HTTP/2 has no half-close of a connection,
    // and node:http2 lets go of a session only when its socket closes: a visitor that ends its
    // side is gone.
    socket.once('end', () => socket.destroy());
    this.#server.emit('connection', socket);
  }
}

/** One visitor HTTP/2 connection. */
export class Http2Visitor implements OpenVisitor, StreamOwner {
  readonly #host: Http2Host;
  readonly #session: ServerHttp2Session;
  readonly #clientIp: string;
  /** The SNI name the connection was negotiated for ('' without one): ALPN chose h2 for its zone. */
  readonly #servername: string;
  readonly tlsVersion: TlsVersion | null;
  readonly #timeouts: Http2Timeouts;
  readonly #budget: ResetBudget;
  readonly #streams = new Set<Http2VisitorStream>();
  #closing = false;
  #reason: Http2SessionEvent['reason'] = 'closed';
  #deadline: number;
  #streamCount = 0;
  #resets = 0;

  constructor(host: Http2Host, session: ServerHttp2Session, timeouts: Http2Timeouts, limits: Http2Limits) {
    this.#host = host;
    this.#session = session;
    this.#timeouts = timeouts;
    this.#budget = new ResetBudget(limits.resetBurst, limits.resetsPerSecond);
    this.#clientIp = visitorIp(session.socket?.remoteAddress);
    const sni = (session.socket as TLSSocket | undefined)?.servername;
    this.#servername = typeof sni === 'string' ? routingHostname(sni) : '';
    this.tlsVersion = ((session.socket as TLSSocket | undefined)?.getProtocol?.() ?? null) as TlsVersion | null;
    this.#deadline = performance.now() + timeouts.keepAliveMs;
    session.on('error', noop);
    session.on('stream', this.#onStream);
    session.on('close', this.#onClose);
    session.on('connect', () => {
      try {
        session.setLocalWindowSize(SESSION_WINDOW);
      } catch {
        // The session went away before its preface: nothing to size.
      }
    });
    if (host.closing) this.shutdown();
  }

  // ── StreamOwner ──

  get edge(): EdgeRuntime {
    return this.#host;
  }

  get closing(): boolean {
    return this.#closing || this.#host.closing;
  }

  get sendTimeoutMs(): number {
    return this.#timeouts.sendMs;
  }

  readonly #onStream = (stream: ServerHttp2Stream, _headers: unknown, flags: number, rawHeaders: string[]): void => {
    if (this.#closing) {
      stream.on('error', noop);
      stream.close(NGHTTP2_REFUSED_STREAM);
      return;
    }
    this.#streamCount++;
    const visitor = new Http2VisitorStream(this, stream);
    this.#streams.add(visitor);
    this.#deadline = Infinity;
    const rayId = this.#host.rayIds.next();
    let head;
    let bytes = 0;
    for (let i = 0; i < rawHeaders.length; i++) bytes += rawHeaders[i].length;
    try {
      head = requestHeadOf(rawHeaders, (flags & NGHTTP2_FLAG_END_STREAM) !== 0);
      if (head.headers[0] === 'host') this.#checkCoalesced(head.headers[1]);
    } catch (err) {
      if (!(err instanceof HeadError)) throw err;
      visitor.reject(err, rayId);
      return;
    }
    // HPACK counts 32 bytes of overhead per field (RFC 7541 §4.1).
    visitor.start(head, rayId, this.#clientIp, bytes + 16 * rawHeaders.length);
  };

  /**
   * A stream for another name than the connection's SNI (a browser reusing a connection whose
   * certificate covers both): if that name's zone has HTTP/2 off, 421 sends the visitor to a new
   * connection, where ALPN gives it HTTP/1.1 (RFC 9110 §15.5.20).
   */
  #checkCoalesced(host: string): void {
    const name = routingHostname(host);
    if (name === this.#servername) return;
    if (findRoute(this.#host.snapshot, name)?.http2 === false) {
      throw new HeadError(421, 'misdirected_request', `"${name}" is not served over HTTP/2: its zone has http2 off`);
    }
  }

  streamClosed(stream: Http2VisitorStream): void {
    this.#streams.delete(stream);
    if (this.#streams.size === 0) this.#deadline = performance.now() + this.#timeouts.keepAliveMs;
  }

  streamReset(): void {
    this.#resets++;
    if (!this.#budget.spend(performance.now()) && !this.#session.destroyed) {
      this.#reason = 'reset_flood';
      this.#closing = true;
      // GOAWAY ENHANCE_YOUR_CALM, then the connection closes: what is under way on it is cut.
      // (destroy() from inside nghttp2's callbacks would drop the GOAWAY unsent: it goes first.)
      this.#session.goaway(NGHTTP2_ENHANCE_YOUR_CALM);
      setImmediate(() => this.#session.destroy(undefined, NGHTTP2_ENHANCE_YOUR_CALM));
    }
  }

  // ── OpenVisitor (the edge's sweep and shutdown) ──

  expire(now: number): void {
    if (this.#streams.size === 0) {
      if (now >= this.#deadline) this.#goaway();
      return;
    }
    for (const stream of this.#streams) stream.expire(now);
  }

  /** Edge shutdown: GOAWAY now; the streams under way finish, then the connection closes. */
  shutdown(): void {
    if (this.#reason === 'closed') this.#reason = 'shutdown';
    this.#goaway();
  }

  #goaway(): void {
    if (this.#closing && this.#session.closed) return;
    this.#closing = true;
    const session = this.#session;
    if (session.destroyed) return;
    // goaway() names the last stream nghttp2 processed: the visitor may retry any later one elsewhere.
    session.goaway();
    session.close();
  }

  destroy(): void {
    for (const stream of this.#streams) stream.cut();
    this.#session.destroy();
  }

  readonly #onClose = (): void => {
    this.#closing = true;
    this.#host.forget(this);
    if (http2SessionChannel.hasSubscribers) {
      http2SessionChannel.publish({ owner: this.#host, reason: this.#reason, streams: this.#streamCount, resets: this.#resets } satisfies Http2SessionEvent);
    }
  };
}

function noop(): void {}
