// SqliteStore: sessions in one SQLite file, shared by every process on a host that opens it.
//
// The driver, better-sqlite3, is an optional peer dependency: a native module that builds from
// source where no prebuilt binary can be fetched (about two minutes), which users of the memory or
// Redis store should not pay for. It is imported on first use, and its absence is an error that
// names the fix. Its types are used only inside this module (`#` fields are not part of the
// emitted declarations), so the package's types do not need @types/better-sqlite3.
import type BetterSqlite3 from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkListOptions, matchesList } from './list-options.js';
import { SessionCacheError } from '../common/errors.js';
import { DEFAULT_MAX_VALUE_BYTES, DEFAULT_SWEEP_INTERVAL_MS } from './memory-store.js';
import { EVERYTHING, RevocationWatchers } from './revocations.js';
import type {
  ListOptions,
  Revocation,
  RevocationListener,
  SessionStore,
  StoreStats,
  StoredEntry,
} from './store.js';
import {
  asBuffer,
  checkBytes,
  checkDeadline,
  checkId,
  checkNamespace,
  checkKnownKeys,
  checkOptions,
  describe,
  functionOption,
  integerOption,
  isStorableId,
} from '../common/validate.js';

type Database = BetterSqlite3.Database;
type Statement<P extends unknown[], R = unknown> = BetterSqlite3.Statement<P, R>;

/** The schema this version creates and reads (`PRAGMA user_version`). A newer file is refused. */
export const SQLITE_SCHEMA_VERSION = 1;

/**
 * `PRAGMA application_id` of a session store file ("TSC1"): how a file is recognised as ours, so
 * that a store pointed at some other application's database refuses it instead of writing into it.
 */
export const SQLITE_APPLICATION_ID = 0x54534331;

/** Default of {@link SqliteStoreOptions.maxEntries}. */
export const DEFAULT_SQLITE_MAX_ENTRIES = 1_000_000;
/** Default of {@link SqliteStoreOptions.busyTimeoutMs}. */
export const DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 5000;
/** Default of {@link SqliteStoreOptions.checkpointIntervalMs}. */
export const DEFAULT_SQLITE_CHECKPOINT_INTERVAL_MS = 250;
/** Default of {@link SqliteStoreOptions.revocationPollMs}. */
export const DEFAULT_SQLITE_REVOCATION_POLL_MS = 100;

/**
 * Rows the revocation log keeps (the newest); older ones are pruned by the writes that add rows.
 * A watcher that falls further behind than that finds a gap and reports everything.
 */
const REVOCATION_LOG_ROWS = 10_000;
/**
 * New log rows one poll reports one by one; a watcher that finds more (a bulk removal, or a poll
 * that was held up) reports everything instead: bounded work per poll whatever the backlog.
 */
const REVOCATION_POLL_ROWS = 1024;

/**
 * WAL pages after which a connection of this process checkpoints by itself, on its own thread:
 * SQLite's automatic checkpoint (default 1000 pages), raised to a safety net that the background
 * checkpointer keeps the WAL far below. About 40 MB with 4 KiB pages.
 */
const SAFETY_AUTOCHECKPOINT_PAGES = 10_000;

/** Rows the sweep deletes per statement, and statements per sweep: bounds how long it holds the lock. */
const SWEEP_BATCH = 500;
const SWEEP_MAX_BATCHES = 20;
/** Rows `list` reads per query; the connection is free for other calls between pages. */
const LIST_PAGE = 256;

/** Options of {@link SqliteStore.open}. */
export interface SqliteStoreOptions {
  /**
   * The database file; created when missing (its directory must exist). Every process that opens
   * the same file shares its sessions. `':memory:'` makes a private in-memory database (tests).
   */
  path: string;
  /**
   * Most entries kept. A `set` that makes the table larger evicts the entries that expire soonest
   * (the oldest among equals), expired ones first. Counted exactly, across processes, by triggers.
   * @default 1000000
   */
  maxEntries?: number;
  /**
   * The largest value accepted, in bytes.
   * @default 68608 (67 KiB: any session's envelope fits)
   */
  maxValueBytes?: number;
  /**
   * How long a statement waits for another process's write lock before it fails (SQLite's
   * `busy_timeout`), in ms. Writes hold the lock for microseconds, so waits are short; the wait
   * blocks this process's event loop, which is why it is bounded.
   * @default 5000
   */
  busyTimeoutMs?: number;
  /**
   * How often expired rows are deleted, in ms; `0` for never. Expired rows are never returned
   * either way; the sweep only reclaims their space. Deletes at most 10 000 rows per run, in
   * batches of 500, so that it never holds the write lock for long. Runs on the checkpointer's
   * thread (see `checkpointIntervalMs`), off the event loop; with an injected `clock` or without
   * that thread, on an unref'd timer of the event loop.
   * @default 60000
   */
  sweepIntervalMs?: number;
  /**
   * How often a worker thread of this process copies the WAL back into the database file (a
   * `PASSIVE` checkpoint, which never blocks readers or writers), in ms; `0` leaves checkpoints to
   * SQLite, which runs them inside a write every 1000 pages — on the event loop, with two fsyncs,
   * for 20–30 ms on this project's test machine: a stall of every connection of the process.
   * Ignored for `':memory:'`.
   * @default 250
   */
  checkpointIntervalMs?: number;
  /**
   * How often, in ms, a store with revocation watchers (see `watchRevocations`; `storeCallbacks`'
   * `bind`) looks for removals made by other processes: the bound on how long a session deleted
   * elsewhere can still resume from this process's memory (plus any time the event loop is
   * blocked). A poll that finds nothing new costs one `PRAGMA data_version` (~1 µs); one after
   * another process wrote costs one indexed read more. `0`: no polling — only this instance's own
   * removals are reported.
   * @default 100
   */
  revocationPollMs?: number;
  /**
   * The clock, in ms since the epoch. Every process sharing a file should see the same time: expiry
   * is absolute. Inject one in tests.
   * @default Date.now
   */
  clock?: () => number;
}

/** Every key of {@link SqliteStoreOptions}, for the unknown-key check. */
const SQLITE_STORE_OPTION_KEYS: Readonly<Record<keyof SqliteStoreOptions, true>> = {
  path: true,
  maxEntries: true,
  maxValueBytes: true,
  busyTimeoutMs: true,
  sweepIntervalMs: true,
  checkpointIntervalMs: true,
  revocationPollMs: true,
  clock: true,
};

interface Statements {
  upsert: Statement<[string, Buffer, number, Buffer]>;
  insertIfAbsent: Statement<[string, Buffer, number, Buffer]>;
  deleteExpired: Statement<[string, Buffer, number]>;
  entries: Statement<[], number>;
  evict: Statement<[number]>;
  exists: Statement<[string, Buffer], number>;
  get: Statement<[string, Buffer, number], Buffer>;
  take: Statement<[string, Buffer, number], Buffer>;
  delete: Statement<[string, Buffer, number]>;
  sweep: Statement<[number, number]>;
  stats: Statement<[], { entries: number; bytes: number }>;
  clearAll: Statement<[]>;
  clearNamespace: Statement<[string]>;
  countLive: Statement<[number], number>;
  countLiveNamespace: Statement<[number, string], number>;
  logRevocation: Statement<[string | null, Buffer | null, string]>;
  pruneRevocations: Statement<[number | bigint]>;
  dataVersion: Statement<[], number>;
  revocationHighWater: Statement<[], number>;
  revocationsAfter: Statement<[number, number, number], RevocationRow>;
}

interface RevocationRow {
  seq: number;
  namespace: string | null;
  id: Buffer | null;
  origin: string;
}

interface ListRow {
  namespace: string;
  id: Buffer;
  expires_at: number;
  size: number;
  value?: Buffer;
}

let driver: Promise<typeof BetterSqlite3> | undefined;

/**
 * Imports better-sqlite3 once. Its absence (or a build that did not happen) becomes an error that
 * says what to install, rather than a module-resolution stack trace.
 */
function loadDriver(): Promise<typeof BetterSqlite3> {
  driver ??= import('better-sqlite3').then(
    (module: { default: typeof BetterSqlite3 }) => module.default,
    (error: unknown) => {
      driver = undefined; // let a later call retry, e.g. after an install
      const code = (error as { code?: unknown }).code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
        throw new SessionCacheError(
          'ERR_DEPENDENCY_MISSING',
          'SqliteStore needs the optional dependency better-sqlite3: npm install better-sqlite3',
          { cause: error },
        );
      }
      throw error;
    },
  );
  return driver;
}

/**
 * Sessions in a SQLite file (better-sqlite3), shared by every process on one host that opens the
 * same file, and kept across restarts. Synchronous answers (no promise on the handshake path), WAL
 * so that readers never wait for writers, `busy_timeout` for writers that meet, prepared
 * statements, an index on expiry swept by an unref'd timer, `take` as one atomic
 * `DELETE … RETURNING` (at most one process ever gets a session), a cap on the entries, and a
 * versioned schema.
 *
 * Keys are `(namespace TEXT, id BLOB)`: ids are stored as the bytes they are.
 *
 * @example
 * ```ts
 * const store = await SqliteStore.open({ path: '/var/lib/my-api/sessions.db' });
 * const cache = new SessionCache({ ...storeCallbacks(store).callbacks });
 * ```
 */
export class SqliteStore implements SessionStore {
  /** `"sqlite"`. */
  readonly kind = 'sqlite';
  /** See {@link SqliteStoreOptions.maxValueBytes}. */
  readonly maxValueBytes: number;
  /** See {@link SqliteStoreOptions.maxEntries}. */
  readonly maxEntries: number;
  /** The file, as given. */
  readonly path: string;

  readonly #db: Database;
  readonly #statements: Statements;
  readonly #setTransaction: (
    namespace: string,
    id: Buffer,
    expiresAtMs: number,
    value: Buffer,
  ) => boolean;
  readonly #setIfAbsentTransaction: (
    namespace: string,
    id: Buffer,
    expiresAtMs: number,
    value: Buffer,
  ) => boolean;
  readonly #clock: () => number;
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #checkpointer: Worker | undefined;
  #sweepErrors = 0;
  #checkpointErrors = 0;
  #closed = false;
  readonly #deleteTransaction: (namespace: string, id: Buffer) => boolean;
  readonly #watchers = new RevocationWatchers();
  /** This instance's mark on the log rows it writes: it reported those at once, not by polling. */
  readonly #origin = randomUUID();
  readonly #revocationPollMs: number;
  #pollTimer: NodeJS.Timeout | undefined;
  #lastDataVersion = -1;
  #lastRevocation = 0;
  #revocationPollErrors = 0;
  #closing: Promise<void> | undefined;

  /** Use {@link SqliteStore.open}. */
  private constructor(
    db: Database,
    path: string,
    maxEntries: number,
    maxValueBytes: number,
    sweepIntervalMs: number,
    clock: () => number,
    checkpointer: Worker | undefined,
    revocationPollMs: number,
  ) {
    this.#db = db;
    this.#checkpointer = checkpointer;
    checkpointer?.on('message', (message: unknown) => {
      if (message === 'error') this.#checkpointErrors++;
      else if (message === 'sweep-error') this.#sweepErrors++;
    });
    // Adding a 'message' listener refs the worker again: unref after it, or the thread would keep
    // the process alive.
    checkpointer?.unref();
    this.path = path;
    this.maxEntries = maxEntries;
    this.maxValueBytes = maxValueBytes;
    this.#clock = clock;
    this.#statements = prepare(db);
    const s = this.#statements;
    const transaction = db.transaction(
      (namespace: string, id: Buffer, expiresAtMs: number, value: Buffer): boolean => {
        s.upsert.run(namespace, id, expiresAtMs, value);
        const entries = s.entries.get()!;
        if (entries <= this.maxEntries) return true;
        // Over the cap: the soonest-expiring rows go (expired ones first), possibly the new one.
        s.evict.run(entries - this.maxEntries);
        return s.exists.get(namespace, id) !== undefined;
      },
    );
    // IMMEDIATE takes the write lock at BEGIN, where busy_timeout applies; a deferred transaction
    // that upgrades a read lock can fail at once with SQLITE_BUSY instead of waiting.
    this.#setTransaction = transaction.immediate;
    this.#setIfAbsentTransaction = db.transaction(
      (namespace: string, id: Buffer, expiresAtMs: number, value: Buffer): boolean => {
        // An expired row is absent by the contract, though the sweep may not have reclaimed it.
        s.deleteExpired.run(namespace, id, this.#clock());
        if (s.insertIfAbsent.run(namespace, id, expiresAtMs, value).changes === 0) return false;
        const entries = s.entries.get()!;
        if (entries <= this.maxEntries) return true;
        s.evict.run(entries - this.maxEntries);
        return s.exists.get(namespace, id) !== undefined;
      },
    ).immediate;
    this.#revocationPollMs = revocationPollMs;
    // The removal and its log row commit together: a process that sees the row is sure to read the
    // store without the session, and no removal commits without its row.
    this.#deleteTransaction = db.transaction((namespace: string, id: Buffer): boolean => {
      const deleted = s.delete.run(namespace, id, this.#clock()).changes > 0;
      this.#logRevocation(namespace, id);
      return deleted;
    }).immediate;
    if (sweepIntervalMs > 0) {
      this.#timer = setInterval(() => this.#sweepQuietly(), sweepIntervalMs);
      // A cache must never be the reason a process stays alive.
      this.#timer.unref();
    }
  }

  /**
   * Opens (creating when needed) the session store in `options.path`. A missing directory on the
   * way is created too (readable by its owner only: the file holds session secrets), so that a
   * path such as `~/.cache/my-cli/tls-sessions.db` works on the first run.
   *
   * @throws TypeError/RangeError naming the option for invalid options
   * @throws {@link SessionCacheError} `ERR_DEPENDENCY_MISSING` when better-sqlite3 is not
   * installed; `ERR_STORE_UNAVAILABLE` when the file cannot be opened (permissions, not a
   * database, locked for longer than `busyTimeoutMs`); `ERR_STORE_FOREIGN` when it belongs to
   * another application; `ERR_STORE_UNSUPPORTED` when its schema is newer than this version
   * supports or it cannot use WAL journaling.
   */
  static async open(options: SqliteStoreOptions): Promise<SqliteStore> {
    const opts = checkOptions(options) as Partial<SqliteStoreOptions>;
    checkKnownKeys('SqliteStore.open', opts, SQLITE_STORE_OPTION_KEYS);
    if (typeof opts.path !== 'string' || opts.path === '') {
      throw new TypeError(`path must be a non-empty string, got ${describe(opts.path)}`);
    }
    const path = opts.path;
    const maxEntries = integerOption('maxEntries', opts.maxEntries, DEFAULT_SQLITE_MAX_ENTRIES, 1);
    const maxValueBytes = integerOption(
      'maxValueBytes',
      opts.maxValueBytes,
      DEFAULT_MAX_VALUE_BYTES,
      1,
      // SQLite's default SQLITE_MAX_LENGTH for a BLOB is 1e9; stay far below it.
      64 * 1024 * 1024,
    );
    const busyTimeoutMs = integerOption(
      'busyTimeoutMs',
      opts.busyTimeoutMs,
      DEFAULT_SQLITE_BUSY_TIMEOUT_MS,
      0,
      2 ** 31 - 1,
    );
    const sweepIntervalMs = integerOption(
      'sweepIntervalMs',
      opts.sweepIntervalMs,
      DEFAULT_SWEEP_INTERVAL_MS,
      0,
      2 ** 31 - 1,
    );
    const checkpointIntervalMs = integerOption(
      'checkpointIntervalMs',
      opts.checkpointIntervalMs,
      DEFAULT_SQLITE_CHECKPOINT_INTERVAL_MS,
      0,
      2 ** 31 - 1,
    );
    const revocationPollMs = integerOption(
      'revocationPollMs',
      opts.revocationPollMs,
      DEFAULT_SQLITE_REVOCATION_POLL_MS,
      0,
      2 ** 31 - 1,
    );
    const clock = functionOption('clock', opts.clock) ?? Date.now;
    const Driver = await loadDriver();
    let db: Database;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      db = new Driver(path, { timeout: busyTimeoutMs });
    } catch (error) {
      throw cannotOpen(path, error);
    }
    let checkpointer: Worker | undefined;
    try {
      await initializeWhenFree(db, path, busyTimeoutMs);
      // The background thread also sweeps, off the event loop, unless a clock was injected: the
      // thread keeps real time only.
      const sweepInThread = clock === Date.now;
      if (checkpointIntervalMs > 0 && !db.memory) {
        db.pragma(`wal_autocheckpoint = ${SAFETY_AUTOCHECKPOINT_PAGES}`);
        checkpointer = startCheckpointer(path, {
          checkpointIntervalMs,
          busyTimeoutMs,
          sweepIntervalMs: sweepInThread ? sweepIntervalMs : 0,
        });
      }
      return new SqliteStore(
        db,
        path,
        maxEntries,
        maxValueBytes,
        checkpointer !== undefined && sweepInThread ? 0 : sweepIntervalMs,
        clock,
        checkpointer,
        revocationPollMs,
      );
    } catch (error) {
      db.close();
      void checkpointer?.terminate();
      if (error instanceof SessionCacheError) throw error;
      // SQLite's own failures (not a database, busy for longer than busyTimeoutMs, read-only).
      throw cannotOpen(path, error);
    }
  }

  /** Failed background sweeps (e.g. the lock was busy for longer than `busyTimeoutMs`). */
  get sweepErrors(): number {
    return this.#sweepErrors;
  }

  /** Failed background checkpoints (the next one tries again; SQLite's own is the safety net). */
  get checkpointErrors(): number {
    return this.#checkpointErrors;
  }

  /** See {@link SessionStore.set}. */
  set(namespace: string, id: Uint8Array, value: Uint8Array, expiresAtMs: number): boolean {
    checkNamespace(namespace);
    checkId(id);
    checkBytes('value', value);
    checkDeadline(expiresAtMs);
    this.#checkOpen();
    if (value.byteLength > this.maxValueBytes || expiresAtMs <= this.#clock()) return false;
    return this.#setTransaction(namespace, asBuffer(id), expiresAtMs, asBuffer(value));
  }

  /**
   * See {@link SessionStore.setIfAbsent}: in one IMMEDIATE transaction, an expired row of the key is
   * dropped and `INSERT OR IGNORE` writes the new one; the write lock makes it atomic across
   * processes. The entry cap applies as for `set`.
   */
  setIfAbsent(namespace: string, id: Uint8Array, value: Uint8Array, expiresAtMs: number): boolean {
    checkNamespace(namespace);
    checkId(id);
    checkBytes('value', value);
    checkDeadline(expiresAtMs);
    this.#checkOpen();
    if (value.byteLength > this.maxValueBytes || expiresAtMs <= this.#clock()) return false;
    return this.#setIfAbsentTransaction(namespace, asBuffer(id), expiresAtMs, asBuffer(value));
  }

  /** See {@link SessionStore.get}. */
  get(namespace: string, id: Uint8Array): Uint8Array | undefined {
    checkNamespace(namespace);
    if (!isStorableId(id)) return undefined;
    this.#checkOpen();
    return this.#statements.get.get(namespace, asBuffer(id), this.#clock());
  }

  /** See {@link SessionStore.take}: one `DELETE … RETURNING` statement, atomic across processes. */
  take(namespace: string, id: Uint8Array): Uint8Array | undefined {
    checkNamespace(namespace);
    if (!isStorableId(id)) return undefined;
    this.#checkOpen();
    return this.#statements.take.get(namespace, asBuffer(id), this.#clock());
  }

  /**
   * See {@link SessionStore.delete}. An expired row counts as absent (the sweep reclaims it). The
   * removal is logged in the same transaction (see {@link watchRevocations}), whether or not the
   * row was there: another process may still hold the session in memory.
   */
  delete(namespace: string, id: Uint8Array): boolean {
    checkNamespace(namespace);
    if (!isStorableId(id)) return false;
    this.#checkOpen();
    const deleted = this.#deleteTransaction(namespace, asBuffer(id));
    this.#announce({ namespace, id });
    return deleted;
  }

  /**
   * See {@link SessionStore.list}. Reads pages of 256 rows in key order, so other calls can run
   * between pages; an entry written meanwhile may or may not show.
   */
  async *list(options: ListOptions = {}): AsyncGenerator<StoredEntry> {
    const filters = checkListOptions(options);
    this.#checkOpen();
    const columns = `namespace, id, expires_at, length(value) AS size${filters.withValues ? ', value' : ''}`;
    const where = 'expires_at > ? AND expires_at < ?';
    const bound = filters.namespace ?? filters.namespacePrefix;
    // Namespaces compare as UTF-8 bytes, in which every namespace that starts with a prefix sorts
    // at or after it, contiguously: a prefix filter is a range scan that stops at the first miss.
    const first = this.#db.prepare<[number, number, string, number], ListRow>(
      `SELECT ${columns} FROM tls_sessions WHERE ${where} AND namespace >= ?
       ORDER BY namespace, id LIMIT ?`,
    );
    const next = this.#db.prepare<[number, number, string, Buffer, number], ListRow>(
      `SELECT ${columns} FROM tls_sessions WHERE ${where} AND (namespace, id) > (?, ?)
       ORDER BY namespace, id LIMIT ?`,
    );
    let yielded = 0;
    let after: ListRow | undefined;
    while (yielded < filters.limit) {
      // The deadline is read per page: an entry that expires while listing is not returned.
      const nowMs = this.#clock();
      const before = Math.min(filters.expiresBeforeMs, Number.MAX_SAFE_INTEGER);
      const rows =
        after === undefined
          ? first.all(nowMs, before, bound ?? '', LIST_PAGE)
          : next.all(nowMs, before, after.namespace, after.id, LIST_PAGE);
      for (const row of rows) {
        if (bound !== undefined && !row.namespace.startsWith(bound)) return;
        if (!matchesList(filters, row.namespace, row.expires_at)) continue;
        yield {
          namespace: row.namespace,
          id: row.id,
          expiresAtMs: row.expires_at,
          size: row.size,
          ...(row.value === undefined ? {} : { value: row.value }),
        };
        if (++yielded >= filters.limit) return;
        if (this.#closed) return;
      }
      if (rows.length < LIST_PAGE) return;
      after = rows[rows.length - 1];
    }
  }

  /** See {@link SessionStore.clear}. @returns how many live entries were deleted. */
  clear(namespace?: string): number {
    if (namespace !== undefined) checkNamespace(namespace);
    this.#checkOpen();
    const s = this.#statements;
    const live = this.#db
      .transaction(() => {
        const nowMs = this.#clock();
        // One log row for the whole namespace (or everything), however many rows go.
        this.#logRevocation(namespace ?? null, null);
        if (namespace === undefined) {
          const count = s.countLive.get(nowMs)!;
          s.clearAll.run();
          return count;
        }
        const count = s.countLiveNamespace.get(nowMs, namespace)!;
        s.clearNamespace.run(namespace);
        return count;
      })
      .immediate();
    this.#announce(namespace === undefined ? EVERYTHING : { namespace });
    return live;
  }

  /**
   * See {@link SessionStore.watchRevocations}. Every `delete` and `clear`, by any process on the
   * file, is written to a revocation log table in the same transaction as the removal. This
   * instance's own removals are reported at once, before `delete`/`clear` return; other processes'
   * are found by a poll every `revocationPollMs` (100 ms) on an unref'd timer, which runs while
   * there is a watcher: `PRAGMA data_version` first (it changes only when another connection
   * committed), then the log rows after the last one seen. A poll that finds more than 1024 new
   * rows, or a gap (rows pruned before it read them), reports everything.
   */
  watchRevocations(listener: RevocationListener): () => void {
    this.#checkOpen();
    const remove = this.#watchers.add(listener);
    if (this.#pollTimer === undefined && this.#revocationPollMs > 0) {
      // History does not matter to a new watcher: what its cache holds was read after this point.
      this.#lastRevocation = this.#statements.revocationHighWater.get() ?? 0;
      this.#lastDataVersion = this.#statements.dataVersion.get()!;
      this.#pollTimer = setInterval(() => this.#pollRevocations(), this.#revocationPollMs);
      this.#pollTimer.unref();
    }
    return () => {
      remove();
      if (this.#watchers.size === 0) this.#stopPolling();
    };
  }

  /** Polls for other processes' removals now (the timer does it every `revocationPollMs`). */
  pollRevocations(): void {
    this.#checkOpen();
    this.#pollRevocations();
  }

  /** Revocation polls that failed (each later poll reads on from the last row it saw). */
  get revocationPollErrors(): number {
    return this.#revocationPollErrors;
  }

  /** See {@link SessionStore.stats}. Counts expired rows not yet swept. */
  stats(): StoreStats {
    this.#checkOpen();
    const row = this.#statements.stats.get()!;
    return { entries: row.entries, bytes: row.bytes };
  }

  /**
   * Deletes rows that have expired at `nowMs`, at most 10 000, in batches of 500; the timer calls
   * it every `sweepIntervalMs`.
   * @returns how many were deleted.
   * @throws what SQLite throws (e.g. busy); the timer counts that in {@link sweepErrors}.
   */
  sweep(nowMs: number = this.#clock()): number {
    this.#checkOpen();
    let removed = 0;
    for (let i = 0; i < SWEEP_MAX_BATCHES; i++) {
      const changes = this.#statements.sweep.run(nowMs, SWEEP_BATCH).changes;
      removed += changes;
      if (changes < SWEEP_BATCH) break;
    }
    return removed;
  }

  /** In-process: always `ready` until closed (see {@link SessionStore.state}). */
  state(): 'ready' | 'closed' {
    return this.#closed ? 'closed' : 'ready';
  }

  /**
   * Stops the sweep and the checkpointer and closes the database connections. Idempotent; other
   * calls throw from the moment it is called. Resolves once the checkpointer thread has exited.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#stopPolling();
    this.#watchers.clear();
    this.#db.close();
    const worker = this.#checkpointer;
    this.#closing =
      worker === undefined
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            // It closes its connection and exits; a thread stuck in a long checkpoint is ended.
            const timer = setTimeout(() => void worker.terminate(), 5000);
            worker.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            worker.postMessage('close');
          });
    return this.#closing;
  }

  #logRevocation(namespace: string | null, id: Buffer | null): void {
    const s = this.#statements;
    const seq = s.logRevocation.run(namespace, id, this.#origin).lastInsertRowid;
    // Keeps the newest rows; usually deletes the one that fell out of the window.
    s.pruneRevocations.run(BigInt(seq) - BigInt(REVOCATION_LOG_ROWS));
  }

  #announce(revocation: Revocation): void {
    if (this.#watchers.size > 0) this.#watchers.announce(revocation);
  }

  #pollRevocations(): void {
    if (this.#closed || this.#pollTimer === undefined) return;
    const s = this.#statements;
    try {
      const version = s.dataVersion.get()!;
      if (version === this.#lastDataVersion) return;
      this.#lastDataVersion = version;
      // One read transaction: the high-water mark and the rows come from the same snapshot.
      const { high, rows } = this.#db.transaction(() => {
        const mark = s.revocationHighWater.get() ?? 0;
        return {
          high: mark,
          rows:
            mark > this.#lastRevocation
              ? s.revocationsAfter.all(this.#lastRevocation, mark, REVOCATION_POLL_ROWS + 1)
              : [],
        };
      })();
      if (high <= this.#lastRevocation) return;
      // AUTOINCREMENT numbers rows without reuse, and a rolled-back insert rolls its number back:
      // fewer rows than numbers means some were pruned before this poll saw them.
      const complete = rows.length === high - this.#lastRevocation;
      this.#lastRevocation = high;
      if (!complete || rows.length > REVOCATION_POLL_ROWS) {
        this.#watchers.announce(EVERYTHING);
        return;
      }
      for (const row of rows) {
        if (row.origin === this.#origin) continue;
        if (row.namespace === null) this.#watchers.announce(EVERYTHING);
        else if (row.id === null) this.#watchers.announce({ namespace: row.namespace });
        else this.#watchers.announce({ namespace: row.namespace, id: row.id });
      }
    } catch {
      // The next poll reads on from the last row seen; nothing is lost, only later.
      this.#revocationPollErrors++;
    }
  }

  #stopPolling(): void {
    clearInterval(this.#pollTimer);
    this.#pollTimer = undefined;
  }

  #sweepQuietly(): void {
    if (this.#closed) return;
    try {
      this.sweep();
    } catch {
      // A timer has no caller to tell; the count is visible, and the next run tries again.
      this.#sweepErrors++;
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new SessionCacheError('ERR_STORE_CLOSED', 'SqliteStore is closed');
  }
}

/**
 * The checkpointer: a worker thread with its own connection that runs a PASSIVE checkpoint every
 * `checkpointIntervalMs`, and the sweep every `sweepIntervalMs` (when not 0). A PASSIVE checkpoint never waits for a lock and never blocks a reader or a writer;
 * its fsyncs happen on this thread, not on the event loop that answers handshakes. Each process
 * sharing a file runs one; when two meet, one of them simply finds the work done or busy.
 *
 * An `eval` worker, so that it needs no file of its own next to the compiled module (the same code
 * runs from `src/` under tsx and from `dist/`); it loads the driver by the path this module
 * resolved. Unref'd: it never keeps the process alive.
 */
function startCheckpointer(
  path: string,
  intervals: { checkpointIntervalMs: number; sweepIntervalMs: number; busyTimeoutMs: number },
): Worker {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(CHECKPOINTER_SOURCE, {
    eval: true,
    workerData: {
      driver,
      path,
      ...intervals,
      sql: SWEEP_SQL,
      batch: SWEEP_BATCH,
      batches: SWEEP_MAX_BATCHES,
    },
    // A small thread: a connection and a timer.
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
  });
  worker.unref();
  // An exception in the thread ends it; the store goes on with SQLite's own checkpoints.
  worker.on('error', () => undefined);
  return worker;
}

const CHECKPOINTER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { timeout: workerData.busyTimeoutMs });
const sweep = db.prepare(workerData.sql);
const timers = [
  setInterval(() => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      parentPort.postMessage('error');
    }
  }, workerData.checkpointIntervalMs),
];
if (workerData.sweepIntervalMs > 0) {
  timers.push(setInterval(() => {
    try {
      const now = Date.now();
      for (let i = 0; i < workerData.batches; i++) {
        if (sweep.run(now, workerData.batch).changes < workerData.batch) break;
      }
    } catch {
      parentPort.postMessage('sweep-error');
    }
  }, workerData.sweepIntervalMs));
}
parentPort.on('message', (message) => {
  if (message !== 'close') return;
  for (const timer of timers) clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * {@link initialize}, retried while another process holds the file. Processes that open a new
 * file at the same moment meet in switching it to WAL and in creating the schema, and SQLite
 * answers some of those meetings with SQLITE_BUSY at once, without its busy handler (measured:
 * "database is locked" two processes out of a few hundred). Retried with jitter up to
 * `busyTimeoutMs`, like any other lock wait — but here asynchronously, without blocking.
 */
async function initializeWhenFree(
  db: Database,
  path: string,
  busyTimeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + busyTimeoutMs;
  for (;;) {
    try {
      initialize(db, path);
      return;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const busy = typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code);
      if (!busy || Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 45));
    }
  }
}

/**
 * Brings a freshly opened database to the current schema, or refuses it. Runs in one IMMEDIATE
 * transaction, so that several processes opening a new file at once create the schema exactly once.
 */
/** The error of a file SQLite cannot open (or this process cannot create). */
function cannotOpen(path: string, error: unknown): SessionCacheError {
  return new SessionCacheError(
    'ERR_STORE_UNAVAILABLE',
    `SqliteStore: cannot open ${JSON.stringify(path)}: ${messageOf(error)}`,
    { cause: error },
  );
}

/**
 * Throws unless the file is empty or ours, of a schema version this release reads. Run once before
 * anything is written (switching to WAL is a write that stays in the file: another application's
 * database must be left exactly as it was), and again inside the initializing transaction, where
 * it is certain (another process may be initializing the same file).
 * @returns whether the file already holds our current schema
 */
function checkOwnership(db: Database, where: string): boolean {
  const applicationId = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  if (applicationId !== 0 && applicationId !== SQLITE_APPLICATION_ID) {
    throw new SessionCacheError(
      'ERR_STORE_FOREIGN',
      `SqliteStore: ${where} belongs to another application (application_id ${applicationId})`,
    );
  }
  if (version > SQLITE_SCHEMA_VERSION) {
    throw new SessionCacheError(
      'ERR_STORE_UNSUPPORTED',
      `SqliteStore: ${where} has schema version ${version}, newer than the ${SQLITE_SCHEMA_VERSION} this version of tls-session-cache supports; upgrade tls-session-cache or use another file`,
    );
  }
  if (applicationId === SQLITE_APPLICATION_ID && version === SQLITE_SCHEMA_VERSION) return true;
  const tables = db
    .prepare<[], number>("SELECT count(*) FROM sqlite_schema WHERE type = 'table'")
    .pluck()
    .get()!;
  if (tables > 0) {
    throw new SessionCacheError(
      'ERR_STORE_FOREIGN',
      `SqliteStore: ${where} is not a tls-session-cache database (it has other tables)`,
    );
  }
  return false;
}

function initialize(db: Database, path: string): void {
  const where = JSON.stringify(path);
  // In one read transaction: its three reads (application_id, user_version, tables) must see one
  // snapshot. Read one by one, a process that commits its initialization in between is seen half
  // way (no application_id yet, tables already) and the file is refused as foreign; two `serve`
  // processes started together on a new file hit this (seen in test/clients/matrix.test.ts).
  db.transaction(() => checkOwnership(db, where)).deferred();
  // WAL: readers do not block the writer nor the writer the readers; the mode is stored in the
  // file, so this is a no-op after the first process. NORMAL synchronous in WAL mode loses at most
  // the last transactions on power loss (never on a process crash), and a lost session only costs
  // one full handshake; FULL would add an fsync to every new session.
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal' && mode !== 'memory') {
    throw new SessionCacheError(
      'ERR_STORE_UNSUPPORTED',
      `SqliteStore: ${where} cannot use WAL journaling (got ${String(mode)})`,
    );
  }
  db.pragma('synchronous = NORMAL');
  db.transaction(() => {
    if (checkOwnership(db, where)) {
      // Files made before the revocation log get it now (see REVOCATION_SCHEMA).
      db.exec(REVOCATION_SCHEMA);
      return;
    }
    db.exec(SCHEMA_V1);
    db.exec(REVOCATION_SCHEMA);
    db.pragma(`application_id = ${SQLITE_APPLICATION_ID}`);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
  }).immediate();
}

/**
 * Version 1. A rowid table (not WITHOUT ROWID: values of a few hundred bytes to kilobytes are past
 * the size where that pays) with the key as primary key, an index on expiry for the sweep and for
 * eviction, and a one-row table of counts kept exact by triggers, so that the cap costs one row
 * read per write instead of a `count(*)` scan.
 */
const SCHEMA_V1 = `
CREATE TABLE tls_sessions (
  namespace  TEXT    NOT NULL,
  id         BLOB    NOT NULL,
  expires_at INTEGER NOT NULL,
  value      BLOB    NOT NULL,
  PRIMARY KEY (namespace, id)
);
CREATE INDEX tls_sessions_expires_at ON tls_sessions (expires_at);
CREATE TABLE tls_sessions_counts (
  one     INTEGER PRIMARY KEY CHECK (one = 1),
  entries INTEGER NOT NULL,
  bytes   INTEGER NOT NULL
);
INSERT INTO tls_sessions_counts (one, entries, bytes) VALUES (1, 0, 0);
CREATE TRIGGER tls_sessions_counts_insert AFTER INSERT ON tls_sessions BEGIN
  UPDATE tls_sessions_counts SET entries = entries + 1, bytes = bytes + length(NEW.value);
END;
CREATE TRIGGER tls_sessions_counts_delete AFTER DELETE ON tls_sessions BEGIN
  UPDATE tls_sessions_counts SET entries = entries - 1, bytes = bytes - length(OLD.value);
END;
CREATE TRIGGER tls_sessions_counts_update AFTER UPDATE OF value ON tls_sessions BEGIN
  UPDATE tls_sessions_counts SET bytes = bytes - length(OLD.value) + length(NEW.value);
END;
`;

/**
 * The revocation log: one row per `delete` and per `clear` (namespace NULL = every namespace, id
 * NULL = the whole namespace), written in the removal's transaction, read by every process's poll.
 * `AUTOINCREMENT`, so that numbers are never reused and a watcher can tell a gap (pruned rows) from
 * no news. `origin` is the writing store instance, which reported its own removals already.
 *
 * Added to schema 1 without a new version: it is a table more, which earlier versions of this
 * package neither need nor see, so they keep opening the file (their removals are not logged, and
 * they do not poll: upgrade every process to get revocation across processes).
 */
const REVOCATION_SCHEMA = `
CREATE TABLE IF NOT EXISTS tls_revocations (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT,
  namespace TEXT,
  id        BLOB,
  origin    TEXT NOT NULL
);
`;

/** Deletes up to `?2` rows expired at `?1`, soonest first (by the expiry index). */
const SWEEP_SQL = `DELETE FROM tls_sessions WHERE rowid IN
  (SELECT rowid FROM tls_sessions WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`;

function prepare(db: Database): Statements {
  return {
    upsert: db.prepare(
      `INSERT INTO tls_sessions (namespace, id, expires_at, value) VALUES (?, ?, ?, ?)
       ON CONFLICT (namespace, id) DO UPDATE SET expires_at = excluded.expires_at, value = excluded.value`,
    ),
    insertIfAbsent: db.prepare(
      'INSERT OR IGNORE INTO tls_sessions (namespace, id, expires_at, value) VALUES (?, ?, ?, ?)',
    ),
    deleteExpired: db.prepare(
      'DELETE FROM tls_sessions WHERE namespace = ? AND id = ? AND expires_at <= ?',
    ),
    entries: db.prepare<[], number>('SELECT entries FROM tls_sessions_counts').pluck(),
    evict: db.prepare(
      `DELETE FROM tls_sessions WHERE rowid IN
         (SELECT rowid FROM tls_sessions ORDER BY expires_at, rowid LIMIT ?)`,
    ),
    exists: db
      .prepare<[string, Buffer], number>(
        'SELECT 1 FROM tls_sessions WHERE namespace = ? AND id = ?',
      )
      .pluck(),
    get: db
      .prepare<[string, Buffer, number], Buffer>(
        'SELECT value FROM tls_sessions WHERE namespace = ? AND id = ? AND expires_at > ?',
      )
      .pluck(),
    // One statement: the row is deleted and returned under one write lock, so of any number of
    // takes, in any number of processes, exactly one sees it.
    take: db
      .prepare<[string, Buffer, number], Buffer>(
        'DELETE FROM tls_sessions WHERE namespace = ? AND id = ? AND expires_at > ? RETURNING value',
      )
      .pluck(),
    delete: db.prepare(
      'DELETE FROM tls_sessions WHERE namespace = ? AND id = ? AND expires_at > ?',
    ),
    sweep: db.prepare(SWEEP_SQL),
    stats: db.prepare<[], { entries: number; bytes: number }>(
      'SELECT entries, bytes FROM tls_sessions_counts',
    ),
    clearAll: db.prepare('DELETE FROM tls_sessions'),
    clearNamespace: db.prepare('DELETE FROM tls_sessions WHERE namespace = ?'),
    countLive: db
      .prepare<[number], number>('SELECT count(*) FROM tls_sessions WHERE expires_at > ?')
      .pluck(),
    countLiveNamespace: db
      .prepare<[number, string], number>(
        'SELECT count(*) FROM tls_sessions WHERE expires_at > ? AND namespace = ?',
      )
      .pluck(),
    logRevocation: db.prepare(
      'INSERT INTO tls_revocations (namespace, id, origin) VALUES (?, ?, ?)',
    ),
    pruneRevocations: db.prepare('DELETE FROM tls_revocations WHERE seq <= ?'),
    dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
    revocationHighWater: db
      .prepare<[], number>("SELECT seq FROM sqlite_sequence WHERE name = 'tls_revocations'")
      .pluck(),
    revocationsAfter: db.prepare<[number, number, number], RevocationRow>(
      'SELECT seq, namespace, id, origin FROM tls_revocations WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?',
    ),
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
}
