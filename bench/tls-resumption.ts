// Visitor TLS 1.3 resumption rate on `originpull serve --workers 2`: sequential connections, each
// offering the newest session the edge gave, counted resumed or not (isSessionReused). Ticket keys
// rotate every --rotate-ms during the run, so the rate includes the connections across rotations
// (a ticket sealed with the previous key must still resume). Target (issue 19): ≥ 99 %.
// A session lasts one rotation period counted from its full handshake (OpenSSL keeps that time
// through TLS 1.3 resumptions), so with a short --rotate-ms the chain of resumptions ends in one
// full handshake per period whatever the keys do; the default period (1 h) makes that rare.
//
//   npx node bench/tls-resumption.ts [--connections 2000] [--rotate-ms 3000]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { freePort, sleep } from './lib/net.ts';

const { values: args } = parseArgs({ options: { connections: { type: 'string', default: '2000' }, 'rotate-ms': { type: 'string', default: '3000' } } });
const total = Number(args.connections);
const rotateMs = Number(args['rotate-ms']);
const MAIN = join(import.meta.dirname, '../src/cli/main.ts');
const dataDir = mkdtempSync(join(tmpdir(), 'originpull-bench-resume-'));
const ports = { api: await freePort(), http: await freePort(), https: await freePort(), metrics: await freePort() };
const child = spawn(
  process.execPath,
  [MAIN, 'serve', '--data-dir', dataDir, '--api-listen', `127.0.0.1:${ports.api}`, '--http-listen', `127.0.0.1:${ports.http}`,
    '--https-listen', `127.0.0.1:${ports.https}`, '--metrics-listen', `127.0.0.1:${ports.metrics}`, '--workers', '2', '--log-level', 'warn'],
  { env: { ...process.env, ORIGINPULL_API_TOKEN: '', ORIGINPULL_TICKET_ROTATION_MS: String(rotateMs) }, stdio: 'ignore' },
);
try {
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${ports.metrics}/healthz`)).ok) break;
    } catch {
      await sleep(150);
    }
  }
  let session: Buffer | undefined;
  let reused = 0;
  const started = Date.now();
  for (let i = 0; i < total; i++) {
    const c = tls.connect({ port: ports.https, host: '127.0.0.1', rejectUnauthorized: false, session, maxVersion: 'TLSv1.3', minVersion: 'TLSv1.3' });
    c.on('session', (s: Buffer) => (session = s));
    await once(c, 'secureConnect');
    if (i > 0 && c.isSessionReused()) reused++;
    c.end('GET / HTTP/1.1\r\nHost: bench.invalid\r\nConnection: close\r\n\r\n');
    c.resume();
    await once(c, 'close');
  }
  const seconds = (Date.now() - started) / 1000;
  const rate = reused / (total - 1);
  console.log(`TLS 1.3 resumed: ${reused}/${total - 1} = ${(rate * 100).toFixed(2)} % over ${seconds.toFixed(1)} s, ~${Math.floor((seconds * 1000) / rotateMs)} key rotations, 2 workers`);
} finally {
  child.kill('SIGTERM');
  await once(child, 'exit');
  rmSync(dataDir, { recursive: true, force: true });
}
