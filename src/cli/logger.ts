// One pino logger per process; JSON lines on stdout, level from the config.
// Tested in test/cli/log-destination.test.ts.
import { pino, type Logger } from 'pino';
import { logDestination } from './log-destination.ts';

export function createLogger(level: string, name: string, base: Record<string, unknown> = {}): Logger {
  return pino({ level, name, base: { pid: process.pid, ...base } }, logDestination());
}
