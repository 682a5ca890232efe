// bin/originpull.js run by an older Node (the machine's own /usr/bin/node): it runs itself again
// under the pinned Node 24, passes the exit status and SIGTERM on, or says in one line what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LAUNCHER = join(import.meta.dirname, '../../bin/originpull.js');
const OLD_NODE = '/usr/bin/node';

function oldNode(): string | null {
  if (!existsSync(OLD_NODE)) return null;
  const version = spawnSync(OLD_NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
  return Number(version.replace(/^v/, '').split('.')[0]) < 24 ? version : null;
}
const old = oldNode();
const skip = old === null ? `needs a Node older than 24 at ${OLD_NODE} (Debian's nodejs package)` : false;
const env = { ...process.env, ORIGINPULL_LAUNCHER: '' };

test('under an old Node the launcher runs the CLI on the pinned Node and passes its exit status on', { skip }, () => {
  const help = spawnSync(OLD_NODE, [LAUNCHER, '--help'], { encoding: 'utf8', env });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^Usage: originpull /);
  // Bad input exits 2: the status is the CLI's, not the launcher's.
  const bad = spawnSync(OLD_NODE, [LAUNCHER, 'verify-origin', '--host', 'app.example.com'], { encoding: 'utf8', env });
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /--origin/);
});

test('without the pinned Node the launcher fails with one line naming what to do', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'originpull-launcher-'));
  try {
    mkdirSync(join(dir, 'bin'));
    copyFileSync(LAUNCHER, join(dir, 'bin', 'originpull.js'));
    const r = spawnSync(OLD_NODE, [join(dir, 'bin', 'originpull.js'), '--help'], { encoding: 'utf8', env });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], new RegExp(`^originpull: needs Node\\.js 24 or later, this is ${old!.replace(/\./g, '\\.')}; run \`npm ci\` in ${dir}`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGTERM to the launcher drains the server it started, which exits 0', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'originpull-launcher-serve-'));
  const child = spawn(
    OLD_NODE,
    [LAUNCHER, 'serve', '--data-dir', dir, '--workers', '0', '--api-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--https-listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0'],
    { env: { ...env, ORIGINPULL_API_TOKEN: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    const deadline = Date.now() + 60_000;
    while (!/edge started/.test(out)) {
      assert.equal(child.exitCode, null, out);
      assert.ok(Date.now() < deadline, out);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(out, /"pid":\d+/);
    const serverPid = Number(/"pid":(\d+)/.exec(out)![1]);
    assert.notEqual(serverPid, child.pid, 'the server runs in a child process of the launcher');
    child.kill('SIGTERM');
    assert.equal(await exited, 0, out);
    assert.match(out, /"signal":"SIGTERM".*shutting down/);
    assert.throws(() => process.kill(serverPid, 0), /ESRCH/, 'the server process is gone');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
