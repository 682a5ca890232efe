// `?wait=active` (an originpull extension on uploads and PUT …/hostnames): instead of answering
// `pending_deployment` at once, poll until every live edge reports the change (or the status is
// otherwise settled), at most the deployment deadline; the answer carries whatever status was
// reached. Edges report through store.reportEdge, which does not bump the config version, so
// this polls rather than listening to the change feed.
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeploymentView } from '../domain/index.ts';
import type { ApiContext } from './context.ts';
import { deploymentView } from './status.ts';

const POLL_MS = 100;

/** Polls `settled` until it returns true, the deployment deadline passes or the server closes. */
export async function waitUntilSettled(ctx: ApiContext, settled: (view: DeploymentView) => Promise<boolean>): Promise<void> {
  const until = Date.now() + ctx.config.deployment.deadlineMs;
  while (!ctx.closing.aborted) {
    if (await settled(await deploymentView(ctx))) return;
    const left = until - Date.now();
    if (left <= 0) return;
    try {
      await sleep(Math.min(POLL_MS, left), undefined, { signal: ctx.closing });
    } catch {
      return;
    }
  }
}
