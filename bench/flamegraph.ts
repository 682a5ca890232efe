// Flame graphs from V8 CPU profiles (`--cpu-prof`): the samples folded into call stacks
// (Brendan Gregg's folded format, one `frame;frame;… microseconds` line per stack) and drawn as a
// self-contained SVG, root at the top (an icicle: a server's hot stacks are shallow, its start-up's
// deep), each frame as wide as its share of the samples (hover for the figures). Profiles given together are merged. `npm run bench -- --profile` writes both
// next to the profiles; alone: `npx node bench/flamegraph.ts DIR_OR_FILE… [--out flame.svg]`.
import { readFileSync, writeFileSync } from 'node:fs';
import { moduleOf, profileFiles, type CpuProfile, type ProfileNode } from './profile.ts';

/** Stack (root first, `;`-joined) → sampled microseconds; idle time left out. */
export function foldStacks(profiles: CpuProfile[]): Map<string, number> {
  const folded = new Map<string, number>();
  for (const profile of profiles) {
    const byId = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
    const stackOf = new Map<number, string | null>();
    const stack = (id: number): string | null => {
      let s = stackOf.get(id);
      if (s !== undefined) return s;
      const frames: string[] = [];
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const { functionName, url, lineNumber } = byId.get(at)!.callFrame;
        if (functionName === '(root)') break;
        frames.push(frameName(functionName, url, lineNumber));
      }
      s = frames.length === 0 || frames[0].startsWith('(idle)') ? null : frames.reverse().join(';');
      stackOf.set(id, s);
      return s;
    };
    for (let i = 0; i < profile.samples.length; i++) {
      const s = stack(profile.samples[i]);
      if (s !== null) folded.set(s, (folded.get(s) ?? 0) + (profile.timeDeltas[i] ?? 0));
    }
  }
  return folded;
}

function frameName(fn: string, url: string, line: number): string {
  const mod = moduleOf(url, fn);
  const name = fn || '(anonymous)';
  // `;` separates frames in the folded format.
  return (url === '' ? name : `${name} ${mod}:${line + 1}`).replaceAll(';', ',');
}

export function renderFolded(folded: Map<string, number>): string {
  return [...folded].map(([stack, us]) => `${stack} ${Math.round(us)}`).join('\n') + '\n';
}

interface Frame {
  name: string;
  total: number;
  children: Map<string, Frame>;
}

const WIDTH = 1200;
const ROW = 16;
const PAD = 10;
/** Frames narrower than this many pixels are left out (and said so in their parent's width). */
const MIN_PX = 0.3;

export function renderFlameGraph(folded: Map<string, number>, title: string): string {
  const root: Frame = { name: 'all', total: 0, children: new Map() };
  let depth = 0;
  for (const [stack, us] of folded) {
    const frames = stack.split(';');
    depth = Math.max(depth, frames.length);
    root.total += us;
    let at = root;
    for (const name of frames) {
      let child = at.children.get(name);
      if (child === undefined) at.children.set(name, (child = { name, total: 0, children: new Map() }));
      child.total += us;
      at = child;
    }
  }
  const scale = root.total > 0 ? (WIDTH - 2 * PAD) / root.total : 0;
  const height = (depth + 1) * ROW + 3 * PAD + ROW;
  const rects: string[] = [];
  const draw = (f: Frame, x: number, level: number) => {
    const w = f.total * scale;
    if (w < MIN_PX) return;
    const y = 2 * PAD + ROW + level * ROW;
    const pct = ((f.total / root.total) * 100).toFixed(2);
    const label = w > 30 ? escape(f.name.slice(0, Math.floor(w / 6.5))) : '';
    rects.push(
      `<g><title>${escape(f.name)} (${(f.total / 1000).toFixed(1)} ms, ${pct}%)</title>` +
        `<rect x="${x.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${ROW - 1}" fill="${colour(f.name)}" rx="2"/>` +
        (label ? `<text x="${(x + 3).toFixed(2)}" y="${y + ROW - 4}">${label}</text>` : '') +
        '</g>',
    );
    let cx = x;
    for (const child of [...f.children.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      draw(child, cx, level + 1);
      cx += child.total * scale;
    }
  };
  draw(root, PAD, 0);
  return (
    `<?xml version="1.0" standalone="no"?>\n` +
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="monospace" font-size="11">\n` +
    `<rect width="100%" height="100%" fill="#fdfdf6"/>\n` +
    `<text x="${WIDTH / 2}" y="${PAD + 12}" text-anchor="middle" font-size="14">${escape(title)} — ${(root.total / 1e6).toFixed(2)} s of samples</text>\n` +
    rects.join('\n') +
    '\n</svg>\n'
  );
}

/** Warm hues for the project's own code, green for Node's, blue for packages, grey for the engine. */
function colour(name: string): string {
  const hash = [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  const v = hash % 40;
  if (/ (src|bench|bin)\//.test(name)) return `hsl(${20 + (v % 25)}, 85%, ${55 + (v % 15)}%)`;
  if (/ node:/.test(name)) return `hsl(${100 + (v % 30)}, 50%, ${55 + (v % 15)}%)`;
  if (/ [^ ]+:\d+$/.test(name)) return `hsl(${200 + (v % 30)}, 55%, ${62 + (v % 12)}%)`;
  return `hsl(0, 0%, ${68 + (v % 14)}%)`;
}

function escape(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

/** Folds every profile under `paths` and writes `<out>.svg` and `<out>.folded`; returns the SVG's path. */
export function writeFlameGraph(paths: string[], out: string, title: string): string | null {
  const files = profileFiles(paths);
  if (files.length === 0) return null;
  const folded = foldStacks(files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as CpuProfile));
  const base = out.replace(/\.svg$/, '');
  writeFileSync(`${base}.folded`, renderFolded(folded));
  writeFileSync(`${base}.svg`, renderFlameGraph(folded, title));
  return `${base}.svg`;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const o = args.indexOf('--out');
  const out = o >= 0 ? args.splice(o, 2)[1] : 'flame.svg';
  if (args.length === 0) {
    process.stderr.write('usage: npx node bench/flamegraph.ts DIR_OR_FILE… [--out flame.svg]\n');
    process.exit(2);
  }
  const written = writeFlameGraph(args, out, `originpull CPU profile (${args.join(', ')})`);
  if (written === null) {
    process.stderr.write('no .cpuprofile found\n');
    process.exit(1);
  }
  process.stdout.write(`wrote ${written} and ${written.replace(/\.svg$/, '.folded')}\n`);
}
