// How a process that serves visitors should be started: Node flags and environment that bound its
// memory, measured in bench/ (see bench/HISTORY.md, "Memory"). They must be in place before the
// process starts, so they are applied where processes are started: `originpull edge`/`serve`
// re-execute themselves with them (src/cli/main.ts), and edge workers are forked with them; one V8
// flag is set by the process on itself instead (EDGE_RUNTIME_V8_FLAGS). An operator's own setting
// (node command line, NODE_OPTIONS, environment) always wins.
// Tested in test/cli/edge-runtime.test.ts.
import v8 from 'node:v8';

/**
 * V8's young generation would grow to 2 × 64 MiB under load; 8 MiB semi-spaces keep it at 16 MiB
 * for no measurable CPU (bench/results/2026-11-22-edge-runtime.md).
 */
export const EDGE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];

/**
 * glibc gives every thread that allocates its own malloc arena (Node runs a dozen threads);
 * freed connection state then stays spread over arenas and RSS only grows. Two are enough.
 */
export const EDGE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/**
 * V8 flags a serving process sets on itself once its modules are loaded. On the command line they
 * would change the key of Node's compile cache (a hash of V8's flags), and the re-executed edge
 * would miss the cache its first process filled (bin/originpull.js).
 *
 * V8 lets the old generation grow to up to 4× what survived the last full collection before the
 * next one. The edge's live heap is small and what it promotes is mostly dead by then: at 2× an
 * aged edge under load holds ~20 MiB less, CPU per request unchanged within the rounds' noise;
 * `Connection: close` p99 is higher (more frequent full collections share the edge's core).
 * bench/results/2026-12-02-heap-growing.md and -session-3-ab.md.
 */
export const EDGE_RUNTIME_V8_FLAGS: readonly string[] = ['--heap-growing-percent=100'];

/** The runtime V8 flags the operator did not set on the command line (NODE_OPTIONS refuses them, but is read too). */
export function edgeRuntimeV8Flags(execArgv: readonly string[], nodeOptions = ''): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)];
  return EDGE_RUNTIME_V8_FLAGS.filter((flag) => {
    const name = flag.slice(0, flag.indexOf('='));
    return !given.some((a) => a === name || a.startsWith(`${name}=`));
  });
}

/** Sets the runtime V8 flags on this process (a serving one, its modules loaded). */
export function applyEdgeRuntimeV8Flags(): void {
  for (const flag of edgeRuntimeV8Flags(process.execArgv, process.env.NODE_OPTIONS)) v8.setFlagsFromString(flag);
}

/**
 * `execArgv` with the edge flags added, unless the operator gave the same option there or in
 * NODE_OPTIONS (a flag on the command line would override NODE_OPTIONS' own).
 */
export function withEdgeFlags(execArgv: readonly string[], nodeOptions = ''): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)];
  const out = [...execArgv];
  for (const flag of EDGE_NODE_FLAGS) {
    const name = flag.slice(0, flag.indexOf('='));
    if (!given.some((a) => a === name || a.startsWith(`${name}=`))) out.push(flag);
  }
  return out;
}

/** Environment additions for an edge process, leaving alone what `env` already sets. */
export function edgeEnvAdditions(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(EDGE_ENV).filter(([k]) => env[k] === undefined));
}
