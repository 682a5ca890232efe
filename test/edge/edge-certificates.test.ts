// Edge certificates without @peculiar/x509: the edge command's module graph must not load it
// (~12 MiB of RSS), certificates issued per SNI still chain to the edge CA over real TLS, and the
// throw-away CA used when the configuration has none yet still works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { EMPTY_SNAPSHOT, type Route, type Snapshot } from '../../src/edge/index.ts';
import { EdgeCertificates } from '../../src/edge/edge-certificates.ts';
import { createCa, type PemPair } from '../../src/pki/index.ts';
import { serveCertificates } from '../helpers/edge-tls-server.ts';
import { fingerprintOf } from '../helpers/pki.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// Records every URL the loader resolves (Node 24's synchronous hooks see static and dynamic
// imports, ESM and CommonJS alike), imports the edge command, and prints what was resolved.
const PROBE = `
import { registerHooks } from 'node:module';
const urls = [];
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); urls.push(r.url); return r; } });
await import(${JSON.stringify(new URL('../../src/cli/edge.ts', import.meta.url).href)});
process.stdout.write(JSON.stringify(urls));
`;

test('the edge command does not load @peculiar/x509', () => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const urls = JSON.parse(r.stdout) as string[];
  // The probe must have seen the edge's own modules, or an empty list would pass.
  assert.ok(urls.some((u) => u.endsWith('/src/edge/edge-certificates.ts')), 'probe saw the edge modules');
  assert.deepEqual(
    urls.filter((u) => u.includes('@peculiar/x509') || u.includes('/src/pki/index.ts')),
    [],
  );
});

function snapshotWith(ca: PemPair, names: string[]): Snapshot {
  const route = (name: string) => ({ name, wildcard: name.startsWith('*.') }) as Route;
  return {
    ...EMPTY_SNAPSHOT,
    exact: new Map(names.filter((n) => !n.startsWith('*.')).map((n) => [n, route(n)])),
    wildcards: new Map(names.filter((n) => n.startsWith('*.')).map((n) => [n, route(n)])),
    edgeCa: { certPem: ca.certPem, keyPem: ca.keyPem, fingerprint: fingerprintOf(ca.certPem) },
  };
}


for (const keyType of ['p256', 'rsa2048'] as const) {
  test(`certificates per SNI chain to a ${keyType} edge CA over TLS`, async () => {
    const ca = await createCa({ commonName: `edge CA ${keyType}`, organization: 'originpull tests', keyType, days: 30 });
    const certs = new EdgeCertificates();
    certs.setSnapshot(snapshotWith(ca, ['www.certs.test', '*.wild.certs.test']));
    const server = await serveCertificates(certs);
    try {
      const exact = await server.connect('www.certs.test', ca.certPem);
      assert.equal(exact.subjectaltname, 'DNS:www.certs.test');
      assert.equal(exact.subject.CN, 'www.certs.test');
      assert.equal(exact.issuer.CN, `edge CA ${keyType}`);
      const wild = await server.connect('a.wild.certs.test', ca.certPem);
      assert.equal(wild.subjectaltname, 'DNS:*.wild.certs.test');
      assert.equal(certs.cachedCount, 2);
      // An unknown name gets no certificate at all: a TLS unrecognized_name alert.
      await assert.rejects(server.connect('unknown.example', ca.certPem), { code: 'ERR_SSL_TLSV1_UNRECOGNIZED_NAME' });
    } finally {
      server.close();
    }
  });
}

test('without an edge CA, ready() serves from a throw-away CA', async () => {
  const certs = new EdgeCertificates();
  certs.setSnapshot(EMPTY_SNAPSHOT);
  const fallback = await certs.ready();
  const cert = new X509Certificate(fallback.certPem);
  assert.equal(cert.subjectAltName, 'DNS:originpull-edge.invalid');
  assert.match(cert.issuer, /originpull temporary edge CA/);
  assert.ok(certs.ticketKeys()?.length === 48);
});
