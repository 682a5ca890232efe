// External Account Binding: a CA that requires it (Pebble so configured) registers the account
// only with the configured key id and HMAC key; without them the pack shows the CA's refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pebbleMissing } from '../helpers/pebble.ts';
import { eventually, startAcmeHarness, zoneWithRecords } from './harness.ts';

const skip = pebbleMissing();
const KEYS = { 'kid-originpull': 'zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W' };

test('with EAB configured the account registers and the certificate is issued', { skip, timeout: 120_000 }, async (t) => {
  const h = await startAcmeHarness({ pebbleEabKeys: KEYS, eab: { kid: 'kid-originpull', hmacKey: KEYS['kid-originpull'] } });
  t.after(() => h.close());
  const zone_id = await zoneWithRecords(h, 'eab.test', ['www.eab.test']);
  const pack = await eventually('the pack to be active', async () => {
    const p = (await h.cf.ssl.certificatePacks.list({ zone_id })).result[0];
    return p?.status === 'active' ? p : undefined;
  });
  assert.deepEqual(pack.validation_errors, []);
  assert.ok((await h.store.getAcmeAccount(h.config.acme!.directoryUrl))!.accountUrl);
});

test('without EAB a CA that requires it refuses the account, and the pack says so', { skip, timeout: 120_000 }, async (t) => {
  const h = await startAcmeHarness({ pebbleEabKeys: KEYS });
  t.after(() => h.close());
  const zone_id = await zoneWithRecords(h, 'noeab.test', ['www.noeab.test']);
  const pack = await eventually('the refusal on the pack', async () => {
    const p = (await h.cf.ssl.certificatePacks.list({ zone_id })).result[0];
    return p?.status === 'issuance_timed_out' ? p : undefined;
  });
  assert.match(pack.validation_errors![0].message!, /externalAccountBinding/, 'the CA\'s own words');
  assert.equal((await h.store.getAcmeAccount(h.config.acme!.directoryUrl))!.accountUrl, null, 'no account was registered');
});
