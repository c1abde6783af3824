/**
 * The ledger on the SQLite file of one home (the default backend). better-sqlite3 is
 * synchronous; the driver answers promises so that the stores (./sqlStores) are written for
 * any backend. Transactions of one connection are queued in memory (one at a time, across
 * awaits), and the threads of one process queue for the write lock before SQLite's own (see
 * writeLock).
 */
import fs from 'node:fs';
import type Database from 'better-sqlite3';
import { openDb, SCHEMA_VERSION, type Db } from './db.js';
import type { LedgerDb, Params } from './driver.js';
import { storesOf, type Query } from './sqlStores.js';
export { flowListQuery, invoiceSearchQuery } from './sqlStores.js';
import { WriteLock } from './writeLock.js';
import type { Ledger, Stores, Tx } from './stores.js';

type Statement = Database.Statement<unknown[]>;

export interface SqliteOptions {
  /** The write lock shared by the threads of this process (the daemon and its workers). */
  writeLock?: SharedArrayBuffer;
}

/** The stores, set from storesOf in the constructor (one list, kept by Stores). */
export interface SqliteLedger extends Stores {}

/**
 * better-sqlite3 builds each row as a dictionary-mode object: 2.2 KB for an invoice row, and slow
 * to read. Its spread is an ordinary object sharing one shape with every row of the statement
 * (0.9 KB, strings included). Rows are copied one at a time as they are stepped, so that the
 * dictionary copies die young instead of all being held by a list first (measured on 50,000
 * invoice rows: 2.6 times less heap, and twice as fast as `all()`).
 */
const fastRow = (row: unknown): unknown => (row === undefined ? row : { ...(row as object) });

export class SqliteLedger implements Ledger {
  private readonly stores: Stores;
  readonly backend = 'sqlite' as const;
  readonly lock: WriteLock;
  private readonly db: Db;
  /** Prepared once per SQL text. */
  private readonly statements = new Map<string, Statement>();
  /** Transactions of this connection, one at a time. */
  private tail: Promise<unknown> = Promise.resolve();
  private savepoints = 0;

  readonly fileIdentity: { dev: number; ino: number };

  constructor(private readonly file: string, opts: SqliteOptions = {}) {
    this.db = openDb(file);
    const st = fs.statSync(file);
    this.fileIdentity = { dev: st.dev, ino: st.ino };
    this.lock = new WriteLock(opts.writeLock);
    this.stores = storesOf(this.driver());
    Object.assign(this, this.stores);
  }

  private sql(text: string): Statement {
    let s = this.statements.get(text);
    if (!s) this.statements.set(text, (s = this.db.prepare<unknown[]>(text)));
    return s;
  }

  /** One connection: a statement runs inside the transaction in progress, if any. */
  private driver(): LedgerDb {
    const bind = (p: Params | undefined): unknown[] => (p === undefined ? [] : Array.isArray(p) ? p : [p]);
    const driver: LedgerDb = {
      dialect: 'sqlite',
      get: async <T>(text: string, p?: Params) => fastRow(this.sql(text).get(...bind(p))) as T | undefined,
      all: async <T>(text: string, p?: Params) => {
        const rows: unknown[] = [];
        for (const row of this.sql(text).iterate(...bind(p))) rows.push(fastRow(row));
        return rows as T[];
      },
      run: async (text, p) => ({ changes: this.sql(text).run(...bind(p)).changes }),
      exec: async (text) => void this.db.exec(text),
      write: (fn) => (this.db.inTransaction ? fn(driver) : this.transaction(() => fn(driver))),
    };
    return driver;
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const previous = this.tail;
    let done!: () => void;
    this.tail = new Promise<void>((r) => (done = r));
    await previous;
    this.lock.acquire();
    try {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.tx());
        this.db.exec('COMMIT');
        return result;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    } finally {
      this.lock.release();
      done();
    }
  }

  private tx(): Tx {
    const tx: Tx = {
      ...this.stores,
      savepoint: async (fn) => {
        const name = `sp${++this.savepoints}`;
        this.db.exec(`SAVEPOINT ${name}`);
        try {
          const result = await fn(tx);
          this.db.exec(`RELEASE ${name}`);
          return result;
        } catch (e) {
          if (this.db.inTransaction) this.db.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
          throw e;
        }
      },
    };
    return tx;
  }

  async health() {
    return {
      integrity: String(this.db.pragma('integrity_check', { simple: true })),
      schemaVersion: this.db.pragma('user_version', { simple: true }) as number,
      expectedVersion: SCHEMA_VERSION,
      journal: `${String(this.db.pragma('journal_mode', { simple: true }))}, synchronous=${String(this.db.pragma('synchronous', { simple: true }))} (2 = FULL)`,
    };
  }

  fileProblem(): string | undefined {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.file);
    } catch (e) {
      return `${this.file} was deleted while open (${(e as NodeJS.ErrnoException).code ?? 'gone'}): what is written now would be lost`;
    }
    if (st.dev !== this.fileIdentity.dev || st.ino !== this.fileIdentity.ino) return `${this.file} was replaced by another file while open: this process's ledger is no longer the one at that path`;
    return undefined;
  }

  /** SQLite's plan for a query (EXPLAIN QUERY PLAN), one line per step: what tests check indexes with. */
  queryPlan(q: Query): string[] {
    return (this.db.prepare(`EXPLAIN QUERY PLAN ${q.text}`).all(q.params) as { detail: string }[]).map((r) => r.detail);
  }

  /** A query's rows as such (tests compare two plans of one search). */
  queryRows<T>(q: Query): T[] {
    return this.db.prepare(q.text).all(q.params) as T[];
  }

  async close() {
    await this.tail;
    this.db.close();
  }
}
