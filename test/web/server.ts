// The real API with the dashboard, in-process on 127.0.0.1:0: SQLite file store, secret key,
// P-256 installation PKI, admin token. A simulated edge reports every 200 ms that it applied the
// current config version (as real edges do through store.reportEdge), so statuses turn active;
// it can be paused to watch pending_deployment.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { openStore, SecretBox, type Store } from '../../src/store/index.ts';
import { buildApiServer, ensureAdminToken, ensureInstallationPki } from '../../src/api/index.ts';

export interface DashboardServer {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  store: Store;
  app: FastifyInstance;
  adminToken: string;
  /** A JSON call to /client/v4 as admin (or `token`). */
  api(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: { result: unknown; errors: { message: string }[] } }>;
  /** pause() resolves once no report of the current version can still land. */
  edge: { pause(): Promise<void>; resume(): void };
  close(): Promise<void>;
}

/**
 * `logger`: a pino logger for the API (default: none). `acmeDirectory`: an ACME directory URL for
 * the config; no orderer runs here, so it is never contacted (packs then show their own errors).
 */
export async function startDashboardServer(opts: { logger?: Logger; acmeDirectory?: string } = {}): Promise<DashboardServer> {
  const dir = mkdtempSync(join(tmpdir(), 'originpull-web-'));
  const acme = opts.acmeDirectory === undefined ? {} : { acmeDirectory: opts.acmeDirectory };
  const config = loadConfig({ env: {}, flags: { dataDir: dir, deploymentDeadlineMs: 30_000, heartbeatLapseMs: 60_000, ...acme } });
  const store = await openStore(`sqlite:${join(dir, 'db')}`, { pollIntervalMs: 50 });
  await store.migrate();
  const secretBox = await SecretBox.load(join(dir, 'secret.key'));
  await ensureInstallationPki(store, secretBox, { originKeyType: 'p256' });
  await store.ensureDefaultAccount();
  const admin = await ensureAdminToken(store, dir);
  const adminToken = admin.token ?? readFileSync(join(dir, 'admin-token'), 'utf8').trim();
  const app = await buildApiServer({ store, secretBox, config, logger: opts.logger });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('the API has no TCP address');
  const origin = `http://127.0.0.1:${address.port}`;

  let paused = false;
  const startedAt = Date.now();
  const report = async () => {
    if (paused) {
      // Still alive, but stuck on the version it had: changes stay pending_deployment.
      const edges = await store.listEdges();
      const mine = edges.find((e) => e.id === 'test-edge');
      await store.reportEdge({ id: 'test-edge', name: 'test', startedAt, appliedVersion: mine?.appliedVersion ?? 0 });
      return;
    }
    await store.reportEdge({ id: 'test-edge', name: 'test', startedAt, appliedVersion: await store.currentVersion() });
  };
  await report();
  let reporting = Promise.resolve();
  const timer = setInterval(() => {
    reporting = reporting.then(report, () => undefined);
  }, 200);

  return {
    origin,
    store,
    app,
    adminToken,
    async api(method, path, body, token = adminToken) {
      const res = await fetch(`${origin}/client/v4${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as { result: unknown; errors: { message: string }[] } };
    },
    edge: {
      async pause() {
        paused = true;
        await reporting;
      },
      resume: () => void (paused = false),
    },
    async close() {
      clearInterval(timer);
      await reporting.catch(() => undefined);
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
