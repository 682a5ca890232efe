// A serving process (`edge`, `serve`) runs with the edge's memory bounds however it was started;
// an operator's own flag (command line or NODE_OPTIONS) or variable wins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EDGE_ENV, EDGE_NODE_FLAGS, edgeEnvAdditions, withEdgeFlags } from '../../src/sync/edge-runtime.ts';
import { CLI_ENTRY } from './run-cli.ts';

test('edge flags are added unless the operator set the same option; env additions leave set variables alone', () => {
  assert.deepEqual(withEdgeFlags(['--inspect']), ['--inspect', ...EDGE_NODE_FLAGS]);
  assert.deepEqual(withEdgeFlags(['--max-semi-space-size=32']), ['--max-semi-space-size=32']);
  assert.deepEqual(withEdgeFlags([], '--max-semi-space-size=32 --trace-warnings'), [], 'NODE_OPTIONS counts as the operator');
  assert.deepEqual(edgeEnvAdditions({}), EDGE_ENV);
  assert.deepEqual(edgeEnvAdditions({ MALLOC_ARENA_MAX: '4' }), {});
});

/** Starts `originpull edge` with `args`/`env`, reads its command line and environment from /proc once it runs. */
async function edgeProcessFacts(extraNodeArgs: string[], env: NodeJS.ProcessEnv): Promise<{ argv: string[]; env: string[] }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'originpull-runtime-'));
  const child = spawn(process.execPath, [...extraNodeArgs, CLI_ENTRY, 'edge', '--data-dir', dataDir, '--workers', '0', '--http-listen', '127.0.0.1:0', '--https-listen', '127.0.0.1:0'], {
    env: { ...process.env, ...env },
    stdio: 'ignore',
  });
  try {
    // The process replaces itself (same pid) first thing, within a few hundred milliseconds.
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal(child.exitCode, null, 'the edge is running');
    return {
      argv: readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').filter(Boolean),
      env: readFileSync(`/proc/${child.pid}/environ`, 'utf8').split('\0'),
    };
  } finally {
    child.kill();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

test('`originpull edge` started bare runs with the edge flags and environment (same process)', { skip: !existsSync('/proc/self/cmdline') && 'needs /proc' }, async () => {
  const plain = await edgeProcessFacts([], { MALLOC_ARENA_MAX: undefined });
  for (const flag of EDGE_NODE_FLAGS) assert.ok(plain.argv.includes(flag), `${flag} in ${plain.argv.join(' ')}`);
  for (const [k, v] of Object.entries(EDGE_ENV)) assert.ok(plain.env.includes(`${k}=${v}`), `${k}=${v} in the environment`);
  const own = await edgeProcessFacts(['--max-semi-space-size=32'], { MALLOC_ARENA_MAX: '4' });
  assert.ok(own.argv.includes('--max-semi-space-size=32') && !own.argv.includes(EDGE_NODE_FLAGS[0]), own.argv.join(' '));
  assert.ok(own.env.includes('MALLOC_ARENA_MAX=4'));
  const viaNodeOptions = await edgeProcessFacts([], { NODE_OPTIONS: '--max-semi-space-size=32' });
  assert.ok(!viaNodeOptions.argv.includes(EDGE_NODE_FLAGS[0]), `NODE_OPTIONS wins: ${viaNodeOptions.argv.join(' ')}`);
});
