// SIGHUP: read the configuration again (file, environment, flags) and say what changed. Nothing of
// it applies live: every setting it holds (listen addresses, store, workers, timeouts, log level,
// the origin CA file) is bound when the process starts, and what does change while serving (zones,
// records, certificates, settings) comes from the store without any signal. A change applies with
// a restart that refuses no connection: the same command with --take-over (take-over.ts). SIGHUP
// is handled so that it does not end the process, as it would by default.
import type { Logger } from 'pino';
import type { Config } from '../config.ts';

/** Dotted names of the settings whose values differ (`timeouts.connectMs`, `httpListen`). */
export function changedSettings(before: unknown, after: unknown, prefix = ''): string[] {
  if (typeof before === 'object' && before !== null && typeof after === 'object' && after !== null) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].flatMap((k) => changedSettings((before as Record<string, unknown>)[k], (after as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k));
  }
  return before === after ? [] : [prefix];
}

export function onReloadSignal(logger: Logger, running: Readonly<Config>, read: () => Readonly<Config>): void {
  process.on('SIGHUP', () => {
    let next: Readonly<Config>;
    try {
      next = read();
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'SIGHUP: the configuration does not load; still serving with the one read at start');
      return;
    }
    const changed = changedSettings(running, next);
    if (changed.length === 0) logger.info('SIGHUP: configuration unchanged');
    else logger.warn({ changed }, 'SIGHUP: configuration changed; it applies at a restart with --take-over (no connection refused), not while running');
  });
}
