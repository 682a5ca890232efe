// Visitor TLS resumption on `originpull serve --workers 2`: session tickets (TLS 1.3 and 1.2)
// resume on whichever worker a connection lands, because the key ring comes from the store, not
// from the process; TLS 1.2 session IDs resume only on the worker that made them (a per-process
// cache), so some reconnections resume and some do not. Checked with `openssl s_client`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, type ServePorts, type ServeProcess } from '../helpers/serve-process.ts';
import { sClient } from '../helpers/s-client.ts';

const RECONNECTS = 10;

let dataDir: string;
let ports: ServePorts;
let serve: ServeProcess;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'originpull-e2e-tickets-'));
  serve = await startServe({ dataDir });
  ports = serve.ports;
});

after(async () => {
  await serve?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The worker (pid) that logged each request, in order. */
function requestPids(): number[] {
  return serve
    .output()
    .split('\n')
    .filter((l) => l.includes('"msg":"request"') && l.includes('tickets.invalid'))
    .map((l) => (JSON.parse(l) as { pid: number }).pid);
}

test('session tickets resume across the two workers, TLS 1.3 and 1.2', async () => {
  for (const extra of [[], ['-tls1_2']]) {
    const file = join(dataDir, `sess-${extra.length}`);
    const first = await sClient(ports.https, { sessOut: file, extra });
    assert.equal(first.handshake, 'New');
    assert.equal(first.protocol, extra.length === 0 ? 'TLSv1.3' : 'TLSv1.2');
    const seen = requestPids().length;
    for (let i = 0; i < RECONNECTS; i++) assert.equal((await sClient(ports.https, { sessIn: file, extra })).handshake, 'Reused', `${first.protocol} reconnection ${i}`);
    // The log is written asynchronously by the workers.
    const deadline = Date.now() + 10_000;
    while (requestPids().length < seen + RECONNECTS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const pids = new Set(requestPids().slice(seen));
    assert.equal(pids.size, 2, `the reconnections reached both workers (${[...pids].join(', ')})`);
  }
});

test('TLS 1.2 session IDs resume only on the worker that made them', async () => {
  const file = join(dataDir, 'sess-id');
  const noTicket = ['-tls1_2', '-no_ticket'];
  assert.equal((await sClient(ports.https, { sessOut: file, extra: noTicket })).handshake, 'New');
  const results: string[] = [];
  for (let i = 0; i < RECONNECTS; i++) results.push((await sClient(ports.https, { sessIn: file, extra: noTicket })).handshake);
  assert.ok(results.includes('Reused'), `some reconnection reached the worker holding the session: ${results.join(' ')}`);
});
