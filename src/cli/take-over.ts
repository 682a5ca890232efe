// Restarts without refused connections (docs/deployment.md, "Restarting without dropping
// connections"). Every listener of a serving process binds with SO_REUSEPORT, so a second process
// can bind the same addresses while the first still serves; the kernel spreads new connections
// over both. `--take-over` starts such a second process: once it serves (API listening, edge
// serving its first snapshot), it sends SIGTERM to the process its pid file names, which closes
// its listeners and drains. A connection the kernel has already queued on a listener that closes
// is handed to the other listener only with net.ipv4.tcp_migrate_req=1 (Linux 5.14+); otherwise
// it is reset, hence the warning.
// tested in test/cli/take-over.test.ts, and under load in test/e2e/take-over.test.ts
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ListenAddress } from '../config.ts';

export const TAKE_OVER_HELP = 'listen beside the running process of this data dir, then stop it once this one serves (restart without refused connections)';

export interface NamedAddress {
  what: string;
  at: ListenAddress;
}

interface PidRecord {
  pid: number;
  /** The process's start time (Linux /proc), so a recycled pid is not taken for the old process. */
  startTime: string | null;
}

export function pidFilePath(dataDir: string, name: string): string {
  return join(dataDir, `${name}.pid`);
}

function startTimeOf(pid: number): string | null {
  try {
    // Field 22 of /proc/PID/stat; the command name (field 2) may hold spaces, so count from its ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Without --take-over an address someone holds is an error that says how to take over. */
export async function assertAddressesFree(addresses: NamedAddress[]): Promise<void> {
  for (const { what, at } of addresses) {
    if (at.port === 0) continue;
    // Bound without SO_REUSEPORT, the probe fails while any socket holds the address, ours included.
    const probe = net.createServer();
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      probe.once('error', resolve);
      probe.listen({ host: at.host, port: at.port, exclusive: true }, () => resolve(null));
    });
    if (err === null) {
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      continue;
    }
    if (err.code !== 'EADDRINUSE') throw err;
    throw new Error(
      `${what} ${at.host}:${at.port} is in use. If it is a running originpull, start this one with --take-over: ` +
        'it serves beside the running one, then stops it (docs/deployment.md, "Restarting without dropping connections")',
    );
  }
}

/** The process the pid file names, if it still runs (and is the one that wrote it). */
export function previousProcess(pidFile: string): number | null {
  let record: PidRecord;
  try {
    record = JSON.parse(readFileSync(pidFile, 'utf8')) as PidRecord;
  } catch {
    return null;
  }
  if (!Number.isInteger(record.pid) || record.pid === process.pid || !alive(record.pid)) return null;
  if (record.startTime !== null && startTimeOf(record.pid) !== record.startTime) return null;
  return record.pid;
}

/** Names this process in the pid file; the returned function removes the file if it still names us. */
export function writePidFile(pidFile: string): () => void {
  const record: PidRecord = { pid: process.pid, startTime: startTimeOf(process.pid) };
  const tmp = `${pidFile}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(record) + '\n');
  renameSync(tmp, pidFile);
  return () => {
    try {
      if ((JSON.parse(readFileSync(pidFile, 'utf8')) as PidRecord).pid === process.pid) unlinkSync(pidFile);
    } catch {
      // gone or replaced: nothing of ours to remove
    }
  };
}

/** Why connections may still be reset at the hand-over on this machine; null when they are not. */
export function migrateWarning(read = (path: string) => readFileSync(path, 'utf8')): string | null {
  let value: string;
  try {
    value = read('/proc/sys/net/ipv4/tcp_migrate_req').trim();
  } catch {
    return null;
  }
  return value === '0'
    ? 'net.ipv4.tcp_migrate_req is 0: connections queued on the old process\'s listeners as it closes them are reset, not handed over; set it to 1 (sysctl -w net.ipv4.tcp_migrate_req=1)'
    : null;
}

/**
 * Called once this process serves: stops the process the pid file names (when taking over) and
 * names this one instead. Returns what removes the pid file at exit.
 */
export function becomeCurrent(pidFile: string, takeOver: boolean, logger: Logger): () => void {
  const previous = takeOver ? previousProcess(pidFile) : null;
  const remove = writePidFile(pidFile);
  if (previous !== null) {
    const warning = migrateWarning();
    if (warning !== null) logger.warn(warning);
    try {
      process.kill(previous, 'SIGTERM');
      logger.info({ previous, pidFile }, 'serving; told the previous process to close its listeners and drain');
    } catch (err) {
      // This one serves either way; the other must then be stopped by hand.
      logger.error({ previous, err: (err as Error).message }, 'serving, but cannot signal the previous process: stop it with SIGTERM');
    }
  } else if (takeOver) {
    logger.info({ pidFile }, 'serving; no previous process to take over from');
  }
  return remove;
}
