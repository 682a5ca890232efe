// Store on one SQLite file through node:sqlite. WAL lets edges read while the API writes;
// BEGIN IMMEDIATE serialises writers across processes (busy_timeout makes them wait, not fail).
// DatabaseSync is synchronous, so every call is queued on a lane: otherwise an await inside one
// transaction would let another call's statements run inside it. The lane is shared by all
// instances on the same file in this thread: were one instance to wait for the file lock (which
// blocks the thread) while another holds it between awaits, neither could ever proceed.
// Tested in test/store/sqlite.test.ts.
import { chmodSync, existsSync, realpathSync } from 'node:fs';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { loadMigrations, MIGRATIONS_TABLE_SQL } from '../migrations/index.ts';
import { SqlStore } from '../sql/sql-store.ts';
import type { ExclusiveRun } from '../store.ts';
import { BaseTx, VERSION_SQL, type SqlTx, type SqlValue, type TxMode } from '../sql/sql-tx.ts';

export interface SqliteStoreOptions {
  /** How often the change feed polls the version row while listeners exist. Default 30 ms. */
  pollIntervalMs?: number;
  /** How long a writer waits for another process's write lock. Default 10 s. */
  busyTimeoutMs?: number;
}

type Prepare = (sql: string) => StatementSync;

interface Lane {
  tail: Promise<unknown>;
  users: number;
}

const lanes = new Map<string, Lane>();
/** Jobs running in this process, by file and job name (see runExclusive). */
const runningJobs = new Set<string>();

function joinLane(key: string | null): Lane {
  if (key === null) return { tail: Promise.resolve(), users: 1 };
  let lane = lanes.get(key);
  if (!lane) lanes.set(key, (lane = { tail: Promise.resolve(), users: 0 }));
  lane.users++;
  return lane;
}

class SqliteTx extends BaseTx {
  readonly #prepare: Prepare;

  constructor(mode: TxMode, prepare: Prepare) {
    super(mode);
    this.#prepare = prepare;
  }

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.#prepare(sql).all(...params) as T[];
  }

  async get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return this.#prepare(sql).get(...params) as T | undefined;
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return Number(this.#prepare(sql).run(...params).changes);
  }

  protected async stream<T>(sql: string, params: readonly SqlValue[], onRow: (row: T) => void): Promise<void> {
    // Rows as arrays, made into objects here: node:sqlite's own row objects are dictionaries
    // (~1 KB for a DNS record row), slower to make and to read than a plain object.
    const stmt = this.#prepare(sql);
    stmt.setReturnArrays(true);
    try {
      const names = stmt.columns().map((c) => c.name);
      for (const values of stmt.iterate(...params) as Iterable<SqlValue[]>) {
        const row: Record<string, SqlValue> = {};
        for (let i = 0; i < names.length; i++) row[names[i]] = values[i];
        onRow(row as T);
      }
    } finally {
      stmt.setReturnArrays(false);
    }
  }
}

export class SqliteStore extends SqlStore {
  readonly kind = 'sqlite' as const;
  readonly file: string;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  readonly #pollIntervalMs: number;
  #pollTimer: NodeJS.Timeout | null = null;
  readonly #laneKey: string | null;
  readonly #lane: Lane;
  #closed = false;
  #closing: Promise<void> | null = null;

  constructor(file: string, opts: SqliteStoreOptions = {}) {
    super();
    this.file = file;
    this.#pollIntervalMs = opts.pollIntervalMs ?? 30;
    const inMemory = file === ':memory:' || file === '';
    const created = !inMemory && !existsSync(file);
    try {
      this.#db = new DatabaseSync(file);
      // Sealed keys and token hashes live here: owner-only (SQLite gives -wal/-shm the same mode).
      if (created) chmodSync(file, 0o600);
      // busy_timeout first: switching to WAL needs a lock another process may hold.
      this.#db.exec(`PRAGMA busy_timeout = ${Math.trunc(opts.busyTimeoutMs ?? 10_000)}`);
      this.#db.exec('PRAGMA journal_mode = WAL');
      this.#db.exec('PRAGMA synchronous = NORMAL');
      this.#db.exec('PRAGMA foreign_keys = ON');
    } catch (err) {
      throw new Error(`cannot open SQLite store ${file}`, { cause: err });
    }
    this.#laneKey = inMemory ? null : realpathSync(file);
    this.#lane = joinLane(this.#laneKey);
  }

  async migrate(): Promise<void> {
    await this.#exclusive(async () => {
      const db = this.#db;
      // IMMEDIATE takes the write lock up front, so a second process waits and then sees the
      // migrations the first one applied.
      db.exec('BEGIN IMMEDIATE');
      try {
        db.exec(MIGRATIONS_TABLE_SQL);
        const applied = new Set(
          (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => Number(r.version)),
        );
        const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_on) VALUES (?, ?, ?)');
        for (const m of loadMigrations()) {
          if (applied.has(m.version)) continue;
          try {
            db.exec(m.sql);
          } catch (err) {
            throw new Error(`migration ${m.version}-${m.name} failed`, { cause: err });
          }
          record.run(m.version, m.name, Date.now());
        }
        db.exec('COMMIT');
      } catch (err) {
        if (db.isTransaction) db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  /** In-process only: the jobs of a SQLite file run in the one process that serves its API. */
  async runExclusive<T>(job: string, fn: () => Promise<T>): Promise<ExclusiveRun<T>> {
    const key = `${this.#laneKey ?? this.file}\0${job}`;
    if (runningJobs.has(key)) return { ran: false };
    runningJobs.add(key);
    try {
      return { ran: true, value: await fn() };
    } finally {
      runningJobs.delete(key);
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.feed.close();
    await this.#exclusive(async () => {
      this.#closed = true;
      this.#statements.clear();
      this.#db.close();
    });
    if (--this.#lane.users === 0 && this.#laneKey !== null) lanes.delete(this.#laneKey);
  }

  protected transact<T>(mode: TxMode, fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.#exclusive(async () => {
      const tx = new SqliteTx(mode, this.#prepare);
      if (mode === 'auto') return fn(tx);
      const db = this.#db;
      db.exec(mode === 'write' ? 'BEGIN IMMEDIATE' : 'BEGIN');
      let result: T;
      try {
        result = await fn(tx);
        db.exec('COMMIT');
      } catch (err) {
        if (db.isTransaction) db.exec('ROLLBACK');
        throw err;
      }
      // Listeners of this instance hear of its own writes at once, not at the next poll.
      if (tx.bumped !== null) this.feed.publish(tx.bumped);
      return result;
    });
  }

  protected startWatching(): void {
    // The version at subscription time is the baseline; only later versions are delivered.
    // Inside an open transaction the row may hold an uncommitted value: leave it to the poll.
    if (!this.#db.isTransaction) this.#poll();
    this.#pollTimer = setInterval(() => this.#poll(), this.#pollIntervalMs);
    this.#pollTimer.unref();
  }

  protected stopWatching(): void {
    if (this.#pollTimer) clearInterval(this.#pollTimer);
    this.#pollTimer = null;
  }

  #poll(): void {
    if (this.#closed || this.#db.isTransaction) return;
    let row: { v: number } | undefined;
    try {
      row = this.#prepare(VERSION_SQL).get() as { v: number } | undefined;
    } catch {
      return; // not migrated yet, or the file is briefly unreadable: try again next tick
    }
    if (row) this.feed.observe(Number(row.v));
  }

  readonly #prepare = (sql: string): StatementSync => {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      if (this.#closed) throw new Error('store is closed');
      // Dynamic SQL (IN lists) would grow the cache without bound; dropping it is cheap.
      if (this.#statements.size >= 500) this.#statements.clear();
      stmt = this.#db.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  };

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lane.tail.then(() => {
      if (this.#closed) throw new Error('store is closed');
      return fn();
    });
    this.#lane.tail = run.then(noop, noop);
    return run;
  }
}

function noop(): void {}
