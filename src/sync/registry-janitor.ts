// Upkeep of the edge registry, run periodically by API nodes: physically removes certificates
// whose deletion every live edge has applied, and forgets edges silent for a long time. With
// several API nodes one of them runs each round (store.runExclusive); the work is idempotent, so
// a round another node skipped costs nothing.
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { liveEdges } from '../domain/index.ts';
import type { RegistryJanitorStore } from '../store/index.ts';

export interface RegistryJanitorOptions {
  store: RegistryJanitorStore;
  config: Readonly<Config>;
  logger?: Logger;
  /** Between rounds. Default: the heartbeat lapse, within 1–60 s. */
  intervalMs?: number;
  /** Edges silent for longer are removed from the registry. Default max(1 h, 10 × heartbeat lapse). */
  forgetAfterMs?: number;
  now?: () => number;
}

export interface JanitorRun {
  /** False when another node held the job. */
  ran: boolean;
  purged: number;
  forgotten: number;
  /** The version every live edge has applied (null: no live edge, nothing purged). */
  appliedByAll: number | null;
}

export interface RegistryJanitor {
  /** One round now (also what the timer runs). */
  runOnce(): Promise<JanitorRun>;
  close(): Promise<void>;
}

export const JANITOR_JOB = 'edge-registry-janitor';

export function startRegistryJanitor(o: RegistryJanitorOptions): RegistryJanitor {
  const lapse = o.config.deployment.heartbeatLapseMs;
  const intervalMs = o.intervalMs ?? Math.min(60_000, Math.max(1_000, lapse));
  const forgetAfterMs = o.forgetAfterMs ?? Math.max(3_600_000, 10 * lapse);
  const now = o.now ?? Date.now;
  let running: Promise<JanitorRun> | null = null;
  let closed = false;

  const round = async (): Promise<JanitorRun> => {
    const result = await o.store.runExclusive(JANITOR_JOB, async () => {
      const live = liveEdges(await o.store.listEdges(), now(), lapse);
      // With no live edge nobody can confirm a deletion: keep the rows.
      const appliedByAll = live.length === 0 ? null : Math.min(...live.map((e) => e.appliedVersion));
      const purged = appliedByAll === null ? 0 : await o.store.purgeDeletedCertificates(appliedByAll);
      const forgotten = await o.store.forgetEdges(forgetAfterMs);
      return { ran: true, purged, forgotten, appliedByAll };
    });
    if (!result.ran) return { ran: false, purged: 0, forgotten: 0, appliedByAll: null };
    const r = result.value;
    if (r.purged > 0 || r.forgotten > 0) o.logger?.info({ purged: r.purged, forgotten: r.forgotten, appliedByAll: r.appliedByAll }, 'edge registry upkeep');
    return r;
  };

  const runOnce = (): Promise<JanitorRun> => {
    running ??= round().finally(() => {
      running = null;
    });
    return running;
  };

  const timer = setInterval(() => {
    if (closed) return;
    runOnce().catch((err: unknown) => o.logger?.warn({ err }, 'edge registry upkeep failed; retrying next round'));
  }, intervalMs);
  timer.unref();

  return {
    runOnce,
    async close() {
      closed = true;
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
