// The processes' log destination (SonicBoom in buffer mode on stdout): pino's own lines (strings)
// and the edge's access-line batches (bytes) all come out whole through a real pipe, access lines
// in order, including what is still queued or being written when the process exits. (Access lines wait up to a
// batch interval, so pino's own lines may come before access lines of the same turn.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

const child = `
import { createLogger } from './src/cli/logger.ts';
import { exitAfterLogs } from './src/cli/shutdown.ts';
import { subscribeEdgeLogs } from './src/edge/access-log.ts';
import { requestChannel } from './src/edge/observe.ts';
const logger = createLogger('info', 'edge', { worker: 3 });
const owner = {};
const unsubscribe = subscribeEdgeLogs(owner, logger);
const ctx = (i) => ({ edge: owner, method: 'GET', target: '/p' + i + '/café', rayId: 'r' + i, hostname: 'h.example', host: 'h.example', scheme: 'http',
  clientIp: '127.0.0.1', status: 200, upstreamStatus: 200, error: null, route: null, connection: null, reused: false, attempts: 0,
  visitorGone: false, upgrade: '', head: { headers: [] }, bytesIn: 0, bytesOut: i, tStart: 0, tUpstream: 0, tHeaders: 0, tEnd: 1.5 });
let n = 0;
// Access lines in busy turns (batches past 64 KiB), pino's own lines between them.
for (let turn = 0; turn < 20; turn++) {
  for (let i = 0; i < 300; i++) requestChannel.publish(ctx(n++));
  logger.info({ turn }, 'between');
  await new Promise((r) => setImmediate(r));
}
for (let i = 0; i < 5; i++) requestChannel.publish(ctx(n++));
unsubscribe(); // as the edge does when it stops: the batch goes to the destination
logger.warn('last');
exitAfterLogs(logger, 0); // as the CLI does: what the destination holds is written first
`;

test('string and byte writes reach stdout whole and in order, through exit', () => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', child], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 20 * 301 + 6);
  let next = 0;
  const turns: number[] = [];
  for (const line of lines) {
    assert.equal(line.name, 'edge');
    assert.equal(line.worker, 3);
    if (line.msg === 'between') turns.push(line.turn as number);
    else if (line.msg === 'request') {
      assert.equal(line.path, `/p${next}/café`);
      assert.equal(line.responseBytes, next++);
    } else assert.equal(line.msg, 'last');
  }
  assert.equal(next, 20 * 300 + 5);
  assert.deepEqual(turns.sort((a, b) => a - b), [...Array(20).keys()]);
});
