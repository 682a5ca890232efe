#!/usr/bin/env node
// The `originpull` program (the CLI is TypeScript run by Node 24's type stripping).
//
// Under an older Node (the machine's own, when this file is run as ./bin/originpull.js), it runs
// itself again under the Node 24 that the project pins as a dependency (node_modules/.bin/node),
// or says in one line what to do. This file must therefore parse on old Node versions too.
//
// Node's compile cache is turned on before the first TypeScript file loads: a process whose modules
// all come from the cache never loads the type stripper, ~24 MiB of RSS in every edge process
// (bench/README.md, "Memory"). The first run fills it; NODE_COMPILE_CACHE picks its folder
// (default: Node's, in the temporary directory), NODE_DISABLE_COMPILE_CACHE=1 turns it off. The
// folder is passed on in the environment, so processes this one starts (edge workers, a
// re-executed edge) use it from their first module too.
// tested in test/cli/launcher.test.ts
import module from 'node:module';

const NEEDED_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);

if (major < NEEDED_MAJOR) {
  const { spawn } = await import('node:child_process');
  const { existsSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  const root = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
  const pinned = [new URL('../node_modules/node/bin/node', import.meta.url), new URL('../node_modules/.bin/node', import.meta.url)]
    .map((u) => fileURLToPath(u))
    .find((p) => existsSync(p));
  // A pinned Node that is old as well must not send us round in circles.
  if (pinned === undefined || process.env.ORIGINPULL_LAUNCHER === '1') {
    process.stderr.write(
      `originpull: needs Node.js ${NEEDED_MAJOR} or later, this is ${process.version}; run \`npm ci\` in ${root} (it installs the pinned Node ${NEEDED_MAJOR}, which bin/originpull.js then uses), or run it with Node ${NEEDED_MAJOR}\n`,
    );
    process.exit(1);
  }
  const child = spawn(pinned, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, ORIGINPULL_LAUNCHER: '1' },
  });
  // Ctrl-C reaches the whole foreground process group, the child included: passing SIGINT on
  // would make it a second signal, which ends a server at once instead of draining. SIGTERM and
  // SIGHUP are usually sent to this pid alone, so they are passed on.
  process.on('SIGINT', () => {});
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    process.stderr.write(`originpull: cannot start ${pinned}: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal !== null) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
} else {
  const cache = module.enableCompileCache?.();
  if (cache?.directory !== undefined) process.env.NODE_COMPILE_CACHE ??= cache.directory;
  await import('../src/cli/main.ts');
}
