// The edge presents the certificate the AOP levels pick (hostname > zone > global > none) to an
// origin that requires client certificates, and the origin echoes what it saw.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigBuilder, clientCert, fingerprintOf, newCa, newInstallation, serverCert, type TestInstallation } from '../helpers/pki.ts';
import { startHttpOrigin, startTlsOrigin, type EchoBody, type TestOrigin } from '../helpers/origin.ts';
import { startTestEdge, Visitor, type TestEdge } from './harness.ts';
import type { PemPair } from '../../src/pki/index.ts';

let inst: TestInstallation;
let zoneCa: PemPair;
let zoneLeaf: PemPair;
let zoneLeaf2: PemPair;
let hostLeaf: PemPair;
let origin: TestOrigin;
let plain: TestOrigin;
const visitor = new Visitor();

before(async () => {
  inst = await newInstallation();
  zoneCa = await newCa('customer CA');
  [zoneLeaf, zoneLeaf2, hostLeaf] = await Promise.all([clientCert(zoneCa, 'zone client'), clientCert(zoneCa, 'zone client 2'), clientCert(zoneCa, 'host client')]);
  const originCa = await newCa('origin server CA');
  origin = await startTlsOrigin({ cert: await serverCert(originCa, ['origin.test']), clientCa: [inst.originPullCa.certPem, zoneCa.certPem] });
  plain = await startHttpOrigin();
});

after(async () => {
  await visitor.close();
  await origin.close();
  await plain.close();
});

async function withEdge(build: (b: ConfigBuilder) => void, run: (edge: TestEdge) => Promise<void>): Promise<void> {
  const b = new ConfigBuilder(inst);
  build(b);
  const edge = await startTestEdge(inst, b.build());
  try {
    await run(edge);
  } finally {
    await edge.close();
  }
}

const echo = async (edge: TestEdge, host: string) => {
  const res = await visitor.get(edge.httpPort, host);
  assert.equal(res.status, 200, `${host}: ${res.text}`);
  return res.json<EchoBody>();
};

test('no AOP: the origin refuses the handshake and the visitor gets 525', async () => {
  await withEdge(
    (b) => b.record(b.zone('none.test'), 'www.none.test', { httpsPort: origin.port }),
    async (edge) => {
      const res = await visitor.get(edge.httpPort, 'www.none.test');
      assert.equal(res.status, 525, res.text);
      assert.match(res.text, /SSL handshake failed/);
      assert.match(res.text, /Ray ID: <code>[0-9a-f]{16}-TEST<\/code>/);
      assert.equal(res.headers['cf-ray'], /Ray ID: <code>([^<]+)</.exec(res.text)![1]);
    },
  );
});

test('global level presents the installation certificate', async () => {
  await withEdge(
    (b) => b.record(b.zone('global.test', { tlsClientAuth: 'on' }), 'www.global.test', { httpsPort: origin.port }),
    async (edge) => {
      const body = await echo(edge, 'www.global.test');
      assert.equal(body.fingerprint, fingerprintOf(inst.global.certPem));
      assert.equal(body.servername, 'www.global.test');
    },
  );
});

test('zone level presents the newest zone certificate; zone-level without upload uses the global one', async () => {
  await withEdge(
    (b) => {
      const z = b.zone('zone.test', { aopEnabled: true });
      b.cert(z, 'zone', zoneLeaf);
      b.cert(z, 'zone', zoneLeaf2);
      b.record(z, 'www.zone.test', { httpsPort: origin.port });
      const empty = b.zone('empty.test', { aopEnabled: true });
      b.record(empty, 'www.empty.test', { httpsPort: origin.port });
    },
    async (edge) => {
      assert.equal((await echo(edge, 'www.zone.test')).fingerprint, fingerprintOf(zoneLeaf2.certPem));
      assert.equal((await echo(edge, 'www.empty.test')).fingerprint, fingerprintOf(inst.global.certPem));
    },
  );
});

test('hostname level wins over zone and global; other hostnames keep the zone certificate', async () => {
  await withEdge(
    (b) => {
      const z = b.zone('all.test', { aopEnabled: true, tlsClientAuth: 'on' });
      b.cert(z, 'zone', zoneLeaf);
      const hc = b.cert(z, 'hostname', hostLeaf);
      b.record(z, 'a.all.test', { httpsPort: origin.port });
      b.record(z, 'b.all.test', { httpsPort: origin.port });
      b.associate(z, 'a.all.test', hc, true);
    },
    async (edge) => {
      assert.equal((await echo(edge, 'a.all.test')).fingerprint, fingerprintOf(hostLeaf.certPem));
      assert.equal((await echo(edge, 'b.all.test')).fingerprint, fingerprintOf(zoneLeaf.certPem));
    },
  );
});

test('enabled:false on a hostname suppresses the zone certificate (global still applies when on)', async () => {
  await withEdge(
    (b) => {
      const z = b.zone('off.test', { aopEnabled: true });
      b.cert(z, 'zone', zoneLeaf);
      const hc = b.cert(z, 'hostname', hostLeaf);
      b.record(z, 'a.off.test', { httpsPort: origin.port });
      b.associate(z, 'a.off.test', hc, false);
      const g = b.zone('offglobal.test', { aopEnabled: true, tlsClientAuth: 'on' });
      b.cert(g, 'zone', zoneLeaf);
      const hc2 = b.cert(g, 'hostname', hostLeaf);
      b.record(g, 'a.offglobal.test', { httpsPort: origin.port });
      b.associate(g, 'a.offglobal.test', hc2, false);
    },
    async (edge) => {
      assert.equal((await visitor.get(edge.httpPort, 'a.off.test')).status, 525);
      assert.equal((await echo(edge, 'a.offglobal.test')).fingerprint, fingerprintOf(inst.global.certPem));
    },
  );
});

test('a wildcard record routes any name below it; an association below the wildcard applies to its name only', async () => {
  await withEdge(
    (b) => {
      const z = b.zone('wild.test', { aopEnabled: true });
      b.cert(z, 'zone', zoneLeaf);
      const hc = b.cert(z, 'hostname', hostLeaf);
      b.record(z, '*.wild.test', { httpsPort: origin.port });
      b.associate(z, 'special.wild.test', hc, true);
    },
    async (edge) => {
      const any = await echo(edge, 'Any.Wild.Test.');
      assert.equal(any.fingerprint, fingerprintOf(zoneLeaf.certPem));
      assert.equal(any.servername, 'any.wild.test');
      assert.equal((await echo(edge, 'deep.er.wild.test')).servername, 'deep.er.wild.test');
      assert.equal((await echo(edge, 'special.wild.test')).fingerprint, fingerprintOf(hostLeaf.certPem));
    },
  );
});

test('flexible: plain HTTP to the origin HTTP port, no certificate', async () => {
  await withEdge(
    (b) => {
      const z = b.zone('flex.test', { sslMode: 'flexible', aopEnabled: true, tlsClientAuth: 'on' });
      b.cert(z, 'zone', zoneLeaf);
      b.record(z, 'www.flex.test', { httpPort: plain.port, httpsPort: origin.port });
    },
    async (edge) => {
      const before = plain.requests.length;
      const body = await echo(edge, 'www.flex.test');
      assert.equal(body.fingerprint, null);
      assert.equal(plain.requests.length, before + 1);
    },
  );
});

test('unknown hosts get a quick 404 page (JSON when asked)', async () => {
  await withEdge(
    () => {},
    async (edge) => {
      const html = await visitor.get(edge.httpPort, 'nowhere.test');
      assert.equal(html.status, 404);
      assert.match(String(html.headers['content-type']), /text\/html/);
      const json = await visitor.get(edge.httpPort, 'nowhere.test', '/', { headers: { accept: 'application/json' } });
      assert.equal(json.status, 404);
      assert.equal(json.json().code, 'unknown_host');
      assert.match(String(json.json().ray_id), /^[0-9a-f]{16}-TEST$/);
    },
  );
});
