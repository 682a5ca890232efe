#!/usr/bin/env node
// The `originpull` command: one program, sub-commands registered by the files that implement them.
// Only the file of the command being run is loaded (an edge process does not carry the API server,
// the PKI tools or the HTTP client, megabytes of RSS each); help and unknown commands load them all.
import module from 'node:module';
import { Command, CommanderError } from 'commander';
import { applyEdgeRuntimeV8Flags, edgeEnvAdditions, withEdgeFlags } from '../edge-runtime.ts';

type Register = (program: Command) => void;

/** Command name → the module that implements it and its registering export. */
const COMMANDS: Record<string, [file: string, register: string]> = {
  serve: ['./serve.ts', 'registerServeCommands'],
  api: ['./serve.ts', 'registerServeCommands'],
  migrate: ['./serve.ts', 'registerServeCommands'],
  'ca-pem': ['./serve.ts', 'registerServeCommands'],
  edge: ['./edge.ts', 'registerEdgeCommand'],
  pki: ['./pki.ts', 'registerPkiCommands'],
  'origin-config': ['./origin.ts', 'registerOriginCommands'],
  'verify-origin': ['./origin.ts', 'registerOriginCommands'],
  upload: ['./upload.ts', 'registerUploadCommand'],
  'edge-cert': ['./edge-cert.ts', 'registerEdgeCertCommands'],
};

/** Commands whose process serves visitors (in-process or as the primary of edge workers). */
const SERVING = new Set(['serve', 'edge']);

const program = new Command('originpull')
  .description('Self-hosted edge reverse proxy with Authenticated Origin Pulls (mutual TLS to your origins)')
  .showHelpAfterError();

const chosen = COMMANDS[process.argv[2] ?? ''];
const modules = chosen !== undefined ? [chosen] : [...new Map(Object.values(COMMANDS).map((m) => [m[0], m])).values()];
const loaded = await Promise.all(modules.map(async ([file, register]) => [(await import(file)) as Record<string, Register>, register] as const));

if (SERVING.has(process.argv[2] ?? '')) {
  // Edge workers start from this module; loaded here (where it does nothing) so it is compiled and
  // cached with the rest before any worker starts, and no process of the edge loads the type
  // stripper (bin/originpull.js).
  await import('./edge-worker.ts');
  module.flushCompileCache?.();
  // A serving process needs its memory bounds before it starts (Node flags, malloc's environment):
  // started without them, it replaces itself with one that has them (same pid, before any work).
  const execArgv = withEdgeFlags(process.execArgv, process.env.NODE_OPTIONS);
  const env = edgeEnvAdditions(process.env);
  if (typeof process.execve === 'function' && (execArgv.length !== process.execArgv.length || Object.keys(env).length > 0)) {
    process.execve(process.execPath, [process.execPath, ...execArgv, ...process.argv.slice(1)], { ...process.env, ...env });
  }
  applyEdgeRuntimeV8Flags();
}

for (const [mod, register] of loaded) mod[register](program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  process.stderr.write(`originpull: ${(err as Error).message}\n`);
  process.exit(1);
}
