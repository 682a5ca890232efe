// Processes for the bench: spawned pinned to CPUs with `taskset` (when present), measured from
// /proc (CPU time and RSS summed over the whole process tree), and always stopped by pid.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { findBinary } from './binaries.ts';

/** CPU list for `taskset -c`, e.g. "0" or "0,1"; null leaves the scheduler alone. */
export type CpuSet = string | null;

export interface SpawnOptions {
  cpus: CpuSet;
  /** stdout and stderr go to this file (appended); null discards them. */
  logFile: string | null;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface Spawned {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  exited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const TASKSET = findBinary('taskset');

export function pinningAvailable(): boolean {
  return TASKSET !== undefined;
}

/** Spawns `cmd args` (through `taskset -c cpus`, which execs, so the pid is the program's). */
export function spawnPinned(name: string, cmd: string, args: string[], opts: SpawnOptions): Spawned {
  const pinned = opts.cpus !== null && TASKSET !== undefined;
  const file = pinned ? TASKSET! : cmd;
  const argv = pinned ? ['-c', opts.cpus!, cmd, ...args] : args;
  let fd: number | null = null;
  let stdio: StdioOptions = 'ignore';
  if (opts.logFile !== null) {
    fd = openSync(opts.logFile, 'a');
    stdio = ['ignore', fd, fd];
  }
  const child = spawn(file, argv, { stdio, env: opts.env ?? process.env, cwd: opts.cwd });
  if (fd !== null) closeSync(fd);
  if (child.pid === undefined) throw new Error(`cannot start ${name} (${cmd})`);
  let gone = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      gone = true;
      resolve();
    });
    child.once('error', () => {
      gone = true;
      resolve();
    });
  });
  return {
    name,
    child,
    pid: child.pid,
    exited: () => gone,
    async stop(graceMs = 5_000) {
      if (gone) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        // Children of a stuck parent (cluster workers, nginx workers) go too.
        for (const pid of descendants(child.pid!)) tryKill(pid);
        child.kill('SIGKILL');
      }, graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Pins this process (all its threads) to `cpus`; returns false when taskset is missing. */
export async function pinSelf(cpus: string): Promise<boolean> {
  if (TASKSET === undefined) return false;
  return new Promise((resolve) => {
    const c = spawn(TASKSET, ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
    c.once('exit', (code) => resolve(code === 0));
    c.once('error', () => resolve(false));
  });
}

interface StatLine {
  ppid: number;
  /** utime + stime, clock ticks. */
  ticks: number;
  /** stime alone (kernel: syscalls, and on loopback the TCP receive path of the peer too). */
  sysTicks: number;
}

function readStat(pid: number): StatLine | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is state (field 3); ppid is field 4, utime 14, stime 15.
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]), sysTicks: Number(fields[12]) };
  } catch {
    return null;
  }
}

/** All live descendants of `root` (not including it). */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = readStat(pid);
    if (stat === null) continue;
    let list = children.get(stat.ppid);
    if (list === undefined) children.set(stat.ppid, (list = []));
    list.push(pid);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    for (const child of children.get(stack.pop()!) ?? []) {
      out.push(child);
      stack.push(child);
    }
  }
  return out;
}

const TICK_SECONDS = 0.01; // CLK_TCK is 100 on Linux

/** `root` and its live descendants (list once per run: the tree is stable while it is measured). */
export function treePids(root: number): number[] {
  return [root, ...descendants(root)];
}

export interface CpuTimes {
  /** user + system seconds */
  total: number;
  system: number;
}

/** CPU seconds used so far by these processes. */
export function cpuSecondsOf(pids: number[]): CpuTimes {
  let ticks = 0;
  let sys = 0;
  for (const pid of pids) {
    const stat = readStat(pid);
    if (stat === null) continue;
    ticks += stat.ticks;
    sys += stat.sysTicks;
  }
  return { total: ticks * TICK_SECONDS, system: sys * TICK_SECONDS };
}

/** Resident memory (VmRSS) of these processes, in bytes. */
export function rssBytesOf(pids: number[]): number {
  let kib = 0;
  for (const pid of pids) {
    try {
      const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
      if (m) kib += Number(m[1]);
    } catch {
      // exited meanwhile
    }
  }
  return kib * 1024;
}
