// Cause: the newest zone certificate was presented at once even when origins must refuse it (not valid yet: warning 1300 only; an extended key usage without clientAuth: no warning at all), so a rotation failed requests until the uploader noticed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { issueCertificate } from '../../src/pki/index.ts';
import { startEdgeNode } from '../../src/sync/index.ts';
import { clientCert, fingerprintOf, newCa, serverCert } from '../helpers/pki.ts';
import { missingPeer, nginxPeer, startPeer } from '../helpers/peers.ts';
import { Visitor } from '../edge/harness.ts';
import { createZone, startApi } from '../api/harness.ts';

test('a certificate whose extended key usage leaves out clientAuth is refused at upload, nothing stored', async (t) => {
  const h = await startApi();
  t.after(() => h.close());
  const zoneId = await createZone(h, 'eku.test');
  const ca = await newCa('eku CA');
  const server = await issueCertificate({ ca, commonName: 'server only', usage: 'server', keyType: 'p256' });
  for (const base of [`/zones/${zoneId}/origin_tls_client_auth`, `/zones/${zoneId}/origin_tls_client_auth/hostnames/certificates`]) {
    const res = await h.call('POST', base, { body: { certificate: server.certPem, private_key: server.keyPem } });
    assert.equal(res.statusCode, 400, res.body);
    const [error] = res.json().errors;
    assert.equal(error.code, 1210);
    assert.match(error.message, /extended key usage is serverAuth, without clientAuth/);
    assert.equal(error.source.pointer, '/certificate');
    assert.deepEqual((await h.call('GET', base)).json().result, [], 'nothing stored');
  }
  const client = await clientCert(ca, 'client');
  assert.equal((await h.call('POST', `/zones/${zoneId}/origin_tls_client_auth`, { body: { certificate: client.certPem, private_key: client.keyPem } })).statusCode, 200);
});

test('associating a hostname certificate before its not_before is refused; the current association stays', async (t) => {
  const h = await startApi();
  t.after(() => h.close());
  const zoneId = await createZone(h, 'assoc.test');
  const ca = await newCa('assoc CA');
  const base = `/zones/${zoneId}/origin_tls_client_auth/hostnames`;
  const up = async (pair: { certPem: string; keyPem: string }) =>
    (await h.call('POST', `${base}/certificates`, { body: { certificate: pair.certPem, private_key: pair.keyPem } })).json().result.id as string;
  const now = await up(await clientCert(ca, 'now'));
  const later = await up(await clientCert(ca, 'later', { notBefore: new Date(Date.now() + 3_600_000) }));
  assert.equal((await h.call('PUT', base, { body: { config: [{ hostname: 'app.assoc.test', cert_id: now, enabled: true }] } })).statusCode, 200);
  const refused = await h.call('PUT', base, { body: { config: [{ hostname: 'app.assoc.test', cert_id: later, enabled: true }] } });
  assert.equal(refused.statusCode, 400, refused.body);
  assert.equal(refused.json().errors[0].code, 1143);
  assert.match(refused.json().errors[0].message, /is not valid until .*app\.assoc\.test keeps its current certificate/);
  assert.equal((await h.call('GET', `${base}/app.assoc.test`)).json().result.cert_id, now);
});

test('nginx (ssl_verify_client on): a not-yet-valid zone certificate uploaded on top fails no request, and is presented from its not_before', async (t) => {
  const ca = await newCa('rotation CA');
  const server = await serverCert(await newCa('origin server CA'), ['origin.test']);
  const nginx = nginxPeer({
    files: { 'server.crt': server.certPem, 'server.key': server.keyPem, 'ca.pem': ca.certPem },
    snippet: (ctx) => `
    server {
        listen 127.0.0.1:${ctx.port} ssl;
        ssl_certificate ${ctx.path('server.crt')};
        ssl_certificate_key ${ctx.path('server.key')};
        ssl_client_certificate ${ctx.path('ca.pem')};
        ssl_verify_client on;
        location / {
            return 200 "$ssl_client_fingerprint\\n";
        }
    }`,
  });
  const missing = missingPeer(nginx);
  if (missing) return t.skip(missing);
  const peer = await startPeer(nginx);
  t.after(() => peer.stop());
  const h = await startApi();
  t.after(() => h.close());
  const config = loadConfig({ env: {}, flags: { httpListen: '127.0.0.1:0', httpsListen: '127.0.0.1:0', metricsListen: '127.0.0.1:0', heartbeatIntervalMs: 200 } });
  const node = await startEdgeNode({ store: h.store, secretBox: h.secretBox, config, logger: pino({ level: 'silent' }), nodeName: 'rotation' });
  t.after(() => node.destroy());
  const visitor = new Visitor();
  t.after(() => visitor.close());

  const zoneId = await createZone(h, 'rotation.test');
  const ok200 = async (res: { statusCode: number; body: string }) => assert.equal(res.statusCode, 200, res.body);
  await ok200(await h.call('PATCH', `/zones/${zoneId}/settings/ssl`, { body: { value: 'full' } }));
  await ok200(await h.call('PUT', `/zones/${zoneId}/origin_tls_client_auth/settings`, { body: { enabled: true } }));
  await ok200(
    await h.call('POST', `/zones/${zoneId}/dns_records`, {
      body: { type: 'A', name: 'www.rotation.test', content: '127.0.0.1', proxied: true, origin_https_port: peer.port },
    }),
  );
  const current = await clientCert(ca, 'current');
  await ok200(await h.call('POST', `/zones/${zoneId}/origin_tls_client_auth?wait=active`, { body: { certificate: current.certPem, private_key: current.keyPem } }));

  // nginx's $ssl_client_fingerprint is the SHA-1 of the certificate it verified.
  const sha1 = (pem: string) => new X509Certificate(pem).fingerprint.replaceAll(':', '').toLowerCase();
  const served: string[] = [];
  let failed = 0;
  let total = 0;
  let stop = false;
  const load = (async () => {
    while (!stop) {
      const res = await visitor.get(node.addresses.http!.port, 'www.rotation.test').catch((err: Error) => ({ status: 0, text: err.message }));
      total++;
      if (res.status !== 200) failed++;
      else if (served.at(-1) !== res.text.trim()) served.push(res.text.trim());
      await sleep(10);
    }
  })();
  // Valid in about 3 s: accepted with warning 1300, deployed to the edge, but not presented yet.
  const notBefore = new Date(Math.ceil((Date.now() + 3_500) / 1000) * 1000);
  const next = await clientCert(ca, 'next', { notBefore });
  let before: { certificate: { fingerprint_sha256: string }; deferred: { id: string; reason: string; not_before: string }; explanation: string } | undefined;
  let uploadedId = '';
  try {
    await sleep(300);
    const uploaded = await h.call('POST', `/zones/${zoneId}/origin_tls_client_auth?wait=active`, { body: { certificate: next.certPem, private_key: next.keyPem } });
    await ok200(uploaded);
    assert.equal(uploaded.json().messages[0].code, 1300);
    assert.equal(uploaded.json().result.status, 'active', 'deployed to the edge');

    before = (await h.call('GET', `/zones/${zoneId}/origin_tls_client_auth/effective/www.rotation.test`)).json().result;
    uploadedId = uploaded.json().result.id;
    // No API call from here on: the edge switches by itself at not_before.
    const deadline = notBefore.getTime() + 10_000;
    while (served.at(-1) !== sha1(next.certPem) && Date.now() < deadline) await sleep(50);
    await sleep(300);
  } finally {
    stop = true;
    await load;
  }
  assert.equal(failed, 0, `${failed} of ${total} requests failed`);
  // Before not_before, the effective endpoint said which one is presented and why.
  assert.equal(before?.certificate.fingerprint_sha256, fingerprintOf(current.certPem), 'the valid one is presented');
  assert.equal(before?.deferred.id, uploadedId);
  assert.equal(before?.deferred.reason, 'not_yet_valid');
  assert.equal(before?.deferred.not_before, notBefore.toISOString());
  assert.match(before?.explanation ?? '', /is not valid until .* the edges present it from then on/);
  assert.deepEqual(served, [sha1(current.certPem), sha1(next.certPem)], 'the current certificate until not_before, the next one after');
  const eff = (await h.call('GET', `/zones/${zoneId}/origin_tls_client_auth/effective/www.rotation.test`)).json().result;
  assert.equal(eff.certificate.fingerprint_sha256, fingerprintOf(next.certPem));
  assert.equal(eff.deferred, undefined);
});
