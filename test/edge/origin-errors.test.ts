// Origin failures become Cloudflare's 52x within the configured timeouts, `strict` verifies the
// origin's certificate (526) while `full` does not, and the edge stays healthy throughout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { createCa } from '../../src/pki/index.ts';
import { ConfigBuilder, newCa, newInstallation, serverCert, type TestInstallation } from '../helpers/pki.ts';
import { startHttpOrigin, startTlsOrigin, type TestOrigin } from '../helpers/origin.ts';
import { startTestEdge, Visitor, type TestEdge } from './harness.ts';
import type { Zone } from '../../src/domain/index.ts';
import type { PemPair } from '../../src/pki/index.ts';

let inst: TestInstallation;
let trustedCa: PemPair;
const origins: TestOrigin[] = [];
const servers: (net.Server | http.Server)[] = [];
const visitor = new Visitor();

const RESPONSE_MS = 600;
const CONNECT_MS = 400;

function listenRaw(onConnection: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer(onConnection);
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let edge: TestEdge;
let zones: Record<'strict' | 'full' | 'flex' | 'tls12', Zone>;

before(async () => {
  inst = await newInstallation();
  trustedCa = await newCa('origin CA in the bundle');
  const past = { notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) };
  const clientCa = inst.originPullCa.certPem;
  const good = await startTlsOrigin({ cert: await serverCert(trustedCa, ['good.strict.test', 'good.full.test']), clientCa });
  const selfSignedPair = await createCa({ commonName: 'selfsigned.strict.test', keyType: 'p256' });
  const selfSigned = await startTlsOrigin({ cert: selfSignedPair, clientCa });
  const wrongName = await startTlsOrigin({ cert: await serverCert(trustedCa, ['somewhere-else.test']), clientCa });
  const expired = await startTlsOrigin({ cert: await serverCert(trustedCa, ['expired.strict.test', 'expired.full.test'], past), clientCa });
  const tls12 = await startTlsOrigin({ cert: await serverCert(trustedCa, ['x.test']), clientCa, maxVersion: 'TLSv1.2' });
  const slow = await startTlsOrigin({ cert: await serverCert(trustedCa, ['x.test']), clientCa, handler: () => {} });
  const resetPlain = await startHttpOrigin({ handler: (req) => req.socket.destroy() });
  origins.push(good, selfSigned, wrongName, expired, tls12, slow, resetPlain);
  const silentPort = await listenRaw(() => {}); // accepts TCP, never speaks TLS
  const resetPort = await listenRaw((s) => s.resetAndDestroy());
  const refusedPort = await closedPort();

  const b = new ConfigBuilder(inst);
  zones = {
    strict: b.zone('strict.test', { sslMode: 'strict', tlsClientAuth: 'on' }),
    full: b.zone('full.test', { sslMode: 'full', tlsClientAuth: 'on' }),
    flex: b.zone('flex.test', { sslMode: 'flexible' }),
    tls12: b.zone('tls12.test', { sslMode: 'full' }),
  };
  for (const mode of ['strict', 'full'] as const) {
    const z = zones[mode];
    b.record(z, `good.${mode}.test`, { httpsPort: good.port });
    b.record(z, `selfsigned.${mode}.test`, { httpsPort: selfSigned.port });
    b.record(z, `wrongname.${mode}.test`, { httpsPort: wrongName.port });
    b.record(z, `expired.${mode}.test`, { httpsPort: expired.port });
  }
  const full = zones.full;
  b.record(full, 'refused.full.test', { httpsPort: refusedPort });
  b.record(full, 'silent.full.test', { httpsPort: silentPort });
  b.record(full, 'reset.full.test', { httpsPort: resetPort });
  b.record(full, 'slow.full.test', { httpsPort: slow.port });
  b.record(full, 'dns.full.test', { host: 'no-such-origin.invalid', httpsPort: 443 }, { type: 'CNAME' });
  b.record(zones.flex, 'reset.flex.test', { httpPort: resetPlain.port });
  b.record(zones.tls12, 'noclient.tls12.test', { httpsPort: tls12.port });

  edge = await startTestEdge(inst, b.build(), {
    timeouts: { connectMs: CONNECT_MS, responseMs: RESPONSE_MS, keepAliveMs: 5_000 },
    originCaPem: trustedCa.certPem,
  });
});

after(async () => {
  await visitor.close();
  await edge.close();
  for (const o of origins) await o.close();
  for (const s of servers) s.close();
});

async function expectStatus(host: string, status: number, code?: string, maxMs = 3_000) {
  const started = performance.now();
  const res = await visitor.get(edge.httpPort, host, '/', { headers: { accept: 'application/json' } });
  const ms = performance.now() - started;
  assert.equal(res.status, status, `${host}: ${res.text}`);
  if (code !== undefined) assert.equal(res.json().code, code, res.text);
  assert.ok(ms < maxMs, `${host} took ${Math.round(ms)} ms`);
  return { res, ms };
}

test('strict accepts an origin certificate that chains to the bundle and names the host', async () => {
  await expectStatus('good.strict.test', 200);
});

test('strict: self-signed, wrong name and expired origin certificates → 526', async () => {
  await expectStatus('selfsigned.strict.test', 526, 'origin_certificate_invalid');
  await expectStatus('wrongname.strict.test', 526, 'origin_certificate_invalid');
  await expectStatus('expired.strict.test', 526, 'origin_certificate_invalid');
});

test('full does not verify the origin certificate: the same origins pass', async () => {
  await expectStatus('selfsigned.full.test', 200);
  await expectStatus('wrongname.full.test', 200);
  await expectStatus('expired.full.test', 200);
});

test('refused → 521', async () => {
  await expectStatus('refused.full.test', 521, 'origin_refused');
});

test('TCP accepted but no TLS handshake → 522 after the connect timeout', async () => {
  const { ms } = await expectStatus('silent.full.test', 522, 'origin_connect_timeout');
  assert.ok(ms >= CONNECT_MS - 50, `answered after ${Math.round(ms)} ms, before the connect timeout`);
});

test('unresolvable origin → 523', async () => {
  await expectStatus('dns.full.test', 523, 'origin_unreachable', 10_000);
});

test('no response headers within the response timeout → 524', async () => {
  const { ms } = await expectStatus('slow.full.test', 524, 'origin_response_timeout');
  assert.ok(ms >= RESPONSE_MS - 50, `answered after ${Math.round(ms)} ms`);
});

test('connection reset during the TLS handshake → 525', async () => {
  await expectStatus('reset.full.test', 525, 'origin_tls_handshake_failed');
});

test('TLS 1.2 origin refusing the missing client certificate in the handshake → 525', async () => {
  await expectStatus('noclient.tls12.test', 525, 'origin_tls_handshake_failed');
});

test('plain HTTP origin resetting the request → 502', async () => {
  await expectStatus('reset.flex.test', 502, 'origin_error');
});

test('the edge stays healthy after all that, and counts 52x by cause', async () => {
  await expectStatus('good.full.test', 200);
  const metrics = await edge.registry.metrics();
  assert.match(metrics, /originpull_edge_origin_errors_total\{status="526",code="origin_certificate_invalid"\} 3/);
  assert.match(metrics, /originpull_edge_origin_errors_total\{status="524",code="origin_response_timeout"\} 1/);
  assert.match(metrics, /originpull_edge_requests_total\{status="200"\} \d+/);
});

test('52x pages name what failed and keep the server internals (addresses, TLS stack messages, advice) out', async () => {
  const hosts = ['refused.full.test', 'silent.full.test', 'reset.full.test', 'slow.full.test', 'dns.full.test', 'selfsigned.strict.test', 'wrongname.strict.test', 'expired.strict.test'];
  for (const host of hosts) {
    for (const accept of ['application/json', 'text/html']) {
      const res = await visitor.get(edge.httpPort, host, '/', { headers: { accept } });
      assert.ok(res.status >= 502 && res.status <= 526, `${host}: ${res.status}`);
      assert.doesNotMatch(res.text, /127\.0\.0\.1|E[A-Z]{4,}|Node|--use-system-ca|self-signed|IP:|no-such-origin\.invalid|expired:/, `${host} (${accept}): ${res.text}`);
    }
  }
});
