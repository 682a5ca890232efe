// Origin overrides per proxied hostname (docs/origin-overrides.md): a real TLS origin whose
// certificate names only origin.example.net, behind visitor names it does not cover. In `strict`
// the edge verifies against origin_sni and sends it as SNI; origin_host_header replaces the Host
// the origin sees (X-Forwarded-Host keeps the visitor's); wildcards and client certificates too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigBuilder, fingerprintOf, newCa, newInstallation, serverCert, type TestInstallation } from '../helpers/pki.ts';
import { startTlsOrigin, type EchoBody, type TestOrigin } from '../helpers/origin.ts';
import { startTestEdge, Visitor, type TestEdge } from './harness.ts';
import type { PemPair } from '../../src/pki/index.ts';
import { withOriginHost } from '../../src/edge/headers.ts';

const ORIGIN_NAME = 'origin.example.net';
let inst: TestInstallation;
let originCa: PemPair;
let origin: TestOrigin;
let edge: TestEdge;
const visitor = new Visitor();

before(async () => {
  inst = await newInstallation();
  originCa = await newCa('origin overrides CA');
  // The origin asks for the installation's client certificate (global AOP), as an AOP origin does.
  origin = await startTlsOrigin({ cert: await serverCert(originCa, [ORIGIN_NAME]), clientCa: inst.originPullCa.certPem });
  edge = await startTestEdge(inst, new ConfigBuilder(inst).build(), { originCaPem: originCa.certPem });
});

after(async () => {
  await visitor.close();
  await edge?.close();
  await origin?.close();
});

test('strict: without an override the origin certificate does not name the visitor host (526); origin_sni makes it verify, and is the SNI sent', async () => {
  const b = new ConfigBuilder(inst);
  const zone = b.zone('example.com', { sslMode: 'strict', tlsClientAuth: 'on' });
  b.record(zone, 'plain.example.com', { httpsPort: origin.port });
  b.record(zone, 'app.example.com', { httpsPort: origin.port }, { originSni: ORIGIN_NAME });
  edge.apply(b.build());

  const refused = await visitor.get(edge.httpPort, 'plain.example.com');
  assert.equal(refused.status, 526, refused.text);

  const res = await visitor.get(edge.httpPort, 'app.example.com', '/x?y=1');
  assert.equal(res.status, 200, res.text);
  const seen = res.json<EchoBody>();
  assert.equal(seen.servername, ORIGIN_NAME, 'the SNI is the override');
  assert.equal(seen.headers.host, 'app.example.com', 'without origin_host_header the visitor Host goes through');
  assert.equal(seen.fingerprint, fingerprintOf(inst.global.certPem), 'the client certificate is presented on the overridden connection');
  assert.equal(seen.url, '/x?y=1');
});

test('origin_host_header replaces the Host the origin sees; X-Forwarded-Host keeps the visitor one', async () => {
  const b = new ConfigBuilder(inst);
  const zone = b.zone('example.com', { sslMode: 'strict', tlsClientAuth: 'on' });
  b.record(zone, 'app.example.com', { httpsPort: origin.port }, { originSni: ORIGIN_NAME, originHostHeader: ORIGIN_NAME });
  b.record(zone, 'port.example.com', { httpsPort: origin.port }, { originSni: ORIGIN_NAME, originHostHeader: `${ORIGIN_NAME}:8443` });
  edge.apply(b.build());

  for (const [name, expected] of [['app.example.com', ORIGIN_NAME], ['port.example.com', `${ORIGIN_NAME}:8443`]]) {
    const res = await visitor.get(edge.httpPort, name, '/', { headers: { 'x-custom': 'kept' } });
    assert.equal(res.status, 200, res.text);
    const seen = res.json<EchoBody>();
    assert.equal(seen.headers.host, expected);
    assert.equal(seen.headers['x-forwarded-host'], name);
    assert.equal(seen.headers['x-custom'], 'kept');
    assert.equal(origin.requests.at(-1)!.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === 'host').length, 1, 'exactly one Host');
  }
  // An absolute-form target's authority stands for the visitor's Host, and is replaced the same way.
  const abs = await visitor.raw(edge.httpPort, 'app.example.com', 'http://app.example.com/abs', {});
  assert.equal(abs.status, 200, abs.text);
  assert.equal(abs.json<EchoBody>().headers.host, ORIGIN_NAME);
});

test('a wildcard record with origin_sni serves every name below it through the one origin name', async () => {
  const b = new ConfigBuilder(inst);
  const zone = b.zone('example.com', { sslMode: 'strict', tlsClientAuth: 'on' });
  b.record(zone, '*.tenants.example.com', { httpsPort: origin.port }, { originSni: ORIGIN_NAME, originHostHeader: ORIGIN_NAME });
  b.record(zone, '*.bare.example.com', { httpsPort: origin.port });
  edge.apply(b.build());
  for (const name of ['a.tenants.example.com', 'b.tenants.example.com']) {
    const res = await visitor.get(edge.httpPort, name);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json<EchoBody>().servername, ORIGIN_NAME);
    assert.equal(res.json<EchoBody>().headers['x-forwarded-host'], name);
  }
  assert.equal((await visitor.get(edge.httpPort, 'a.bare.example.com')).status, 526, 'a wildcard without the override verifies the visitor name');
});

test('full: origin_sni is sent as SNI, no verification either way', async () => {
  const b = new ConfigBuilder(inst);
  const zone = b.zone('example.com', { sslMode: 'full', tlsClientAuth: 'on' });
  b.record(zone, 'app.example.com', { httpsPort: origin.port }, { originSni: 'other-name.example.org' });
  edge.apply(b.build());
  const res = await visitor.get(edge.httpPort, 'app.example.com');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json<EchoBody>().servername, 'other-name.example.org');
});

test('withOriginHost: replaces the one Host line whatever its case, leaves X-Forwarded-Host and heads without Host alone', () => {
  const head = 'GET / HTTP/1.1\r\nUser-Agent: t\r\nHOST: app.example.com\r\nx-forwarded-host: app.example.com\r\n\r\n';
  assert.equal(withOriginHost(head, ORIGIN_NAME), `GET / HTTP/1.1\r\nUser-Agent: t\r\nhost: ${ORIGIN_NAME}\r\nx-forwarded-host: app.example.com\r\n\r\n`);
  const noHost = 'GET / HTTP/1.1\r\nhostname: x\r\nx-forwarded-host: y\r\n\r\n';
  assert.equal(withOriginHost(noHost, ORIGIN_NAME), noHost);
});
