// Summarises V8 CPU profiles (`--cpu-prof`) as text: self time per function (top N) and per
// module (originpull, undici, node:http, pino, GC…), so the hot path can be read without a flame
// graph viewer. Usable alone: `npx node bench/profile.ts DIR_OR_FILE… [--top N]`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const ROOT = join(import.meta.dirname, '..');

export function moduleOf(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : '(native)';
  if (url.startsWith('node:')) return url;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 13).split('/')[0];
  const path = url.replace(/^file:\/\//, '');
  return relative(ROOT, path);
}

/** The .cpuprofile files among `paths` (files, or folders searched one level deep). */
export function profileFiles(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (statSync(p).isDirectory()) {
      for (const f of readdirSync(p)) if (f.endsWith('.cpuprofile')) out.push(join(p, f));
    } else {
      out.push(p);
    }
  }
  return out;
}

/** Text summary of every profile under `paths`; '' when there is none. */
export function summarizeProfiles(paths: string | string[], top = 25): string {
  const list = profileFiles(Array.isArray(paths) ? paths : [paths]);
  if (list.length === 0) return '(no .cpuprofile found)';
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  let total = 0;
  for (const file of list) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    for (let i = 0; i < profile.samples.length; i++) {
      const node = nodes.get(profile.samples[i])!;
      const dt = profile.timeDeltas[i] ?? 0;
      const { functionName, url, lineNumber } = node.callFrame;
      const mod = moduleOf(url, functionName);
      if (functionName === '(idle)') continue;
      total += dt;
      const key = `${functionName || '(anonymous)'}  ${mod}${url ? `:${lineNumber + 1}` : ''}`;
      byFunction.set(key, (byFunction.get(key) ?? 0) + dt);
      byModule.set(mod, (byModule.get(mod) ?? 0) + dt);
    }
  }
  const pct = (t: number) => `${((t / total) * 100).toFixed(1).padStart(5)}%`;
  const rows = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, t]) => `${pct(t)}  ${k}`)
      .join('\n');
  return `${list.length} profile(s), ${(total / 1e6).toFixed(1)} s of non-idle samples\n\nSelf time by function (top ${top}):\n${rows(byFunction, top)}\n\nSelf time by module (top 15):\n${rows(byModule, 15)}`;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const t = args.indexOf('--top');
  const top = t >= 0 ? Number(args.splice(t, 2)[1]) : 30;
  if (args.length === 0) {
    process.stderr.write('usage: npx node bench/profile.ts DIR_OR_FILE… [--top N]\n');
    process.exit(2);
  }
  process.stdout.write(summarizeProfiles(args, top) + '\n');
}
