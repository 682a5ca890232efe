// Debian's Chromium driven by playwright-core (no browser download), a fresh profile per run, and
// a guard that collects console errors and uncaught page errors.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const DIST_INDEX = fileURLToPath(new URL('../../web/dist/index.html', import.meta.url));

/** Why the browser tests cannot run here, or false. */
export function skipReason(): string | false {
  if (!existsSync(CHROMIUM)) return 'chromium not installed: apt-get install chromium';
  if (!existsSync(DIST_INDEX)) return 'dashboard not built: run npm run build:web';
  return false;
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launch(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'originpull-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Console errors and page errors of `page`. Chromium logs every non-2xx fetch as "Failed to load
 * resource: … status of 4xx"; the tests provoke those on purpose (bad token, bad upload, a
 * read-only token's refused write) and the page shows them beside the field, so 4xx resource
 * messages are not errors of the page. Everything else is.
 */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text())) return;
    errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  return errors;
}

/** Subtests that build on each other: after a failure the rest are skipped, not timed out. */
export function chainedSteps(t: TestContext): (name: string, fn: () => Promise<void> | void) => Promise<void> {
  let failed = false;
  return (name, fn) =>
    t.test(name, { skip: failed ? 'an earlier step failed' : false }, async () => {
      try {
        await fn();
      } catch (err) {
        failed = true;
        throw err;
      }
    });
}
