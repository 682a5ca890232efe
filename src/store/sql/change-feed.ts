// Listener bookkeeping for Store.onChange, shared by both engines. The engine supplies how to
// watch (start/stop) and reports versions; the feed delivers each newer version once, in order.
// Pulse listeners (Store.onEdgeReport) hear every time the engine looked at the store, changed
// or not: that is when an edge's report may have moved, which no version bump announces.
// Tested in test/store/sqlite.test.ts and test/store/postgres.test.ts (onChange), and test/api/wait-active.test.ts.
import type { ChangeListener } from '../store.ts';

export interface FeedWatcher {
  /** Called when the first listener subscribes. */
  start(): void;
  /** Called when the last listener unsubscribes, and on close. */
  stop(): void;
}

export class ChangeFeed {
  readonly #listeners = new Set<ChangeListener>();
  readonly #pulses = new Set<() => void>();
  readonly #watcher: FeedWatcher;
  /** Highest version delivered (or the baseline taken at start); null until known. */
  #last: number | null = null;
  #closed = false;

  constructor(watcher: FeedWatcher) {
    this.#watcher = watcher;
  }

  get active(): boolean {
    return this.#listeners.size + this.#pulses.size > 0;
  }

  subscribe(listener: ChangeListener): () => void {
    // Wrapped so the same function subscribed twice gets two independent subscriptions.
    return this.#add(this.#listeners, (v: number) => listener(v));
  }

  /** `listener` runs each time the engine looked at the store (see the file comment) and on pulse(). */
  subscribePulse(listener: () => void): () => void {
    return this.#add(this.#pulses, () => listener());
  }

  #add<T>(set: Set<T>, entry: T): () => void {
    if (this.#closed) return () => {};
    set.add(entry);
    if (this.#listeners.size + this.#pulses.size === 1) this.#watcher.start();
    return () => {
      if (!set.delete(entry) || this.active) return;
      this.#stopWatching();
    };
  }

  /** Tells the pulse listeners to look again. */
  pulse(): void {
    for (const listener of [...this.#pulses]) {
      try {
        listener();
      } catch (err) {
        process.emitWarning(new Error('originpull store: pulse listener threw', { cause: err }));
      }
    }
  }

  /** Sets the version current at subscription time without notifying (no-op once known). */
  baseline(version: number): void {
    if (this.#last === null) this.#last = version;
  }

  /** A version read by a watcher: the baseline when none is known yet, else a possible change. */
  observe(version: number): void {
    if (this.#last === null) this.#last = version;
    else this.publish(version);
    this.pulse();
  }

  /** Delivers `version` when it is newer than anything delivered so far. */
  publish(version: number): void {
    if (this.#listeners.size === 0) return;
    if (this.#last !== null && version <= this.#last) return;
    this.#last = version;
    for (const listener of [...this.#listeners]) {
      try {
        listener(version);
      } catch (err) {
        // One faulty listener must not starve the others or kill the watcher.
        process.emitWarning(new Error('originpull store: change listener threw', { cause: err }));
      }
    }
  }

  close(): void {
    this.#closed = true;
    if (!this.active) return;
    this.#listeners.clear();
    this.#pulses.clear();
    this.#stopWatching();
  }

  #stopWatching(): void {
    this.#last = null;
    this.#watcher.stop();
  }
}
