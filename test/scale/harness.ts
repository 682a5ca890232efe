// Scale-out tests run the product as an operator does: `originpull api` and `originpull edge`
// processes (src/cli/main.ts under this Node) on one PostgreSQL, each test file in a fresh schema
// of the `test` database that is dropped afterwards. Also: a TCP proxy the tests cut to simulate
// losing PostgreSQL (the server itself is shared and must stay up), and small API/health clients.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../helpers/peers.ts';

export const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');
export { PG_URL as PG_BASE, postgresUnreachable as probePostgres } from '../helpers/postgres.ts';
import { PG_URL as PG_BASE } from '../helpers/postgres.ts';

/** A fresh schema name, the store URL confined to it, and direct SQL on it for assertions. */
export class TestSchema {
  readonly name = `op_scale_${randomBytes(6).toString('hex')}`;
  readonly #client = new pg.Client({ connectionString: PG_BASE });
  #connected = false;

  /** The store URL for this schema, optionally through another port (a proxy). */
  url(port?: number): string {
    const u = new URL(PG_BASE);
    if (port !== undefined) u.port = String(port);
    u.searchParams.set('schema', this.name);
    return u.toString();
  }

  async query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
    if (!this.#connected) {
      this.#client.on('error', () => {});
      await this.#client.connect();
      this.#connected = true;
    }
    await this.#client.query(`SET search_path TO "${this.name}"`);
    return (await this.#client.query<T>(sql, params)).rows;
  }

  async drop(): Promise<void> {
    const client = new pg.Client({ connectionString: PG_BASE });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${this.name}" CASCADE`);
    } finally {
      await client.end();
    }
    if (this.#connected) await this.#client.end().catch(() => {});
  }
}

/** Environment of the nodes: ours only, none inherited from the developer's shell. */
export function nodeEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ORIGINPULL_')) env[k] = v;
  return { ...env, ORIGINPULL_LOG_LEVEL: 'warn', ...extra };
}

/** One `originpull …` process. */
export class NodeProcess {
  readonly child: ChildProcess;
  readonly name: string;
  #out = '';
  readonly exited: Promise<number | null>;

  constructor(name: string, args: string[], env: NodeJS.ProcessEnv) {
    this.name = name;
    this.child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d) => (this.#out += d));
    this.child.stderr!.on('data', (d) => (this.#out += d));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  get output(): string {
    return this.#out;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Polls `ready` until it holds; fails early when the process exits. */
  async waitReady(ready: () => Promise<boolean>, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (!this.running) throw new Error(`${this.name} exited (${this.child.exitCode ?? this.child.signalCode}):\n${this.#out}`);
      if (await ready().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`${this.name} did not become ready within ${ms} ms:\n${this.#out}`);
      await sleep(100);
    }
  }

  freeze(): void {
    this.child.kill('SIGSTOP');
  }

  thaw(): void {
    this.child.kill('SIGCONT');
  }

  /** SIGTERM (after SIGCONT, in case it is frozen), then SIGKILL if it lingers. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGCONT');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface ApiNode extends NodeProcess {
  readonly port: number;
}

export interface ApiNodeOptions {
  store: string;
  secretKey: string;
  token: string;
  env?: Record<string, string>;
  port?: number;
}

/** Spawns `originpull api` (does not wait for it). */
export async function spawnApi(name: string, o: ApiNodeOptions): Promise<{ node: NodeProcess; port: number; dataDir: string }> {
  const port = o.port ?? (await freePort());
  const dataDir = mkdtempSync(join(tmpdir(), `originpull-scale-${name}-`));
  const node = new NodeProcess(
    name,
    ['api', '--store', o.store, '--data-dir', dataDir, '--api-listen', `127.0.0.1:${port}`],
    nodeEnv({ ORIGINPULL_SECRET_KEY: o.secretKey, ORIGINPULL_API_TOKEN: o.token, ...o.env }),
  );
  node.exited.then(() => rmSync(dataDir, { recursive: true, force: true }), () => {});
  return { node, port, dataDir };
}

export async function startApi(name: string, o: ApiNodeOptions): Promise<{ node: NodeProcess; api: ApiClient }> {
  return withFreshPorts(o.port === undefined, async () => {
    const { node, port } = await spawnApi(name, o);
    const api = new ApiClient(`http://127.0.0.1:${port}/client/v4`, o.token);
    await node.waitReady(async () => (await fetch(`http://127.0.0.1:${port}/ssl/static/authenticated_origin_pull_ca.pem`)).ok);
    return { node, api };
  });
}

/**
 * A port freePort() found free can be taken before the node binds it — on a busy machine, by the
 * local end of some outgoing connection — and the node then refuses to start ("is in use"). Where
 * the test chose no port itself, such a start is tried again on other ports.
 */
async function withFreshPorts<T>(retry: boolean, start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (!retry || attempt >= 3 || !/ is in use\b/.test((err as Error).message)) throw err;
    }
  }
}

export interface EdgePorts {
  http: number;
  https: number;
  metrics: number;
}

export interface EdgeNodeOptions {
  store: string;
  secretKey: string;
  /** Keep between restarts to find the last known configuration. */
  dataDir: string;
  ports?: EdgePorts;
  env?: Record<string, string>;
  /** `--workers`: 0 (default) runs the edge node in the process itself. */
  workers?: number;
}

export class EdgeProcess extends NodeProcess {
  readonly ports: EdgePorts;
  readonly dataDir: string;

  constructor(name: string, o: EdgeNodeOptions & { ports: EdgePorts }) {
    super(
      name,
      [
        'edge',
        '--store', o.store,
        '--data-dir', o.dataDir,
        '--node-name', name,
        '--workers', String(o.workers ?? 0),
        '--http-listen', `127.0.0.1:${o.ports.http}`,
        '--https-listen', `127.0.0.1:${o.ports.https}`,
        '--metrics-listen', `127.0.0.1:${o.ports.metrics}`,
      ],
      nodeEnv({ ORIGINPULL_SECRET_KEY: o.secretKey, ORIGINPULL_HEARTBEAT_INTERVAL_MS: '200', ...o.env }),
    );
    this.ports = o.ports;
    this.dataDir = o.dataDir;
  }

  async health(): Promise<EdgeHealth> {
    return (await (await fetch(`http://127.0.0.1:${this.ports.metrics}/healthz`)).json()) as EdgeHealth;
  }

  async metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.ports.metrics}/metrics`)).text();
  }
}

export interface EdgeHealth {
  status: 'ok' | 'degraded' | 'starting';
  degraded: { reason: string; since: string; detail: string | null } | null;
  appliedVersion: number;
  servingLastKnownConfig: boolean;
  node: { id: string; name: string };
  store: { connected: boolean; lastError: string | null };
}

export async function edgePorts(): Promise<EdgePorts> {
  return { http: await freePort(), https: await freePort(), metrics: await freePort() };
}

/** Starts `originpull edge --workers 0` and waits until it serves (healthz 200). */
export async function startEdge(name: string, o: EdgeNodeOptions): Promise<EdgeProcess> {
  return withFreshPorts(o.ports === undefined, async () => {
    const edge = new EdgeProcess(name, { ...o, ports: o.ports ?? (await edgePorts()) });
    await edge.waitReady(async () => (await fetch(`http://127.0.0.1:${edge.ports.metrics}/healthz`)).ok);
    return edge;
  });
}

/** v4 calls with the admin token; answers the parsed envelope and the HTTP status. */
export class ApiClient {
  readonly base: string;
  readonly #token: string;

  constructor(base: string, token: string) {
    this.base = base;
    this.#token = token;
  }

  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: V4<T> }> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.#token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as V4<T> };
  }

  /** The result of a call that must succeed. */
  async ok<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const { status, body: env } = await this.call<T>(method, path, body);
    if (status !== 200 || !env.success) throw new Error(`${method} ${path} → ${status}: ${JSON.stringify(env.errors)}`);
    return env.result;
  }
}

export interface V4<T> {
  success: boolean;
  errors: { code: number; message: string }[];
  result: T;
}

export interface LaggingEdge {
  id: string;
  name: string;
  applied_version: number;
}

export interface CertificateResult {
  id: string;
  status: string;
  fingerprint_sha256: string;
  lagging_edges?: LaggingEdge[];
}

/**
 * A TCP proxy in front of PostgreSQL that a test can cut (every connection dropped, new ones
 * refused) or stall (connections stay open but nothing passes, as when packets are silently
 * dropped), and then restore.
 */
export class TcpProxy {
  readonly #server: net.Server;
  readonly #pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  readonly #held: net.Socket[] = [];
  readonly #target: { port: number; host: string };
  #cut = false;
  #stalled = false;
  port = 0;

  constructor(targetPort: number, targetHost = '127.0.0.1') {
    this.#target = { port: targetPort, host: targetHost };
    this.#server = net.createServer((client) => {
      client.on('error', () => client.destroy());
      if (this.#cut) return void client.destroy();
      if (this.#stalled) {
        client.pause();
        this.#held.push(client);
        return;
      }
      this.#connect(client);
    });
  }

  #connect(client: net.Socket): void {
    const upstream = net.connect(this.#target.port, this.#target.host);
    const pair = { client, upstream };
    this.#pairs.add(pair);
    const drop = () => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('close', drop);
      s.on('error', drop);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
    return this;
  }

  cut(): void {
    this.#cut = true;
    for (const { client, upstream } of this.#pairs) {
      client.destroy();
      upstream.destroy();
    }
    for (const c of this.#held.splice(0)) c.destroy();
  }

  stall(): void {
    this.#stalled = true;
    for (const { client, upstream } of this.#pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  restore(): void {
    this.#cut = false;
    if (!this.#stalled) return;
    this.#stalled = false;
    for (const { client, upstream } of this.#pairs) {
      client.pipe(upstream);
      upstream.pipe(client);
    }
    for (const c of this.#held.splice(0)) {
      this.#connect(c);
      c.resume();
    }
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `ok(value)`; fails with the last value after `ms`. */
export async function eventually<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000, every = 50): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  let lastErr: unknown;
  for (;;) {
    try {
      last = await fn();
      if (ok(last)) return last;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(last)}${lastErr ? ` (${String(lastErr)})` : ''}`);
    await sleep(every);
  }
}

export function newSecretKey(): string {
  return randomBytes(32).toString('hex');
}

export function newToken(): string {
  return `optest_${randomBytes(16).toString('hex')}`;
}
