// SSL/TLS → Edge Certificates in Debian's headless Chromium against the real API: the proxied
// hostnames start on the edge CA fallback; a custom certificate is pasted (its key chosen as a
// file), reviewed (names, the ones this zone serves, the ignored one), saved, and followed until
// active; the hostname table then says it serves www exactly; a wildcard certificate takes the
// other names; its priority is edited; deleting the exact one warns that www moves to the
// wildcard, deleting the wildcard that every name falls back; a read-only token sees no controls.
// A second test covers certificate packs without a CA (this API has no ACME directory, so packs
// say "ACME not configured"): the universal and advanced rows with that text, the order form
// (its errors beside the field, then a pack), an advanced pack given a certificate serves its
// hostname, its deletion warns that it is in use, and the Universal SSL switch asks before off.
// A third, with an ACME directory configured (never contacted: no orderer runs in these tests),
// shows a refused validation as the CA's own words on the pack's row, and a read-only token there
// gets no order, delete or switch controls.
// Screenshots go to a temp folder (printed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createCa, issueCertificate } from '../../src/pki/index.ts';
import { ACME_NOT_CONFIGURED } from '../../src/domain/index.ts';
import { SecretBox } from '../../src/store/index.ts';
import { launch, skipReason, watchErrors, chainedSteps } from './browser.ts';
import { startDashboardServer } from './server.ts';

const ZONE = 'example.com';

interface Listed {
  id: string;
  status: string;
  priority: number;
  hosts: string[];
}

function short(id: string): string {
  return id.length > 13 ? `${id.slice(0, 8)}…` : id;
}

async function shoot(page: Page, dir: string, name: string): Promise<void> {
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

async function servingRow(page: Page, hostname: string): Promise<{ source: string | null; certId: string | null; text: string }> {
  const row = page.locator(`#edge-serving-table tr[data-hostname="${hostname}"]`);
  return { source: await row.getAttribute('data-source'), certId: await row.getAttribute('data-cert-id'), text: await row.innerText() };
}

/** Waits until the hostname table (re-read every few seconds and after changes) shows `source` for `hostname`. */
async function waitServing(page: Page, hostname: string, source: string, certId = ''): Promise<void> {
  await page.locator(`#edge-serving-table tr[data-hostname="${hostname}"][data-source="${source}"][data-cert-id="${certId}"]`).waitFor({ timeout: 30_000 });
}

test('dashboard: edge certificates in Chromium against the real API', { skip: skipReason(), timeout: 240_000 }, async (t) => {
  const ca = await createCa({ commonName: 'Visitor Test CA', organization: 'Example', keyType: 'p256', days: 400 });
  const www = await issueCertificate({ ca, commonName: `www.${ZONE}`, usage: 'server', dnsNames: [`www.${ZONE}`, 'other.test'], keyType: 'p256', days: 90 });
  const wild = await issueCertificate({ ca, commonName: ZONE, usage: 'server', dnsNames: [ZONE, `*.${ZONE}`], keyType: 'p256', days: 60 });
  const files = mkdtempSync(join(tmpdir(), 'originpull-edge-ui-'));
  const keyFile = join(files, 'www.key');
  writeFileSync(keyFile, www.keyPem, { mode: 0o600 });

  const shots = mkdtempSync(join(tmpdir(), 'originpull-edge-cert-shots-'));
  t.diagnostic(`screenshots: ${shots}`);
  const server = await startDashboardServer();
  const browser = await launch();
  t.after(async () => {
    await browser.close();
    await server.close();
  });
  const page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
  const errors = watchErrors(page);
  const step = chainedSteps(t);

  const zone = (await server.api('POST', '/zones', { name: ZONE, account: { id: await accountId() } })).body.result as { id: string };
  async function accountId(): Promise<string> {
    return ((await server.api('GET', '/accounts')).body.result as { id: string }[])[0].id;
  }
  for (const name of ['www', 'api', 'shop']) {
    const res = await server.api('POST', `/zones/${zone.id}/dns_records`, { type: 'A', name: `${name}.${ZONE}`, content: '192.0.2.10', proxied: true, ttl: 1 });
    assert.equal(res.status, 200, JSON.stringify(res.body.errors));
  }
  const list = async () => (await server.api('GET', `/zones/${zone.id}/custom_certificates`)).body.result as Listed[];
  let wwwId = '';
  let wildId = '';

  await step('the page is under SSL/TLS; every hostname starts on the edge CA fallback', async () => {
    await page.goto(`${server.origin}/#/zones/${zone.id}/ssl-tls`);
    await page.getByLabel('API token').fill(server.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#zone-nav').getByRole('link', { name: 'Edge Certificates' }).click();
    await page.getByRole('heading', { name: 'Edge Certificates', level: 1 }).waitFor();
    assert.ok(page.url().endsWith(`#/zones/${zone.id}/ssl-tls/edge-certificates`));
    await page.locator('#edge-certs-empty').waitFor();
    for (const h of ['api', 'shop', 'www']) await waitServing(page, `${h}.${ZONE}`, 'edge_ca_fallback');
    assert.match((await servingRow(page, `www.${ZONE}`)).text, /edge CA/);
    await shoot(page, shots, '01-empty');
  });

  await step('upload: paste the certificate, choose the key file, review what it contains', async () => {
    await page.locator('#edge-upload-open').click();
    await page.locator('#edge-upload-certificate').fill(www.certPem);
    await page.locator('#edge-upload-key-file').setInputFiles(keyFile);
    await page.waitForFunction(() => (document.querySelector('#edge-upload-private_key') as HTMLTextAreaElement | null)?.value.includes('PRIVATE KEY'));
    await page.getByRole('button', { name: 'Continue' }).click();
    const review = page.locator('#edge-upload-review');
    await review.waitFor();
    assert.equal(await review.locator('[data-field="fingerprint"]').innerText(), new X509Certificate(www.certPem).fingerprint256);
    assert.match(await review.locator('[data-field="issuer"]').innerText(), /Visitor Test CA/);
    assert.equal(await review.locator('[data-field="names"]').innerText(), `www.${ZONE}, other.test`);
    assert.equal(await review.locator('[data-field="served"]').innerText(), `www.${ZONE}`);
    await page.locator('.upload-panel .warnings').getByText('other.test is ignored').waitFor();
    await shoot(page, shots, '02-review');
    assert.deepEqual(await list(), [], 'nothing is sent before the confirmation');
  });

  await step('save, then the status follows the edges until active', async () => {
    await server.edge.pause();
    await page.locator('#edge-upload-confirm').click();
    const idCell = page.locator('#edge-upload-new-id');
    await idCell.waitFor();
    wwwId = await idCell.innerText();
    const panel = page.locator('.upload-panel');
    await panel.locator('[data-status="pending_deployment"]').waitFor();
    const stored = await list();
    assert.equal(stored.length, 1);
    assert.equal(stored[0].id, wwwId);
    assert.equal(stored[0].status, 'pending');
    server.edge.resume();
    await panel.locator('[data-status="active"]').waitFor({ timeout: 30_000 });
    await shoot(page, shots, '03-uploaded-active');
    await panel.getByRole('button', { name: 'Done' }).click();
    const row = page.locator(`#edge-cert-table tr[data-cert-id="${wwwId}"]`);
    await row.locator('[data-status="active"]').waitFor();
    assert.equal(await row.locator('[data-field="hosts"]').innerText(), `www.${ZONE}, other.test`);
  });

  await step('the hostname table says which certificate serves www, and why', async () => {
    await waitServing(page, `www.${ZONE}`, 'custom', wwwId);
    const row = await servingRow(page, `www.${ZONE}`);
    assert.match(row.text, new RegExp(`custom certificate ${short(wwwId).replace('…', '.')}`));
    assert.match(row.text, /names this hostname exactly\./);
    await waitServing(page, `api.${ZONE}`, 'edge_ca_fallback');
    await page.locator(`#edge-cert-table tr[data-cert-id="${wwwId}"]`).getByText('In use').waitFor();
  });

  await step('a wildcard certificate takes the other names; www keeps its exact one; priority edited', async () => {
    const res = await server.api('POST', `/zones/${zone.id}/custom_certificates`, { certificate: wild.certPem, private_key: wild.keyPem });
    assert.equal(res.status, 200, JSON.stringify(res.body.errors));
    wildId = (res.body.result as { id: string }).id;
    await page.locator(`#edge-cert-table tr[data-cert-id="${wildId}"] [data-status="active"]`).waitFor({ timeout: 30_000 });
    await waitServing(page, `api.${ZONE}`, 'custom', wildId);
    await waitServing(page, `shop.${ZONE}`, 'custom', wildId);
    assert.match((await servingRow(page, `api.${ZONE}`)).text, /wildcard \*\.example\.com/);
    await waitServing(page, `www.${ZONE}`, 'custom', wwwId);
    assert.match((await servingRow(page, `www.${ZONE}`)).text, /an exact name beats the wildcard certificate that also covers it/);

    await page.getByRole('button', { name: `Edit priority of ${wildId}` }).click();
    await page.locator(`#edge-priority-${wildId}`).fill('-3');
    await page.getByRole('button', { name: `Save priority of ${wildId}` }).click();
    await page.locator(`#edge-priority-${wildId}-error`).getByText('whole number').waitFor();
    await page.locator(`#edge-priority-${wildId}`).fill('5');
    await page.getByRole('button', { name: `Save priority of ${wildId}` }).click();
    await page.locator(`#edge-cert-table tr[data-cert-id="${wildId}"] [data-field="priority"]`, { hasText: '5' }).waitFor();
    assert.equal((await list()).find((c) => c.id === wildId)?.priority, 5);
    await shoot(page, shots, '04-two-certificates');
  });

  await step('deleting the exact certificate warns that www moves to the wildcard one', async () => {
    await page.getByRole('button', { name: `Delete certificate ${wwwId}` }).click();
    const confirm = page.locator(`#edge-delete-confirm-${wwwId}`);
    const impact = confirm.locator('[data-field="impact"]');
    await impact.waitFor();
    assert.match(await impact.innerText(), /in use: visitors to www\.example\.com get it now/);
    const li = impact.locator(`li[data-hostname="www.${ZONE}"]`);
    assert.equal(await li.getAttribute('data-next'), 'custom');
    assert.match(await li.innerText(), new RegExp(`custom certificate ${short(wildId).replace('…', '.')} \\(wildcard \\*\\.example\\.com\\)`));
    assert.equal(await impact.locator('li').count(), 1, 'only the hostname it serves is named');
    await shoot(page, shots, '05-delete-warning');
    await confirm.getByRole('button', { name: 'Delete certificate' }).click();
    await page.locator(`#edge-cert-table tr[data-cert-id="${wwwId}"]`).waitFor({ state: 'detached', timeout: 30_000 });
    await waitServing(page, `www.${ZONE}`, 'custom', wildId);
    assert.deepEqual((await list()).map((c) => c.id), [wildId]);
  });

  await step('deleting the last certificate warns that every hostname falls back to the edge CA', async () => {
    await page.getByRole('button', { name: `Delete certificate ${wildId}` }).click();
    const impact = page.locator(`#edge-delete-confirm-${wildId} [data-field="impact"]`);
    await impact.waitFor();
    const items = impact.locator('li');
    assert.equal(await items.count(), 3);
    for (const h of ['api', 'shop', 'www']) {
      const li = impact.locator(`li[data-hostname="${h}.${ZONE}"]`);
      assert.equal(await li.getAttribute('data-next'), 'edge_ca_fallback');
      assert.match(await li.innerText(), /edge CA certificate \(fallback\), which browsers warn about/);
    }
    await page.setViewportSize({ width: 390, height: 844 });
    await shoot(page, shots, '06-delete-fallback-390px');
    await page.setViewportSize({ width: 1280, height: 800 });
    // Cancel leaves it alone.
    await page.locator(`#edge-delete-confirm-${wildId}`).getByRole('button', { name: 'Cancel' }).click();
    await impact.waitFor({ state: 'detached' });
    assert.equal((await list()).length, 1);
  });

  await step('a read-only token sees the certificates and hostnames but no edit controls', async () => {
    const created = await server.api('POST', '/user/tokens', { name: 'viewer', permission: 'read', zones: null });
    const readToken = (created.body.result as { value: string }).value;
    const viewer = await browser.context.newPage();
    viewer.setDefaultTimeout(15_000);
    const viewerErrors = watchErrors(viewer);
    await viewer.goto(`${server.origin}/#/zones/${zone.id}/ssl-tls/edge-certificates`);
    await viewer.getByLabel('API token').fill(readToken);
    await viewer.getByRole('button', { name: 'Sign in' }).click();
    await viewer.locator(`#edge-cert-table tr[data-cert-id="${wildId}"]`).waitFor();
    await waitServing(viewer, `api.${ZONE}`, 'custom', wildId);
    assert.equal(await viewer.locator('#edge-upload-open').count(), 0);
    assert.equal(await viewer.getByRole('button', { name: `Delete certificate ${wildId}` }).count(), 0);
    assert.equal(await viewer.getByRole('button', { name: `Edit priority of ${wildId}` }).count(), 0);
    await viewer.close();
    assert.deepEqual(viewerErrors, []);
  });

  await step('no console errors', () => {
    assert.deepEqual(errors, []);
  });
});

interface ListedPack {
  id: string;
  type: string;
  hosts: string[];
  status: string;
  validity_days: number;
  validation_errors: { message: string }[];
}

test('dashboard: certificate packs, the order form and the Universal SSL switch (no ACME CA)', { skip: skipReason(), timeout: 240_000 }, async (t) => {
  const NET = 'example.net';
  const ca = await createCa({ commonName: 'Pack Test CA', organization: 'Example', keyType: 'p256', days: 400 });
  const apiCert = await issueCertificate({ ca, commonName: `api.${NET}`, usage: 'server', dnsNames: [`api.${NET}`], keyType: 'p256', days: 45 });
  const shots = mkdtempSync(join(tmpdir(), 'originpull-pack-shots-'));
  t.diagnostic(`screenshots: ${shots}`);
  const server = await startDashboardServer();
  const browser = await launch();
  t.after(async () => {
    await browser.close();
    await server.close();
  });
  const page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
  const errors = watchErrors(page);
  const step = chainedSteps(t);
  const accounts = (await server.api('GET', '/accounts')).body.result as { id: string }[];
  const zone = (await server.api('POST', '/zones', { name: NET, account: { id: accounts[0].id } })).body.result as { id: string };
  for (const name of ['www', 'api']) {
    const res = await server.api('POST', `/zones/${zone.id}/dns_records`, { type: 'A', name: `${name}.${NET}`, content: '192.0.2.10', proxied: true, ttl: 1 });
    assert.equal(res.status, 200, JSON.stringify(res.body.errors));
  }
  const packs = async () => (await server.api('GET', `/zones/${zone.id}/ssl/certificate_packs?per_page=100`)).body.result as ListedPack[];
  const universalOn = async () => ((await server.api('GET', `/zones/${zone.id}/ssl/universal/settings`)).body.result as { enabled: boolean }).enabled;
  // The universal pack www would get, stored as the orderer stores it when no directory is configured.
  const universal = await server.store.insertCertificatePack({
    zoneId: zone.id,
    type: 'universal',
    hosts: [`www.${NET}`],
    validationMethod: 'http',
    validityDays: 90,
    certificateAuthority: 'lets_encrypt',
    errorText: ACME_NOT_CONFIGURED,
  });
  let advancedId = '';

  await step('the universal pack is a row saying ACME is not configured', async () => {
    await page.goto(`${server.origin}/#/zones/${zone.id}/ssl-tls/edge-certificates`);
    await page.getByLabel('API token').fill(server.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Edge Certificates', level: 1 }).waitFor();
    const row = page.locator(`#edge-cert-table tr[data-pack-id="${universal.id}"]`);
    await row.waitFor();
    assert.equal(await row.locator('[data-field="type"]').innerText(), 'Universal');
    assert.equal(await row.locator('[data-field="hosts"]').innerText(), `www.${NET}`);
    assert.equal(await row.locator('[data-status]').getAttribute('data-status'), 'initializing');
    assert.equal(await row.locator('[data-field="validation-error"]').innerText(), ACME_NOT_CONFIGURED);
    await page.locator('#acme-not-configured').getByText('ACME is not configured on this installation').waitFor();
    assert.equal(await row.getByRole('button', { name: /Delete/ }).count(), 0, 'universal packs follow the records, not a delete button');
    assert.equal(await page.locator('#universal-ssl-switch').getAttribute('aria-checked'), 'true');
    await shoot(page, shots, '11-universal-not-configured');
  });

  await step('order an advanced certificate: a name outside the zone is refused beside the field, then a pack is ordered', async () => {
    await page.locator('#pack-order-open').click();
    await page.locator('#pack-order-submit').click();
    await page.locator('#pack-order-hosts-error').getByText('Name at least one hostname').waitFor();
    await page.locator('#pack-order-hosts').fill(`api.${NET}, other.test`);
    await page.locator('#pack-order-submit').click();
    await page.locator('#pack-order-hosts-error').getByText('other.test').waitFor();
    assert.equal((await packs()).length, 1, 'nothing stored for a refused order');
    await page.locator('#pack-order-hosts').fill(`api.${NET}`);
    await page.locator('#pack-order-validity').selectOption('30');
    await page.locator('#pack-order-submit').click();
    await page.waitForFunction(() => (document.querySelector('#pack-order-hosts') as HTMLTextAreaElement | null)?.value === '');
    const advanced = (await packs()).find((p) => p.type === 'advanced');
    assert.ok(advanced, 'the order is stored');
    advancedId = advanced.id;
    assert.deepEqual(advanced.hosts, [`api.${NET}`]);
    assert.equal(advanced.validity_days, 30);
    assert.deepEqual(advanced.validation_errors, [{ message: ACME_NOT_CONFIGURED }]);
    const row = page.locator(`#edge-cert-table tr[data-pack-id="${advancedId}"]`);
    await row.waitFor();
    assert.equal(await row.locator('[data-field="type"]').innerText(), 'Advanced');
    assert.equal(await row.locator('[data-field="validation-error"]').innerText(), ACME_NOT_CONFIGURED);
    await shoot(page, shots, '12-ordered');
  });

  await step('an advanced pack holding a certificate serves its hostname, shows its expiry, and is in use', async () => {
    const x = new X509Certificate(apiCert.certPem);
    const box = await SecretBox.load(join(mkdtempSync(join(tmpdir(), 'originpull-pack-box-')), 'secret.key'));
    await server.store.storeCertificatePackCertificate(advancedId, {
      certificatePem: apiCert.certPem,
      privateKeySealed: box.seal(apiCert.keyPem),
      issuer: 'CN=Pack Test CA',
      serialNumber: x.serialNumber,
      signature: 'ECDSAWithSHA256',
      fingerprintSha256: x.fingerprint256.replaceAll(':', '').toLowerCase(),
      notBefore: Date.parse(x.validFrom),
      expiresOn: Date.parse(x.validTo),
      renewAt: Date.parse(x.validTo) - 15 * 86_400_000,
    });
    const row = page.locator(`#edge-cert-table tr[data-pack-id="${advancedId}"]`);
    await row.locator('[data-status="active"]').waitFor({ timeout: 30_000 });
    assert.match(await row.locator('[data-field="expires"]').innerText(), new RegExp(new Date(Date.parse(x.validTo)).toISOString().slice(0, 10)));
    await waitServing(page, `api.${NET}`, 'acme', advancedId);
    assert.match((await servingRow(page, `api.${NET}`)).text, new RegExp(`advanced certificate pack ${short(advancedId).replace('…', '.')} \\(ACME\\)`));
    await waitServing(page, `www.${NET}`, 'edge_ca_fallback');
    await row.getByText('In use').waitFor();
  });

  await step('deleting the advanced pack warns that api is served it, then api falls back', async () => {
    await page.getByRole('button', { name: `Delete certificate pack ${advancedId}` }).click();
    const impact = page.locator(`#pack-delete-confirm-${advancedId} [data-field="impact"]`);
    await impact.waitFor();
    assert.match(await impact.innerText(), /in use: visitors to api\.example\.net get it now/);
    await shoot(page, shots, '13-pack-delete-warning');
    await page.locator(`#pack-delete-confirm-${advancedId}`).getByRole('button', { name: 'Delete pack' }).click();
    await page.locator(`#edge-cert-table tr[data-pack-id="${advancedId}"]`).waitFor({ state: 'detached', timeout: 30_000 });
    await waitServing(page, `api.${NET}`, 'edge_ca_fallback');
    assert.deepEqual((await packs()).map((p) => p.id), [universal.id]);
  });

  await step('turning Universal SSL off asks first and says hostnames fall back; cancel keeps it on', async () => {
    await page.locator('#universal-ssl-switch').click();
    const confirm = page.locator('#universal-ssl-confirm');
    await confirm.waitFor();
    assert.match(await confirm.innerText(), /Hostnames fall back to a custom certificate or an advanced pack/);
    await shoot(page, shots, '14-universal-off-confirm');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    assert.equal(await universalOn(), true);
    await page.locator('#universal-ssl-switch').click();
    await confirm.getByRole('button', { name: 'Turn Universal SSL off' }).click();
    await page.locator('#universal-ssl-switch[aria-checked="false"]').waitFor();
    assert.equal(await universalOn(), false);
    // On again needs no confirmation.
    await page.locator('#universal-ssl-switch').click();
    await page.locator('#universal-ssl-switch[aria-checked="true"]').waitFor();
    assert.equal(await universalOn(), true);
  });

  await step('no console errors', () => {
    assert.deepEqual(errors, []);
  });
});

test('dashboard: a failed validation shows the CA\'s error on the pack; read-only tokens get no pack controls', { skip: skipReason(), timeout: 240_000 }, async (t) => {
  const ORG = 'example.org';
  const server = await startDashboardServer({ acmeDirectory: 'https://127.0.0.1:9/never-contacted/directory' });
  const browser = await launch();
  t.after(async () => {
    await browser.close();
    await server.close();
  });
  const step = chainedSteps(t);
  const accounts = (await server.api('GET', '/accounts')).body.result as { id: string }[];
  const zone = (await server.api('POST', '/zones', { name: ORG, account: { id: accounts[0].id } })).body.result as { id: string };
  const ordered = await server.api('POST', `/zones/${zone.id}/ssl/certificate_packs/order`, {
    type: 'advanced',
    hosts: [`shop.${ORG}`],
    validation_method: 'http',
    validity_days: 90,
    certificate_authority: 'lets_encrypt',
  });
  assert.equal(ordered.status, 200, JSON.stringify(ordered.body.errors));
  const packId = (ordered.body.result as { id: string }).id;
  const refusal = `urn:ietf:params:acme:error:unauthorized: Invalid response from http://shop.${ORG}/.well-known/acme-challenge/abc: 404`;
  // What the orderer stores when the CA refuses the validation.
  await server.store.updateCertificatePackOrder(packId, { stage: 'validation_failed', errorText: refusal, attempts: 1, nextAttemptAt: Date.now() + 60_000 });

  const signIn = async (token: string) => {
    const page = await browser.context.newPage();
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    await page.goto(`${server.origin}/#/zones/${zone.id}/ssl-tls/edge-certificates`);
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator(`#edge-cert-table tr[data-pack-id="${packId}"]`).waitFor();
    return { page, errors };
  };

  await step('the row says validation failed, in the CA\'s words; no "ACME not configured" notice', async () => {
    const { page, errors } = await signIn(server.adminToken);
    const row = page.locator(`#edge-cert-table tr[data-pack-id="${packId}"]`);
    assert.equal(await row.locator('[data-status]').getAttribute('data-status'), 'validation_timed_out');
    assert.match(await row.locator('[data-status]').innerText(), /Validation failed/);
    assert.equal(await row.locator('[data-field="validation-error"]').innerText(), refusal);
    assert.equal(await page.locator('#acme-not-configured').count(), 0);
    assert.equal(await page.getByRole('button', { name: `Delete certificate pack ${packId}` }).count(), 1);
    await page.close();
    assert.deepEqual(errors, []);
  });

  await step('a read-only token sees the pack but cannot order, delete or switch Universal SSL', async () => {
    const created = await server.api('POST', '/user/tokens', { name: 'viewer', permission: 'read', zones: null });
    const { page, errors } = await signIn((created.body.result as { value: string }).value);
    assert.equal(await page.locator('#pack-order-open').count(), 0);
    assert.equal(await page.getByRole('button', { name: `Delete certificate pack ${packId}` }).count(), 0);
    await page.locator('#universal-ssl-switch').waitFor();
    assert.equal(await page.locator('#universal-ssl-switch').isDisabled(), true);
    await page.close();
    assert.deepEqual(errors, []);
  });
});
