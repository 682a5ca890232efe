// The merged configuration: defaults, then environment, then flags, checked once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../src/config.ts';

test('store timeouts: defaults, from the environment, and zero or garbage refused', () => {
  const defaults = loadConfig({ env: {} });
  assert.equal(defaults.timeouts.storeQueryMs, 15_000);
  assert.equal(defaults.timeouts.storeStatementMs, 10_000);
  const set = loadConfig({ env: { ORIGINPULL_STORE_QUERY_TIMEOUT_MS: '4000', ORIGINPULL_STORE_STATEMENT_TIMEOUT_MS: '3000' } });
  assert.equal(set.timeouts.storeQueryMs, 4_000);
  assert.equal(set.timeouts.storeStatementMs, 3_000);
  for (const [name, value] of [
    ['ORIGINPULL_STORE_QUERY_TIMEOUT_MS', '0'],
    ['ORIGINPULL_STORE_STATEMENT_TIMEOUT_MS', '0'],
    ['ORIGINPULL_STORE_QUERY_TIMEOUT_MS', 'soon'],
  ]) {
    assert.throws(() => loadConfig({ env: { [name]: value } }), (err: Error) => err instanceof ConfigError && /store (query|statement) timeout/.test(err.message), `${name}=${value}`);
  }
});

test("every environment variable the configuration reads is in the README's configuration table", async () => {
  const { readFileSync } = await import('node:fs');
  const source = readFileSync(new URL('../src/config.ts', import.meta.url), 'utf8');
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const names = [...new Set([...source.matchAll(/'(ORIGINPULL_[A-Z0-9_]+)'/g)].map((m) => m[1]))];
  assert.ok(names.length > 10, 'the variables were found');
  assert.deepEqual(names.filter((n) => !readme.includes('`' + n + '`')), []);
});
