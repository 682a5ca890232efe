// Certificate packs and challenges in the snapshot: the ACME table comes after the custom one (a
// custom certificate for the name wins), contexts are built once, and incremental builds follow a
// zone's packs and challenges coming and going while other zones' stay as they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { AcmeChallenge, CertificatePack, ConfigData, Zone } from '../../src/domain/index.ts';
import { selectVisitorCertificate } from '../../src/edge/index.ts';
import { ConfigIndex, SnapshotBuilder } from '../../src/sync/index.ts';
import { ConfigBuilder, fingerprintOf, newCa, newInstallation, serverCert, type TestInstallation } from '../helpers/pki.ts';
import type { PemPair } from '../../src/pki/index.ts';

function packOf(inst: TestInstallation, zone: Zone, pair: PemPair, hosts: string[], deployVersion: number): CertificatePack {
  const x = new X509Certificate(pair.certPem);
  const notBefore = Date.parse(x.validFrom);
  const expiresOn = Date.parse(x.validTo);
  return {
    id: `pack-${hosts[0]}`,
    zoneId: zone.id,
    type: 'universal',
    hosts,
    validationMethod: 'http',
    validityDays: 90,
    certificateAuthority: 'lets_encrypt',
    stage: 'issued',
    errorText: null,
    attempts: 0,
    nextAttemptAt: null,
    certificate: {
      certificatePem: pair.certPem,
      privateKeySealed: inst.secretBox.seal(pair.keyPem),
      issuer: x.issuer,
      serialNumber: '1',
      signature: 'ECDSAWithSHA256',
      fingerprintSha256: fingerprintOf(pair.certPem),
      notBefore,
      expiresOn,
      renewAt: expiresOn - 1000,
      deployVersion,
    },
    createdOn: notBefore,
    modifiedOn: notBefore,
    deleteVersion: null,
    deleteRequestedOn: null,
  };
}

function http01(zone: Zone, hostname: string, token: string): AcmeChallenge {
  return { token, zoneId: zone.id, packId: `pack-${hostname}`, hostname, type: 'http-01', keyAuthorization: `${token}.k`, certificatePem: null, privateKeySealed: null, status: 'pending', createdOn: 1 };
}

test('ACME certificates follow custom ones; challenges and packs follow their zone through incremental builds', async () => {
  const inst = await newInstallation();
  const ca = await newCa('ACME test CA');
  const b = new ConfigBuilder(inst);
  const shop = b.zone('shop.example');
  const other = b.zone('other.example');
  b.record(shop, 'www.shop.example', { httpPort: 1 });
  b.record(shop, 'api.shop.example', { httpPort: 1 });
  b.record(other, 'www.other.example', { httpPort: 1 });
  const acmeWww = await serverCert(ca, ['www.shop.example']);
  const acmeApi = await serverCert(ca, ['api.shop.example']);
  const acmeOther = await serverCert(ca, ['www.other.example']);
  const custom = await serverCert(ca, ['api.shop.example']);
  b.edgeCert(shop, custom);
  const data = (over: Partial<ConfigData>): ConfigData => ({ ...b.build(), ...over });

  const builder = new SnapshotBuilder(inst.secretBox);
  const first = data({
    certificatePacks: [packOf(inst, shop, acmeWww, ['www.shop.example'], b.version), packOf(inst, shop, acmeApi, ['api.shop.example'], b.version), packOf(inst, other, acmeOther, ['www.other.example'], b.version)],
    acmeChallenges: [http01(shop, 'new.shop.example', 'tok-1')],
  });
  const index = ConfigIndex.of(first);
  const s1 = builder.build(index, null);
  assert.deepEqual(s1.visitorCertificates.map((t) => t.source), ['custom', 'acme']);
  assert.equal(selectVisitorCertificate(s1.visitorCertificates, 'www.shop.example')!.fingerprint, fingerprintOf(acmeWww.certPem));
  assert.equal(selectVisitorCertificate(s1.visitorCertificates, 'www.shop.example')!.source, 'acme');
  assert.equal(selectVisitorCertificate(s1.visitorCertificates, 'api.shop.example')!.fingerprint, fingerprintOf(custom.certPem), 'a custom certificate wins');
  assert.equal(s1.acmeHttp01.get('tok-1')!.body.toString(), 'tok-1.k');
  assert.equal(s1.acmeHttp01.get('tok-1')!.hostname, 'new.shop.example');
  const otherIdentity = selectVisitorCertificate(s1.visitorCertificates, 'www.other.example')!;

  // The shop zone changes: its challenge goes, its www pack is renewed; the other zone is untouched.
  const renewed = await serverCert(ca, ['www.shop.example']);
  const second = data({
    certificatePacks: [packOf(inst, shop, renewed, ['www.shop.example'], b.version + 1), packOf(inst, other, acmeOther, ['www.other.example'], b.version)],
    acmeChallenges: [],
  });
  const changes = { ...second, version: index.version + 1, since: index.version, zones: second.zones.filter((z) => z.id === shop.id), removedZoneIds: [] };
  changes.records = changes.records.filter((r) => r.zoneId === shop.id);
  changes.edgeCertificates = changes.edgeCertificates.filter((c) => c.zoneId === shop.id);
  changes.certificatePacks = changes.certificatePacks!.filter((p) => p.zoneId === shop.id);
  const { zoneIds } = index.apply(changes);
  const s2 = builder.build(index, zoneIds);
  assert.equal(s2.acmeHttp01.size, 0, 'the challenge left with its zone\'s change');
  assert.equal(selectVisitorCertificate(s2.visitorCertificates, 'www.shop.example')!.fingerprint, fingerprintOf(renewed.certPem), 'the renewed certificate is served');
  assert.equal(selectVisitorCertificate(s2.visitorCertificates, 'api.shop.example')!.fingerprint, fingerprintOf(custom.certPem));
  assert.equal(selectVisitorCertificate(s2.visitorCertificates, 'api.shop.example')!.source, 'custom');
  assert.equal(selectVisitorCertificate(s2.visitorCertificates, 'www.other.example'), otherIdentity, 'the other zone\'s context is reused, not rebuilt');
  assert.equal(s2.acmeTlsAlpn.size, 0);
});
