// Store on PostgreSQL through a pg Pool, shared by every API and edge node.
// Config writes serialise on the config_version row (SELECT … FOR UPDATE first), so checks made
// inside a write transaction hold until commit and versions follow commit order. Each bump
// sends pg_notify; the change feed LISTENs on a dedicated connection and re-reads the version
// row on every notification and once per check interval (notifications can be lost).
// A connection that breaks or stalls is never fatal: every checked-out client has an 'error'
// listener for the whole checkout and goes back broken (the pool drops it), round trips are
// bounded (query_timeout, statement_timeout), and the failure reaches the caller as a
// StoreUnavailableError.
// Tested in test/store/postgres.test.ts, test/faults/partition.test.ts and test/faults/session-kill.test.ts.
import pg from 'pg';
import { loadMigrations, MIGRATIONS_TABLE_SQL } from '../migrations/index.ts';
import { SqlStore } from '../sql/sql-store.ts';
import type { ExclusiveRun } from '../store.ts';
import { BaseTx, VERSION_SQL, type SqlTx, type SqlValue, type TxMode } from '../sql/sql-tx.ts';
import { isUnavailable, storeFailure } from './pg-errors.ts';
import { parsePostgresUrl, type PostgresTimeouts } from './postgres-url.ts';

export const CHANGE_CHANNEL = 'originpull_config';

export interface PostgresStoreOptions {
  /** Safety-net version check while listeners exist. Default 1000 ms. */
  checkIntervalMs?: number;
  /** Pool size. Default 10. */
  maxConnections?: number;
  /** Rows per round trip when loadConfig reads a table through a cursor. Default 2000. */
  pageRows?: number;
  timeouts?: PostgresTimeouts;
}

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 2_000;

type Queryable = pg.Pool | pg.PoolClient;

/**
 * A pooled client held for one job. Its 'error' event is caught for the whole checkout (pg emits
 * it when the socket breaks, even while a query is pending, and unhandled it ends the process);
 * a client that broke, timed out or failed its cleanup is destroyed on release, never pooled.
 */
class Checkout {
  readonly client: pg.PoolClient;
  #lost: Error | undefined;
  readonly #onError = (err: Error): void => {
    this.#lost ??= err;
  };

  constructor(client: pg.PoolClient) {
    this.client = client;
    client.on('error', this.#onError);
  }

  /** Whether the connection can still run a cleanup statement (ROLLBACK, unlock). */
  usable(after?: unknown): boolean {
    return this.#lost === undefined && !isUnavailable(after);
  }

  release(err?: Error): void {
    this.client.removeListener('error', this.#onError);
    this.client.release(this.#lost ?? err);
  }
}

class PgTx extends BaseTx {
  readonly #db: Queryable;
  readonly #pageRows: number;

  constructor(mode: TxMode, db: Queryable, pageRows: number) {
    super(mode);
    this.#db = db;
    this.#pageRows = pageRows;
  }

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return (await this.#db.query(numbered(sql), params as SqlValue[])).rows as T[];
  }

  async get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return (await this.#db.query(numbered(sql), params as SqlValue[])).rows[0] as T | undefined;
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return (await this.#db.query(numbered(sql), params as SqlValue[])).rowCount ?? 0;
  }

  protected async stream<T>(sql: string, params: readonly SqlValue[], onRow: (row: T) => void): Promise<void> {
    // A cursor of this transaction (closed by COMMIT/ROLLBACK at the latest), read page by page.
    await this.#db.query(`DECLARE originpull_each NO SCROLL CURSOR FOR ${numbered(sql)}`, params as SqlValue[]);
    for (;;) {
      const { rows } = await this.#db.query(`FETCH ${this.#pageRows} FROM originpull_each`);
      for (const row of rows) onRow(row as T);
      if (rows.length < this.#pageRows) break;
    }
    await this.#db.query('CLOSE originpull_each');
  }

  protected override async announce(version: number): Promise<void> {
    // Delivered to listeners when (and only if) the transaction commits.
    await this.#db.query('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, String(version)]);
  }
}

export class PostgresStore extends SqlStore {
  readonly kind = 'postgres' as const;
  readonly schema: string | null;
  readonly #clientConfig: pg.ClientConfig;
  readonly #pool: pg.Pool;
  readonly #checkIntervalMs: number;
  readonly #pageRows: number;
  #closed = false;
  #closing: Promise<void> | null = null;
  // change feed state
  #watching = false;
  #listener: pg.Client | null = null;
  #checkTimer: NodeJS.Timeout | null = null;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #reconnectAttempt = 0;
  #listenerLost: (() => void) | null = null;
  #listening = false;
  #probing = false;
  #checking = false;
  #recheck = false;

  constructor(url: string, opts: PostgresStoreOptions = {}) {
    super();
    const target = parsePostgresUrl(url, opts.timeouts);
    this.schema = target.schema;
    this.#clientConfig = target.config;
    this.#checkIntervalMs = opts.checkIntervalMs ?? 1_000;
    this.#pageRows = Math.max(1, Math.trunc(opts.pageRows ?? 2_000));
    this.#pool = new pg.Pool({ ...target.config, max: opts.maxConnections ?? 10, allowExitOnIdle: true });
    // An idle client losing its connection emits here; unhandled it would crash the process.
    // The pool drops that client and the next query reports the failure to its caller.
    this.#pool.on('error', noop);
  }

  async migrate(): Promise<void> {
    const held = new Checkout(await this.#pool.connect().catch((err: unknown) => Promise.reject(storeFailure(err))));
    const { client } = held;
    // Per-schema lock key: installations in other schemas of the database migrate independently.
    const lockKey = `originpull:migrate:${this.schema ?? ''}`;
    let broken: Error | undefined;
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
      try {
        if (this.schema !== null) await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
        await client.query(MIGRATIONS_TABLE_SQL);
        const applied = new Set(
          (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => Number(r.version)),
        );
        for (const m of loadMigrations()) {
          if (applied.has(m.version)) continue;
          await client.query('BEGIN');
          try {
            await client.query(m.sql);
            await client.query('INSERT INTO schema_migrations (version, name, applied_on) VALUES ($1, $2, $3)', [
              m.version,
              m.name,
              Date.now(),
            ]);
            await client.query('COMMIT');
          } catch (err) {
            await client.query('ROLLBACK').catch(noop);
            throw new Error(`migration ${m.version}-${m.name} failed`, { cause: err });
          }
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch((err: Error) => {
          broken = err;
        });
      }
    } catch (err) {
      broken ??= err as Error;
      throw storeFailure(err);
    } finally {
      // A client whose unlock failed may still hold the lock: destroy it rather than pool it.
      held.release(broken);
    }
  }

  async runExclusive<T>(job: string, fn: () => Promise<T>): Promise<ExclusiveRun<T>> {
    if (this.#closed) throw new Error('store is closed');
    const held = new Checkout(await this.#pool.connect().catch((err: unknown) => Promise.reject(storeFailure(err))));
    const { client } = held;
    // Session-level and per schema: released on unlock, or by the server if this node dies.
    const lockKey = `originpull:job:${this.schema ?? ''}:${job}`;
    let broken: Error | undefined;
    try {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [lockKey]);
      if (!rows[0]?.ok) return { ran: false };
      try {
        return { ran: true, value: await fn() };
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch((err: Error) => {
          broken = err;
        });
      }
    } catch (err) {
      broken ??= err as Error;
      throw storeFailure(err);
    } finally {
      // A client whose unlock failed may still hold the lock: destroy it rather than pool it.
      held.release(broken);
    }
  }

  close(): Promise<void> {
    if (!this.#closing) {
      this.#closed = true;
      this.feed.close();
      this.#closing = this.#pool.end();
    }
    return this.#closing;
  }

  protected async transact<T>(mode: TxMode, fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error('store is closed');
    if (mode === 'auto') {
      // pool.query holds its own 'error' listener and drops a client that failed.
      return fn(new PgTx(mode, this.#pool, this.#pageRows)).catch((err: unknown) => Promise.reject(storeFailure(err)));
    }
    const held = new Checkout(await this.#pool.connect().catch((err: unknown) => Promise.reject(storeFailure(err))));
    const { client } = held;
    const tx = new PgTx(mode, client, this.#pageRows);
    let result: T;
    try {
      await client.query(mode === 'read' ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN');
      // Every config write queues here; what it checks cannot change before it commits.
      if (mode === 'write') await client.query(`${VERSION_SQL} FOR UPDATE`);
      result = await fn(tx);
      await client.query('COMMIT');
    } catch (err) {
      // On a broken or stalled connection ROLLBACK would only wait out another timeout; the
      // server rolls back when the session ends.
      const rollback = held.usable(err)
        ? await client.query('ROLLBACK').then(
            () => undefined,
            (e: Error) => e,
          )
        : (err as Error);
      held.release(rollback);
      throw storeFailure(err);
    }
    held.release();
    if (tx.bumped !== null) this.feed.publish(tx.bumped);
    return result;
  }

  // ── change feed ──────────────────────────────────────────────────────────

  protected startWatching(): void {
    this.#watching = true;
    this.#listen();
    this.#checkTimer = setInterval(() => {
      void this.#check();
      this.#probeListener();
    }, this.#checkIntervalMs);
    this.#checkTimer.unref();
    void this.#check(); // the baseline
  }

  protected stopWatching(): void {
    this.#watching = false;
    if (this.#checkTimer) clearInterval(this.#checkTimer);
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#checkTimer = this.#reconnectTimer = null;
    const client = this.#listener;
    this.#listener = null;
    this.#listenerLost = null;
    client?.end().catch(noop);
  }

  #listen(): void {
    if (!this.#watching || this.#listener) return;
    const client = new pg.Client(this.#clientConfig);
    this.#listener = client;
    this.#listening = false;
    const lost = (): void => {
      if (this.#listener !== client) return; // stopped on purpose, or already handled
      this.#listener = null;
      this.#listenerLost = null;
      // With a query in flight (a probe on a stalled socket) end() destroys the socket.
      client.end().catch(noop);
      if (!this.#watching) return;
      const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** this.#reconnectAttempt++);
      this.#reconnectTimer = setTimeout(() => this.#listen(), delay);
      this.#reconnectTimer.unref();
    };
    this.#listenerLost = lost;
    client.on('error', lost);
    client.on('end', lost);
    // The payload is not trusted: other installations may share the database (other schemas).
    client.on('notification', () => void this.#check());
    client
      .connect()
      .then(() => client.query(`LISTEN ${CHANGE_CHANNEL}`))
      .then(() => {
        if (this.#listener !== client) return;
        this.#listening = true;
        this.#reconnectAttempt = 0;
        void this.#check(); // catch up on what happened while not listening
      })
      .catch(lost);
  }

  /**
   * A listening connection whose peer vanished (a partition, a fail-over) hears nothing and
   * reports no error: a round trip on it, bounded by the query timeout, tells it apart from a
   * quiet one, and a failed probe reconnects.
   */
  #probeListener(): void {
    const client = this.#listener;
    const lost = this.#listenerLost;
    if (client === null || lost === null || !this.#listening || this.#probing) return;
    this.#probing = true;
    client
      .query('SELECT 1')
      .then(noop, lost)
      .finally(() => {
        this.#probing = false;
      });
  }

  /** Reads the version row; overlapping requests coalesce into one more read. */
  async #check(): Promise<void> {
    if (this.#checking) {
      this.#recheck = true;
      return;
    }
    this.#checking = true;
    try {
      do {
        this.#recheck = false;
        // Bounded by the query timeout, so a stalled connection cannot hold this flag.
        const { rows } = await this.#pool.query<{ v: string }>(VERSION_SQL);
        if (this.#watching && rows[0]) this.feed.observe(Number(rows[0].v));
      } while (this.#recheck && this.#watching);
    } catch {
      // PostgreSQL unreachable: the next tick or the reconnected listener tries again.
    } finally {
      this.#checking = false;
    }
  }
}

const numberedCache = new Map<string, string>();

/** `?` placeholders → `$1, $2…` (the shared SQL has no other question marks). */
function numbered(sql: string): string {
  let out = numberedCache.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/\?/g, () => `$${++n}`);
    if (numberedCache.size < 1000) numberedCache.set(sql, out);
  }
  return out;
}

function noop(): void {}
