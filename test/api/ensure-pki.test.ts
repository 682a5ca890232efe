// The installation PKI as production creates it: RSA-2048 origin-pull CA and global client
// certificate, P-256 edge CA, keys sealed, created once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureInstallationPki } from '../../src/api/index.ts';
import { openStore, SecretBox } from '../../src/store/index.ts';

test('ensureInstallationPki creates the CA, the global client certificate and the edge CA once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'originpull-pki-'));
  const store = await openStore(`sqlite:${join(dir, 'originpull.db')}`);
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await store.migrate();
  const box = new SecretBox(randomBytes(32));

  const pki = await ensureInstallationPki(store, box);
  const ca = new X509Certificate(pki.originPullCaPem);
  assert.ok(ca.ca);
  assert.match(ca.subject, /CN=originpull origin-pull CA/);
  assert.equal(ca.publicKey.asymmetricKeyType, 'rsa');
  assert.equal(ca.publicKey.asymmetricKeyDetails?.modulusLength, 2048);

  const client = new X509Certificate(pki.globalCertPem);
  assert.equal(client.ca, false);
  assert.ok(client.checkIssued(ca) && client.verify(ca.publicKey), 'signed by the origin-pull CA');
  assert.deepEqual(client.keyUsage, ['1.3.6.1.5.5.7.3.2'], 'clientAuth');
  assert.ok(client.checkPrivateKey(createPrivateKey(box.open(pki.globalKeySealed))));
  assert.ok(ca.checkPrivateKey(createPrivateKey(box.open(pki.originPullCaKeySealed))));

  const edge = new X509Certificate(pki.edgeCaPem);
  assert.ok(edge.ca);
  assert.equal(edge.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  for (const sealed of [pki.originPullCaKeySealed, pki.globalKeySealed, pki.edgeCaKeySealed]) assert.doesNotMatch(sealed, /PRIVATE KEY/);

  assert.deepEqual(await ensureInstallationPki(store, box), pki, 'created once');
});
