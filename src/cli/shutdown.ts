// Graceful shutdown on SIGINT/SIGTERM: close listeners and stores once; a second signal exits at once.
// Tested in test/cli/log-destination.test.ts and test/e2e/serve.test.ts (SIGTERM).
import { pino, type Logger } from 'pino';
import type { LogDestination } from './log-destination.ts';

export function onShutdown(logger: Logger, close: () => Promise<void>): void {
  let closing = false;
  const handler = (signal: NodeJS.Signals) => {
    if (closing) process.exit(1);
    closing = true;
    logger.info({ signal }, 'shutting down');
    close().then(
      () => exitAfterLogs(logger, 0),
      (err) => {
        logger.error({ err }, 'error during shutdown');
        exitAfterLogs(logger, 1);
      },
    );
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}

/**
 * Exits once the lines the logger has handed to its destination are written (see
 * LogDestination.whenWritten): with access lines batched, a write still in flight at exit can hold
 * hundreds of lines. A stdout that does not drain within `waitMs` does not keep the process.
 */
export function exitAfterLogs(logger: Logger, code: number, waitMs = 2_000): void {
  process.exitCode = code;
  const exit = () => process.exit(code);
  setTimeout(exit, waitMs).unref();
  const dest = (logger as unknown as Record<symbol, Partial<LogDestination>>)[pino.symbols.streamSym];
  if (typeof dest?.whenWritten === 'function') dest.whenWritten(exit);
  else logger.flush(exit);
}
