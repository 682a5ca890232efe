// `originpull serve` as a user runs it with an ACME directory in its environment (Pebble here):
// a proxied record created through the SDK gets a certificate with no other step, and the edge
// worker processes serve it to a client that trusts only Pebble's root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import Cloudflare from 'cloudflare';
import { freePort } from '../helpers/peers.ts';
import { pebbleMissing, startPebble } from '../helpers/pebble.ts';
import { startHttpOrigin } from '../helpers/origin.ts';
import { startServe } from '../helpers/serve-process.ts';

const skip = pebbleMissing();

test('serve with ORIGINPULL_ACME_DIRECTORY: a proxied record gets a browser-trusted certificate on its own', { skip, timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'originpull-serve-acme-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ports = { api: await freePort(), http: await freePort(), https: await freePort(), metrics: await freePort() };
  const pebble = await startPebble({ httpPort: ports.http, tlsPort: ports.https });
  t.after(() => pebble.stop());
  const origin = await startHttpOrigin({
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('served');
    },
  });
  t.after(() => origin.close());
  // Pebble validates on the edge's own ports, so serve gets exactly these (no retry elsewhere).
  const serve = await startServe({
    dataDir: dir,
    ports,
    env: { ORIGINPULL_ACME_DIRECTORY: pebble.directoryUrl, ORIGINPULL_ACME_CA_FILE: pebble.tlsCaFile, ORIGINPULL_ACME_EMAIL: 'ops@serve.test' },
  });
  t.after(() => serve.stop());
  const token = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
  const cf = new Cloudflare({ apiToken: token, baseURL: `http://127.0.0.1:${ports.api}/client/v4`, maxRetries: 0 });
  const [account] = (await cf.accounts.list()).result;
  const zone_id = (await cf.zones.create({ account: { id: account.id }, name: 'serve.test' })).id;
  await cf.zones.settings.edit('ssl', { zone_id, value: 'flexible' });
  await cf.dns.records.create({ zone_id, type: 'A', name: 'www.serve.test', content: '127.0.0.1', proxied: true, ttl: 1, origin_http_port: origin.port } as Parameters<typeof cf.dns.records.create>[0]);

  const until = Date.now() + 120_000;
  let pack;
  for (;;) {
    pack = (await cf.ssl.certificatePacks.list({ zone_id })).result[0];
    if (pack?.status === 'active') break;
    if (Date.now() > until) throw new Error(`no active pack: ${JSON.stringify(pack)}\n${serve.output()}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  const root = await pebble.root();
  // Two worker processes: several handshakes, each must present the pack's certificate, verified.
  for (let i = 0; i < 6; i++) {
    const served = await new Promise<{ authorized: boolean; fingerprint: string }>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: ports.https, servername: 'www.serve.test', ca: root }, () => {
        resolve({ authorized: socket.authorized, fingerprint: (socket.getPeerCertificate() as PeerCertificate).fingerprint256.replaceAll(':', '').toLowerCase() });
        socket.end();
      });
      socket.on('error', reject);
    });
    assert.deepEqual(served, { authorized: true, fingerprint: (pack.certificates[0] as { fingerprint_sha256?: string }).fingerprint_sha256 });
  }
});
