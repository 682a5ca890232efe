// One bounded wrk run (`-d` always set), its output parsed into numbers.
import { spawn } from 'node:child_process';
import { requireBinary } from './binaries.ts';
import type { CpuSet } from './proc.ts';
import { pinningAvailable } from './proc.ts';

export interface WrkOptions {
  url: string;
  connections: number;
  threads: number;
  durationS: number;
  headers: string[];
  cpus: CpuSet;
  /** Per-request timeout wrk applies (seconds). */
  timeoutS?: number;
}

export interface WrkResult {
  requests: number;
  durationS: number;
  rps: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p99: number;
  /** Non-2xx/3xx responses plus socket errors (connect, read, write, timeout). */
  errors: number;
  bytes: number;
  raw: string;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const UNIT_BYTES: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

function ms(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`wrk: cannot read the latency "${text}"`);
  return Number(m[1]) * UNIT_MS[m[2]];
}

export function parseWrk(out: string): WrkResult {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m|h), ([\d.]+)(B|KB|MB|GB|TB) read/.exec(out);
  if (!total) throw new Error(`wrk output not understood:\n${out}`);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out);
    return m ? ms(m[1]) : NaN;
  };
  let errors = 0;
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (sock) errors += Number(sock[1]) + Number(sock[2]) + Number(sock[3]) + Number(sock[4]);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) errors += Number(non2xx[1]);
  const requests = Number(total[1]);
  const durationS = ms(total[2] + total[3]) / 1000;
  return {
    requests,
    durationS,
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? requests / durationS),
    p50: pct('50'),
    p99: pct('99'),
    errors,
    bytes: Number(total[4]) * UNIT_BYTES[total[5]],
    raw: out,
  };
}

export function runWrk(o: WrkOptions): Promise<WrkResult> {
  const wrk = requireBinary('wrk');
  const args = [`-t${o.threads}`, `-c${o.connections}`, `-d${o.durationS}s`, `--timeout`, `${o.timeoutS ?? 5}s`, '--latency'];
  for (const h of o.headers) args.push('-H', h);
  args.push(o.url);
  const pinned = o.cpus !== null && pinningAvailable();
  const [file, argv] = pinned ? ['taskset', ['-c', o.cpus!, wrk, ...args]] : [wrk, args];
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    // wrk stops itself after -d; this guards against a wedged run.
    const guard = setTimeout(() => child.kill('SIGKILL'), (o.durationS + 30) * 1000);
    child.once('error', (err) => {
      clearTimeout(guard);
      reject(new Error(`cannot run wrk: ${err.message}`, { cause: err }));
    });
    child.once('exit', (code) => {
      clearTimeout(guard);
      if (code !== 0) return reject(new Error(`wrk exited with ${code}:\n${out}`));
      try {
        resolve(parseWrk(out));
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}
