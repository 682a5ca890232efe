// The dashboard in Debian's headless Chromium against the real API: sign in, create a zone and
// hostnames, set the SSL mode, upload and review a zone certificate, see pending_deployment turn
// active without reloading, toggle AOP, upload and associate a hostname certificate, replace a
// certificate without downtime, see the API's error beside the field for bad uploads, the origin
// set-up help, a read-only token, and a 390 px screen. Screenshots go to a temp folder (printed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { createCa, issueCertificate, type PemPair } from '../../src/pki/index.ts';
import { launch, skipReason, watchErrors, chainedSteps } from './browser.ts';
import { startDashboardServer, type DashboardServer } from './server.ts';

const ZONE = 'example.com';

function fingerprintColons(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

function serialDecimal(pem: string): string {
  return BigInt(`0x${new X509Certificate(pem).serialNumber}`).toString(10);
}

async function shoot(page: Page, dir: string, name: string): Promise<void> {
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

async function fillUpload(scope: Locator, prefix: string, pair: { certPem: string; keyPem: string }): Promise<void> {
  await scope.locator(`#${prefix}-certificate`).fill(pair.certPem);
  await scope.locator(`#${prefix}-private_key`).fill(pair.keyPem);
  await scope.getByRole('button', { name: 'Continue' }).click();
}

async function zoneCerts(server: DashboardServer, zoneId: string): Promise<{ id: string; status: string }[]> {
  return (await server.api('GET', `/zones/${zoneId}/origin_tls_client_auth`)).body.result as { id: string; status: string }[];
}

test('dashboard: click-through in Chromium against the real API', { skip: skipReason(), timeout: 240_000 }, async (t) => {
  const shots = mkdtempSync(join(tmpdir(), 'originpull-dashboard-shots-'));
  t.diagnostic(`screenshots: ${shots}`);
  console.log(`# dashboard screenshots: ${shots}`);

  const ca = await createCa({ commonName: 'Example Origin Pull CA', organization: 'Example', keyType: 'p256' });
  const leaf = (cn: string): Promise<PemPair> => issueCertificate({ ca, commonName: cn, usage: 'client', keyType: 'p256' });
  const [zoneLeaf, zoneLeaf2, hostLeaf, stranger] = await Promise.all([leaf('zone client 1'), leaf('zone client 2'), leaf('app client'), leaf('stranger')]);

  const server = await startDashboardServer();
  const browser = await launch();
  t.after(async () => {
    await browser.close();
    await server.close();
  });
  const page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
  const errors = watchErrors(page);
  let zoneId = '';
  const step = chainedSteps(t);

  await step('the dashboard is served at / and API 404s stay JSON', async () => {
    const html = await fetch(`${server.origin}/`, { headers: { accept: 'text/html' } });
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-type') ?? '', /text\/html/);
    assert.match(html.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const spa = await fetch(`${server.origin}/zones/abc/ssl-tls`, { headers: { accept: 'text/html' } });
    assert.equal(spa.status, 200, 'browser navigations fall back to index.html');
    const api404 = await fetch(`${server.origin}/client/v4/nope`, { headers: { accept: 'text/html' } });
    assert.equal(api404.status, 404);
    assert.equal(((await api404.json()) as { success: boolean }).success, false);
    const wrongMethod = await fetch(`${server.origin}/client/v4/zones`, { method: 'DELETE' });
    assert.equal(wrongMethod.status, 405, 'the dashboard adds no route that would change 404/405 answers');
  });

  await step('sign in: a wrong token is refused beside the field, the admin token gets in', async () => {
    await page.goto(`${server.origin}/`);
    await page.getByRole('heading', { name: 'originpull' }).waitFor();
    await shoot(page, shots, '01-sign-in');
    await page.getByLabel('API token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#token-error').getByText('invalid API token').waitFor();
    await page.getByLabel('API token').fill(server.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Zones', exact: true }).waitFor();
    assert.ok(!page.url().includes(server.adminToken), 'the token never enters the URL');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('originpull.token')), server.adminToken);
  });

  await step('create a zone', async () => {
    await page.getByLabel('Zone name').fill('not a zone');
    await page.getByRole('button', { name: 'Add zone' }).click();
    await page.locator('#zone-name-error').getByText('Invalid zone name').waitFor();
    await page.getByLabel('Zone name').fill(ZONE);
    await page.getByRole('button', { name: 'Add zone' }).click();
    await page.getByRole('heading', { name: 'Proxied hostnames' }).waitFor();
    const zones = (await server.api('GET', `/zones?name=${ZONE}`)).body.result as { id: string }[];
    assert.equal(zones.length, 1);
    zoneId = zones[0].id;
    assert.ok(page.url().endsWith(`#/zones/${zoneId}/dns`));
  });

  await step('add and edit proxied hostnames; an invalid origin is shown beside its field', async () => {
    const add = page.locator('#dns-add');
    await add.getByLabel('Name', { exact: true }).fill('www');
    await add.getByLabel('Origin address').fill('not-an-ip');
    await add.getByRole('button', { name: 'Add hostname' }).click();
    await add.locator('#new-record-content-error').getByText('IPv4').waitFor();
    await add.getByLabel('Origin address').fill('192.0.2.10');
    await add.getByRole('button', { name: 'Add hostname' }).click();
    await page.locator('#dns-list').getByText(`www.${ZONE}`).waitFor();
    await add.getByLabel('Name', { exact: true }).fill('app');
    await add.getByLabel('Origin address').fill('192.0.2.11');
    await add.getByRole('button', { name: 'Add hostname' }).click();
    await page.locator('#dns-list').getByText(`app.${ZONE}`).waitFor();

    await page.getByRole('button', { name: `Edit www.${ZONE}` }).click();
    await page.locator('#dns-list').getByLabel('Origin HTTPS port').fill('8443');
    await page.getByRole('button', { name: `Save www.${ZONE}` }).click();
    await page.locator('#dns-list td[data-label="HTTPS port"]', { hasText: '8443' }).waitFor();
    const records = (await server.api('GET', `/zones/${zoneId}/dns_records`)).body.result as { name: string; origin_https_port: number }[];
    assert.equal(records.find((r) => r.name === `www.${ZONE}`)?.origin_https_port, 8443);
    await shoot(page, shots, '03-proxied-hostnames');
  });

  await step('SSL/TLS overview: modes, and the warning below Full', async () => {
    await page.locator('#zone-nav').getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('heading', { name: 'SSL/TLS' }).waitFor();
    await page.getByLabel('Flexible').check();
    await page.locator('#aop-mode-warning').waitFor();
    await shoot(page, shots, '04-ssl-tls-flexible');
    await page.getByLabel('Full (strict)').check();
    await page.locator('#aop-mode-warning').waitFor({ state: 'detached' });
    const ssl = (await server.api('GET', `/zones/${zoneId}/settings/ssl`)).body.result as { value: string };
    assert.equal(ssl.value, 'strict');
  });

  await step('Origin Server: global toggle and the origin-pull CA', async () => {
    await page.locator('#zone-nav').getByRole('link', { name: 'Origin Server' }).click();
    await page.getByRole('heading', { name: 'Origin Server' }).waitFor();
    assert.equal(await page.getByRole('tab', { name: 'Authenticated Origin Pulls' }).getAttribute('aria-selected'), 'true');
    const toggle = page.getByRole('switch', { name: 'Authenticated Origin Pulls', exact: true });
    assert.equal(await toggle.getAttribute('aria-checked'), 'false');
    await toggle.click();
    await page.locator('#global-aop-toggle[aria-checked="true"]').waitFor();
    const setting = (await server.api('GET', `/zones/${zoneId}/settings/tls_client_auth`)).body.result as { value: string };
    assert.equal(setting.value, 'on');
    const href = await page.locator('#ca-download').getAttribute('href');
    assert.ok(href);
    const pem = await fetch(new URL(href, server.origin));
    assert.equal(pem.status, 200);
    assert.match(await pem.text(), /-----BEGIN CERTIFICATE-----/);
  });

  await step('zone-level: review before upload, pending_deployment turns active live, toggle on', async () => {
    const section = page.locator('#aop-zone');
    await section.getByRole('button', { name: 'Upload certificate' }).click();
    await fillUpload(section, 'zone-upload', zoneLeaf);
    const review = section.locator('#zone-upload-review');
    await review.waitFor();
    assert.match(await review.locator('[data-field="issuer"]').innerText(), /CN=Example Origin Pull CA/);
    assert.equal(await review.locator('[data-field="serial"]').innerText(), serialDecimal(zoneLeaf.certPem));
    assert.equal(await review.locator('[data-field="fingerprint"]').innerText(), fingerprintColons(zoneLeaf.certPem));
    assert.match(await review.locator('[data-field="expires"]').innerText(), /days left/);
    assert.equal((await zoneCerts(server, zoneId)).length, 0, 'nothing is sent before the confirmation');
    await shoot(page, shots, '05-zone-upload-review');

    await server.edge.pause();
    await section.locator('#zone-upload-confirm').click();
    const newId = (await section.locator('#zone-upload-new-id').innerText()).trim();
    const row = section.locator(`tr[data-cert-id="${newId}"]`);
    await row.locator('[data-status="pending_deployment"]').waitFor();
    server.edge.resume();
    await row.locator('[data-status="active"]').waitFor({ timeout: 10_000 });
    await section.getByRole('button', { name: 'Done' }).click();

    const toggle = page.getByRole('switch', { name: 'Zone-level Authenticated Origin Pulls' });
    await toggle.click();
    await page.locator('#zone-aop-toggle[aria-checked="true"]').waitFor();
    await row.getByText('In use').waitFor();
    const settings = (await server.api('GET', `/zones/${zoneId}/origin_tls_client_auth/settings`)).body.result as { enabled: boolean };
    assert.equal(settings.enabled, true);
  });

  await step('bad uploads: unreadable PEM is caught before sending, a mismatched key gets the API message beside the key', async () => {
    const section = page.locator('#aop-zone');
    await section.getByRole('button', { name: 'Upload certificate' }).click();
    await fillUpload(section, 'zone-upload', { certPem: 'garbage', keyPem: stranger.keyPem });
    await section.locator('#zone-upload-certificate-error').waitFor();

    const mismatched = { certificate: stranger.certPem, private_key: zoneLeaf2.keyPem };
    await fillUpload(section, 'zone-upload', { certPem: mismatched.certificate, keyPem: mismatched.private_key });
    await section.locator('#zone-upload-confirm').click();
    const keyError = section.locator('#zone-upload-private_key-error');
    await keyError.waitFor();
    // The very words the API answers for this upload (nothing is stored on failure).
    const direct = await server.api('POST', `/zones/${zoneId}/origin_tls_client_auth`, mismatched);
    assert.equal(direct.status, 400);
    assert.equal(await keyError.innerText(), direct.body.errors[0].message);
    assert.equal((await zoneCerts(server, zoneId)).length, 1);
    await shoot(page, shots, '06-bad-upload-error');
    await section.getByRole('button', { name: 'Cancel' }).click();
  });

  await step('zero-downtime replace: upload new, wait until active, delete old', async () => {
    const section = page.locator('#aop-zone');
    const [old] = await zoneCerts(server, zoneId);
    await section.getByRole('button', { name: `Replace certificate ${old.id}` }).click();
    const flow = page.locator('#replace-flow');
    await fillUpload(flow, 'replace', zoneLeaf2);
    await flow.locator('#replace-confirm').click();
    await flow.getByText('Replaced: the edge now presents').waitFor({ timeout: 15_000 });
    assert.deepEqual(
      (await flow.locator('.step').evaluateAll((els) => els.map((e) => e.getAttribute('data-state')))),
      ['done', 'done', 'done'],
    );
    await shoot(page, shots, '07-replace-done');
    await flow.getByRole('button', { name: 'Close' }).click();
    // The old certificate goes once the edge applied its deletion; the list follows by itself.
    await section.locator(`tr[data-cert-id="${old.id}"]`).waitFor({ state: 'detached', timeout: 10_000 });
    const now = await zoneCerts(server, zoneId);
    assert.equal(now.length, 1);
    assert.notEqual(now[0].id, old.id);
    assert.equal(now[0].status, 'active');
  });

  await step('per-hostname: upload, associate, effective certificate, disable', async () => {
    const section = page.locator('#aop-hostname');
    await section.getByRole('button', { name: 'Upload certificate' }).click();
    // This time through the file pickers.
    await section.locator('#hostname-upload-cert-file').setInputFiles({ name: 'app.crt', mimeType: 'application/x-pem-file', buffer: Buffer.from(hostLeaf.certPem) });
    await section.locator('#hostname-upload-key-file').setInputFiles({ name: 'app.key', mimeType: 'application/x-pem-file', buffer: Buffer.from(hostLeaf.keyPem) });
    await page.waitForFunction(() =>
      ['#hostname-upload-certificate', '#hostname-upload-private_key'].every((sel) => document.querySelector<HTMLTextAreaElement>(sel)?.value.includes('-----BEGIN')),
    );
    await section.getByRole('button', { name: 'Continue' }).click();
    await section.locator('#hostname-upload-confirm').click();
    const certId = (await section.locator('#hostname-upload-new-id').innerText()).trim();
    await section.getByRole('button', { name: 'Done' }).click();
    await section.locator(`tr[data-cert-id="${certId}"] [data-status="active"]`).waitFor({ timeout: 10_000 });

    await section.getByLabel('Hostname', { exact: true }).fill(`other.example.org`);
    await section.getByRole('button', { name: 'Associate' }).click();
    await section.locator('#assoc-hostname-error').waitFor();

    await section.getByLabel('Hostname', { exact: true }).fill(`app.${ZONE}`);
    await section.getByLabel('Hostname certificate', { exact: true }).selectOption(certId);
    await section.getByRole('button', { name: 'Associate' }).click();
    const row = section.locator(`#association-table tr[data-hostname="app.${ZONE}"]`);
    await row.locator('td[data-label="Status"] [data-status="active"]').waitFor({ timeout: 10_000 });

    const effective = page.locator('#aop-effective');
    await effective.locator(`tr[data-hostname="app.${ZONE}"][data-level="hostname"]`).waitFor();
    await effective.locator(`tr[data-hostname="www.${ZONE}"][data-level="zone"]`).waitFor();
    await page.setViewportSize({ width: 1280, height: 800 });
    await shoot(page, shots, '08-origin-server-aop');

    // Deleting a certificate an enabled association uses is refused: the API's reason shows beside Delete.
    const certRow = section.locator(`#hostname-cert-table tr[data-cert-id="${certId}"]`);
    await certRow.getByRole('button', { name: `Delete hostname certificate ${certId}` }).click();
    await certRow.getByRole('button', { name: 'Delete', exact: true }).click();
    await certRow.locator('.error-text', { hasText: `still used by app.${ZONE}` }).waitFor();
    await certRow.getByRole('button', { name: 'Cancel' }).click();

    await row.getByRole('button', { name: `Disable app.${ZONE}` }).click();
    await row.getByText('Disabled').waitFor();
    await effective.locator(`tr[data-hostname="app.${ZONE}"]:not([data-level="hostname"])`).waitFor();
    const assoc = (await server.api('GET', `/zones/${zoneId}/origin_tls_client_auth/hostnames/app.${ZONE}`)).body.result as { enabled: boolean };
    assert.equal(assoc.enabled, false);
  });

  await step('days to expiry are coloured: amber under 30, orange under 14', async () => {
    const day = 86_400_000;
    for (const [cn, days] of [['soon', 20], ['very soon', 10]] as const) {
      const pair = await issueCertificate({ ca, commonName: cn, usage: 'client', keyType: 'p256', notBefore: new Date(Date.now() - day), notAfter: new Date(Date.now() + days * day) });
      const res = await server.api('POST', `/zones/${zoneId}/origin_tls_client_auth/hostnames/certificates`, { certificate: pair.certPem, private_key: pair.keyPem });
      assert.equal(res.status, 200);
      const id = (res.body.result as { id: string }).id;
      const band = days < 14 ? 'critical' : 'warning';
      await page.locator(`#hostname-cert-table tr[data-cert-id="${id}"] [data-band="${band}"]`).waitFor();
    }
    await page.locator('#hostname-cert-table').screenshot({ path: join(shots, '08b-expiry-colours.png') });
  });

  await step('origin set-up help: both phases for the chosen server; tabs work from the keyboard', async () => {
    const aopTab = page.getByRole('tab', { name: 'Authenticated Origin Pulls' });
    await aopTab.focus();
    await page.keyboard.press('ArrowRight');
    await page.getByRole('heading', { name: 'Configure your origin' }).waitFor();
    assert.equal(await page.getByRole('tab', { name: 'Origin set-up' }).getAttribute('aria-selected'), 'true');
    const config = page.locator('#origin-config');
    assert.match(await config.innerText(), /ssl_verify_client optional;/);
    await page.getByLabel('Phase 2 — enforce').check();
    assert.match(await config.innerText(), /ssl_verify_client on;/);
    await page.getByLabel('Origin web server').selectOption('apache');
    assert.match(await config.innerText(), /SSLVerifyClient require/);
    await page.getByLabel('Phase 1 — accept and log').check();
    assert.match(await config.innerText(), /SSLVerifyClient optional/);
    await shoot(page, shots, '09-origin-setup');
  });

  await step('notifications open from the navigation (the page itself: notifications.test.ts)', async () => {
    await page.locator('#zone-nav').getByRole('link', { name: 'Notifications', exact: true }).click();
    await page.getByRole('heading', { name: 'Notifications', level: 1 }).waitFor();
    await page.locator('#notify-webhooks').getByText('No webhook yet').waitFor();
  });

  await step('390 px wide: the Origin Server page fits without sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.origin}/#/zones/${zoneId}/ssl-tls/origin`);
    await page.getByRole('heading', { name: 'Origin Server' }).waitFor();
    await page.locator('#zone-cert-table').waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `page is ${width}px wide`);
    await shoot(page, shots, '10-origin-server-390px');
    await page.screenshot({ path: join(shots, '10a-origin-server-390px-top.png') });
    await page.locator('#aop-hostname').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, '10b-origin-server-390px-hostnames.png') });
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.locator('#zone-nav').getByRole('link', { name: 'Proxied hostnames' }).click();
    await page.getByRole('heading', { name: 'Proxied hostnames' }).waitFor();
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await step('a read-only token sees everything and says why it cannot change anything', async () => {
    const created = await server.api('POST', '/user/tokens', { name: 'viewer', permission: 'read', zones: null });
    const readToken = (created.body.result as { value: string }).value;
    const viewer = await browser.context.newPage();
    viewer.setDefaultTimeout(15_000);
    const viewerErrors = watchErrors(viewer);
    await viewer.goto(`${server.origin}/#/zones/${zoneId}/ssl-tls/origin`);
    await viewer.getByLabel('API token').fill(readToken);
    await viewer.getByRole('button', { name: 'Sign in' }).click();
    await viewer.getByRole('heading', { name: 'Origin Server' }).waitFor();
    await viewer.locator('#zone-cert-table').waitFor();
    const note = viewer.locator('#read-only-note');
    if (!(await note.isVisible())) {
      // The API did not say the permission up front: the first refused write tells.
      await viewer.getByRole('switch', { name: 'Authenticated Origin Pulls', exact: true }).click();
    }
    await note.waitFor();
    assert.match(await note.innerText(), /read/i);
    assert.equal(await viewer.locator('#zone-upload-open').isDisabled(), true);
    assert.equal(await viewer.locator('#global-aop-toggle').isDisabled(), true);
    const setting = (await server.api('GET', `/zones/${zoneId}/settings/tls_client_auth`)).body.result as { value: string };
    assert.equal(setting.value, 'on', 'nothing changed');
    await shoot(viewer, shots, '11-read-only');
    await viewer.close();
    assert.deepEqual(viewerErrors, []);
  });

  await step('no console errors', () => {
    assert.deepEqual(errors, []);
  });
});
