// SIGHUP on a serving process: the configuration is read again and what changed is named; the
// process goes on serving (Node's default for SIGHUP would end it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { changedSettings } from '../../src/cli/reload.ts';

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');

test('changedSettings names the differing settings by dotted path', () => {
  assert.deepEqual(changedSettings({ a: 1, t: { x: 1, y: 2 }, l: { host: 'h', port: 1 } }, { a: 1, t: { x: 1, y: 3 }, l: { host: 'h', port: 2 } }), ['t.y', 'l.port']);
  assert.deepEqual(changedSettings({ a: undefined }, { a: 'set' }), ['a']);
  assert.deepEqual(changedSettings({ a: 1 }, { a: 1 }), []);
});

test('SIGHUP re-reads the config file, names what changed, survives a broken file and keeps serving', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'originpull-reload-'));
  const file = join(dir, 'config.json');
  const settings = { dataDir: join(dir, 'data'), apiListen: '127.0.0.1:0', httpListen: '127.0.0.1:0', httpsListen: '127.0.0.1:0', metricsListen: '127.0.0.1:0', workers: 0 };
  writeFileSync(file, JSON.stringify(settings));
  const child = spawn(process.execPath, [MAIN, 'serve', '--config', file], { env: { ...process.env, ORIGINPULL_API_TOKEN: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const waitFor = async (re: RegExp) => {
    const deadline = Date.now() + 60_000;
    while (!re.test(out)) {
      assert.equal(child.exitCode, null, `serve exited:\n${out}`);
      assert.ok(Date.now() < deadline, `no ${re} in:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    await waitFor(/edge started/);
    const apiUrl = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out)![1];

    child.kill('SIGHUP');
    await waitFor(/SIGHUP: configuration unchanged/);

    writeFileSync(file, JSON.stringify({ ...settings, responseTimeoutMs: 5000, visitorHandshakeTimeoutMs: 2000 }));
    child.kill('SIGHUP');
    await waitFor(/"changed":\["timeouts\.responseMs","timeouts\.visitorHandshakeMs"\].*applies at a restart with --take-over/);

    writeFileSync(file, '{ not json');
    child.kill('SIGHUP');
    await waitFor(/cannot read config file .*SIGHUP: the configuration does not load; still serving/);

    assert.equal(child.exitCode, null, 'still running');
    const res = await fetch(`${apiUrl}/ssl/static/authenticated_origin_pull_ca.pem`);
    assert.equal(res.status, 200);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
