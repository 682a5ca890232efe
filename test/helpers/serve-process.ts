// `originpull serve` as its own process for the end-to-end tests, on ports of its own, ready once
// its edge (/healthz) and API answer. Ports found free may be taken before serve binds them (by
// another test's connection); serve then refuses to start ("… is in use"), and with ports of its
// own choosing it is started again on others.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './peers.ts';

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');

export interface ServePorts {
  api: number;
  http: number;
  https: number;
  metrics: number;
}

export interface ServeProcess {
  child: ChildProcess;
  ports: ServePorts;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, and its exit. */
  stop(): Promise<void>;
}

export interface ServeOptions {
  dataDir: string;
  /** Fixed ports (a restart on the same ones): not retried elsewhere. Omitted: free ones. */
  ports?: ServePorts;
  env?: Record<string, string>;
  workers?: number;
}

export async function startServe(o: ServeOptions): Promise<ServeProcess> {
  for (let attempt = 1; ; attempt++) {
    const ports = o.ports ?? { api: await freePort(), http: await freePort(), https: await freePort(), metrics: await freePort() };
    try {
      return await startOnce(o, ports);
    } catch (err) {
      if (o.ports !== undefined || attempt >= 3 || !/ is in use\b/.test((err as Error).message)) throw err;
    }
  }
}

async function startOnce(o: ServeOptions, ports: ServePorts): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [MAIN, 'serve', '--data-dir', o.dataDir, '--api-listen', `127.0.0.1:${ports.api}`, '--http-listen', `127.0.0.1:${ports.http}`,
      '--https-listen', `127.0.0.1:${ports.https}`, '--metrics-listen', `127.0.0.1:${ports.metrics}`, '--workers', String(o.workers ?? 2)],
    { env: { ...process.env, ORIGINPULL_API_TOKEN: '', ORIGINPULL_HEARTBEAT_INTERVAL_MS: '200', ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const serve: ServeProcess = {
    child,
    ports,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`serve exited early (${child.exitCode}):\n${out}`);
    try {
      const health = await fetch(`http://127.0.0.1:${ports.metrics}/healthz`);
      const api = await fetch(`http://127.0.0.1:${ports.api}/ssl/static/authenticated_origin_pull_ca.pem`);
      if (health.ok && api.ok) return serve;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await serve.stop();
      throw new Error(`serve did not become ready:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}
