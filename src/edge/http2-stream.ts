// One HTTP/2 stream of a visitor (node:http2, nghttp2 underneath), as the visitor side of one
// RequestCtx: the phases route, pick the peer and forward it exactly as an HTTP/1 request, over
// the same HTTP/1.1 origin pools. The request body streams to the origin with HTTP/2 flow control
// (a paused stream sends no WINDOW_UPDATE), chunked when it has no Content-Length, the visitor's
// trailers in the last chunk; the answer streams back with the stream's own back-pressure, the
// origin's trailers as an HTTP/2 trailer block. Tested in test/edge/http2.test.ts.
import http2, { type ServerHttp2Stream } from 'node:http2';
import type { TlsVersion } from './client-hello.ts';
import { renderErrorPage } from './error-page.ts';
import { RequestRejectedError } from './errors.ts';
import { HeadError } from './http1/head.ts';
import { responseOf, trailersOf } from './http2-head.ts';
import { runRequest, visitorLeft } from './phases.ts';
import type { ReadBlock } from './read-blocks.ts';
import { RequestCtx, type BodySink, type EdgeRuntime, type VisitorSide } from './request-ctx.ts';
import type { RequestHead } from './http1/head.ts';

const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR, NGHTTP2_NO_ERROR } = http2.constants;

/** Answer bytes a stream may hold unsent (its peer's window is closed) before the origin is paused. */
const STREAM_HIGH_WATER = 64 * 1024;
const CRLF = Buffer.from('\r\n');
/** Pseudo-headers and fields that have no place in an HTTP/1.1 trailer section. */
const NOT_TRAILERS: ReadonlySet<string> = new Set(['content-length', 'host', 'transfer-encoding', 'connection', 'te', 'trailer', 'keep-alive', 'upgrade']);

/** What a stream needs from its session. */
export interface StreamOwner {
  /** The edge the requests run on (logs and metrics tell edges apart by it). */
  readonly edge: EdgeRuntime;
  /** The session is going away (GOAWAY sent): no new request will be read on it. */
  readonly closing: boolean;
  readonly sendTimeoutMs: number;
  /** The TLS version the connection negotiated (a zone may allow less: phases.ts). */
  readonly tlsVersion: TlsVersion | null;
  /** The visitor reset the stream while the edge was still answering it. */
  streamReset(stream: Http2VisitorStream): void;
  streamClosed(stream: Http2VisitorStream): void;
}

export class Http2VisitorStream implements VisitorSide {
  readonly http2 = true;
  readonly #owner: StreamOwner;
  readonly #stream: ServerHttp2Stream;
  #ctx: RequestCtx | null = null;
  #sink: BodySink | null = null;
  #bodyLeft = false;
  /** The body goes to the origin chunked (no Content-Length). */
  #chunked = false;
  #paused = false;
  /** The visitor's trailer fields, as HTTP/1.1 lines. */
  #trailers = '';
  /** The answer may end with trailers: it has a body of no declared length. */
  #mayTrail = false;
  #responded = false;
  /** Body bytes still to come of an answer with a Content-Length (-1: unknown): the last write ends the stream. */
  #left = -1;
  #finished = false;
  /** The edge reset the stream itself (a cut answer, a timeout): not the visitor's doing. */
  #cut = false;
  /** performance.now() past which a visitor that reads none of the answer is cut (see onDrain). */
  deadline = Infinity;

  constructor(owner: StreamOwner, stream: ServerHttp2Stream) {
    this.#owner = owner;
    this.#stream = stream;
    stream.on('error', noop);
    stream.on('close', this.#onClose);
    // Told while nghttp2 reads the RST_STREAM, not on a later turn as 'close' is: a flood of them in
    // one read is counted as it arrives.
    stream.on('aborted', this.#onAborted);
  }

  /** Starts the request of this stream (`head` from http2-head.ts, `headBytes`: its size as HPACK counts it). */
  start(head: RequestHead, rayId: string, clientIp: string, headBytes: number): void {
    const ctx = new RequestCtx(this.#owner.edge, this, head, 'https', rayId, clientIp);
    ctx.bytesIn = headBytes;
    this.#ctx = ctx;
    runRequest(ctx);
  }

  /** A request head the edge refuses: its error page, and the stream is done. */
  reject(err: HeadError, rayId: string): void {
    const error = new RequestRejectedError(err.status, err.reason, err.message);
    const page = renderErrorPage(error, rayId, '', false);
    this.#finished = true;
    if (this.#stream.closed) return;
    this.#stream.respond({ ':status': error.status, 'content-type': page.contentType, 'cache-control': 'no-store', 'cf-ray': rayId });
    this.#stream.end(page.body);
    // What the visitor goes on sending is not read: NO_ERROR once the answer is out (RFC 9113 §8.1).
    this.#stream.close(NGHTTP2_NO_ERROR);
  }

  get closing(): boolean {
    return this.#owner.closing;
  }

  get tlsVersion(): TlsVersion | null {
    return this.#owner.tlsVersion;
  }

  get bodyPending(): boolean {
    return this.#bodyLeft;
  }

  /** Past its send deadline: the stream is cut (called by the session's sweep). */
  expire(now: number): void {
    if (now >= this.deadline) this.#cutStream(NGHTTP2_CANCEL);
  }

  // ── request body ──

  expectBody(ctx: RequestCtx): void {
    this.#bodyLeft = true;
    this.#chunked = ctx.chunked;
  }

  pipeBody(sink: BodySink, expectContinue: boolean): void {
    if (!this.#bodyLeft) {
      sink.endBody();
      return;
    }
    this.#sink = sink;
    const stream = this.#stream;
    if (expectContinue && !stream.headersSent && !stream.closed) stream.additionalHeaders({ ':status': 100 });
    // Until now nothing was read, so nghttp2 held the visitor to its window: the body waited there.
    stream.on('trailers', this.#onTrailers);
    stream.on('end', this.#onEnd);
    stream.on('data', this.#onData);
  }

  resumeBody(): void {
    if (this.#paused && this.#sink !== null) {
      this.#paused = false;
      this.#stream.resume();
    }
  }

  readonly #onData = (chunk: Buffer): void => {
    const sink = this.#sink;
    const ctx = this.#ctx;
    if (sink === null || ctx === null) return;
    ctx.bytesIn += chunk.length;
    const ok = sink.writeBody(this.#chunked ? Buffer.concat([Buffer.from(chunk.length.toString(16) + '\r\n', 'latin1'), chunk, CRLF]) : chunk);
    if (!ok && !this.#paused) {
      this.#paused = true;
      this.#stream.pause();
    }
  };

  readonly #onTrailers = (headers: Record<string, string | string[] | undefined>): void => {
    let lines = '';
    for (const name of Object.keys(headers)) {
      if (name.charCodeAt(0) === 58 /* : */ || NOT_TRAILERS.has(name)) continue;
      const value = headers[name];
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) lines += name + ': ' + v + '\r\n';
    }
    this.#trailers = lines;
  };

  readonly #onEnd = (): void => {
    const sink = this.#sink;
    if (sink === null) return;
    this.#bodyLeft = false;
    this.#sink = null;
    // (Trailers of a body with a Content-Length have nowhere to go in HTTP/1.1: dropped, as nginx does.)
    if (this.#chunked) sink.writeBody(Buffer.from('0\r\n' + this.#trailers + '\r\n', 'latin1'));
    sink.endBody();
  };

  // ── response ──

  #respond(head: string, endStream: boolean): void {
    const res = responseOf(head);
    const ctx = this.#ctx!;
    this.#responded = true;
    this.#mayTrail = !endStream && !res.hasLength && ctx.method !== 'HEAD' && res.status !== 204 && res.status !== 304;
    this.#left = res.hasLength && ctx.method !== 'HEAD' ? res.length : -1;
    this.#stream.respond(res.headers, endStream ? { endStream: true } : { waitForTrailers: this.#mayTrail });
  }

  writeHead(head: string): void {
    const stream = this.#stream;
    if (stream.closed || stream.headersSent) return;
    // Both callers (the end of an empty answer, an error page to HEAD) have settled the request:
    // the stream ends with its head unless trailers came with an empty chunked answer.
    this.#respond(head, this.#ctx!.trailers === '');
  }

  writeHeadAndBody(head: string, body: Buffer, block: ReadBlock | null): boolean {
    const stream = this.#stream;
    if (stream.closed || stream.headersSent) return true;
    this.#respond(head, false);
    return this.#writeBody(body, block);
  }

  write(chunk: Buffer, block: ReadBlock): boolean {
    if (this.#stream.closed) return true;
    return this.#writeBody(chunk, block);
  }

  #writeBody(chunk: Buffer, block: ReadBlock | null): boolean {
    const stream = this.#stream;
    // The last bytes of a sized answer end the stream in the same DATA frame (END_STREAM) rather
    // than in an empty one after it.
    const last = this.#left >= 0 && (this.#left -= chunk.length) <= 0;
    // nghttp2 sends from the buffer itself: the block stays lent until the bytes are out.
    if (last) {
      if (block === null) stream.end(chunk);
      else stream.end(chunk, block.lend());
    } else if (block === null) stream.write(chunk);
    else stream.write(chunk, block.lend());
    // The stream's own mark (16 KiB) is one TLS record from the origin: past a few of them, pause.
    return stream.writableLength < STREAM_HIGH_WATER;
  }

  onDrain(fn: () => void): void {
    const stream = this.#stream;
    this.deadline = performance.now() + this.#owner.sendTimeoutMs;
    if (stream.closed) return;
    stream.once('drain', () => {
      this.deadline = Infinity;
      fn();
    });
  }

  responseFinished(ctx: RequestCtx): void {
    if (this.#ctx !== ctx) return;
    this.#finished = true;
    const stream = this.#stream;
    if (stream.closed || !this.#responded) return;
    if (!stream.writableEnded) {
      if (this.#mayTrail) {
        const trailers = ctx.trailers;
        stream.once('wantTrailers', () => stream.sendTrailers(trailers === '' ? {} : trailersOf(trailers)));
      }
      stream.end();
    }
    // What is left unsent waits on the visitor's flow-control window, which a visitor that reads
    // nothing never opens: the rest must go within the send timeout, or the stream is cut.
    this.deadline = performance.now() + this.#owner.sendTimeoutMs;
    // An upload the edge answered before reading it all: the visitor may stop sending it (RFC 9113 §8.1).
    if (this.#bodyLeft) {
      this.#bodyLeft = false;
      this.#sink = null;
      stream.close(NGHTTP2_NO_ERROR);
    }
  }

  destroy(): void {
    this.#cutStream(NGHTTP2_INTERNAL_ERROR);
  }

  startTunnel(): never {
    // A stream's request never carries Upgrade: requestHeadOf refuses it as connection-specific.
    throw new Error('an HTTP/2 stream cannot be upgraded');
  }

  /** Edge shutdown past its deadline, or the session's end: the stream goes now. */
  cut(): void {
    this.#cutStream(NGHTTP2_CANCEL);
  }

  #cutStream(code: number): void {
    this.#cut = true;
    if (!this.#stream.closed) this.#stream.close(code);
  }

  readonly #onClose = (): void => {
    const ctx = this.#ctx;
    if (ctx !== null && !ctx.done) visitorLeft(ctx);
    this.#sink = null;
    this.#bodyLeft = false;
    this.#owner.streamClosed(this);
  };

  /** The stream closed under an answer (a reset, or the connection gone): nothing more is written to it. */
  readonly #onAborted = (): void => {
    const ctx = this.#ctx;
    if (ctx === null) return;
    if (!this.#cut && !this.#finished) this.#owner.streamReset(this);
    if (!ctx.done) visitorLeft(ctx);
  };
}

function noop(): void {}
