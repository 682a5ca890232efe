// The small query surface the shared store logic needs from an engine. SQL is written once with
// `?` placeholders; the PostgreSQL adapter numbers them.
// Tested in test/store/sqlite.test.ts and test/store/postgres.test.ts (test/store/contract.ts).
export type SqlValue = string | number | null;

export interface SqlTx {
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /**
   * Hands each row to `onRow` as it is read, never holding the whole result: for the big tables
   * loadConfig reads (100,000 rows held twice, as driver rows and as mapped objects, made the
   * edge's heap high-water mark). Only inside a read or write transaction.
   */
  each<T>(sql: string, params: readonly SqlValue[], onRow: (row: T) => void): Promise<void>;
  /**
   * Increments the config version once per transaction and returns the new value (later calls
   * return the same), and logs `zoneId` as changed at it (default: the installation), so edges
   * that load changes reload that zone whole. Only inside a write transaction.
   */
  bump(zoneId?: string): Promise<number>;
  /**
   * Wakes the change feeds of other nodes without a version bump (PostgreSQL: a notification on the
   * config channel, whose payload listeners ignore; SQLite: nothing, its feed polls).
   */
  signal(): Promise<void>;
}

/**
 * auto: each statement commits on its own (single-statement work, tokens, edges, meta).
 * read: one consistent snapshot. write: serialised against every other config write.
 */
export type TxMode = 'auto' | 'read' | 'write';

export const BUMP_SQL = 'UPDATE config_version SET v = v + 1 WHERE id = 1 RETURNING v';
export const VERSION_SQL = 'SELECT v FROM config_version WHERE id = 1';
/** config_changes' zone for a write that is not a zone's (the installation's certificates). */
export const INSTALLATION = '';
/** Versions kept in config_changes; an edge further behind loads everything. */
const CHANGES_KEPT = 10_000;

export abstract class BaseTx implements SqlTx {
  /** The version this transaction bumped to, read by the engine after commit. */
  bumped: number | null = null;
  readonly #mode: TxMode;

  constructor(mode: TxMode) {
    this.#mode = mode;
  }

  abstract all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  abstract get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  abstract run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** The engine's each(), called inside a transaction. */
  protected abstract stream<T>(sql: string, params: readonly SqlValue[], onRow: (row: T) => void): Promise<void>;

  each<T>(sql: string, params: readonly SqlValue[], onRow: (row: T) => void): Promise<void> {
    // PostgreSQL reads through a cursor, which lives only as long as its transaction.
    if (this.#mode === 'auto') return Promise.reject(new Error('each() outside a transaction'));
    return this.stream(sql, params, onRow);
  }

  async bump(zoneId: string = INSTALLATION): Promise<number> {
    if (this.#mode !== 'write') throw new Error(`config version bump outside a write transaction (mode ${this.#mode})`);
    if (this.bumped === null) {
      const row = await this.get<{ v: number | string }>(BUMP_SQL);
      if (!row) throw new Error('config_version row is missing: has migrate() run?');
      this.bumped = Number(row.v);
      await this.run('DELETE FROM config_changes WHERE version <= ?', [this.bumped - CHANGES_KEPT]);
      await this.announce(this.bumped);
    }
    await this.run('INSERT INTO config_changes (version, zone_id) VALUES (?, ?) ON CONFLICT DO NOTHING', [this.bumped, zoneId]);
    return this.bumped;
  }

  signal(): Promise<void> {
    return this.announce(0);
  }

  /** Engine hook run inside the transaction right after a bump (PostgreSQL: pg_notify). */
  protected async announce(_version: number): Promise<void> {}
}
