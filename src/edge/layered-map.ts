// An immutable map made of a shared base and a small overlay of what changed since the base was
// made (a removed key maps to null in the overlay). A snapshot after a change of a few routes then
// costs a copy of the overlay, not of every route (copying a Map of 100,000 routes stalls an edge
// for tens of milliseconds: bench/HISTORY.md, scale).
// Neither layer is ever mutated once the map is made, so older snapshots stay as they were.

/** Folded into a new base once the overlay holds more than this share of the base (or 64 keys). */
const OVERLAY_SHARE = 1 / 8;

export class LayeredMap<K, V> implements ReadonlyMap<K, V> {
  readonly size: number;
  readonly #base: ReadonlyMap<K, V>;
  readonly #overlay: ReadonlyMap<K, V | null>;

  constructor(base: ReadonlyMap<K, V> = new Map(), overlay: ReadonlyMap<K, V | null> = new Map(), size = base.size) {
    this.#base = base;
    this.#overlay = overlay;
    this.size = size;
  }

  get(key: K): V | undefined {
    if (this.#overlay.size !== 0) {
      const v = this.#overlay.get(key);
      if (v !== undefined) return v ?? undefined;
    }
    return this.#base.get(key);
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  /** A new map with `changes` applied (null removes a key); this one is left as it is. */
  with(changes: ReadonlyMap<K, V | null>): LayeredMap<K, V> {
    if (changes.size === 0) return this;
    const overlay = new Map(this.#overlay);
    let size = this.size;
    for (const [key, value] of changes) {
      const had = this.has(key);
      if (value === null) {
        if (!had) continue;
        size--;
        if (this.#base.has(key)) overlay.set(key, null);
        else overlay.delete(key);
      } else {
        if (!had) size++;
        overlay.set(key, value);
      }
    }
    const next = new LayeredMap(this.#base, overlay, size);
    if (overlay.size <= Math.max(64, this.#base.size * OVERLAY_SHARE)) return next;
    return new LayeredMap(new Map(next), new Map(), size);
  }

  *entries(): MapIterator<[K, V]> {
    for (const entry of this.#base) if (!this.#overlay.has(entry[0])) yield entry;
    for (const [key, value] of this.#overlay) if (value !== null) yield [key, value];
  }

  *keys(): MapIterator<K> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  forEach(fn: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) fn.call(thisArg, value, key, this);
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }
}
