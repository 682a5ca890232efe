// Causes: htm does not decode HTML entities (the sign-in hint read "&lt;data-dir&gt;"); the app's
// 401 listener also answered the sign-in form's own 401 (the error twice); the upload box kept the
// POST's status; negative durations were floored ("expired 2 days ago" after one and a half);
// deletes of a zone certificate in use and of an association asked nothing about what follows;
// the API's wire wording (schema messages, request bodies to send) reached the page as it was;
// hostname certificates were listed by id and issuer only; the API logged two lines per request
// at info, polls included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createCa, issueCertificate } from '../../src/pki/index.ts';
import { launch, skipReason, watchErrors, chainedSteps } from './browser.ts';
import { startDashboardServer } from './server.ts';

const ZONE = 'example.com';
const DAY = 86_400_000;

interface LogLine {
  level: number;
  msg: string;
  method?: string;
  url?: string;
}

test('dashboard regressions in Chromium against the real API', { skip: skipReason(), timeout: 240_000 }, async (t) => {
  const shots = mkdtempSync(join(tmpdir(), 'originpull-regressions-shots-'));
  t.diagnostic(`screenshots: ${shots}`);
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const text of chunk.toString('utf8').split('\n')) if (text !== '') lines.push(JSON.parse(text) as LogLine);
      cb();
    },
  });
  const ca = await createCa({ commonName: 'Example Origin Pull CA', organization: 'Example', keyType: 'p256' });
  const server = await startDashboardServer({ logger: pino({ level: 'debug' }, sink) });
  const browser = await launch();
  t.after(async () => {
    await browser.close();
    await server.close();
  });
  const page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
  const errors = watchErrors(page);

  const zone = (await server.api('POST', '/zones', { name: ZONE })).body.result as { id: string };
  for (const name of ['www', 'app']) {
    const res = await server.api('POST', `/zones/${zone.id}/dns_records`, { type: 'A', name, content: '192.0.2.10', proxied: true });
    assert.equal(res.status, 200);
  }
  assert.equal((await server.api('PATCH', `/zones/${zone.id}/settings/ssl`, { value: 'strict' })).status, 200);
  assert.equal((await server.api('PUT', `/zones/${zone.id}/origin_tls_client_auth/settings`, { enabled: true })).status, 200);

  const step = chainedSteps(t);

  await step('sign-in: the hint names <data-dir>/admin-token, a wrong token is refused once', async () => {
    await page.goto(`${server.origin}/#/zones/${zone.id}/ssl-tls/origin`);
    const hint = page.locator('#token-hint');
    assert.match(await hint.innerText(), /<data-dir>\/admin-token/);
    assert.doesNotMatch(await hint.innerText(), /&lt;|&gt;/);
    await page.getByLabel('API token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#token-error').getByText('invalid API token').waitFor();
    // Give a second rendering of the refusal the time to appear, then count.
    await page.waitForTimeout(500);
    assert.equal(await page.getByText('invalid API token').count(), 1, 'the refusal is said once, beside the field');
    await page.getByLabel('API token').fill(server.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Origin Server' }).waitFor();
  });

  let zoneCertId = '';
  await step('the "Certificate uploaded" box follows the status to active', async () => {
    const leaf = await issueCertificate({ ca, commonName: 'zone client', usage: 'client', keyType: 'p256' });
    const section = page.locator('#aop-zone');
    await section.getByRole('button', { name: 'Upload certificate' }).click();
    await section.locator('#zone-upload-certificate').fill(leaf.certPem);
    await section.locator('#zone-upload-private_key').fill(leaf.keyPem);
    await section.getByRole('button', { name: 'Continue' }).click();
    await server.edge.pause();
    await section.locator('#zone-upload-confirm').click();
    const box = section.locator('.cert-id');
    await box.locator('[data-status="pending_deployment"]').waitFor();
    zoneCertId = (await section.locator('#zone-upload-new-id').innerText()).trim();
    server.edge.resume();
    await section.locator(`tr[data-cert-id="${zoneCertId}"] [data-status="active"]`).waitFor({ timeout: 10_000 });
    await box.locator('[data-status="active"]').waitFor({ timeout: 10_000 });
    await section.getByRole('button', { name: 'Done' }).click();
  });

  await step('deleting the zone certificate in use names the hostnames that fall back to the global certificate and the 525', async () => {
    const row = page.locator(`#zone-cert-table tr[data-cert-id="${zoneCertId}"]`);
    await row.getByText('In use').waitFor();
    await row.getByRole('button', { name: `Delete certificate ${zoneCertId}` }).click();
    const confirm = row.locator(`#delete-confirm-${zoneCertId}`);
    const warning = confirm.locator('[data-field="impact"]');
    await warning.waitFor();
    const text = await warning.innerText();
    assert.match(text, /global certificate/);
    assert.match(text, /525/);
    assert.match(text, new RegExp(`app\\.${ZONE.replace('.', '\\.')}, www\\.${ZONE.replace('.', '\\.')}`));
    await page.locator('#aop-zone').screenshot({ path: join(shots, 'zone-cert-delete-warning.png') });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(((await server.api('GET', `/zones/${zone.id}/origin_tls_client_auth`)).body.result as unknown[]).length, 1, 'nothing deleted');
  });

  const hostCerts: { id: string; pem: string; cn: string; names: string[] }[] = [];
  await step('hostname certificates of one CA are told apart by subject, names, fingerprint and expiry', async () => {
    for (const [cn, names] of [['app client', ['app.example.com']], ['api client', ['api.example.com', 'api2.example.com']]] as const) {
      const pair = await issueCertificate({ ca, commonName: cn, dnsNames: [...names], usage: 'client', keyType: 'p256' });
      const res = await server.api('POST', `/zones/${zone.id}/origin_tls_client_auth/hostnames/certificates`, { certificate: pair.certPem, private_key: pair.keyPem });
      assert.equal(res.status, 200);
      hostCerts.push({ id: (res.body.result as { id: string }).id, pem: pair.certPem, cn, names: [...names] });
    }
    for (const c of hostCerts) {
      const row = page.locator(`#hostname-cert-table tr[data-cert-id="${c.id}"]`);
      await row.waitFor();
      assert.equal(await row.locator('[data-field="subject"]').innerText(), `CN=${c.cn}`);
      assert.equal(await row.locator('[data-field="names"]').innerText(), c.names.join(', '));
      const fp = new X509Certificate(c.pem).fingerprint256;
      assert.equal(await row.locator('[data-field="fingerprint"]').innerText(), `${fp.slice(0, 23)}…`);
      assert.equal(await row.locator('[data-field="fingerprint"]').getAttribute('title'), `SHA-256 ${fp}`);
      assert.match(await row.locator('td[data-label="Expires"]').innerText(), /days left/);
    }
    const options = await page.locator('#assoc-cert option').allInnerTexts();
    assert.ok(options.some((o) => o.startsWith('app client (app.example.com)')), options.join(' | '));
    await page.locator('#aop-hostname').screenshot({ path: join(shots, 'hostname-certificates.png') });
  });

  await step('a refused hostname-certificate delete speaks plainly and goes once the association is removed (with a confirmation)', async () => {
    const [appCert] = hostCerts;
    const put = await server.api('PUT', `/zones/${zone.id}/origin_tls_client_auth/hostnames`, { config: [{ hostname: `app.${ZONE}`, cert_id: appCert.id, enabled: true }] });
    assert.equal(put.status, 200);
    const certRow = page.locator(`#hostname-cert-table tr[data-cert-id="${appCert.id}"]`);
    await certRow.locator('td[data-label="Hostnames"]', { hasText: `app.${ZONE}` }).waitFor();
    await certRow.getByRole('button', { name: `Delete hostname certificate ${appCert.id}` }).click();
    await certRow.getByRole('button', { name: 'Delete', exact: true }).click();
    const refusal = certRow.locator('.error-text');
    await refusal.waitFor();
    const text = await refusal.innerText();
    assert.match(text, new RegExp(`still used by app\\.example\\.com`));
    assert.doesNotMatch(text, /PUT|\/zones\/|config|enabled":null/);

    const assocRow = page.locator(`#association-table tr[data-hostname="app.${ZONE}"]`);
    await assocRow.getByRole('button', { name: `Remove the association of app.${ZONE}` }).click();
    const confirm = assocRow.locator('#assoc-app-example-com-remove-confirm');
    await confirm.waitFor();
    assert.match(await confirm.innerText(), /Remove the association of app\.example\.com\?/);
    const still = await server.api('GET', `/zones/${zone.id}/origin_tls_client_auth/hostnames/app.${ZONE}`);
    assert.equal(still.status, 200, 'the first click removes nothing');
    await confirm.getByRole('button', { name: 'Remove', exact: true }).click();
    await assocRow.waitFor({ state: 'detached', timeout: 10_000 });
    await refusal.waitFor({ state: 'detached' });
    assert.equal(await certRow.locator('.error-text').count(), 0, 'the refusal no longer holds');
  });

  await step('the API\'s schema wording is said in the words of the form', async () => {
    await page.goto(`${server.origin}/#/zones/${zone.id}/dns`);
    const add = page.locator('#dns-add');
    await add.getByLabel('Name', { exact: true }).fill('shop');
    await add.getByLabel('Origin address').fill('not-an-ip');
    await add.getByRole('button', { name: 'Add hostname' }).click();
    const contentError = add.locator('#new-record-content-error');
    await contentError.waitFor();
    assert.match(await contentError.innerText(), /^Enter the origin’s IPv4 address, e\.g\. 192\.0\.2\.10/);
    assert.doesNotMatch(await contentError.innerText(), /content must/);

    await page.goto(`${server.origin}/#/zones/${zone.id}/notifications`);
    const webhooks = page.locator('#notify-webhooks');
    await webhooks.getByRole('button', { name: 'Add webhook' }).click();
    await webhooks.getByLabel('URL').fill('http://127.0.0.1:9/hook');
    await webhooks.getByRole('button', { name: 'Add and test' }).click();
    const nameError = webhooks.locator('#webhook-new-name-error');
    await nameError.waitFor();
    assert.equal(await nameError.innerText(), 'Name cannot be empty.');
    assert.doesNotMatch(await page.locator('#notify-policies').innerText(), /once at once/);
  });

  await step('a certificate that expired a day and a half ago "expired 1 day ago"', async () => {
    const notAfter = Date.now() + 3 * DAY;
    const pair = await issueCertificate({ ca, commonName: 'short lived', usage: 'client', keyType: 'p256', notBefore: new Date(Date.now() - DAY), notAfter: new Date(notAfter) });
    const res = await server.api('POST', `/zones/${zone.id}/origin_tls_client_auth/hostnames/certificates`, { certificate: pair.certPem, private_key: pair.keyPem });
    assert.equal(res.status, 200);
    const id = (res.body.result as { id: string }).id;
    const later = await browser.context.newPage();
    t.after(() => later.close());
    later.setDefaultTimeout(15_000);
    // The browser's clock a day and a half past the expiry; timers keep running.
    await later.clock.setFixedTime(new Date(Math.floor(notAfter / 1000) * 1000 + 1.5 * DAY));
    await later.goto(`${server.origin}/#/zones/${zone.id}/ssl-tls/origin`);
    await later.getByLabel('API token').fill(server.adminToken);
    await later.getByRole('button', { name: 'Sign in' }).click();
    const expiry = later.locator(`#hostname-cert-table tr[data-cert-id="${id}"] td[data-label="Expires"] [data-band]`);
    await expiry.waitFor();
    assert.equal(await expiry.getAttribute('data-band'), 'expired');
    assert.match(await expiry.innerText(), /· expired 1 day ago$/);
  });

  await step('a dashboard left open logs its refreshes at debug, one line per request', async () => {
    await page.goto(`${server.origin}/#/zones/${zone.id}/ssl-tls/origin`);
    await page.locator('#zone-cert-table').waitFor();
    await page.waitForTimeout(1_000);
    const api = (l: LogLine) => l.msg === 'request' && l.url?.startsWith('/client/v4/') === true;
    const before = { info: lines.filter((l) => api(l) && l.level === 30).length, debug: lines.filter((l) => api(l) && l.level === 20).length };
    await page.waitForTimeout(5_000);
    const after = { info: lines.filter((l) => api(l) && l.level === 30).length, debug: lines.filter((l) => api(l) && l.level === 20).length };
    assert.equal(after.info, before.info, 'an idle page writes nothing at info');
    assert.ok(after.debug - before.debug >= 6, `the page kept refreshing (${after.debug - before.debug} refreshes in 5 s)`);
    assert.equal(lines.filter((l) => l.msg === 'incoming request' || l.msg === 'request completed').length, 0);
  });

  await step('no console errors', () => {
    assert.deepEqual(errors, []);
  });
});
