#!/usr/bin/env node
// The `originpull` program (the CLI is TypeScript run by Node 24's type stripping). Node's compile
// cache is turned on before the first TypeScript file loads: a process whose modules all come from
// the cache never loads the type stripper, ~24 MiB of RSS in every edge process (bench/README.md,
// "Memory"). The first run fills it; NODE_COMPILE_CACHE picks its folder (default: Node's, in the
// temporary directory), NODE_DISABLE_COMPILE_CACHE=1 turns it off. The folder is passed on in the
// environment, so processes this one starts (edge workers, a re-executed edge) use it from their
// first module too.
import module from 'node:module';

const cache = module.enableCompileCache?.();
if (cache?.directory !== undefined) process.env.NODE_COMPILE_CACHE ??= cache.directory;
await import('../src/cli/main.ts');
