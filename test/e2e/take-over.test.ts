// Restarts without refused connections: `originpull serve --take-over` started beside a running
// `serve` on the same addresses serves, then stops the old one, while steady load (HTTP and HTTPS
// through the edge, fresh and keep-alive connections, and the API) counts every request. An
// in-process edge (--workers 0) hands over to worker processes (--workers 2), which hand over to
// the next worker processes: not one request may fail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/peers.ts';

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');
const MIGRATE_REQ = '/proc/sys/net/ipv4/tcp_migrate_req';
const HOST = 'app.example.com';

interface Ports {
  api: number;
  http: number;
  https: number;
  metrics: number;
}

interface Serve {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

let dataDir: string;
let ports: Ports;
let origin: http.Server;
let migrateReqBefore: string | null = null;
let skip: string | false = false;
const running: Serve[] = [];
const dirs: string[] = [];

function spawnServe(workers: number, ...extra: string[]): Serve {
  return spawnCommand('serve', workers, ...extra);
}

function spawnCommand(command: 'serve' | 'api' | 'edge', workers: number, ...extra: string[]): Serve {
  const listen: string[] = [];
  if (command !== 'edge') listen.push('--api-listen', `127.0.0.1:${ports.api}`);
  if (command !== 'api') {
    listen.push('--http-listen', `127.0.0.1:${ports.http}`, '--https-listen', `127.0.0.1:${ports.https}`, '--metrics-listen', `127.0.0.1:${ports.metrics}`);
    listen.push('--workers', String(workers));
  }
  const child = spawn(
    process.execPath,
    [MAIN, command, '--data-dir', dataDir, ...listen, ...extra],
    { env: { ...process.env, ORIGINPULL_API_TOKEN: '', ORIGINPULL_HEARTBEAT_INTERVAL_MS: '200', ORIGINPULL_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const serve = { child, output: () => out, exited };
  running.push(serve);
  return serve;
}

/** Resolves once the log says the process serves (API and edge); fails if it exits first. */
async function servingOf(serve: Serve, what: RegExp): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!what.test(serve.output())) {
    if (serve.child.exitCode !== null) throw new Error(`serve exited (${serve.child.exitCode}):\n${serve.output()}`);
    if (Date.now() > deadline) throw new Error(`serve did not start:\n${serve.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  try {
    migrateReqBefore = readFileSync(MIGRATE_REQ, 'utf8').trim();
  } catch {
    skip = `${MIGRATE_REQ} is missing (Linux 5.14+ needed for a hand-over without resets)`;
    return;
  }
  if (migrateReqBefore === '0') {
    // Without it the kernel resets connections still queued on a listener that closes (see take-over.ts).
    try {
      writeFileSync(MIGRATE_REQ, '1');
    } catch {
      skip = 'net.ipv4.tcp_migrate_req is 0 and this user cannot set it: run `sysctl -w net.ipv4.tcp_migrate_req=1` as root';
      return;
    }
  }
  dataDir = mkdtempSync(join(tmpdir(), 'originpull-take-over-'));
  dirs.push(dataDir);
  ports = { api: await freePort(), http: await freePort(), https: await freePort(), metrics: await freePort() };
  origin = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('origin ok'));
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
});

after(async () => {
  for (const s of running) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  origin?.close();
  if (migrateReqBefore === '0') writeFileSync(MIGRATE_REQ, '0');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Tally {
  ok: number;
  failed: number;
  /** Idempotent requests sent again after a reused keep-alive connection closed under them (RFC 9112 §9.3.1). */
  resent: number;
  errors: string[];
}

type Kind = 'http-fresh' | 'https-fresh' | 'http-keepalive' | 'https-keepalive' | 'api-fresh' | 'api-keepalive';

function requestOnce(kind: Kind, agent: http.Agent | false, edgeCa: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const tlsKind = kind.startsWith('https');
    const apiKind = kind.startsWith('api');
    const port = apiKind ? ports.api : tlsKind ? ports.https : ports.http;
    const path = apiKind ? '/ssl/static/authenticated_origin_pull_ca.pem' : '/load';
    const options: https.RequestOptions = { host: '127.0.0.1', port, path, agent, headers: { host: HOST } };
    if (tlsKind) Object.assign(options, { servername: HOST, ca: edgeCa });
    const req = (tlsKind ? https : http).get(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', reject);
    });
    req.on('error', (err) => reject(Object.assign(err, { reused: req.reusedSocket })));
    // An answer that never comes is a failure, and must not hold the load loop.
    req.setTimeout(15_000, () => req.destroy(new Error('no answer within 15 s')));
  });
}

function startLoad(edgeCa: string): { stop: () => Promise<Record<Kind, Tally>> } {
  let stopping = false;
  const tallies = {} as Record<Kind, Tally>;
  const loops: Promise<void>[] = [];
  const kinds: Kind[] = ['http-fresh', 'https-fresh', 'http-keepalive', 'https-keepalive', 'api-fresh', 'api-keepalive'];
  const agents: http.Agent[] = [];
  for (const kind of kinds) {
    const tally: Tally = { ok: 0, failed: 0, resent: 0, errors: [] };
    tallies[kind] = tally;
    for (let i = 0; i < 2; i++) {
      const agent = kind.endsWith('keepalive') ? new (kind.startsWith('https') ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 1 }) : false;
      if (agent) agents.push(agent);
      loops.push(
        (async () => {
          while (!stopping) {
            try {
              let r;
              try {
                r = await requestOnce(kind, agent, edgeCa);
              } catch (err) {
                if (!(err as { reused?: boolean }).reused) throw err;
                tally.resent++;
                r = await requestOnce(kind, agent, edgeCa);
              }
              const expected = kind.startsWith('api') ? r.body.includes('BEGIN CERTIFICATE') : r.body === 'origin ok';
              if (r.status === 200 && expected) tally.ok++;
              else {
                tally.failed++;
                tally.errors.push(`${r.status} ${r.body.slice(0, 80)}`);
              }
            } catch (err) {
              tally.failed++;
              tally.errors.push(`${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message}`);
            }
          }
        })(),
      );
    }
  }
  return {
    stop: async () => {
      stopping = true;
      await Promise.all(loops);
      for (const a of agents) a.destroy();
      return tallies;
    },
  };
}

/** A zone (SSL mode flexible) with HOST proxied to the origin; resolves once the edge serves it. Returns the edge CA. */
async function provision(): Promise<string> {
  const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${ports.api}/client/v4${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as { success: boolean; result: { id: string }[] & { id: string } };
    assert.ok(json.success, `${method} ${path}: ${JSON.stringify(json)}`);
    return json.result;
  };
  const [account] = await api('GET', '/accounts');
  const zone = await api('POST', '/zones', { name: 'example.com', account: { id: account.id } });
  await api('PATCH', `/zones/${zone.id}/settings/ssl`, { value: 'flexible' });
  await api('POST', `/zones/${zone.id}/dns_records`, { type: 'A', name: HOST, content: '127.0.0.1', proxied: true, origin_http_port: (origin.address() as { port: number }).port });
  const edgeCa = await (await fetch(`http://127.0.0.1:${ports.api}/ssl/static/edge_ca.pem`)).text();
  // Until the edge has applied the record, requests get 404s: wait for a good one first.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await requestOnce('https-fresh', false, edgeCa).catch(() => null);
    if (r?.body === 'origin ok') break;
    assert.ok(Date.now() < deadline, `the edge does not serve ${HOST}: ${JSON.stringify(r)}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  return edgeCa;
}

test('serve --take-over replaces a running serve (in-process edge, then worker processes) with no failed request', async (t) => {
  if (skip) return t.skip(skip);
  const first = spawnServe(0);
  await servingOf(first, /edge started/);
  const edgeCa = await provision();

  const load = startLoad(edgeCa);
  let tallies: Record<Kind, Tally>;
  try {
    await new Promise((r) => setTimeout(r, 500));
    // In-process edge → two worker processes.
    const second = spawnServe(2, '--take-over');
    await servingOf(second, /told the previous process to close its listeners and drain/);
    assert.equal(await first.exited, 0, first.output());
    await new Promise((r) => setTimeout(r, 500));
    // Worker processes → worker processes.
    const third = spawnServe(2, '--take-over');
    await servingOf(third, /told the previous process to close its listeners and drain/);
    assert.equal(await second.exited, 0, second.output());
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(third.child.exitCode, null, third.output());
  } finally {
    tallies = await load.stop();
  }
  for (const [kind, tally] of Object.entries(tallies)) {
    assert.equal(tally.failed, 0, `${kind}: ${tally.failed} failed of ${tally.ok + tally.failed}: ${tally.errors.slice(0, 5).join('; ')}`);
    assert.ok(tally.ok > 20, `${kind}: only ${tally.ok} requests went through`);
  }
  t.diagnostic(JSON.stringify(Object.fromEntries(Object.entries(tallies).map(([k, v]) => [k, { ok: v.ok, resent: v.resent }]))));
});

test('without --take-over a second serve on the same addresses refuses to start and says how to take over', async (t) => {
  if (skip) return t.skip(skip);
  const current = running.find((s) => s.child.exitCode === null);
  assert.ok(current, 'a serve from the previous test runs');
  const second = spawnServe(0);
  const code = await second.exited;
  assert.equal(code, 1, second.output());
  assert.match(second.output(), /API listener 127\.0\.0\.1:\d+ is in use\. If it is a running originpull, start this one with --take-over/);
  assert.equal(current.child.exitCode, null, 'the running one is untouched');
});

test('api --take-over and edge --take-over (in-process edge, then worker processes) with no failed request', async (t) => {
  if (skip) return t.skip(skip);
  for (const s of running) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  await Promise.all(running.map((s) => s.exited));
  dataDir = mkdtempSync(join(tmpdir(), 'originpull-take-over-parts-'));
  dirs.push(dataDir);
  ports = { api: await freePort(), http: await freePort(), https: await freePort(), metrics: await freePort() };
  const api1 = spawnCommand('api', 0);
  await servingOf(api1, /API listening/);
  const edge1 = spawnCommand('edge', 0);
  await servingOf(edge1, /edge node started/);
  const edgeCa = await provision();

  const load = startLoad(edgeCa);
  let tallies: Record<Kind, Tally>;
  try {
    await new Promise((r) => setTimeout(r, 500));
    const edge2 = spawnCommand('edge', 2, '--take-over');
    await servingOf(edge2, /told the previous process to close its listeners and drain/);
    assert.equal(await edge1.exited, 0, edge1.output());
    await new Promise((r) => setTimeout(r, 500));
    const api2 = spawnCommand('api', 0, '--take-over');
    await servingOf(api2, /told the previous process to close its listeners and drain/);
    assert.equal(await api1.exited, 0, api1.output());
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(edge2.child.exitCode, null, edge2.output());
    assert.equal(api2.child.exitCode, null, api2.output());
  } finally {
    tallies = await load.stop();
  }
  for (const [kind, tally] of Object.entries(tallies)) {
    assert.equal(tally.failed, 0, `${kind}: ${tally.failed} failed of ${tally.ok + tally.failed}: ${tally.errors.slice(0, 5).join('; ')}`);
    assert.ok(tally.ok > 20, `${kind}: only ${tally.ok} requests went through`);
  }
  t.diagnostic(JSON.stringify(Object.fromEntries(Object.entries(tallies).map(([k, v]) => [k, { ok: v.ok, resent: v.resent }]))));
});
