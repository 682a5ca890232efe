// The product as a user meets it: `originpull serve` started as a process on a fresh data dir,
// driven by the official `cloudflare` SDK, proxying to a real origin that requires client
// certificates — global, zone-level and per-hostname AOP, a zero-downtime zone certificate
// replacement, and a restart that keeps everything.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Cloudflare from 'cloudflare';
import { startTlsOrigin, type TestOrigin, type EchoBody } from '../helpers/origin.ts';
import { newCa, clientCert, serverCert, fingerprintOf } from '../helpers/pki.ts';
import { startServe, type ServePorts, type ServeProcess } from '../helpers/serve-process.ts';
import type { PemPair } from '../../src/pki/index.ts';

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 4 });
const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');

/** A request through the edge's HTTP listener; returns what the origin saw. */
// node:http rather than fetch: fetch may not set the Host header, and routing is by Host.
async function viaEdge(ports: ServePorts, host: string): Promise<{ status: number; echo: EchoBody | null; ray: string | null; text: string }> {
  const res = await new Promise<{ status: number; ray: string | null; text: string }>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: ports.http, path: '/probe', headers: { host }, agent: keepAlive }, (r) => {
      let text = '';
      r.setEncoding('utf8');
      r.on('data', (d) => (text += d));
      r.on('end', () => resolve({ status: r.statusCode!, ray: (r.headers['cf-ray'] as string) ?? null, text }));
    });
    req.on('error', reject);
  });
  const text = res.text;
  let echo: EchoBody | null = null;
  try {
    echo = JSON.parse(text) as EchoBody;
  } catch {
    // an edge error page
  }
  return { status: res.status, echo, ray: res.ray, text };
}

async function eventually<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T;
  for (;;) {
    last = await fn();
    if (ok(last)) return last;
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let dataDir: string;
let ports: ServePorts;
let serve: ServeProcess;
let origin: TestOrigin;
let userCa: PemPair;
let sdk: Cloudflare;
let globalCaPem: string;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'originpull-e2e-'));
  serve = await startServe({ dataDir });
  ports = serve.ports;
  globalCaPem = await (await fetch(`http://127.0.0.1:${ports.api}/ssl/static/authenticated_origin_pull_ca.pem`)).text();
  userCa = await newCa('example.com');
  const originCa = await newCa('origin server CA');
  // The origin trusts the installation's origin-pull CA (global AOP) and the user's own CA.
  origin = await startTlsOrigin({ cert: await serverCert(originCa, ['app.example.com', 'api.example.com']), clientCa: [globalCaPem, userCa.certPem] });
  const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  sdk = new Cloudflare({ apiToken: token, baseURL: `http://127.0.0.1:${ports.api}/client/v4`, maxRetries: 0 });
});

after(async () => {
  await serve?.stop();
  keepAlive.destroy();
  await origin?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('first start writes the admin token with mode 0600 and prints it once', () => {
  const mode = statSync(join(dataDir, 'admin-token')).mode & 0o777;
  assert.equal(mode, 0o600);
  const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  assert.ok(serve.output().includes(token), 'token printed on first start');
});

test('a user walks through global, zone-level and per-hostname AOP with the official SDK', async (t) => {
  const account = (await sdk.accounts.list()).result[0];
  const zone = await sdk.zones.create({ account: { id: account.id }, name: 'example.com' });
  for (const name of ['app.example.com', 'api.example.com']) {
    await sdk.dns.records.create({
      zone_id: zone.id,
      type: 'A',
      name,
      content: '127.0.0.1',
      proxied: true,
      // originpull extension fields: the origin's ports.
      ...({ origin_https_port: origin.port } as object),
    } as Parameters<typeof sdk.dns.records.create>[0]);
  }

  await t.test('no AOP: the enforcing origin refuses the edge → 525 with a ray id', async () => {
    const r = await eventually('edge learns the hostname', () => viaEdge(ports, 'app.example.com'), (v) => v.status !== 404);
    assert.equal(r.status, 525, r.text);
    assert.ok(r.ray && r.text.includes(r.ray), 'the page names the ray id');
  });

  await t.test('global AOP (tls_client_auth on) presents the installation certificate', async () => {
    const setting = await sdk.zones.settings.edit('tls_client_auth', { zone_id: zone.id, value: 'on' } as never);
    assert.equal((setting as { value?: string }).value, 'on');
    const r = await eventually('global cert presented', () => viaEdge(ports, 'app.example.com'), (v) => v.status === 200);
    const effective = await (await fetch(`http://127.0.0.1:${ports.api}/client/v4/zones/${zone.id}/origin_tls_client_auth/effective/app.example.com`, {
      headers: { authorization: `Bearer ${readFileSync(join(dataDir, 'admin-token'), 'utf8').trim()}` },
    })).json() as { result: { level: string; certificate: { fingerprint_sha256: string } | null } };
    assert.equal(effective.result.level, 'global');
    assert.equal(r.echo!.fingerprint, effective.result.certificate!.fingerprint_sha256);
    assert.equal(r.echo!.headers['cf-connecting-ip'], '127.0.0.1');
    assert.equal(r.echo!.headers['x-forwarded-proto'], 'http');
  });

  await t.test('visitor HTTPS: the edge certificate for the SNI name verifies against the downloadable edge CA', async () => {
    const edgeCa = await (await fetch(`http://127.0.0.1:${ports.api}/ssl/static/edge_ca.pem`)).text();
    const { status, body, subjectAltName } = await new Promise<{ status: number; body: string; subjectAltName: string }>((resolve, reject) => {
      const req = https.get(
        { host: '127.0.0.1', port: ports.https, path: '/', servername: 'app.example.com', headers: { host: 'app.example.com' }, ca: edgeCa },
        (res) => {
          let body = '';
          const subjectAltName = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().subjectaltname ?? '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, body, subjectAltName }));
        },
      );
      req.on('error', reject);
    });
    assert.equal(status, 200);
    assert.match(subjectAltName, /DNS:app\.example\.com/);
    assert.equal((JSON.parse(body) as EchoBody).headers['x-forwarded-proto'], 'https');
  });

  const zoneCertA = await clientCert(userCa, 'example.com');
  let zoneCertAId = '';
  await t.test('zone-level AOP: upload, enable, becomes active, then presented', async () => {
    const uploaded = await sdk.originTLSClientAuth.zoneCertificates.create({ zone_id: zone.id, certificate: zoneCertA.certPem, private_key: zoneCertA.keyPem });
    zoneCertAId = uploaded.id!;
    assert.ok(['pending_deployment', 'active'].includes(uploaded.status!), uploaded.status);
    await sdk.originTLSClientAuth.settings.update({ zone_id: zone.id, enabled: true });
    await eventually('zone cert active', () => sdk.originTLSClientAuth.zoneCertificates.get(zoneCertAId, { zone_id: zone.id }), (c) => c.status === 'active');
    const r = await eventually('zone cert presented', () => viaEdge(ports, 'app.example.com'), (v) => v.echo?.fingerprint === fingerprintOf(zoneCertA.certPem));
    assert.equal(r.status, 200);
  });

  const hostCert = await clientCert(userCa, 'api.example.com');
  await t.test('per-hostname AOP beats the zone certificate for its hostname only', async () => {
    const uploaded = await sdk.originTLSClientAuth.hostnameCertificates.create({ zone_id: zone.id, certificate: hostCert.certPem, private_key: hostCert.keyPem });
    const page = await sdk.originTLSClientAuth.hostnames.update({ zone_id: zone.id, config: [{ hostname: 'api.example.com', cert_id: uploaded.id, enabled: true }] });
    assert.equal(page.result[0].hostname, 'api.example.com');
    await eventually('association active', () => sdk.originTLSClientAuth.hostnames.get('api.example.com', { zone_id: zone.id }), (a) => a.status === 'active');
    const api = await viaEdge(ports, 'api.example.com');
    assert.equal(api.echo?.fingerprint, fingerprintOf(hostCert.certPem));
    const app = await viaEdge(ports, 'app.example.com');
    assert.equal(app.echo?.fingerprint, fingerprintOf(zoneCertA.certPem));
  });

  await t.test('the `originpull upload` CLI binds a hostname certificate and waits until it is active', async () => {
    const pair = await clientCert(userCa, 'api.example.com');
    const dir = mkdtempSync(join(tmpdir(), 'originpull-upload-'));
    writeFileSync(join(dir, 'api.crt'), pair.certPem);
    writeFileSync(join(dir, 'api.key'), pair.keyPem);
    const run = spawnSync(
      process.execPath,
      [MAIN, 'upload', '--zone', 'example.com', '--cert', join(dir, 'api.crt'), '--key', join(dir, 'api.key'), '--hostname', 'api.example.com', '--wait', '--json', '--api', `http://127.0.0.1:${ports.api}`, '--data-dir', dataDir],
      { encoding: 'utf8', env: { ...process.env, ORIGINPULL_API_TOKEN: '' }, timeout: 60_000 },
    );
    rmSync(dir, { recursive: true, force: true });
    assert.equal(run.status, 0, run.stderr + run.stdout);
    const r = await eventually('uploaded hostname cert presented', () => viaEdge(ports, 'api.example.com'), (v) => v.echo?.fingerprint === fingerprintOf(pair.certPem));
    assert.equal(r.status, 200);
  });

  await t.test('zero-downtime replacement: upload new, wait for active, delete old — no failed request', async () => {
    let failures = 0;
    let requests = 0;
    let running = true;
    const load = (async () => {
      while (running) {
        const r = await viaEdge(ports, 'app.example.com');
        requests++;
        if (r.status !== 200) failures++;
      }
    })();
    // Requests in flight before the replacement starts and after it ends, however fast it goes.
    const served = async (n: number) => {
      while (requests < n) await new Promise((r) => setTimeout(r, 5));
    };
    await served(5);
    const zoneCertB = await clientCert(userCa, 'example.com');
    const uploaded = await sdk.originTLSClientAuth.zoneCertificates.create({ zone_id: zone.id, certificate: zoneCertB.certPem, private_key: zoneCertB.keyPem });
    await eventually('new cert active', () => sdk.originTLSClientAuth.zoneCertificates.get(uploaded.id!, { zone_id: zone.id }), (c) => c.status === 'active');
    const deleted = await sdk.originTLSClientAuth.zoneCertificates.delete(zoneCertAId, { zone_id: zone.id });
    assert.ok(['pending_deletion', 'deleted'].includes(deleted.status!), deleted.status);
    await eventually('new cert presented', () => viaEdge(ports, 'app.example.com'), (v) => v.echo?.fingerprint === fingerprintOf(zoneCertB.certPem));
    await served(requests + 5);
    running = false;
    await load;
    assert.ok(requests >= 10, `load ran (${requests} requests)`);
    assert.equal(failures, 0, `${failures} of ${requests} requests failed during the replacement`);
    const list = await sdk.originTLSClientAuth.zoneCertificates.list({ zone_id: zone.id });
    const ids = list.result.map((c) => c.id);
    assert.ok(ids.includes(uploaded.id));
  });
});

test('a restart keeps zones, certificates and settings, and the edge serves them at once', async () => {
  const before = await sdk.zones.list({ name: 'example.com' });
  assert.equal(before.result.length, 1);
  await serve.stop();
  // The same ports: a restart where it ran.
  serve = await startServe({ dataDir, ports });
  assert.ok(!serve.output().includes('admin API token (shown once'), 'the token is not printed again');
  const zones = await sdk.zones.list({ name: 'example.com' });
  assert.equal(zones.result[0].id, before.result[0].id);
  const certs = await sdk.originTLSClientAuth.zoneCertificates.list({ zone_id: zones.result[0].id });
  assert.equal(certs.result.filter((c) => c.status === 'active').length >= 1, true);
  const r = await eventually('edge serves after restart', () => viaEdge(ports, 'api.example.com'), (v) => v.status === 200);
  assert.ok(r.echo?.fingerprint, 'a client certificate is presented after the restart');
});
