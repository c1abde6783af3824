/**
 * The ledger on PostgreSQL, shared by the nodes of one hub. The same stores as SQLite's
 * (./sqlStores) over a pool of connections. Durability is as strict as the SQLite file's:
 * every connection runs with synchronous_commit=on (a commit is on the server's disk before
 * it returns), every write goes through a transaction, and write transactions are serialized
 * by one advisory lock, taken first, as SQLite's BEGIN IMMEDIATE serializes them: duplicates
 * and double invoicing are judged inside the decision's transaction, so two nodes never both
 * accept the same file or invoice. Reads outside a transaction take no lock.
 * The schema is migrated at first use, under its own advisory lock (several nodes may start
 * together), from the same MIGRATIONS list as SQLite (dialect.ddl).
 */
import { createRequire } from 'node:module';
import type pg from 'pg';
import { MIGRATIONS, SCHEMA_VERSION } from './db.js';
import { ddl, toPostgres, valuesOf } from './dialect.js';
import type { LedgerDb, Params } from './driver.js';
import { storesOf } from './sqlStores.js';
import type { Ledger, LedgerHealth, Stores, Tx } from './stores.js';

let loaded: typeof pg | undefined;
/**
 * The client library, loaded when a PostgreSQL ledger is first opened: a hub on its SQLite file
 * (and every one-shot command on it) does not pay its 16 MB.
 */
function pgModule(): typeof pg {
  if (!loaded) {
    loaded = createRequire(import.meta.url)('pg') as typeof pg;
    // BIGINT (counts, ids) as numbers, as SQLite gives them: ids and counts stay far below 2^53.
    loaded.types.setTypeParser(loaded.types.builtins.INT8, (v) => Number(v));
  }
  return loaded;
}

/** Advisory lock keys (any constants; they only have to be the same on every node). */
const WRITE_LOCK = 0x66666c77; // "fflw"
const MIGRATE_LOCK = 0x66666c6d; // "fflm"

type Queryable = pg.Pool | pg.PoolClient;

/**
 * Statements run inside transactions (deciding and delivering: the hot path) are prepared once
 * per connection and then only bound and executed, which spares the server parsing and
 * planning each of them every time. Bounded per connection: statements built with a varying
 * number of parameters would otherwise accumulate; past the bound they run unprepared.
 */
const PREPARED_PER_CONNECTION = 256;
const preparedOf = new WeakMap<pg.PoolClient, Map<string, string>>();

function preparedName(client: pg.PoolClient, text: string): string | undefined {
  let names = preparedOf.get(client);
  if (!names) preparedOf.set(client, (names = new Map()));
  let name = names.get(text);
  if (!name && names.size < PREPARED_PER_CONNECTION) names.set(text, (name = `ff${names.size + 1}`));
  return name;
}

export interface PostgresOptions {
  /** Connections this process opens at most (the daemon and each worker thread have their own pool). */
  poolSize?: number;
}

/** The stores, set from storesOf in the constructor (one list, kept by Stores). */
export interface PostgresLedger extends Stores {}

export class PostgresLedger implements Ledger {
  private readonly stores: Stores;
  readonly backend = 'postgres' as const;
  /** Not a file: nothing to compare (see fileProblem). */
  readonly fileIdentity = { dev: 0, ino: 0 };
  private readonly pool: pg.Pool;
  private readonly ready: Promise<void>;

  constructor(readonly url: string, opts: PostgresOptions = {}) {
    this.pool = new (pgModule().Pool)({ connectionString: url, max: opts.poolSize ?? 3, options: '-c synchronous_commit=on', application_name: 'factflow' });
    // An idle connection that the server dropped must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
    this.ready = this.migrate();
    this.ready.catch(() => undefined); // reported by the first query that waits for it
    this.stores = storesOf(this.driver(this.pool, false));
    Object.assign(this, this.stores);
  }

  /** The URL without its password, for messages. */
  get shownUrl(): string {
    return this.url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
  }

  private async query<T>(on: Queryable, text: string, params?: Params, wait = true): Promise<pg.QueryResult & { rows: T[] }> {
    if (wait) await this.ready;
    const t = toPostgres(text);
    const values = valuesOf(t, params);
    const name = on instanceof pgModule().Pool ? undefined : preparedName(on, t.text);
    return name ? on.query({ name, text: t.text, values }) : on.query(t.text, values);
  }

  private driver(on: Queryable, inTransaction: boolean): LedgerDb {
    const driver: LedgerDb = {
      dialect: 'postgres',
      get: async <T>(text: string, p?: Params) => (await this.query<T>(on, text, p)).rows[0],
      all: async <T>(text: string, p?: Params) => (await this.query<T>(on, text, p)).rows,
      run: async (text, p) => ({ changes: (await this.query(on, text, p)).rowCount ?? 0 }),
      exec: async (text) => void (await this.ready, await on.query(text)),
      write: (fn) => (inTransaction ? fn(driver) : this.withTransaction((client) => fn(this.driver(client, true)))),
    };
    return driver;
  }

  private async withTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>, lock = WRITE_LOCK, wait = true): Promise<T> {
    if (wait) await this.ready;
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock($1)', [lock]);
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch (r) {
          broken = r as Error; // the connection is gone: not back into the pool
        }
        throw e;
      }
    } finally {
      client.release(broken);
    }
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.withTransaction((client) => {
      let savepoints = 0;
      const stores: Stores = storesOf(this.driver(client, true));
      const tx: Tx = {
        ...stores,
        savepoint: async (inner) => {
          const name = `sp${++savepoints}`;
          await client.query(`SAVEPOINT ${name}`);
          try {
            const result = await inner(tx);
            await client.query(`RELEASE SAVEPOINT ${name}`);
            return result;
          } catch (e) {
            await client.query(`ROLLBACK TO SAVEPOINT ${name}`);
            await client.query(`RELEASE SAVEPOINT ${name}`);
            throw e;
          }
        },
      };
      return fn(tx);
    });
  }

  private async migrate(): Promise<void> {
    await this.withTransaction(async (client) => {
      await client.query('CREATE TABLE IF NOT EXISTS factflow_schema (version BIGINT NOT NULL)');
      const row = (await client.query<{ version: number }>('SELECT version FROM factflow_schema')).rows[0];
      if (!row) await client.query('INSERT INTO factflow_schema (version) VALUES (0)');
      const current = row?.version ?? 0;
      if (current > SCHEMA_VERSION) throw new Error(`The ledger at ${this.shownUrl} is at schema version ${current}, newer than this factflow (${SCHEMA_VERSION}); upgrade factflow.`);
      // DDL is transactional in PostgreSQL: the whole migration commits or nothing does.
      for (let v = current; v < SCHEMA_VERSION; v++) await client.query(ddl('postgres', MIGRATIONS[v]!));
      if (current < SCHEMA_VERSION) await client.query('UPDATE factflow_schema SET version = $1', [SCHEMA_VERSION]);
    }, MIGRATE_LOCK, false);
  }

  async health(): Promise<LedgerHealth> {
    await this.ready;
    const version = (await this.pool.query<{ version: number }>('SELECT version FROM factflow_schema')).rows[0]?.version ?? 0;
    const setting = async (name: string) => (await this.pool.query<{ s: string }>(`SELECT current_setting('${name}') AS s`)).rows[0]!.s;
    const [sync, fsync, fullPages] = [await setting('synchronous_commit'), await setting('fsync'), await setting('full_page_writes')];
    const durable = sync === 'on' && fsync === 'on' && fullPages === 'on';
    return {
      integrity: durable ? 'ok' : `the server runs with synchronous_commit=${sync}, fsync=${fsync}, full_page_writes=${fullPages}: a committed step may be lost in a crash; set all three on`,
      schemaVersion: version,
      expectedVersion: SCHEMA_VERSION,
      journal: `PostgreSQL ${this.shownUrl}, synchronous_commit=${sync}, fsync=${fsync}, full_page_writes=${fullPages}`,
    };
  }

  fileProblem(): string | undefined {
    return undefined;
  }

  private closed = false;

  async close() {
    if (this.closed) return;
    this.closed = true;
    await this.ready.catch(() => undefined);
    await this.pool.end();
  }
}

/**
 * Creates an empty database `name` on the server of `serverUrl` (dropped first if it exists)
 * and returns its URL: for tests and benchmarks, which each want a ledger of their own.
 */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
  const admin = new (pgModule().Client)({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
