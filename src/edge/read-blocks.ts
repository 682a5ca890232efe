// Origin sockets read into recycled 16 KiB blocks (net/tls `onread`) instead of a fresh buffer per
// read. A new ArrayBuffer per TLS record is external memory: at 64 KiB answers it made V8 run
// full mark-compact collections to keep up, and dead buffers waiting for them were the bulk of the
// edge's RSS under load. A block whose bytes went into a visitor write that has not completed is
// "lent": it is not read into again until every such write has called back.

/** One TLS record's plaintext at most, so a record is one read. */
export const BLOCK_SIZE = 16 * 1024;
/** Free blocks kept for reuse (4 MiB); more than that after a burst are left to the GC. */
const MAX_FREE = 256;

const free: ReadBlock[] = [];

export class ReadBlock {
  readonly buf = Buffer.allocUnsafeSlow(BLOCK_SIZE);
  /** Writes under way that still point into this block. */
  #loans = 0;
  /** A connection reads into it (or will, on its next read). */
  #owned = true;

  /** The block's bytes go into a write: call the returned function when that write completes. */
  lend(): () => void {
    this.#loans++;
    return this.#repaid;
  }

  get lent(): boolean {
    return this.#loans > 0;
  }

  /** The reading connection lets go of it (moving on to a fresh block, or closing). */
  disown(): void {
    this.#owned = false;
    if (this.#loans === 0) recycle(this);
  }

  readonly #repaid = (): void => {
    if (--this.#loans === 0 && !this.#owned) recycle(this);
  };

  /** Back in use by a connection. */
  reown(): this {
    this.#owned = true;
    return this;
  }
}

export function takeBlock(): ReadBlock {
  return free.pop()?.reown() ?? new ReadBlock();
}

function recycle(block: ReadBlock): void {
  if (free.length < MAX_FREE) free.push(block);
}

/** Free blocks waiting for reuse (for tests). */
export function freeBlocks(): number {
  return free.length;
}
