// The request lifecycle, top to bottom: resolveRoute → pickPeer → forward (connect + send) →
// respond (head, data, end, or an error page) → log. Each phase is a plain function of the
// RequestCtx; the edge only reads its frozen Snapshot here and never awaits anything. The origin
// side reaches the respond step only through `exchangeHandler`, handed over at dispatch.
import { STATUS_CODES } from 'node:http';
import { classifyUpstreamError } from './classify-upstream-error.ts';
import { renderErrorPage } from './error-page.ts';
import {
  BadRequestError,
  ClientCertificateUnusableError,
  NotProxiedHostError,
  RequestRejectedError,
  TlsVersionMisdirectedError,
  UnknownHostError,
  UpgradeRefusedError,
  VisitorRedirect,
  type EdgeError,
  type OriginError,
} from './errors.ts';
import { routingHostname, upstreamHead, withOriginHost } from './headers.ts';
import { redirectLocation } from './redirect.ts';
import { HeadError } from './http1/head.ts';
import { requestChannel, upstreamErrorChannel } from './observe.ts';
import type { ExchangeHandler, RequestCtx } from './request-ctx.ts';
import type { ReadBlock } from './read-blocks.ts';
import { findRoute, type Route } from './snapshot.ts';
import { versionRank } from './client-hello.ts';

/** Entry point for one visitor request. */
export function runRequest(ctx: RequestCtx): void {
  if (!resolveRoute(ctx) || !pickPeer(ctx)) {
    // (Answered already: an ACME challenge.)
    if (!ctx.done) respondEdgeError(ctx, ctx.error!);
    return;
  }
  forward(ctx);
}

/** Host (or SNI) → Route: exact name, then wildcard. Builds the upstream head on the way. */
export function resolveRoute(ctx: RequestCtx): boolean {
  try {
    ctx.upstreamHead = upstreamHead(ctx.head, ctx.clientIp, ctx.scheme, ctx.rayId, ctx);
  } catch (err) {
    if (!(err instanceof HeadError)) throw err;
    // The framing is unknown: the connection cannot carry another request.
    ctx.closeAfter = true;
    ctx.error = new RequestRejectedError(err.status, err.reason, err.message);
    return false;
  }
  if (ctx.hasBody) ctx.visitor.expectBody(ctx);
  if (ctx.host === '') {
    ctx.error = new BadRequestError('the request has no Host header');
    return false;
  }
  const hostname = routingHostname(ctx.host);
  ctx.hostname = hostname;
  if (ctx.edge.snapshot.acmeHttp01.size !== 0 && ctx.scheme === 'http' && answerAcmeChallenge(ctx)) return false;
  const route = findRoute(ctx.edge.snapshot, hostname);
  if (route === undefined) {
    ctx.error = new UnknownHostError(`no proxied DNS record matches "${hostname}" on this edge`);
    return false;
  }
  if (!route.proxied) {
    ctx.error = new NotProxiedHostError(`"${hostname}" has a DNS-only record: it is not proxied, so this edge does not serve it`);
    return false;
  }
  ctx.templateKey = route.peerKey;
  ctx.route = route.wildcard ? ctx.edge.derivedRoute(route, hostname) : route;
  if (ctx.scheme === 'https' && (route.policy.tls.min !== 'TLSv1.2' || route.policy.tls.max !== 'TLSv1.3') && !tlsVersionAllowed(ctx, route)) return false;
  // SSL mode `off` means visitors over plain HTTP, so HTTPS ones are sent there; `always_use_https`
  // the reverse (the snapshot leaves it off in mode `off`, so the two never loop).
  if (ctx.scheme === 'https' ? route.sslMode === 'off' : route.policy.alwaysUseHttps) {
    const to = ctx.scheme === 'https' ? 'http' : 'https';
    ctx.error = new VisitorRedirect(
      redirectLocation(to, hostname, ctx.host, ctx.head.path, ctx.edge.listenerPort(to)),
      to === 'http' ? 'SSL mode off: visitors are served over plain HTTP' : 'always_use_https',
    );
    return false;
  }
  if (ctx.upgrade !== '' && !route.websockets) {
    ctx.error = new UpgradeRefusedError(`the zone "${route.zoneName}" has WebSockets turned off (zone setting websockets): the upgrade to "${ctx.upgrade}" is refused`);
    return false;
  }
  if (route.originHost !== null) ctx.upstreamHead = withOriginHost(ctx.upstreamHead, route.originHost);
  return true;
}

const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

/**
 * ACME HTTP-01: the CA's fetch of a token this installation is being validated with is answered
 * from the snapshot, before routing (the name may have no reachable origin yet). Other tokens go
 * to the origin, which may run its own ACME client.
 */
function answerAcmeChallenge(ctx: RequestCtx): boolean {
  if (!ctx.target.startsWith(ACME_CHALLENGE_PREFIX)) return false;
  const answer = ctx.edge.snapshot.acmeHttp01.get(ctx.target.slice(ACME_CHALLENGE_PREFIX.length));
  if (answer === undefined || answer.hostname !== ctx.hostname) return false;
  ctx.done = true;
  ctx.status = 200;
  ctx.headersSent = true;
  const close = ctx.closeAfter || ctx.visitor.closing || ctx.visitor.bodyPending;
  if (close) ctx.closeAfter = true;
  const head =
    'HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: ' + answer.body.length +
    '\r\ncache-control: no-store\r\n' + (close ? 'connection: close\r\n\r\n' : '\r\n');
  ctx.bytesOut += ctx.method === 'HEAD' ? head.length : head.length + answer.body.length;
  if (ctx.method === 'HEAD') ctx.visitor.writeHead(head);
  else ctx.visitor.writeHeadAndBody(head, answer.body, null);
  finish(ctx);
  return true;
}

/**
 * The gate applies a zone's TLS range by the SNI name; a connection made with no SNI or another
 * zone's name may carry a request for this zone on a version it refuses.
 */
function tlsVersionAllowed(ctx: RequestCtx, route: Route): boolean {
  const version = ctx.edge.visitorTlsVersion?.(ctx.visitor) ?? null;
  if (version === null) return true;
  const rank = versionRank(version);
  if (rank >= versionRank(route.policy.tls.min) && rank <= versionRank(route.policy.tls.max)) return true;
  ctx.closeAfter = true;
  ctx.error = new TlsVersionMisdirectedError(
    `"${ctx.hostname}" allows ${route.policy.tls.min}–${route.policy.tls.max}, this connection is ${version} (made with another or no server name): connect again naming the host`,
  );
  return false;
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

/** Sends the request on the pool, which connects (TLS + client certificate) when it needs to. */
export function forward(ctx: RequestCtx): void {
  ctx.tUpstream = performance.now();
  // An upgrade goes out on a connection of its own: once switched it never carries HTTP again.
  if (ctx.upgrade !== '') ctx.peer!.dispatchUpgrade(ctx, exchangeHandler);
  else ctx.peer!.dispatch(ctx, exchangeHandler);
}

// ── respond ──────────────────────────────────────────────────────────────────

/**
 * The respond step as the origin side calls it: one object shared by every exchange, so the
 * pool and the origin connection report through one shape and nothing is made per request.
 */
export const exchangeHandler: ExchangeHandler = {
  onHeaders: respondHeaders,
  onData: respondData,
  onUpgrade: respondSwitch,
  onComplete: respondEnd,
  onError: respondUpstreamError,
};

/**
 * The origin's head arrived: the visitor's head is composed now and written with the first body
 * bytes. `fields` are the origin's header lines, already filtered, cf-ray included.
 */
export function respondHeaders(ctx: RequestCtx, statusCode: number, reason: string, fields: string, chunked: boolean, untilClose: boolean, noBody: boolean): void {
  ctx.upstreamStatus = statusCode;
  ctx.tHeaders = performance.now();
  // The visitor left while the origin was answering: read on (and discard) so the connection can
  // go back to the pool; see drainUpstream.
  if (ctx.done) return;
  ctx.status = statusCode;
  if (untilClose && !noBody) ctx.closeAfter = true;
  // The zone's headers first: where the origin sends its own HSTS too, a browser heeds the first (RFC 6797 §8.1).
  let head = 'HTTP/1.1 ' + statusCode + ' ' + (reason || STATUS_CODES[statusCode] || '') + '\r\n' + zoneHeaders(ctx) + fields;
  if (chunked) head += 'transfer-encoding: chunked\r\n';
  // An answer before the visitor's upload is in: the edge closes after it (the rest of the upload
  // is discarded, not framed as a next request), so the visitor must be told.
  if (ctx.visitor.bodyPending) ctx.closeAfter = true;
  if (ctx.closeAfter || ctx.visitor.closing) head += 'connection: close\r\n';
  else if (ctx.minor === 0) head += 'connection: keep-alive\r\n';
  ctx.pendingHead = head + '\r\n';
}

/**
 * A piece of the body for the visitor, read into `block` (lent to the write when the write keeps
 * pointing at it); false under back-pressure (the caller waits for drain).
 */
export function respondData(ctx: RequestCtx, chunk: Buffer, block: ReadBlock): boolean {
  if (ctx.done) {
    if (ctx.draining && (ctx.discarded += chunk.length) > DRAIN_MAX_BYTES) stopDraining(ctx, 'the response is too large to drain');
    return true;
  }
  const head = ctx.pendingHead;
  ctx.bytesOut += chunk.length + head.length;
  if (head === '') return ctx.visitor.write(chunk, block);
  ctx.pendingHead = '';
  ctx.headersSent = true;
  return ctx.visitor.writeHeadAndBody(head, chunk, block);
}

/**
 * The origin switched protocols (101): its head goes to the visitor with the Connection and
 * Upgrade fields the hop-by-hop filter took out, and from here the two connections are one byte
 * stream (upgrade-tunnel.ts). The request is logged when that stream closes.
 */
export function respondSwitch(ctx: RequestCtx, fields: string, protocol: string): void {
  ctx.upstreamStatus = 101;
  ctx.status = 101;
  ctx.tHeaders = performance.now();
  ctx.upstreamDone = true;
  ctx.done = true;
  ctx.headersSent = true;
  const head = 'HTTP/1.1 101 Switching Protocols\r\n' + fields + 'connection: upgrade\r\nupgrade: ' + protocol + '\r\n\r\n';
  ctx.bytesOut += head.length;
  ctx.visitor.writeHead(head);
}

export function respondEnd(ctx: RequestCtx): void {
  ctx.upstreamDone = true;
  if (ctx.drainTimer !== null) clearTimeout(ctx.drainTimer);
  if (ctx.done) return;
  ctx.done = true;
  if (ctx.pendingHead !== '') {
    ctx.bytesOut += ctx.pendingHead.length;
    ctx.visitor.writeHead(ctx.pendingHead);
    ctx.pendingHead = '';
    ctx.headersSent = true;
  }
  finish(ctx);
}

const RETRYABLE = new Set(['ERR_ORIGIN_CLOSED', 'ECONNRESET', 'EPIPE']);

export function respondUpstreamError(ctx: RequestCtx, err: Error): void {
  ctx.upstreamDone = true;
  if (ctx.drainTimer !== null) clearTimeout(ctx.drainTimer);
  if (ctx.done) return;
  // A kept-alive connection the origin closed just as we reused it: retry once on a fresh one
  // when nothing was received and there is no body to replay (what nginx calls next-upstream).
  // The pool dials for a retry rather than reuse another idle connection (see PoolEntry.dispatch).
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

/** An error page when nothing was sent yet; otherwise cutting the connection is the only honest signal left. */
export function respondEdgeError(ctx: RequestCtx, error: EdgeError | OriginError): void {
  if (error instanceof VisitorRedirect) {
    respondRedirect(ctx, error);
    return;
  }
  ctx.error = error;
  if (ctx.done) return;
  ctx.done = true;
  if (ctx.headersSent) {
    ctx.visitor.destroy();
    finish(ctx);
    return;
  }
  ctx.pendingHead = '';
  ctx.status = error.status;
  const page = renderErrorPage(error, ctx.rayId, ctx.hostname || ctx.host, ctx.wantsJson);
  const body = Buffer.from(page.body);
  const close = ctx.closeAfter || ctx.visitor.closing || ctx.visitor.bodyPending;
  const head =
    'HTTP/1.1 ' + error.status + ' ' + error.title + '\r\ncontent-type: ' + page.contentType + '\r\ncontent-length: ' + body.length +
    '\r\ncache-control: no-store\r\n' + zoneHeaders(ctx) + 'cf-ray: ' + ctx.rayId + (close ? '\r\nconnection: close\r\n\r\n' : '\r\n\r\n');
  if (close) ctx.closeAfter = true;
  ctx.headersSent = true;
  // Heads are latin1 (a byte per character).
  ctx.bytesOut += ctx.method === 'HEAD' ? head.length : head.length + body.length;
  if (ctx.method === 'HEAD') ctx.visitor.writeHead(head);
  else ctx.visitor.writeHeadAndBody(head, body, null);
  finish(ctx);
}

/** A 301 without a body; a redirect is an answer, not an error, so ctx.error stays null. */
function respondRedirect(ctx: RequestCtx, redirect: VisitorRedirect): void {
  ctx.error = null;
  if (ctx.done) return;
  ctx.done = true;
  ctx.pendingHead = '';
  ctx.status = 301;
  const close = ctx.closeAfter || ctx.visitor.closing || ctx.visitor.bodyPending;
  if (close) ctx.closeAfter = true;
  // No HSTS here: on the way to plain HTTP it would send the visitor straight back.
  const head =
    'HTTP/1.1 301 Moved Permanently\r\nlocation: ' + redirect.location + '\r\ncontent-length: 0\r\n' +
    (ctx.route !== null ? ctx.route.policy.httpHeaders : '') + 'cf-ray: ' + ctx.rayId + (close ? '\r\nconnection: close\r\n\r\n' : '\r\n\r\n');
  ctx.headersSent = true;
  ctx.bytesOut += head.length;
  ctx.visitor.writeHead(head);
  finish(ctx);
}

/** The zone's own answer headers (HSTS on HTTPS, nosniff), '' before a route is known. */
function zoneHeaders(ctx: RequestCtx): string {
  const route = ctx.route;
  if (route === null) return '';
  return ctx.scheme === 'https' ? route.policy.httpsHeaders : route.policy.httpHeaders;
}

/** The response is out: the visitor connection moves on, the request is logged. */
function finish(ctx: RequestCtx): void {
  ctx.visitor.responseFinished(ctx);
  log(ctx);
}

// ── visitor gone ─────────────────────────────────────────────────────────────

/** The visitor connection closed before the response was complete. */
export function visitorLeft(ctx: RequestCtx): void {
  if (ctx.done) return;
  ctx.done = true;
  ctx.visitorGone = true;
  if (ctx.status === 0) ctx.status = 499;
  if (!ctx.upstreamDone && ctx.peer !== null) {
    // (Still connecting with a body: the new connection sees visitorGone and sends nothing.)
    // (An upgrade's connection would never carry another request: nothing to keep.)
    if (ctx.hasBody || ctx.upgrade !== '') ctx.connection?.abort(new Error('visitor closed the connection'));
    else drainUpstream(ctx);
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
  ctx.connection?.resume();
  ctx.drainTimer = setTimeout(stopDraining, DRAIN_TIMEOUT_MS, ctx, 'the origin took too long to finish an abandoned response');
  ctx.drainTimer.unref();
}

function stopDraining(ctx: RequestCtx, why: string): void {
  ctx.draining = false;
  if (ctx.drainTimer !== null) clearTimeout(ctx.drainTimer);
  if (!ctx.upstreamDone) ctx.connection?.abort(new Error(`visitor closed the connection; ${why}`));
}

export function log(ctx: RequestCtx): void {
  ctx.tEnd = performance.now();
  if (requestChannel.hasSubscribers) requestChannel.publish(ctx);
}
