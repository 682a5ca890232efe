// How a process that serves visitors should be started: Node flags and environment that bound its
// memory, measured in bench/ (see bench/README.md, "Memory"). They must be in place before the
// process starts, so they are applied where processes are started: `originpull edge`/`serve`
// re-execute themselves with them (src/cli/main.ts), and edge workers are forked with them. An
// operator's own setting (node command line, NODE_OPTIONS, environment) always wins.

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
