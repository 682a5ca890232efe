#!/usr/bin/env node
// Shim for `npx originpull` / a global link: the CLI is TypeScript run by Node 24's type stripping.
await import('../src/cli/main.ts');
