// LayeredMap: an immutable base + overlay map; each change makes a new map and leaves the old one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LayeredMap } from '../../src/edge/layered-map.ts';

const plain = (m: ReadonlyMap<string, number>) => [...m].sort(([a], [b]) => a.localeCompare(b));

test('changes make a new map that reads like a plain one; the old map is left as it was', () => {
  const base = new Map(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i] as [string, number]));
  const m0 = new LayeredMap(base);
  const m1 = m0.with(new Map<string, number | null>([['k1', null], ['k2', 20], ['new', -1], ['absent', null]]));
  const expected = new Map(base);
  expected.delete('k1');
  expected.set('k2', 20);
  expected.set('new', -1);
  assert.deepEqual(plain(m1), plain(expected));
  assert.equal(m1.size, expected.size);
  assert.deepEqual([m1.get('k1'), m1.has('k1'), m1.get('k2'), m1.get('new'), m1.get('absent')], [undefined, false, 20, -1, undefined]);
  assert.deepEqual([[...m1.keys()].length, [...m1.values()].length], [expected.size, expected.size]);
  assert.deepEqual(plain(m0), plain(base), 'the earlier map is unchanged');
  assert.equal(m0.with(new Map()), m0);

  // A key added in the overlay, then removed: gone, and the size counts it once.
  const m2 = m1.with(new Map([['new', null], ['k1', 1]]));
  assert.deepEqual([m2.has('new'), m2.get('k1'), m2.size], [false, 1, 1000]);
  const seen: string[] = [];
  m2.forEach((v, k) => seen.push(`${k}=${v}`));
  assert.equal(seen.length, 1000);
});

test('an overlay past an eighth of the base is folded into a new base, with the same contents', () => {
  let m = new LayeredMap(new Map(Array.from({ length: 800 }, (_, i) => [`k${i}`, i] as [string, number])));
  const reference = new Map(m);
  for (let i = 0; i < 300; i++) {
    const changes = new Map<string, number | null>([[`k${i}`, i % 3 === 0 ? null : -i], [`n${i}`, i]]);
    m = m.with(changes);
    for (const [k, v] of changes) {
      if (v === null) reference.delete(k);
      else reference.set(k, v);
    }
    assert.equal(m.size, reference.size);
  }
  assert.deepEqual(plain(m), plain(reference));
});
