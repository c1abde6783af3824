/**
 * The one thing the stores (./sqlStores) need from a database: run a statement and read its
 * rows, inside the current write transaction if any. SQL is written once, for SQLite, with
 * `?` or `@name` parameters, portable syntax (ON CONFLICT, RETURNING, INTEGER 0/1 for booleans);
 * the PostgreSQL driver translates parameters to `$n` (see ./dialect). A statement that truly
 * differs between backends branches on `db.dialect`, in the store, next to its twin.
 * PostgreSQL must know each parameter's type: one that appears only as `@x IS NULL` is
 * written `CAST(@x AS TEXT) IS NULL` (the same in SQLite).
 */
export type Dialect = 'sqlite' | 'postgres';

/** Positional parameters, or one object of named ones (`@name` in the SQL). */
export type Params = unknown[] | Record<string, unknown>;

export interface LedgerDb {
  readonly dialect: Dialect;
  get<T>(sql: string, params?: Params): Promise<T | undefined>;
  all<T>(sql: string, params?: Params): Promise<T[]>;
  /** Runs a statement; `changes` is the number of rows it inserted, updated or deleted. */
  run(sql: string, params?: Params): Promise<{ changes: number }>;
  /** Runs statements without parameters (several separated by `;`). */
  exec(sql: string): Promise<void>;
  /** Runs `fn` in a write transaction: the current one when there is one, else a new one. */
  write<T>(fn: (db: LedgerDb) => Promise<T>): Promise<T>;
}
