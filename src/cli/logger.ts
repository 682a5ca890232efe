// One pino logger per process; JSON lines on stdout, level from the config.
import { pino, type Logger } from 'pino';
import { logDestination } from './log-destination.ts';

export function createLogger(level: string, name: string, base: Record<string, unknown> = {}): Logger {
  return pino({ level, name, base: { pid: process.pid, ...base } }, logDestination());
}
