// The request lifecycle, top to bottom: resolveRoute → pickPeer → forward (connect + send) →
// respond (headers, data, end, or an error page) → log. Each phase is a plain function of the
// RequestCtx; the edge only reads its frozen Snapshot here and never awaits anything.
import type { Dispatcher } from 'undici';
import { classifyUpstreamError } from './classify-upstream-error.ts';
import { sendErrorPage } from './error-page.ts';
import { BadRequestError, ClientCertificateUnusableError, UnknownHostError, type EdgeError, type OriginError } from './errors.ts';
import { downstreamHeaders, routingHostname, upstreamHeaders } from './headers.ts';
import { requestChannel, upstreamErrorChannel } from './observe.ts';
import type { EdgeResponse, RequestCtx } from './request-ctx.ts';
import { findRoute } from './snapshot.ts';

/** Entry point for one visitor request. */
export function runRequest(ctx: RequestCtx): void {
  (ctx.res as EdgeResponse).ctx = ctx;
  ctx.res.on('close', onResponseClose);
  if (!resolveRoute(ctx) || !pickPeer(ctx)) {
    respondEdgeError(ctx, ctx.error!);
    return;
  }
  forward(ctx);
}

/** Host (or SNI) → Route: exact name, then wildcard. Builds the upstream headers on the way. */
export function resolveRoute(ctx: RequestCtx): boolean {
  ctx.upstreamHeaders = upstreamHeaders(ctx.req.rawHeaders, ctx.clientIp, ctx.scheme, ctx.rayId, ctx);
  if (ctx.host === '') {
    ctx.error = new BadRequestError('the request has no Host header');
    return false;
  }
  const hostname = routingHostname(ctx.host);
  ctx.hostname = hostname;
  const route = findRoute(ctx.edge.snapshot, hostname);
  if (route === undefined) {
    ctx.error = new UnknownHostError(`no proxied DNS record matches "${hostname}" on this edge`);
    return false;
  }
  ctx.templateKey = route.peerKey;
  ctx.route = route.wildcard ? ctx.edge.derivedRoute(route, hostname) : route;
  return true;
}

/** Route → the pool of connections that carry exactly this route's peer identity. */
export function pickPeer(ctx: RequestCtx): boolean {
  const route = ctx.route!;
  if (route.identity === null && route.aop.level !== 'none' && route.origin.scheme === 'https') {
    ctx.error = new ClientCertificateUnusableError(
      `the ${route.aop.level}-level client certificate for "${ctx.hostname}" could not be loaded by this edge; see the edge log`,
    );
    return false;
  }
  ctx.peer = ctx.edge.pools.get(route, ctx.templateKey);
  return true;
}

interface ForwardOptions extends Dispatcher.DispatchOptions {
  servername?: string;
}

/** Sends the request on the pool; undici connects (TLS + client certificate) when it needs to. */
export function forward(ctx: RequestCtx): void {
  const peer = ctx.peer!;
  const req = ctx.req;
  ctx.tUpstream = performance.now();
  const opts: ForwardOptions = {
    path: req.url!,
    method: req.method as Dispatcher.HttpMethod,
    headers: ctx.upstreamHeaders!,
    body: ctx.hasBody ? req : null,
    // undici would otherwise take the TLS server name from the Host header.
    servername: peer.servername ?? undefined,
  };
  peer.pool.dispatch(opts, ctx);
}

// ── respond ──────────────────────────────────────────────────────────────────

export function respondHeaders(ctx: RequestCtx, statusCode: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
  // 1xx: Node's server already answered any Expect: 100-continue; informational responses stop here.
  if (statusCode < 200) return true;
  ctx.upstreamStatus = statusCode;
  ctx.tHeaders = performance.now();
  ctx.resumeUpstream = resume;
  // The visitor left while the origin was answering: read on (and discard) so the connection can
  // go back to the pool; see drainUpstream.
  if (ctx.done) return true;
  ctx.status = statusCode;
  const res = ctx.res;
  // The origin's Date is forwarded; Node must not add a second one.
  res.sendDate = false;
  res.writeHead(statusCode, statusText || undefined, downstreamHeaders(raw, ctx.rayId));
  return true;
}

export function respondData(ctx: RequestCtx, chunk: Buffer): boolean {
  if (ctx.done) {
    if (ctx.draining && (ctx.discarded += chunk.length) > DRAIN_MAX_BYTES) stopDraining(ctx, 'the response is too large to drain');
    return true;
  }
  const res = ctx.res;
  // A large body arrives as several TLS records (16 KiB each) in one turn. The first goes out at
  // once with the headers; the rest are held in the corked socket until the end of the turn and
  // leave in one writev instead of a write(2) each (single-chunk answers never cork).
  if (ctx.bytesOut > 0 && !ctx.corked) {
    ctx.corked = true;
    res.cork();
    setImmediate(uncorkResponse, ctx);
  }
  ctx.bytesOut += chunk.length;
  if (res.write(chunk)) return true;
  // Back-pressure: undici pauses the origin socket until the visitor drains.
  ctx.res.once('drain', ctx.resumeUpstream!);
  return false;
}

function uncorkResponse(ctx: RequestCtx): void {
  ctx.corked = false;
  // end() uncorks fully by itself.
  if (!ctx.res.writableEnded) ctx.res.uncork();
}

export function respondEnd(ctx: RequestCtx): void {
  ctx.upstreamDone = true;
  if (ctx.drainTimer !== null) clearTimeout(ctx.drainTimer);
  if (ctx.done) return;
  ctx.done = true;
  ctx.res.end();
}

const RETRYABLE = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

export function respondUpstreamError(ctx: RequestCtx, err: Error): void {
  ctx.upstreamDone = true;
  if (ctx.drainTimer !== null) clearTimeout(ctx.drainTimer);
  if (ctx.done) return;
  // A kept-alive connection the origin closed just as we reused it: retry once on a fresh one
  // when nothing was received and there is no body to replay (what nginx calls next-upstream).
  if (ctx.attempts === 0 && ctx.reused && ctx.upstreamStatus === 0 && !ctx.hasBody && RETRYABLE.has((err as { code?: string }).code ?? '')) {
    ctx.attempts++;
    ctx.resetAttempt();
    if (pickPeer(ctx)) {
      forward(ctx);
      return;
    }
  }
  const route = ctx.route!;
  const error = classifyUpstreamError(err, route.sslMode, {
    firstOnNewTlsConnection: route.origin.scheme === 'https' && ctx.connection !== null && !ctx.reused && ctx.upstreamStatus === 0,
  });
  ctx.error = error;
  if (upstreamErrorChannel.hasSubscribers) upstreamErrorChannel.publish({ ctx, error });
  respondEdgeError(ctx, error);
}

export function respondEdgeError(ctx: RequestCtx, error: EdgeError | OriginError): void {
  ctx.error = error;
  if (ctx.done) return;
  ctx.done = true;
  if (!ctx.res.headersSent) ctx.status = error.status;
  sendErrorPage(ctx.res, error, ctx.rayId, ctx.hostname || ctx.host, ctx.req.headers.accept);
}

// ── log ──────────────────────────────────────────────────────────────────────

/** 'close' on the visitor response: it finished, or the visitor left first. */
function onResponseClose(this: EdgeResponse): void {
  const ctx = this.ctx!;
  if (!ctx.done) {
    ctx.done = true;
    ctx.visitorGone = true;
    if (ctx.status === 0) ctx.status = 499;
    if (!ctx.upstreamDone && ctx.abortUpstream !== null) {
      if (ctx.hasBody) ctx.abortUpstream(new Error('visitor closed the connection'));
      else drainUpstream(ctx);
    }
  }
  log(ctx);
}

/** Bounds on reading an abandoned response to its end (beyond them the connection is cut). */
const DRAIN_MAX_BYTES = 256 * 1024;
const DRAIN_TIMEOUT_MS = 5_000;

/**
 * The visitor left before the origin's answer to a request without a body was complete. Aborting
 * would destroy a pooled, TLS-resumed, client-authenticated origin connection — and visitors that
 * give up are common (a load generator stopping, a browser navigating away). Instead the rest of
 * the answer is read and discarded, so the connection goes back to the pool, within
 * DRAIN_MAX_BYTES and DRAIN_TIMEOUT_MS; a request with a body (its stream broke with the visitor)
 * is still aborted.
 */
function drainUpstream(ctx: RequestCtx): void {
  ctx.draining = true;
  // Paused for back-pressure from a visitor who is gone: its 'drain' will never come.
  ctx.resumeUpstream?.();
  ctx.drainTimer = setTimeout(stopDraining, DRAIN_TIMEOUT_MS, ctx, 'the origin took too long to finish an abandoned response');
  ctx.drainTimer.unref();
}

function stopDraining(ctx: RequestCtx, why: string): void {
  ctx.draining = false;
  if (ctx.drainTimer !== null) clearTimeout(ctx.drainTimer);
  if (!ctx.upstreamDone) ctx.abortUpstream?.(new Error(`visitor closed the connection; ${why}`));
}

export function log(ctx: RequestCtx): void {
  ctx.tEnd = performance.now();
  if (requestChannel.hasSubscribers) requestChannel.publish(ctx);
}
