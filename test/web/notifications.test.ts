// The Notifications page in Debian's headless Chromium against the real alerting API: a webhook
// whose receiver fails is refused beside the URL (nothing stored), a working one gets the test
// message with its secret, a zone-level expiry policy is created and switched, a zone certificate
// 10 days from expiry is uploaded, the notifier's scan delivers the 14-day alert and the delivery
// log shows it delivered; a webhook in use cannot be deleted; then both are deleted. A read-only
// token sees everything with buttons disabled; a zone-scoped token gets a note, not errors.
// Screenshots at 1280×800 and 390 px go to a temp folder (printed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createNotifier } from '../../src/notify/index.ts';
import { createCa, issueCertificate } from '../../src/pki/index.ts';
import { launch, skipReason, watchErrors } from './browser.ts';
import { startDashboardServer } from './server.ts';
// The receivers listen on loopback, which webhooks may reach only when allowed explicitly.
process.env.ORIGINPULL_WEBHOOK_ALLOW = 'loopback';

const ZONE = 'alerts.example';
const SECRET = 'receiver-secret-1';
const DAY = 86_400_000;

interface Hit {
  path: string;
  headers: IncomingHttpHeaders;
  body: { text?: string; alert_type?: string; data?: { threshold?: number; certificate_id?: string } };
}

/** A webhook receiver on 127.0.0.1:0: `/ok` answers 200, `/fail` answers 500; every POST is kept. */
async function startReceiver() {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') as Hit['body'] });
      res.writeHead(req.url === '/fail' ? 500 : 200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    hits,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function shoot(page: Page, dir: string, name: string): Promise<void> {
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

async function signIn(page: Page, origin: string, token: string, hash: string): Promise<void> {
  await page.goto(`${origin}/${hash}`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('notifications: webhooks, expiry policies and the delivery log in Chromium', { skip: skipReason(), timeout: 180_000 }, async (t) => {
  const shots = mkdtempSync(join(tmpdir(), 'originpull-notifications-shots-'));
  t.diagnostic(`screenshots: ${shots}`);
  console.log(`# notifications screenshots: ${shots}`);

  const server = await startDashboardServer();
  const receiver = await startReceiver();
  const browser = await launch();
  const notifier = createNotifier({ store: server.store, secretBox: server.app.ctx.secretBox, logger: false });
  t.after(async () => {
    await notifier.close();
    await browser.close();
    await receiver.close();
    await server.close();
  });

  const zone = (await server.api('POST', '/zones', { name: ZONE })).body.result as { id: string; account: { id: string } };
  const base = `/accounts/${zone.account.id}/alerting/v3`;
  const pageHash = `#/zones/${zone.id}/notifications`;
  const page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
  const errors = watchErrors(page);
  const webhooks = page.locator('#notify-webhooks');
  const policies = page.locator('#notify-policies');
  const log = page.locator('#notify-deliveries');
  let webhookId = '';
  let policyId = '';
  let failed = false;
  const step = (name: string, fn: () => Promise<void>) =>
    t.test(name, { skip: failed ? 'an earlier step failed' : false }, async () => {
      try {
        await fn();
      } catch (err) {
        failed = true;
        throw err;
      }
    });

  await step('the page is in the navigation and starts empty', async () => {
    await signIn(page, server.origin, server.adminToken, `#/zones/${zone.id}/dns`);
    await page.locator('#zone-nav').getByRole('link', { name: 'Notifications', exact: true }).click();
    await page.getByRole('heading', { name: 'Notifications', level: 1 }).waitFor();
    await webhooks.getByText('No webhook yet').waitFor();
    await log.getByText('Nothing sent yet.').waitFor();
    assert.equal(await page.locator('#policy-add-open').isDisabled(), true, 'a policy needs a webhook first');
  });

  await step('a receiver that answers 500 is refused beside the URL, and nothing is stored', async () => {
    await webhooks.getByRole('button', { name: 'Add webhook' }).click();
    await webhooks.getByLabel('Name').fill('broken receiver');
    await webhooks.getByLabel('URL').fill(`${receiver.base}/fail`);
    await webhooks.getByRole('button', { name: 'Add and test' }).click();
    const urlError = webhooks.locator('#webhook-new-url-error');
    await urlError.waitFor();
    assert.match(await urlError.innerText(), /was not accepted \(no 2xx answer within 2\.5 s\)/);
    assert.match(await urlError.innerText(), /Nothing was saved/);
    assert.equal(await webhooks.locator('#webhook-new-url').getAttribute('aria-invalid'), 'true');
    assert.equal(receiver.hits.filter((h) => h.path === '/fail').length, 1, 'the test message was sent once');
    assert.deepEqual((await server.api('GET', `${base}/destinations/webhooks`)).body.result, []);
    await webhooks.screenshot({ path: join(shots, '00-webhook-test-failed.png') });
  });

  await step('a working receiver gets the test message with the secret; the webhook is listed', async () => {
    await webhooks.getByLabel('Name').fill('ops receiver');
    await webhooks.getByLabel('URL').fill(`${receiver.base}/ok`);
    await webhooks.getByLabel(/Secret/).fill(SECRET);
    await webhooks.getByRole('button', { name: 'Add and test' }).click();
    await webhooks.getByText('Added webhook “ops receiver”').waitFor();
    const test = receiver.hits.filter((h) => h.path === '/ok');
    assert.equal(test.length, 1);
    assert.equal(test[0].headers['cf-webhook-auth'], SECRET);
    assert.match(test[0].body.text ?? '', /test message/);
    const list = (await server.api('GET', `${base}/destinations/webhooks`)).body.result as { id: string; name: string }[];
    assert.deepEqual(list.map((w) => w.name), ['ops receiver']);
    webhookId = list[0].id;
    const row = page.locator(`#webhook-table tr[data-webhook-id="${webhookId}"]`);
    assert.match(await row.locator('td[data-label="URL"]').innerText(), /\/ok$/);
    assert.match(await row.locator('td[data-label="Last success"]').innerText(), /UTC/);
    assert.equal((await row.locator('td[data-label="Last failure"]').innerText()).trim(), 'never');
  });

  await step('a zone-level expiry policy with that webhook and zone is created and listed', async () => {
    await policies.getByRole('button', { name: 'Add policy' }).click();
    const form = policies.locator('#policy-new-form');
    await form.getByLabel('Name').fill('AOP expiry');
    await form.getByLabel('Alert type').selectOption('zone_aop_custom_certificate_expiration_type');
    // Alert types come from available_alerts: all six are offered.
    assert.deepEqual(await form.locator('#policy-new-alert_type option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)), [
      'zone_aop_custom_certificate_expiration_type',
      'hostname_aop_custom_certificate_expiration_type',
      'aop_expired_certificate_in_use_type',
      'custom_ssl_certificate_event_type',
      'universal_ssl_event_type',
      'dedicated_ssl_certificate_event_type',
    ]);
    const hook = form.locator(`#policy-new-webhooks-${webhookId}`);
    if (!(await hook.isChecked())) await hook.check();
    await form.getByLabel(ZONE).check();
    await policies.screenshot({ path: join(shots, '00-policy-form.png') });
    await form.getByRole('button', { name: 'Add policy' }).click();
    await policies.getByText('Added policy “AOP expiry”').waitFor();
    const list = (await server.api('GET', `${base}/policies`)).body.result as {
      id: string; alert_type: string; enabled: boolean; mechanisms: { webhooks: { id: string }[] }; filters: { zones?: string[] };
    }[];
    assert.equal(list.length, 1);
    policyId = list[0].id;
    assert.equal(list[0].alert_type, 'zone_aop_custom_certificate_expiration_type');
    assert.equal(list[0].enabled, true);
    assert.deepEqual(list[0].mechanisms.webhooks, [{ id: webhookId }]);
    assert.deepEqual(list[0].filters.zones, [zone.id]);
    const row = page.locator(`#policy-table tr[data-policy-id="${policyId}"]`);
    assert.equal(await row.locator('td[data-label="Webhooks"]').innerText(), 'ops receiver');
    assert.equal(await row.locator('td[data-label="Zones"]').innerText(), ZONE);
    assert.match(await row.locator('td[data-label="Alert type"]').innerText(), /Zone-level/);
  });

  await step('the policy switch turns it off and on again', async () => {
    const toggle = page.getByRole('switch', { name: 'Policy AOP expiry enabled' });
    await toggle.click();
    await page.locator(`#policy-table tr[data-policy-id="${policyId}"] [role="switch"][aria-checked="false"]`).waitFor();
    assert.equal(((await server.api('GET', `${base}/policies/${policyId}`)).body.result as { enabled: boolean }).enabled, false);
    await toggle.click();
    await page.locator(`#policy-table tr[data-policy-id="${policyId}"] [role="switch"][aria-checked="true"]`).waitFor();
    assert.equal(((await server.api('GET', `${base}/policies/${policyId}`)).body.result as { enabled: boolean }).enabled, true);
  });

  await step('editing a policy keeps it and shows the API refusal for no webhook beside the field', async () => {
    const row = page.locator(`#policy-table tr[data-policy-id="${policyId}"]`);
    await row.getByRole('button', { name: 'Edit policy AOP expiry' }).click();
    const form = page.locator(`#policy-edit-${policyId}-form`);
    await form.locator(`#policy-edit-${policyId}-webhooks-${webhookId}`).uncheck();
    await form.getByRole('button', { name: 'Save policy' }).click();
    await form.locator(`#policy-edit-${policyId}-webhooks-error`).getByText('mechanisms.webhooks must name at least one').waitFor();
    await form.locator(`#policy-edit-${policyId}-webhooks-${webhookId}`).check();
    await form.getByLabel('Name').fill('AOP expiry (ops)');
    await form.getByRole('button', { name: 'Save policy' }).click();
    await policies.getByText('Saved policy “AOP expiry (ops)”').waitFor();
    assert.equal(((await server.api('GET', `${base}/policies/${policyId}`)).body.result as { name: string }).name, 'AOP expiry (ops)');
  });

  let certId = '';
  await step('a zone certificate 10 days from expiry: the scan delivers the 14-day alert and the log shows it delivered', async () => {
    const ca = await createCa({ commonName: 'Alerts CA', keyType: 'p256' });
    const leaf = await issueCertificate({ ca, commonName: 'zone client', usage: 'client', keyType: 'p256', notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 10 * DAY) });
    const up = await server.api('POST', `/zones/${zone.id}/origin_tls_client_auth`, { certificate: leaf.certPem, private_key: leaf.keyPem });
    assert.equal(up.status, 200, JSON.stringify(up.body.errors));
    certId = (up.body.result as { id: string }).id;

    const scan = await notifier.scanOnce();
    assert.equal(scan.delivered, 1, JSON.stringify(scan));
    const alerts = receiver.hits.filter((h) => h.path === '/ok' && h.body.alert_type !== undefined);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0].headers['cf-webhook-auth'], SECRET);
    assert.equal(alerts[0].body.data?.threshold, 14, 'one alert, for the threshold already passed');
    assert.equal(alerts[0].body.data?.certificate_id, certId);

    // The log refreshes on its own: no reload, no click.
    const row = log.locator('#delivery-table tbody tr');
    await row.locator('[data-status="delivered"]').waitFor({ timeout: 10_000 });
    assert.equal(await row.count(), 1);
    assert.match(await row.locator('td[data-label="Alert"]').innerText(), /Zone-level certificate expiry/);
    assert.match(await row.locator('td[data-label="Alert"]').innerText(), new RegExp(ZONE.replace('.', '\\.')));
    assert.equal(await row.locator('td[data-label="Certificate"] code').getAttribute('title'), certId);
    assert.equal((await row.locator('td[data-label="Threshold"]').innerText()).trim(), '14 days');
    assert.equal((await row.locator('td[data-label="Webhook"]').innerText()).trim(), 'ops receiver');
    assert.equal((await row.locator('td[data-label="Attempts"]').innerText()).trim(), '1');
    assert.match(await row.locator('td[data-label="Status"]').innerText(), /HTTP 200/);
    assert.equal((await row.locator('td[data-label="Last error"]').innerText()).trim(), '—');
  });

  await step('the log filters by status', async () => {
    await log.getByLabel('Status').selectOption('failed');
    await log.getByText('No failed delivery.').waitFor();
    await log.getByLabel('Status').selectOption('delivered');
    await log.locator('#delivery-table tr[data-status="delivered"]').waitFor();
    await log.getByLabel('Status').selectOption('');
    await log.locator('#delivery-table').waitFor();
  });

  await step('screenshots at 1280×800 and 390 px; nothing scrolls sideways on the phone', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await shoot(page, shots, '01-notifications-1280');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('#delivery-table').waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `page is ${width}px wide`);
    await shoot(page, shots, '02-notifications-390');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await step('a webhook used by a policy cannot be deleted: the API message shows beside Delete', async () => {
    const row = page.locator(`#webhook-table tr[data-webhook-id="${webhookId}"]`);
    await row.getByRole('button', { name: 'Delete webhook ops receiver' }).click();
    await row.getByRole('button', { name: 'Delete', exact: true }).click();
    await row.locator('.error-text', { hasText: 'is used by the policy "AOP expiry (ops)"' }).waitFor();
    await shoot(page, shots, '03-webhook-in-use');
    await row.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(((await server.api('GET', `${base}/destinations/webhooks`)).body.result as unknown[]).length, 1);
  });

  await step('a read-only token sees everything with the buttons disabled', async () => {
    const created = await server.api('POST', '/user/tokens', { name: 'viewer', permission: 'read', zones: null });
    const viewer = await browser.context.newPage();
    viewer.setDefaultTimeout(15_000);
    const viewerErrors = watchErrors(viewer);
    await signIn(viewer, server.origin, (created.body.result as { value: string }).value, pageHash);
    await viewer.locator(`#policy-table tr[data-policy-id="${policyId}"]`).waitFor();
    await viewer.locator('#delivery-table tr[data-status="delivered"]').waitFor();
    await viewer.locator('#read-only-note').waitFor();
    for (const button of ['Add webhook', 'Add policy', 'Edit webhook ops receiver', 'Delete webhook ops receiver', 'Edit policy AOP expiry (ops)', 'Delete policy AOP expiry (ops)']) {
      assert.equal(await viewer.getByRole('button', { name: button }).isDisabled(), true, `${button} is disabled`);
    }
    assert.equal(await viewer.getByRole('switch', { name: 'Policy AOP expiry (ops) enabled' }).isDisabled(), true);
    assert.equal(await viewer.getByLabel('Status').isDisabled(), false, 'filtering the log is reading');
    await shoot(viewer, shots, '04-read-only');
    await viewer.close();
    assert.deepEqual(viewerErrors, []);
  });

  await step('a zone-scoped token gets a clear note instead of errors', async () => {
    const created = await server.api('POST', '/user/tokens', { name: 'zone editor', permission: 'edit', zones: [zone.id] });
    const scoped = await browser.context.newPage();
    scoped.setDefaultTimeout(15_000);
    const scopedErrors = watchErrors(scoped);
    await signIn(scoped, server.origin, (created.body.result as { value: string }).value, pageHash);
    const note = scoped.locator('#notify-zone-scoped');
    await note.waitFor();
    assert.match(await note.innerText(), /limited to specific zones/);
    assert.equal(await scoped.locator('#notify-webhooks').count(), 0);
    assert.equal(await scoped.locator('.error-text').count(), 0);
    // Refused once is enough: the page stops asking.
    const asked: string[] = [];
    scoped.on('request', (r) => {
      if (r.url().includes('/alerting/')) asked.push(r.url());
    });
    await scoped.waitForTimeout(3_500);
    assert.deepEqual(asked, []);
    await shoot(scoped, shots, '05-zone-scoped');
    await scoped.close();
    assert.deepEqual(scopedErrors, []);
  });

  await step('delete the policy, then the webhook', async () => {
    const policyRow = page.locator(`#policy-table tr[data-policy-id="${policyId}"]`);
    await policyRow.getByRole('button', { name: 'Delete policy AOP expiry (ops)' }).click();
    await policyRow.getByRole('button', { name: 'Delete', exact: true }).click();
    await policies.getByText('No policy yet').waitFor();
    const hookRow = page.locator(`#webhook-table tr[data-webhook-id="${webhookId}"]`);
    await hookRow.getByRole('button', { name: 'Delete webhook ops receiver' }).click();
    await hookRow.getByRole('button', { name: 'Delete', exact: true }).click();
    await webhooks.getByText('No webhook yet').waitFor();
    assert.deepEqual((await server.api('GET', `${base}/policies`)).body.result, []);
    assert.deepEqual((await server.api('GET', `${base}/destinations/webhooks`)).body.result, []);
    // The delivered row stays in the log, naming the deleted webhook.
    await log.locator('#delivery-table tr[data-status="delivered"] td[data-label="Webhook"]', { hasText: 'deleted' }).waitFor();
  });

  await step('no console errors', async () => {
    assert.deepEqual(errors, []);
  });
});
