// A serving process (`edge`, `serve`) runs with the edge's memory bounds however it was started;
// an operator's own flag (command line or NODE_OPTIONS) or variable wins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EDGE_ENV, EDGE_NODE_FLAGS, EDGE_RUNTIME_V8_FLAGS, edgeEnvAdditions, edgeRuntimeV8Flags, withEdgeFlags } from '../../src/edge-runtime.ts';
import { CLI_ENTRY } from './run-cli.ts';

const BIN_ENTRY = fileURLToPath(new URL('../../bin/originpull.js', import.meta.url));

test('edge flags are added unless the operator set the same option; env additions leave set variables alone', () => {
  assert.deepEqual(withEdgeFlags(['--inspect']), ['--inspect', ...EDGE_NODE_FLAGS]);
  assert.deepEqual(withEdgeFlags(['--max-semi-space-size=32']), ['--max-semi-space-size=32']);
  assert.deepEqual(withEdgeFlags([], '--max-semi-space-size=32 --trace-warnings'), [], 'NODE_OPTIONS counts as the operator');
  assert.deepEqual(edgeEnvAdditions({}), EDGE_ENV);
  assert.deepEqual(edgeEnvAdditions({ MALLOC_ARENA_MAX: '4' }), {});
  assert.deepEqual(edgeRuntimeV8Flags([]), EDGE_RUNTIME_V8_FLAGS);
  assert.deepEqual(edgeRuntimeV8Flags(['--heap-growing-percent=30']), []);
  assert.deepEqual(edgeRuntimeV8Flags([], '--heap-growing-percent=30'), []);
});

/** Starts `originpull edge` with `args`/`env`, reads its command line and environment from /proc once it runs. */
async function edgeProcessFacts(extraNodeArgs: string[], env: NodeJS.ProcessEnv): Promise<{ argv: string[]; env: string[] }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'originpull-runtime-'));
  const child = spawn(process.execPath, [...extraNodeArgs, CLI_ENTRY, 'edge', '--data-dir', dataDir, '--workers', '0', '--http-listen', '127.0.0.1:0', '--https-listen', '127.0.0.1:0'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  try {
    // The process replaces itself (same pid, same stdout) before any work: once it logs anything
    // (here, that the empty data directory holds no store yet), /proc shows the process that serves.
    const started = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 30_000);
      child.stdout!.once('data', () => {
        clearTimeout(timer);
        resolve(true);
      });
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    assert.ok(started, 'the edge logged its first line');
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

/**
 * Starts `originpull edge` through bin/originpull.js with a cold compile cache and a preload that
 * records, in each process it runs in (the re-executed edge, its workers), whether Node loaded its
 * TypeScript stripper (amaro).
 */
async function stripperLoaded(entry: string, env: NodeJS.ProcessEnv, workers: number): Promise<Record<string, boolean>> {
  const dir = mkdtempSync(join(tmpdir(), 'originpull-compile-cache-'));
  const probeDir = join(dir, 'probe');
  mkdirSync(probeDir);
  const probe =
    'import { writeFileSync } from "node:fs";' +
    'setTimeout(() => writeFileSync(process.env.OP_PROBE_DIR + "/" + process.pid + (process.env.ORIGINPULL_EDGE_WORKER ? "-worker" : "-edge"),' +
    ' String(process.moduleLoadList.some((m) => m.includes("amaro")))), 2500).unref();';
  const child = spawn(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(probe)}`, entry, 'edge', '--data-dir', join(dir, 'data'), '--workers', String(workers), '--http-listen', '127.0.0.1:0', '--https-listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0'],
    { env: { ...process.env, NODE_COMPILE_CACHE: join(dir, 'cache'), OP_PROBE_DIR: probeDir, ...env }, stdio: 'ignore' },
  );
  try {
    const deadline = Date.now() + 20_000;
    while (readdirSync(probeDir).length < 1 + workers && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.equal(child.exitCode, null, 'the edge is running');
    return Object.fromEntries(readdirSync(probeDir).map((f) => [f, readFileSync(join(probeDir, f), 'utf8') === 'true']));
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('an edge started through bin/originpull.js, and its workers, load modules from the compile cache: no type stripper, even on a first run', { skip: !existsSync('/proc/self/cmdline') && 'needs /proc' }, async () => {
  const cached = await stripperLoaded(BIN_ENTRY, {}, 1);
  assert.equal(Object.keys(cached).length, 2, `the edge and its worker reported: ${JSON.stringify(cached)}`);
  for (const [proc, loaded] of Object.entries(cached)) assert.equal(loaded, false, `${proc} loaded the type stripper`);
  // The probe can tell: with the cache off, the stripper is loaded.
  const uncached = await stripperLoaded(BIN_ENTRY, { NODE_DISABLE_COMPILE_CACHE: '1' }, 0);
  assert.deepEqual(Object.values(uncached), [true]);
});
