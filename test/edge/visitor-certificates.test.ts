// Custom edge certificates over real TLS: a client trusting only the uploaded certificate's CA
// completes a verified handshake for its names, exact SAN beats wildcard and priority decides
// between equals, the edge-CA fallback serves only when on, and names without any certificate
// get a TLS unrecognized_name alert (from node:tls and from openssl s_client).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { EdgeCertificates } from '../../src/edge/edge-certificates.ts';
import { issueCertificate } from '../../src/pki/index.ts';
import { buildSnapshot } from '../../src/sync/index.ts';
import { serveCertificates } from '../helpers/edge-tls-server.ts';
import { ConfigBuilder, fingerprintOf, newCa, newInstallation } from '../helpers/pki.ts';


test('visitors get the custom certificate for its names, by specificity then priority; others get unrecognized_name', async (t) => {
  const installation = await newInstallation();
  const config = new ConfigBuilder(installation);
  const zone = config.zone('example.com');
  config.record(zone, 'www.example.com', {});
  config.record(zone, 'api.example.com', {});
  config.record(zone, 'plain.other.test', {});
  const ca = await newCa('Visitor CA');
  const server = (names: string[]) => issueCertificate({ ca, commonName: names[0], usage: 'server', dnsNames: names, keyType: 'p256', days: 10 });
  const wildLow = await server(['*.example.com']);
  const wildHigh = await server(['*.example.com', 'example.com']);
  const www = await server(['www.example.com']);
  config.edgeCert(zone, wildHigh, { priority: 5 });
  config.edgeCert(zone, wildLow, { priority: 1 });
  config.edgeCert(zone, www);

  for (const fallback of [true, false]) {
    const certs = new EdgeCertificates({ fallback });
    certs.setSnapshot(buildSnapshot(config.build(), installation.secretBox));
    const s = await serveCertificates(certs);
    t.after(() => s.close());
    const fp = async (name: string) => (await s.connect(name, ca.certPem)).fingerprint256.replaceAll(':', '').toLowerCase();
    assert.equal(await fp('www.example.com'), fingerprintOf(www.certPem), 'exact SAN beats a higher-priority wildcard');
    assert.equal(await fp('api.example.com'), fingerprintOf(wildHigh.certPem), 'priority 5 beats priority 1');
    assert.equal(await fp('example.com'), fingerprintOf(wildHigh.certPem));
    await assert.rejects(s.connect('a.b.example.com', ca.certPem), { code: 'ERR_SSL_TLSV1_UNRECOGNIZED_NAME' });
    await assert.rejects(s.connect('unknown.invalid', ca.certPem), { code: 'ERR_SSL_TLSV1_UNRECOGNIZED_NAME' });
    if (fallback) {
      // A proxied name no custom certificate covers: the edge CA's certificate.
      const peer = await s.connect('plain.other.test', installation.pki.edgeCaPem);
      assert.match(peer.subjectaltname ?? '', /plain\.other\.test/);
    } else {
      await assert.rejects(s.connect('plain.other.test', installation.pki.edgeCaPem), { code: 'ERR_SSL_TLSV1_UNRECOGNIZED_NAME' });
    }
    // Not spawnSync: the server answers on this process's event loop.
    const output = await new Promise<string>((resolve) => {
      const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${s.port}`, '-servername', 'unknown.invalid'], { timeout: 20_000 });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (out += d));
      child.stdin.end();
      child.on('close', () => resolve(out));
    });
    assert.match(output, /unrecognized name/i);
    // An address sent as SNI (RFC 6066 forbids it; wrk and others do it) is no name: the default
    // certificate answers, as it does a client that sends none.
    const byAddress = await new Promise<string>((resolve) => {
      const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${s.port}`, '-servername', '127.0.0.1'], { timeout: 20_000 });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (out += d));
      child.stdin.end();
      child.on('close', () => resolve(out));
    });
    assert.doesNotMatch(byAddress, /unrecognized name|alert/i);
    assert.match(byAddress, /subject=CN\s?=\s?originpull-edge\.invalid/);
    s.close();
  }
});
