// The command table in main.ts loads one module per command: every command the modules register
// must be in it (a new command left out would only show up in `originpull --help`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './run-cli.ts';

test('every command in `originpull --help` runs from its own module', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.code, 0, help.stderr);
  const commands = [...help.stdout.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]).filter((c) => c !== 'help');
  assert.ok(commands.length >= 9, `commands listed: ${commands.join(', ')}`);
  for (const command of commands) {
    const run = await runCli([command, '--help']);
    assert.equal(run.code, 0, `${command} --help: ${run.stderr}`);
    assert.match(run.stdout, new RegExp(`^Usage: originpull ${command} `), command);
  }
});
