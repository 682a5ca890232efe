// What every fault test runs: an `originpull api` node and `originpull edge` nodes (real
// processes, as the scale tests run them) reaching PostgreSQL through one Forwarder, a TLS origin
// that requires the installation's AOP client certificate, steady visitor load through the edges
// with every request counted, and the direct SQL a test needs to hold locks and end sessions.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Agent, request } from 'undici';
import { newCa, serverCert } from '../helpers/pki.ts';
import { startTlsOrigin, type TestOrigin } from '../helpers/origin.ts';
import {
  ApiClient,
  eventually,
  newSecretKey,
  newToken,
  PG_BASE,
  sleep,
  startApi,
  startEdge,
  TestSchema,
  type EdgeProcess,
  type NodeProcess,
  type V4,
} from '../scale/harness.ts';
import { Forwarder } from './forwarder.ts';

export const HOST = 'www.faults.test';

export interface ClusterOptions {
  edges: { name: string; workers: number }[];
  /** Environment of every node (store timeouts, heartbeat lapse…). */
  env?: Record<string, string>;
}

export class Cluster {
  readonly schema = new TestSchema();
  readonly secretKey = newSecretKey();
  readonly token = newToken();
  readonly forwarder = new Forwarder(Number(new URL(PG_BASE).port || 5432), new URL(PG_BASE).hostname);
  readonly edges: EdgeProcess[] = [];
  readonly #dirs: string[] = [];
  readonly #sessions: pg.Client[] = [];
  readonly #workers = new Map<string, number>();
  apiNode!: NodeProcess;
  api!: ApiClient;
  apiPort = 0;
  origin!: TestOrigin;
  zoneId = '';

  static async start(o: ClusterOptions): Promise<Cluster> {
    const c = new Cluster();
    await c.#start(o);
    return c;
  }

  async #start(o: ClusterOptions): Promise<void> {
    await this.forwarder.start();
    const store = this.schema.url(this.forwarder.port);
    ({ node: this.apiNode, api: this.api } = await startApi('api', { store, secretKey: this.secretKey, token: this.token, env: o.env }));
    this.apiPort = Number(new URL(this.api.base).port);
    const aopCa = await (await fetch(`http://127.0.0.1:${this.apiPort}/ssl/static/authenticated_origin_pull_ca.pem`)).text();
    this.origin = await startTlsOrigin({ cert: await serverCert(await newCa('faults origin CA'), [HOST]), clientCa: aopCa });
    this.zoneId = (await this.api.ok<{ id: string }>('POST', '/zones', { name: 'faults.test' })).id;
    await this.api.ok('POST', `/zones/${this.zoneId}/dns_records`, { type: 'A', name: HOST, content: '127.0.0.1', proxied: true, origin_https_port: this.origin.port });
    await this.api.ok('PATCH', `/zones/${this.zoneId}/settings/tls_client_auth`, { value: 'on' });
    for (const { name, workers } of o.edges) {
      const dataDir = mkdtempSync(join(tmpdir(), `originpull-faults-${name}-`));
      this.#dirs.push(dataDir);
      this.#workers.set(name, workers);
      this.edges.push(await startEdge(name, { store, secretKey: this.secretKey, dataDir, workers, env: o.env }));
    }
    await this.applied(await this.version(), 30_000);
  }

  get nodes(): NodeProcess[] {
    return [this.apiNode, ...this.edges];
  }

  /** The config version in the store (read directly, not through the forwarder). */
  async version(): Promise<number> {
    return Number((await this.schema.query<{ v: string }>('SELECT v FROM config_version WHERE id = 1'))[0].v);
  }

  /** Names the edge processes report under: the node name, or `<name>-w<i>` per worker. */
  reporters(): string[] {
    return this.edges.flatMap((e) => {
      const workers = this.#workers.get(e.name) ?? 0;
      return workers === 0 ? [e.name] : Array.from({ length: workers }, (_, i) => `${e.name}-w${i}`);
    });
  }

  /** Waits until every edge process reports `version` applied; answers how long it took. */
  async applied(version: number, ms = 15_000): Promise<number> {
    const from = Date.now();
    const names = this.reporters();
    await eventually(
      `every edge applied version ${version}`,
      async () => {
        const rows = await this.schema.query<{ name: string; v: string }>('SELECT name, MAX(applied_version) AS v FROM edges GROUP BY name');
        const applied = new Map(rows.map((r) => [r.name, Number(r.v)]));
        return names.map((n) => `${n}=${applied.get(n) ?? 'none'}`);
      },
      (seen) => seen.every((s) => Number(s.split('=')[1]) >= version),
      ms,
    );
    return Date.now() - from;
  }

  /** A config change every edge loads (the zone's `ssl` setting is written, the version bumps). */
  changeSetting(): Promise<ApiAnswer> {
    return this.call('PATCH', `/zones/${this.zoneId}/settings/ssl`, { value: 'full' });
  }

  /** A v4 call bounded in time: a hang is an answer too (`status` 0). */
  async call(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<ApiAnswer> {
    const started = Date.now();
    try {
      const res = await fetch(`${this.api.base}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const env = (await res.json()) as V4<unknown>;
      return { status: res.status, body: env, retryAfter: res.headers.get('retry-after'), ms: Date.now() - started };
    } catch (err) {
      return { status: 0, body: null, retryAfter: null, ms: Date.now() - started, error: (err as Error).message };
    }
  }

  /** A session of its own on the test's schema, straight to PostgreSQL (for locks). */
  async session(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: PG_BASE });
    client.on('error', () => {});
    await client.connect();
    await client.query(`SET search_path TO "${this.schema.name}"`);
    this.#sessions.push(client);
    return client;
  }

  /** Backend pids waiting on a lock `holder` holds. */
  async blockedBy(holder: pg.Client): Promise<number[]> {
    const [{ pid }] = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows;
    const rows = await this.schema.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [pid]);
    return rows.map((r) => r.pid);
  }

  /** Ends PostgreSQL sessions from the server side, as a restart or an operator does. */
  async terminate(pids: number[]): Promise<number> {
    if (pids.length === 0) return 0;
    const rows = await this.schema.query<{ ok: boolean }>('SELECT pg_terminate_backend(pid) AS ok FROM unnest($1::int[]) AS pid', [pids]);
    return rows.filter((r) => r.ok).length;
  }

  /** Every session the nodes hold through the forwarder (this test's nodes, nobody else's). */
  async nodeSessions(): Promise<number[]> {
    const ports = this.forwarder.upstreamPorts();
    if (ports.length === 0) return [];
    const rows = await this.schema.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE client_addr = '127.0.0.1' AND client_port = ANY($1::int[])",
      [ports],
    );
    return rows.map((r) => r.pid);
  }

  /**
   * The nodes' change-feed connections alive through the forwarder: sessions whose last
   * statement is the LISTEN or the probe of a listening connection.
   */
  async listeners(): Promise<number> {
    const ports = this.forwarder.upstreamPorts();
    if (ports.length === 0) return 0;
    const rows = await this.schema.query<{ n: string }>(
      "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE client_port = ANY($1::int[]) AND query IN ('LISTEN originpull_config', 'SELECT 1')",
      [ports],
    );
    return Number(rows[0].n);
  }

  /** Every node process still running, and no edge worker died (the primary logs each restart). */
  exits(): string[] {
    const out: string[] = [];
    for (const n of this.nodes) {
      if (!n.running) out.push(`${n.name} exited (${n.child.exitCode ?? n.child.signalCode}):\n${n.output.slice(-2_000)}`);
      if (/edge worker died/.test(n.output)) out.push(`${n.name}: a worker died:\n${n.output.slice(-2_000)}`);
    }
    return out;
  }

  readonly #loads = new Set<Load>();

  /** Steady visitor load through every edge (see startLoad); stopped by close() at the latest. */
  load(rate = 100): Load {
    const load = startLoad(this.edges, rate);
    this.#loads.add(load);
    const stop = load.stop;
    load.stop = () => {
      this.#loads.delete(load);
      return stop();
    };
    return load;
  }

  async close(): Promise<void> {
    for (const load of [...this.#loads]) await load.stop();
    this.forwarder.heal();
    for (const s of this.#sessions) await s.end().catch(() => {});
    await Promise.all(this.edges.map((e) => e.stop()));
    await this.apiNode?.stop();
    await this.forwarder.close();
    await this.origin?.close();
    await this.schema.drop();
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
  }
}

export interface ApiAnswer {
  status: number;
  body: V4<unknown> | null;
  retryAfter: string | null;
  ms: number;
  error?: string;
}

/**
 * Steady visitor load: `rate` requests per second spread over the edges, each on the edges'
 * kept-alive connections and bounded in time, every one counted with what went wrong.
 */
export interface Load {
  readonly sent: number;
  stop(): Promise<{ sent: number; ok: number; failures: string[] }>;
}

export function startLoad(edges: EdgeProcess[], rate = 100): Load {
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: 8 });
  const failures: string[] = [];
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let ok = 0;
  const one = async (edge: EdgeProcess): Promise<void> => {
    try {
      const res = await request(`http://127.0.0.1:${edge.ports.http}/`, {
        headers: { host: HOST },
        dispatcher: agent,
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.body.text();
      if (res.statusCode === 200) ok++;
      else failures.push(`${edge.name}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
    } catch (err) {
      failures.push(`${edge.name}: ${(err as Error).message}`);
    }
  };
  const timer = setInterval(() => {
    const edge = edges[sent++ % edges.length];
    const p = one(edge);
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }, 1_000 / rate);
  return {
    get sent() {
      return sent;
    },
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
      await agent.close();
      return { sent, ok, failures };
    },
  };
}

export { eventually, sleep };
