#!/usr/bin/env node
// The `originpull` command: one program, sub-commands registered by the files that implement them.
import { Command, CommanderError } from 'commander';
import { registerServeCommands } from './serve.ts';
import { registerEdgeCommand } from './edge.ts';
import { registerPkiCommands } from './pki.ts';
import { registerOriginCommands } from './origin.ts';
import { registerUploadCommand } from './upload.ts';

const program = new Command('originpull')
  .description('Self-hosted edge reverse proxy with Authenticated Origin Pulls (mutual TLS to your origins)')
  .showHelpAfterError();

registerServeCommands(program);
registerEdgeCommand(program);
registerPkiCommands(program);
registerOriginCommands(program);
registerUploadCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  process.stderr.write(`originpull: ${(err as Error).message}\n`);
  process.exit(1);
}
