// An installation for ACME tests: a store (SQLite in a temp dir, or a given store URL), the
// installation PKI and admin token, one or more real edge nodes on 127.0.0.1:0, a listening API
// driven by the `cloudflare` SDK, a plain-HTTP origin, and Pebble with its validation ports on
// the first edge's listeners. The orderer runs with short intervals so a test sees it work.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Cloudflare from 'cloudflare';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../src/config.ts';
import { openStore, SecretBox, type Store } from '../../src/store/index.ts';
import { buildApiServer, ensureAdminToken, ensureInstallationPki } from '../../src/api/index.ts';
import { startEdgeNode, type EdgeNodeHandle } from '../../src/sync/index.ts';
import { startAcmeOrderer, type AcmeOrderer } from '../../src/acme/index.ts';
import { startPebble, type RunningPebble } from '../helpers/pebble.ts';
import { startHttpOrigin, type TestOrigin } from '../helpers/origin.ts';

export interface AcmeHarness {
  dir: string;
  store: Store;
  secretBox: SecretBox;
  config: Readonly<Config>;
  edge: EdgeNodeHandle;
  edges: EdgeNodeHandle[];
  api: FastifyInstance;
  cf: Cloudflare;
  pebble: RunningPebble;
  origin: TestOrigin;
  orderers: AcmeOrderer[];
  httpsPort: number;
  httpPort: number;
  close(): Promise<void>;
}

export interface AcmeHarnessOptions {
  validitySeconds?: number;
  /** Pebble requires External Account Binding with these keys; `eab` is what the orderer sends. */
  pebbleEabKeys?: Record<string, string>;
  eab?: { kid: string; hmacKey: string };
  /** Default: SQLite in the temp dir. */
  storeUrl?: string;
  /** Orderers (as API nodes would run them) on their own store connections. */
  orderers?: number;
  /** Edge nodes; Pebble validates against the first one. */
  edges?: number;
  /** Wraps each orderer's store, e.g. to count orders. */
  wrapStore?: (store: Store, orderer: number) => Store;
}

const logger = pino({ level: process.env.ORIGINPULL_TEST_LOG ?? 'silent' });

export async function startAcmeHarness(opts: AcmeHarnessOptions = {}): Promise<AcmeHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'originpull-acme-'));
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const baseFlags = {
      dataDir: dir,
      ...(opts.storeUrl === undefined ? {} : { store: opts.storeUrl }),
      httpListen: '127.0.0.1:0',
      httpsListen: '127.0.0.1:0',
      deploymentDeadlineMs: 30_000,
      heartbeatIntervalMs: 200,
      heartbeatLapseMs: 10_000,
    };
    const edgeConfig = loadConfig({ env: {}, flags: baseFlags });
    const secretBox = await SecretBox.load(join(dir, 'secret.key'));
    const store = await openStore(edgeConfig.store, { pollIntervalMs: 50 });
    closers.push(() => store.close());
    await store.migrate();
    await ensureInstallationPki(store, secretBox, { originKeyType: 'p256' });
    await store.ensureDefaultAccount();
    const admin = await ensureAdminToken(store, dir);

    const edges: EdgeNodeHandle[] = [];
    for (let i = 0; i < (opts.edges ?? 1); i++) {
      // Each further edge has its own store connection and listeners, as on another machine.
      const own = i === 0 ? store : await openStore(edgeConfig.store, { pollIntervalMs: 50 });
      if (i > 0) closers.push(() => own.close());
      const node = await startEdgeNode({ store: own, secretBox, config: edgeConfig, logger, nodeName: `edge-${i}`, metricsListen: null });
      closers.push(() => node.close());
      edges.push(node);
    }
    const httpPort = edges[0].addresses.http!.port;
    const httpsPort = edges[0].addresses.https!.port;

    const pebble = await startPebble({ httpPort, tlsPort: httpsPort, validitySeconds: opts.validitySeconds, eabKeys: opts.pebbleEabKeys });
    closers.push(() => pebble.stop());
    const eab = opts.eab === undefined ? {} : { acmeEabKid: opts.eab.kid, acmeEabHmacKey: opts.eab.hmacKey };
    const config = loadConfig({ env: {}, flags: { ...baseFlags, acmeDirectory: pebble.directoryUrl, acmeCaFile: pebble.tlsCaFile, acmeEmail: 'ops@shop.test', ...eab } });

    const api = await buildApiServer({ store, secretBox, config });
    closers.push(() => api.close());
    await api.listen({ port: 0, host: '127.0.0.1' });
    const address = api.server.address();
    if (address === null || typeof address === 'string') throw new Error('no API port');
    const cf = new Cloudflare({ apiToken: admin.token!, baseURL: `http://127.0.0.1:${address.port}/client/v4`, maxRetries: 0 });

    const orderers: AcmeOrderer[] = [];
    for (let i = 0; i < (opts.orderers ?? 1); i++) {
      const own = i === 0 ? store : await openStore(config.store, { pollIntervalMs: 50 });
      if (i > 0) closers.push(() => own.close());
      const orderer = startAcmeOrderer({
        store: opts.wrapStore ? opts.wrapStore(own, i) : own,
        secretBox,
        config,
        logger,
        intervalMs: 300,
        retry: { minMs: 1_000, maxMs: 2_000 },
        client: { backoff: { attempts: 40, minMs: 200, maxMs: 1_000 } },
      });
      closers.push(() => orderer.close());
      orderers.push(orderer);
    }

    const origin = await startHttpOrigin({
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('hello from the origin');
      },
    });
    closers.push(() => origin.close());
    return { dir, store, secretBox, config, edge: edges[0], edges, api, cf, pebble, origin, orderers, httpPort, httpsPort, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** A zone with Flexible SSL and a proxied record for each name, towards the harness's origin. */
export async function zoneWithRecords(h: AcmeHarness, zoneName: string, names: string[]): Promise<string> {
  const [account] = (await h.cf.accounts.list()).result;
  const zone = await h.cf.zones.create({ account: { id: account.id }, name: zoneName });
  await h.cf.zones.settings.edit('ssl', { zone_id: zone.id, value: 'flexible' });
  for (const name of names) {
    // origin_http_port is originpull's extension field; the SDK passes it through.
    const body = { zone_id: zone.id, type: 'A' as const, name, content: '127.0.0.1', proxied: true, ttl: 1 as const, origin_http_port: h.origin.port };
    await h.cf.dns.records.create(body);
  }
  return zone.id;
}

/** Polls `fn` until it returns a value other than undefined. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 90_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
