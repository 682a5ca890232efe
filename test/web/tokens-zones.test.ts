// API tokens and zone deletion in the dashboard (both existed only in the API): list, create with
// name, permission and zones showing the secret once, delete; deleting a zone names what goes
// and asks for its name. Screenshots go to a temp folder (printed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, skipReason, watchErrors, chainedSteps } from './browser.ts';
import { startDashboardServer } from './server.ts';

interface TokenWire {
  id: string;
  name: string;
  permission: string;
  zones: string[] | null;
}

test('API tokens and zone deletion in Chromium', { skip: skipReason(), timeout: 180_000 }, async (t) => {
  const shots = mkdtempSync(join(tmpdir(), 'originpull-tokens-shots-'));
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
  const keep = (await server.api('POST', '/zones', { name: 'keep.test' })).body.result as { id: string };
  const gone = (await server.api('POST', '/zones', { name: 'gone.test' })).body.result as { id: string };
  for (const name of ['www', 'shop']) assert.equal((await server.api('POST', `/zones/${gone.id}/dns_records`, { type: 'A', name, content: '192.0.2.20' })).status, 200);

  const step = chainedSteps(t);

  await step('create a zone-limited edit token: the secret is shown once and works', async () => {
    await page.goto(`${server.origin}/`);
    await page.getByLabel('API token').fill(server.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'API tokens' }).click();
    await page.getByRole('heading', { name: 'API tokens', level: 1 }).waitFor();
    await page.locator('#token-table tr', { hasText: 'Admin' }).waitFor();

    const form = page.locator('#token-create');
    await form.getByRole('button', { name: 'Create token' }).click();
    await form.locator('#token-name-error').waitFor();
    await form.getByLabel('Name').fill('deploy script');
    await form.getByLabel('Edit').check();
    await form.getByLabel('Only these zones').check();
    await form.getByLabel('keep.test').check();
    await form.getByRole('button', { name: 'Create token' }).click();
    const secret = await page.locator('#token-secret-value').inputValue();
    assert.ok(secret.length > 20);
    await page.locator('#token-table tr[data-token-name="deploy script"]').waitFor();
    await page.screenshot({ path: join(shots, 'tokens-created.png'), fullPage: true });

    const tokens = (await server.api('GET', '/user/tokens')).body.result as TokenWire[];
    const made = tokens.find((x) => x.name === 'deploy script');
    assert.deepEqual({ permission: made?.permission, zones: made?.zones }, { permission: 'edit', zones: [keep.id] });
    const verify = await server.api('GET', '/user/tokens/verify', undefined, secret);
    assert.equal(verify.status, 200, 'the secret shown is the token');
    assert.equal((await server.api('GET', `/zones/${gone.id}`, undefined, secret)).status, 403, 'limited to keep.test');

    await page.getByRole('button', { name: 'Done' }).click();
    await page.locator('#token-secret').waitFor({ state: 'detached' });
    assert.equal(await page.getByText(secret).count(), 0, 'the secret is not shown again');
    assert.equal(await page.locator(`input[value="${secret}"]`).count(), 0);
  });

  await step('delete the token after a confirmation', async () => {
    const row = page.locator('#token-table tr[data-token-name="deploy script"]');
    await row.getByRole('button', { name: 'Delete token deploy script' }).click();
    await row.getByText('Whatever uses it is refused').waitFor();
    await row.getByRole('button', { name: 'Delete', exact: true }).click();
    await row.waitFor({ state: 'detached' });
    const tokens = (await server.api('GET', '/user/tokens')).body.result as TokenWire[];
    assert.equal(tokens.some((x) => x.name === 'deploy script'), false);
  });

  await step('delete a zone: the confirmation names its hostnames and needs the zone name', async () => {
    await page.getByRole('link', { name: 'originpull' }).click();
    await page.getByRole('heading', { name: 'Zones', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Delete zone gone.test' }).click();
    const contents = page.locator(`#zone-delete-contents-${gone.id}`);
    await contents.waitFor();
    assert.match(await contents.innerText(), /2 hostnames the edge stops serving:\s+shop\.gone\.test, www\.gone\.test/);
    assert.match(await contents.innerText(), /0 zone-level certificates/);
    await page.screenshot({ path: join(shots, 'zone-delete.png'), fullPage: true });
    const confirm = page.locator(`#zone-delete-${gone.id}-confirm`);
    await page.locator(`#zone-delete-${gone.id}-name`).fill('keep.test');
    await confirm.click();
    await page.locator(`#zone-delete-${gone.id}-name-error`).waitFor();
    assert.equal((await server.api('GET', `/zones/${gone.id}`)).status, 200, 'nothing deleted on a wrong name');
    await page.locator(`#zone-delete-${gone.id}-name`).fill('gone.test');
    await confirm.click();
    await page.locator('#zone-deleted').waitFor();
    await page.locator('.zone-list li[data-zone="gone.test"]').waitFor({ state: 'detached' });
    assert.equal((await server.api('GET', `/zones/${gone.id}`)).status, 404);
    assert.equal((await server.api('GET', `/zones/${keep.id}`)).status, 200);
  });

  await step('a non-admin token is told that tokens take the admin token', async () => {
    const created = await server.api('POST', '/user/tokens', { name: 'viewer', permission: 'read', zones: null });
    const viewer = await browser.context.newPage();
    t.after(() => viewer.close());
    await viewer.goto(`${server.origin}/#/tokens`);
    await viewer.getByLabel('API token').fill((created.body.result as { value: string }).value);
    await viewer.getByRole('button', { name: 'Sign in' }).click();
    await viewer.locator('#tokens-admin-only').waitFor();
    assert.equal(await viewer.locator('#token-create').count(), 0);
  });

  await step('no console errors', () => {
    assert.deepEqual(errors, []);
  });
});
