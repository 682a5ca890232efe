// A browser's view: Debian's Chromium, with Pebble's root in its profile's NSS store (and nothing
// else added), loads a page through the edge over HTTPS for a name Universal SSL got a certificate
// for, with no certificate error; a name served by the edge-CA fallback still gets
// ERR_CERT_AUTHORITY_INVALID, so the trust is the ACME certificate's and not a blanket one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { pebbleMissing } from '../helpers/pebble.ts';
import { eventually, startAcmeHarness, zoneWithRecords } from './harness.ts';

const CHROMIUM = '/usr/bin/chromium';
const CERTUTIL = '/usr/bin/certutil';
const skip =
  pebbleMissing() ||
  (!existsSync(CHROMIUM) && 'chromium not installed: apt-get install chromium') ||
  (!existsSync(CERTUTIL) && 'certutil not installed: apt-get install libnss3-tools') ||
  false;

test('Chromium trusting Pebble\'s root loads a page through the edge with no certificate error', { skip, timeout: 180_000 }, async (t) => {
  const h = await startAcmeHarness();
  t.after(() => h.close());
  const zone_id = await zoneWithRecords(h, 'browser.test', ['www.browser.test']);
  await h.pebble.addA('nocert.browser.test', '127.0.0.2');
  await h.cf.dns.records.create({ zone_id, type: 'A', name: 'nocert.browser.test', content: '127.0.0.1', proxied: true, ttl: 1 });
  await eventually('the pack to be active', async () => {
    const pack = (await h.cf.ssl.certificatePacks.list({ zone_id })).result.find((p) => p.hosts[0] === 'www.browser.test');
    return pack?.status === 'active' ? pack : undefined;
  });

  // Chromium on Linux trusts what the profile's NSS database (under $HOME) trusts.
  const home = mkdtempSync(join(tmpdir(), 'originpull-chromium-home-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const nss = join(home, '.pki', 'nssdb');
  mkdirSync(nss, { recursive: true });
  writeFileSync(join(home, 'pebble-root.pem'), await h.pebble.root());
  execFileSync(CERTUTIL, ['-N', '-d', `sql:${nss}`, '--empty-password']);
  execFileSync(CERTUTIL, ['-A', '-d', `sql:${nss}`, '-n', 'Pebble test root', '-t', 'C,,', '-i', join(home, 'pebble-root.pem')]);

  // The browser part is bounded: a Chromium that stops answering (seen on a loaded machine, where
  // a call then never returned) is left and a new one started once, rather than holding the run.
  const visit = async (attempt: number) => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 60_000,
      env: { ...process.env, HOME: home },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // The names exist only for the test: every one of them is the edge.
        '--host-resolver-rules=MAP *.browser.test 127.0.0.1',
      ],
    });
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Chromium did not finish within 60 s (attempt ${attempt})`)), 60_000);
    });
    try {
      await Promise.race([
        stuck,
        (async () => {
          const page = await browser.newPage();
          const response = await page.goto(`https://www.browser.test:${h.httpsPort}/`, { timeout: 30_000 });
          assert.equal(response!.status(), 200);
          assert.equal(await page.textContent('body'), 'hello from the origin');
          const security = await response!.securityDetails();
          assert.match(security!.issuer ?? '', /Pebble/i, `issued by Pebble: ${JSON.stringify(security)}`);
          await assert.rejects(page.goto(`https://nocert.browser.test:${h.httpsPort}/`, { timeout: 30_000 }), /ERR_CERT_AUTHORITY_INVALID/);
        })(),
      ]);
    } finally {
      clearTimeout(timer);
      // A browser that does not close in 5 s is left to the runner's forced exit.
      await Promise.race([browser.close().catch(() => {}), new Promise<void>((resolve) => setTimeout(resolve, 5_000).unref())]);
    }
  };
  try {
    await visit(1);
  } catch (err) {
    if (!/did not finish within/.test((err as Error).message)) throw err;
    await visit(2);
  }
});
