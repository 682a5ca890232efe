// Access and origin-connection logs (pino), written by subscribers of the edge's channels. Each
// origin connection line names the AOP level and the certificate fingerprint presented.
import diagnostics from 'node:diagnostics_channel';
import type { Logger } from 'pino';
import { poolRetiredChannel, requestChannel, snapshotAppliedChannel, upstreamConnectChannel } from './observe.ts';
import type { RequestCtx } from './request-ctx.ts';
import type { PoolRetiredEvent, UpstreamConnectEvent } from './upstream-pools.ts';

const round = (ms: number) => Math.round(ms * 1000) / 1000;

export function accessLogEntry(ctx: RequestCtx): Record<string, unknown> {
  const route = ctx.route;
  return {
    ray: ctx.rayId,
    method: ctx.req.method,
    host: ctx.hostname || ctx.host,
    path: ctx.req.url,
    scheme: ctx.scheme,
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
    bytes: ctx.bytesOut,
    ms: {
      total: round(ctx.tEnd - ctx.tStart),
      upstreamHeaders: ctx.tHeaders > 0 ? round(ctx.tHeaders - ctx.tUpstream) : undefined,
    },
  };
}

/** Subscribes `logger` to the edge `owner`'s events; returns the unsubscribe function. */
export function subscribeEdgeLogs(owner: object, logger: Logger): () => void {
  const subs: [string, (msg: unknown) => void][] = [
    [
      requestChannel.name as string,
      (msg) => {
        const ctx = msg as RequestCtx;
        if (ctx.edge === owner && logger.isLevelEnabled('info')) logger.info(accessLogEntry(ctx), 'request');
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
        if (e.error === null) logger.info(fields, 'origin connection');
        else logger.warn({ ...fields, err: { code: (e.error as { code?: string }).code, message: e.error.message } }, 'origin connection failed');
      },
    ],
    [
      poolRetiredChannel.name as string,
      (msg) => {
        const e = msg as PoolRetiredEvent;
        if (e.owner !== owner) return;
        logger.info({ origin: e.pool.origin.url, servername: e.pool.servername ?? undefined, certFingerprint: e.pool.identity?.fingerprint, reason: e.reason }, 'origin pool draining');
      },
    ],
    [
      snapshotAppliedChannel.name as string,
      (msg) => {
        const e = msg as { owner: object; version: number; routes: number; problems: readonly string[]; retiredPools: number };
        if (e.owner !== owner) return;
        logger.info({ version: e.version, routes: e.routes, retiredPools: e.retiredPools }, 'snapshot applied');
        for (const problem of e.problems) logger.error({ version: e.version }, problem);
      },
    ],
  ];
  for (const [name, fn] of subs) diagnostics.subscribe(name, fn);
  return () => {
    for (const [name, fn] of subs) diagnostics.unsubscribe(name, fn);
  };
}
