// bench/flamegraph.ts: V8 CPU profile samples folded into call stacks, and drawn as an SVG.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldStacks, renderFlameGraph, renderFolded } from '../../bench/flamegraph.ts';
import type { CpuProfile } from '../../bench/profile.ts';
import { join } from 'node:path';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });
// The project's own files are named relative to its root.
const A = `file://${join(import.meta.dirname, '../../src/a.ts')}`;

// (root) → main (src/a.ts:10) → parse (same file:20); main → (garbage collector); (idle).
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 5] },
    { id: 2, callFrame: frame('main', A, 9), children: [3, 4] },
    { id: 3, callFrame: frame('parse;x<y>', A, 19) },
    { id: 4, callFrame: frame('(garbage collector)') },
    { id: 5, callFrame: frame('(idle)') },
  ],
  samples: [3, 3, 2, 4, 5, 3],
  timeDeltas: [100, 100, 50, 30, 1000, 20],
};

test('samples fold into root-first stacks with their microseconds; idle is left out; profiles merge', () => {
  const folded = foldStacks([profile, profile]);
  const byLeaf = Object.fromEntries([...folded].map(([stack, us]) => [stack.split(';').at(-1), { depth: stack.split(';').length, us }]));
  assert.deepEqual(Object.keys(byLeaf).sort(), ['(garbage collector)', 'main src/a.ts:10', 'parse,x<y> src/a.ts:20']);
  assert.deepEqual(byLeaf['parse,x<y> src/a.ts:20'], { depth: 2, us: 2 * 220 }, 'a frame name cannot split the stack');
  assert.deepEqual(byLeaf['main src/a.ts:10'], { depth: 1, us: 2 * 50 });
  assert.deepEqual(byLeaf['(garbage collector)'], { depth: 2, us: 2 * 30 });
  assert.match(renderFolded(folded), /^main src\/a\.ts:10;parse,x<y> src\/a\.ts:20 440$/m);
});

test('the SVG draws each frame as wide as its share, with escaped names and figures in its title', () => {
  const svg = renderFlameGraph(foldStacks([profile]), 'demo <1>');
  assert.match(svg, /^<\?xml/);
  assert.match(svg, /demo &lt;1&gt; — 0\.00 s of samples/);
  const width = (name: string) => Number(new RegExp(`<title>${name} [^<]*</title><rect x="[\\d.]+" y="\\d+" width="([\\d.]+)"`).exec(svg)![1]);
  const all = width('all');
  // main: 300 of 300 µs; parse: 220; the collector: 30.
  assert.equal(width('main src/a.ts:10'), all);
  assert.ok(Math.abs(width('parse,x&lt;y&gt; src/a.ts:20') - (all * 220) / 300) < 0.01);
  assert.ok(Math.abs(width('\\(garbage collector\\)') - (all * 30) / 300) < 0.01);
  assert.match(svg, /<title>parse,x&lt;y&gt; src\/a\.ts:20 \(0\.2 ms, 73\.33%\)<\/title>/);
});
