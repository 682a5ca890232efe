// The pieces of --take-over: the pid file (a stale or recycled pid is never signalled), the check
// that refuses a held address without --take-over, and the tcp_migrate_req warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertAddressesFree, migrateWarning, pidFilePath, previousProcess, writePidFile } from '../../src/cli/take-over.ts';

test('the pid file names a live process; a missing file, a dead pid, a recycled pid or our own pid name none', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'originpull-pidfile-'));
  const file = pidFilePath(dir, 'serve');
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  try {
    assert.equal(previousProcess(file), null, 'no file');
    const remove = writePidFile(file);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).pid, process.pid);
    assert.equal(previousProcess(file), null, 'our own pid');

    const startTime = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ')[19];
    writeFileSync(file, JSON.stringify({ pid: child.pid, startTime }));
    assert.equal(previousProcess(file), child.pid, 'a live process that wrote it');
    writeFileSync(file, JSON.stringify({ pid: child.pid, startTime: '1' }));
    assert.equal(previousProcess(file), null, 'the pid now belongs to a process started at another time');
    writeFileSync(file, 'not json');
    assert.equal(previousProcess(file), null);

    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    writeFileSync(file, JSON.stringify({ pid: child.pid, startTime }));
    assert.equal(previousProcess(file), null, 'a process that is gone');

    // The file no longer names us (a successor took over): removing leaves it alone.
    remove();
    assert.ok(existsSync(file));
    writePidFile(file)();
    assert.ok(!existsSync(file), 'removed when it names us');
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a held address is refused with the way to take over; a free one and port 0 pass', async () => {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen({ host: '127.0.0.1', port: 0, reusePort: true }, resolve));
  const port = (holder.address() as net.AddressInfo).port;
  try {
    await assert.rejects(assertAddressesFree([{ what: 'HTTP listener', at: { host: '127.0.0.1', port } }]), /^Error: HTTP listener 127\.0\.0\.1:\d+ is in use\. If it is a running originpull, start this one with --take-over/);
    await assertAddressesFree([{ what: 'metrics listener', at: { host: '127.0.0.1', port: 0 } }]);
  } finally {
    await new Promise((r) => holder.close(r));
  }
  await assertAddressesFree([{ what: 'HTTP listener', at: { host: '127.0.0.1', port } }]);
});

test('the hand-over warns only when the kernel would reset queued connections', () => {
  assert.match(migrateWarning(() => '0\n')!, /net\.ipv4\.tcp_migrate_req is 0: .*sysctl -w net\.ipv4\.tcp_migrate_req=1/);
  assert.equal(migrateWarning(() => '1\n'), null);
  assert.equal(migrateWarning(() => {
    throw new Error('ENOENT');
  }), null);
});
