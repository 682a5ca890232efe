// A real API on a temp data dir: SqliteStore file, secret key file, P-256 installation PKI (the
// same ensureInstallationPki production uses, with a lighter key type), the default account and
// the admin token from ensureAdminToken. `listen: true` gives a real HTTP port for the SDK.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Logger } from 'pino';
import { loadConfig, type Config } from '../../src/config.ts';
import { openStore, SecretBox, type Store } from '../../src/store/index.ts';
import { buildApiServer, ensureAdminToken, ensureInstallationPki, type MetricsOptions } from '../../src/api/index.ts';

export interface Harness {
  dir: string;
  store: Store;
  secretBox: SecretBox;
  config: Readonly<Config>;
  app: FastifyInstance;
  /** The admin token's secret. */
  token: string;
  /** `http://127.0.0.1:PORT/client/v4` when listening. */
  baseURL: string;
  /** inject() with the admin token (or `as`) and a JSON body. */
  call(method: string, url: string, opts?: { body?: unknown; as?: string | null; headers?: Record<string, string> }): Promise<LightMyRequestResponse>;
  /** Pretends an edge applied everything committed so far (the real edge calls the same method). */
  edgeApplied(id?: string): Promise<void>;
  /** Closes server and store; `keep` leaves the data dir for a restart. */
  close(opts?: { keep?: boolean }): Promise<void>;
}

export interface HarnessOptions {
  dir?: string;
  listen?: boolean;
  deadlineMs?: number;
  /** Default 60 s. */
  heartbeatLapseMs?: number;
  /** `?wait=active` cap (default the product's). */
  maxWaiters?: number;
  /** A store URL instead of the data dir's SQLite file (e.g. a PostgreSQL test schema). */
  storeUrl?: string;
  /** Wraps the store the API uses (e.g. to count calls). */
  wrapStore?: (store: Store) => Store;
  now?: () => number;
  /** A pino logger for the API (default: none). */
  logger?: Logger;
  metrics?: MetricsOptions;
}

export async function startApi(opts: HarnessOptions = {}): Promise<Harness> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'originpull-api-'));
  const config = loadConfig({
    env: {},
    flags: {
      dataDir: dir,
      deploymentDeadlineMs: opts.deadlineMs ?? 2_000,
      heartbeatLapseMs: opts.heartbeatLapseMs ?? 60_000,
      ...(opts.maxWaiters === undefined ? {} : { deploymentMaxWaiters: opts.maxWaiters }),
      ...(opts.storeUrl === undefined ? {} : { store: opts.storeUrl }),
    },
  });
  const opened = await openStore(config.store, { pollIntervalMs: 50 });
  const store = opts.wrapStore ? opts.wrapStore(opened) : opened;
  await store.migrate();
  const secretBox = await SecretBox.load(join(dir, 'secret.key'));
  await ensureInstallationPki(store, secretBox, { originKeyType: 'p256' });
  await store.ensureDefaultAccount();
  const admin = await ensureAdminToken(store, dir);
  const token = admin.token ?? readFileSync(join(dir, 'admin-token'), 'utf8').trim();
  const app = await buildApiServer({ store, secretBox, config, now: opts.now, logger: opts.logger, metrics: opts.metrics });
  let baseURL = '';
  if (opts.listen) {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    baseURL = `http://127.0.0.1:${address.port}/client/v4`;
  } else {
    await app.ready();
  }
  return {
    dir,
    store,
    secretBox,
    config,
    app,
    token,
    baseURL,
    call(method, url, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      const as = o.as === undefined ? token : o.as;
      if (as !== null) headers.authorization = `Bearer ${as}`;
      return app.inject({
        method: method as 'GET',
        url: url.startsWith('/client/v4') || url.startsWith('/ssl/') || url === '/metrics' ? url : `/client/v4${url}`,
        headers,
        ...(o.body === undefined ? {} : { payload: o.body as object }),
      });
    },
    async edgeApplied(id = 'edge-test') {
      await store.reportEdge({ id, name: id, startedAt: Date.now(), appliedVersion: await store.currentVersion() });
    },
    async close(o = {}) {
      await app.close();
      await store.close();
      if (!o.keep) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Creates a zone as admin and returns its id. */
export async function createZone(h: Harness, name: string): Promise<string> {
  const res = await h.call('POST', '/zones', { body: { name } });
  if (res.statusCode !== 200) throw new Error(`create zone ${name}: ${res.statusCode} ${res.body}`);
  return res.json().result.id;
}

/** Creates an API token as admin and returns its secret. */
export async function createToken(h: Harness, body: { name: string; permission?: 'read' | 'edit'; zones?: string[] | null }): Promise<string> {
  const res = await h.call('POST', '/user/tokens', { body });
  if (res.statusCode !== 200) throw new Error(`create token: ${res.statusCode} ${res.body}`);
  return res.json().result.value;
}
