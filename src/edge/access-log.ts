// Access and origin-connection logs (pino), written by subscribers of the edge's channels. Each
// origin connection line names the AOP level and the certificate fingerprint presented.
//
// The access line is the one log written per request, so it is kept off the request path: a
// dedicated serializer turns the RequestCtx into a pino-shaped JSON line (same level, time and
// bindings as the logger's own lines) and lines are written to the logger's destination in one
// batch per event-loop turn (or per 64 KiB), instead of one pino call plus one write(2) each.
// Loggers whose lines pino would reshape (formatters.log, mixin, logMethod hooks, multistream)
// (redaction, nestedKey) keep the plain `logger.info` path.
import diagnostics from 'node:diagnostics_channel';
import { pino, type Logger } from 'pino';
import { poolRetiredChannel, requestChannel, snapshotAppliedChannel, upstreamConnectChannel } from './observe.ts';
import { headerValue } from './http1/head.ts';
import type { RequestCtx } from './request-ctx.ts';
import type { PoolRetiredEvent, UpstreamConnectEvent } from './upstream-pools.ts';

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** The access line's fields as an object (the plain path; the batched path writes the same fields). */
export function accessLogEntry(ctx: RequestCtx): Record<string, unknown> {
  const route = ctx.route;
  return {
    ray: ctx.rayId,
    method: ctx.method,
    host: ctx.hostname || ctx.host,
    path: ctx.target,
    scheme: ctx.scheme,
    protocol: ctx.protocol,
    ip: ctx.clientIp,
    status: ctx.status,
    upstreamStatus: ctx.upstreamStatus || undefined,
    error: ctx.error?.code,
    cause: ctx.error?.message,
    zone: route?.zoneName,
    sslMode: route?.sslMode,
    aop: route?.aop.level,
    aopReason: route?.aop.reason,
    certId: route?.aop.certId ?? undefined,
    certFingerprint: route?.aop.fingerprint ?? undefined,
    upstreamConn: ctx.connection?.id,
    upstreamReused: ctx.connection === null ? undefined : ctx.reused,
    upstreamResumed: ctx.connection?.resumed,
    retried: ctx.attempts > 0 || undefined,
    visitorGone: ctx.visitorGone || undefined,
    upgrade: ctx.upgrade || undefined,
    userAgent: headerValue(ctx.head.headers, 'user-agent'),
    referer: headerValue(ctx.head.headers, 'referer'),
    requestBytes: ctx.bytesIn,
    responseBytes: ctx.bytesOut,
    ms: {
      total: round(ctx.tEnd - ctx.tStart),
      upstreamHeaders: ctx.tHeaders > 0 ? round(ctx.tHeaders - ctx.tUpstream) : undefined,
    },
  };
}

const str = JSON.stringify;

/**
 * `s` as a JSON string: printable ASCII without `"` or `\` (nearly every method, host and path)
 * is quoted as it is; anything else goes through JSON.stringify. The same text either way, without
 * JSON.stringify's fixed cost (~50 ns a call, three calls a line).
 */
export function jsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return str(s);
  }
  return '"' + s + '"';
}

/** '.xyz' for 0 ≤ f < 1000 thousandths, trailing zeros dropped ('' for 0). */
const THOUSANDTHS = Array.from({ length: 1000 }, (_, f) => (f === 0 ? '' : ('.' + String(f).padStart(3, '0')).replace(/0+$/, '')));

/**
 * A duration in ms as JSON, to the µs: the text JSON.stringify gives Math.round(ms * 1000) / 1000,
 * built from two small integers (double-to-string conversion was a tenth of a line's cost).
 */
export function msJson(ms: number): string {
  const us = Math.round(ms * 1000);
  if (!(us >= 0 && us < 0x40000000)) return String(round(ms));
  const whole = Math.floor(us / 1000);
  return whole + THOUSANDTHS[us - whole * 1000]!;
}

/** The route's part of the line, the same for every request on it: serialized once per Route. */
const routeFieldsCache = new WeakMap<object, string>();
function routeFields(route: NonNullable<RequestCtx['route']>): string {
  let s = routeFieldsCache.get(route);
  if (s === undefined) {
    const aop = route.aop;
    s = `,"zone":${str(route.zoneName)},"sslMode":"${route.sslMode}","aop":"${aop.level}","aopReason":"${aop.reason}"`;
    if (aop.certId !== null) s += `,"certId":${str(aop.certId)}`;
    if (aop.fingerprint !== null) s += `,"certFingerprint":"${aop.fingerprint}"`;
    routeFieldsCache.set(route, s);
  }
  return s;
}

/**
 * The fields of accessLogEntry as JSON members, each preceded by a comma. Values that come from
 * the visitor (host, path, method, user agent, referer) or from errors are escaped as JSON; the rest are identifiers,
 * numbers and hex the edge made itself.
 */
export function accessLogFields(ctx: RequestCtx): string {
  let s = ',"ray":"' + ctx.rayId + '","method":' + jsonString(ctx.method) + ',"host":' + jsonString(ctx.hostname || ctx.host) + ',"path":' + jsonString(ctx.target);
  s += ',"scheme":"' + ctx.scheme + '","protocol":"' + ctx.protocol + '","ip":"' + ctx.clientIp + '","status":' + ctx.status;
  if (ctx.upstreamStatus !== 0) s += ',"upstreamStatus":' + ctx.upstreamStatus;
  if (ctx.error !== null) s += ',"error":' + str(ctx.error.code) + ',"cause":' + str(ctx.error.message);
  if (ctx.route !== null) s += routeFields(ctx.route);
  const conn = ctx.connection;
  if (conn !== null) s += ',"upstreamConn":' + conn.id + ',"upstreamReused":' + ctx.reused + ',"upstreamResumed":' + conn.resumed;
  if (ctx.attempts > 0) s += ',"retried":true';
  if (ctx.visitorGone) s += ',"visitorGone":true';
  if (ctx.upgrade !== '') s += ',"upgrade":' + jsonString(ctx.upgrade);
  const headers = ctx.head.headers;
  const userAgent = headerValue(headers, 'user-agent');
  if (userAgent !== undefined) s += ',"userAgent":' + jsonString(userAgent);
  const referer = headerValue(headers, 'referer');
  if (referer !== undefined) s += ',"referer":' + jsonString(referer);
  s += ',"requestBytes":' + ctx.bytesIn + ',"responseBytes":' + ctx.bytesOut + ',"ms":{"total":' + msJson(ctx.tEnd - ctx.tStart);
  if (ctx.tHeaders > 0) s += ',"upstreamHeaders":' + msJson(ctx.tHeaders - ctx.tUpstream);
  return s + '}';
}

/**
 * A batch is written once it holds this much… Each write costs far more than its bytes on an edge
 * pinned to one core (a thread-pool hand-off, and the file system's own per-write work): smaller
 * batches cost measurably more CPU per request, larger ones saved little for more RSS
 * (bench/HISTORY.md, the access log's steps).
 */
export const BATCH_BYTES = 256 * 1024;
/** Room for a batch and the line that fills it past BATCH_BYTES (longer lines skip the buffer). */
export const BATCH_ROOM = BATCH_BYTES + 16 * 1024;
/** …and under load at most every this often; a quiet edge writes a line on the next turn. */
const BATCH_INTERVAL_MS = 20;

interface Destination {
  write(chunk: string): unknown;
  /** Present when the destination takes UTF-8 bytes as they are (and keeps them: no reuse). */
  writeBytes?(bytes: Uint8Array): unknown;
}

/**
 * Writes access lines to the logger's own destination in batches. While the edge is quiet (the
 * last batch held one line, or went out more than BATCH_INTERVAL_MS ago) a line is written on the
 * next event-loop turn; under load lines are held up to BATCH_INTERVAL_MS or BATCH_BYTES. pino's
 * default destination writes through the libuv thread pool, and on an edge pinned to one core
 * each write costs two context switches: one write per turn cost more than the lines themselves.
 *
 * Lines are encoded into one buffer as they come, outside the JS heap, and the batch goes to the
 * destination as bytes where it takes them (the CLI's, src/cli/log-destination.ts), else decoded
 * into a single flat string. Concatenated, lines were a rope of tens of thousands of small strings
 * kept alive for up to BATCH_INTERVAL_MS: under load they survived scavenges and were promoted,
 * and the old generation's collections paid for them.
 */
class AccessLineBatch {
  readonly #logger: Logger;
  readonly #dest: Destination;
  readonly #head: string;
  readonly #time: () => string;
  readonly #chindings: () => string;
  /** pino's epoch time (its default): the line's start is then made once per millisecond. */
  readonly #epochTime: boolean;
  #startMs = -1;
  #startChindings = '';
  #start = '';
  readonly #tail: string;
  readonly #batch = Buffer.allocUnsafeSlow(BATCH_ROOM);
  #used = 0;
  #lines = 0;
  #immediate: NodeJS.Immediate | null = null;
  #timer: NodeJS.Timeout | null = null;
  #lastFlushAt = 0;
  #lastFlushLines = 0;

  constructor(logger: Logger, dest: Destination, head: string, time: () => string, tail: string) {
    const l = logger as unknown as Record<symbol, unknown>;
    this.#logger = logger;
    this.#dest = dest;
    this.#head = head;
    this.#time = time;
    // Child bindings may be added to the logger later: read them per line (a property read).
    this.#chindings = () => l[pino.symbols.chindingsSym] as string;
    this.#epochTime = time === pino.stdTimeFunctions.epochTime;
    this.#tail = tail;
  }

  add(ctx: RequestCtx): void {
    const line = this.#lineStart() + accessLogFields(ctx) + this.#tail;
    // UTF-8 takes at most 3 bytes per UTF-16 unit: with that much room the line fits whole.
    if (line.length * 3 > BATCH_ROOM - this.#used) {
      this.flush();
      if (line.length * 3 > BATCH_ROOM) {
        this.#dest.write(line);
        return;
      }
    }
    this.#used += this.#batch.write(line, this.#used, 'utf8');
    if (++this.#lines === 1) this.#schedule();
    else if (this.#used >= BATCH_BYTES) this.flush();
  }

  /** Level, time and bindings: `{"level":30,"time":…,"pid":…,"name":"edge"`. */
  #lineStart(): string {
    const chindings = this.#chindings();
    if (!this.#epochTime) return this.#head + this.#time.call(this.#logger) + chindings;
    const now = Date.now();
    if (now !== this.#startMs || chindings !== this.#startChindings) {
      this.#startMs = now;
      this.#startChindings = chindings;
      this.#start = this.#head + ',"time":' + now + chindings;
    }
    return this.#start;
  }

  #schedule(): void {
    const wait = this.#lastFlushLines > 1 ? this.#lastFlushAt + BATCH_INTERVAL_MS - performance.now() : 0;
    if (wait > 0) {
      this.#timer = setTimeout(this.#flushScheduled, wait);
      this.#timer.unref();
    } else {
      this.#immediate = setImmediate(this.#flushScheduled);
    }
  }

  readonly #flushScheduled = (): void => {
    this.#immediate = null;
    this.#timer = null;
    this.flush();
  };

  flush(): void {
    if (this.#immediate !== null) clearImmediate(this.#immediate);
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#immediate = null;
    this.#timer = null;
    if (this.#lines === 0) return;
    const used = this.#used;
    this.#lastFlushLines = this.#lines;
    this.#lastFlushAt = performance.now();
    this.#used = 0;
    this.#lines = 0;
    if (this.#dest.writeBytes !== undefined) {
      // The destination keeps the bytes until written: a copy (one memcpy), the buffer is reused.
      this.#dest.writeBytes(Buffer.from(this.#batch.subarray(0, used)));
    } else {
      this.#dest.write(this.#batch.toString('utf8', 0, used));
    }
  }
}

/** The batched writer for `logger`, or null when its lines must go through pino itself. */
function batchFor(logger: Logger): AccessLineBatch | null {
  const s = pino.symbols;
  const l = logger as unknown as Record<symbol, unknown>;
  const dest = l[s.streamSym] as (Destination & { streams?: unknown }) | undefined;
  const formatters = l[s.formattersSym] as { log?: unknown } | undefined;
  const hooks = l[s.hooksSym] as { logMethod?: unknown; streamWrite?: unknown } | undefined;
  const levelHead = (l[s.lsCacheSym] as Record<number, string> | undefined)?.[logger.levels.values.info];
  const time = l[s.timeSym] as (() => string) | undefined;
  const end = l[s.endSym] as string | undefined;
  const messageKey = l[s.messageKeySym] as string | undefined;
  if (typeof dest?.write !== 'function' || Array.isArray(dest.streams)) return null;
  if (formatters?.log || l[s.mixinSym] || hooks?.logMethod || hooks?.streamWrite || l[s.nestedKeySym]) return null;
  // Redaction and custom stringifiers act on serialized fields: leave those lines to pino.
  const stringifiers = l[s.stringifiersSym] as object | undefined;
  if (stringifiers !== undefined && Reflect.ownKeys(stringifiers).length > 0) return null;
  if (typeof levelHead !== 'string' || typeof time !== 'function' || typeof end !== 'string' || typeof messageKey !== 'string') return null;
  return new AccessLineBatch(logger, dest, levelHead, time, `,${str(messageKey)}:"request"${end}`);
}

/** Subscribes `logger` to the edge `owner`'s events; returns the unsubscribe function. */
export function subscribeEdgeLogs(owner: object, logger: Logger): () => void {
  const batch = batchFor(logger);
  const subs: [string, (msg: unknown) => void][] = [
    [
      requestChannel.name as string,
      (msg) => {
        const ctx = msg as RequestCtx;
        if (ctx.edge !== owner || !logger.isLevelEnabled('info')) return;
        if (batch !== null) batch.add(ctx);
        else logger.info(accessLogEntry(ctx), 'request');
      },
    ],
    [
      upstreamConnectChannel.name as string,
      (msg) => {
        const e = msg as UpstreamConnectEvent;
        if (e.owner !== owner) return;
        const fields = {
          origin: e.pool.origin.url,
          servername: e.pool.servername ?? undefined,
          sslMode: e.pool.mode,
          aop: e.pool.level,
          certId: e.pool.identity?.certId,
          certFingerprint: e.pool.identity?.fingerprint,
          conn: e.connection?.id,
          resumed: e.pool.origin.scheme === 'https' ? e.resumed : undefined,
          localPort: e.localPort ?? undefined,
          ms: round(e.durationMs),
        };
        // Keep the order of lines: access lines batched so far go first.
        batch?.flush();
        if (e.error === null) logger.info(fields, 'origin connection');
        else logger.warn({ ...fields, err: { code: (e.error as { code?: string }).code, message: e.error.message } }, 'origin connection failed');
      },
    ],
    [
      poolRetiredChannel.name as string,
      (msg) => {
        const e = msg as PoolRetiredEvent;
        if (e.owner !== owner) return;
        batch?.flush();
        logger.info({ origin: e.pool.origin.url, servername: e.pool.servername ?? undefined, certFingerprint: e.pool.identity?.fingerprint, reason: e.reason }, 'origin pool draining');
      },
    ],
    [
      snapshotAppliedChannel.name as string,
      (msg) => {
        const e = msg as { owner: object; version: number; routes: number; problems: readonly string[]; retiredPools: number };
        if (e.owner !== owner) return;
        batch?.flush();
        logger.info({ version: e.version, routes: e.routes, retiredPools: e.retiredPools }, 'snapshot applied');
        for (const problem of e.problems) logger.error({ version: e.version }, problem);
      },
    ],
  ];
  for (const [name, fn] of subs) diagnostics.subscribe(name, fn);
  return () => {
    for (const [name, fn] of subs) diagnostics.unsubscribe(name, fn);
    batch?.flush();
  };
}
