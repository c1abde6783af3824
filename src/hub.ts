/**
 * What the application layer works with on one home: configuration, folders, the ledger
 * (behind its store interfaces), the places outputs go, and the log. The engine is handed none
 * of it: it judges data gathered from here beforehand.
 */
import { ensureLayout, isPostgres, layoutOf, loadConfig, type Config, type Layout, type Settings } from './config.js';
import { Places } from './engine/places.js';
import type { Ledger } from './ledger/stores.js';
import { PostgresLedger } from './ledger/postgres.js';
import { SqliteLedger } from './ledger/sqlite.js';
import { createLogger, type Logger } from './log.js';

export interface Hub {
  config: Config;
  settings: Settings;
  layout: Layout;
  places: Places;
  ledger: Ledger;
  log: Logger;
  /** The ledger's write lock, shared with the daemon's worker threads. */
  writeLock: SharedArrayBuffer;
}

export interface HubOptions {
  flags?: Partial<Settings>;
  console?: boolean;
  logLevel?: string;
  /** In a worker thread: log through the main thread. */
  forwardLog?: (entry: Record<string, unknown>) => void;
  /** In a worker thread: the write lock shared with the main thread (see ledger/writeLock). */
  writeLock?: SharedArrayBuffer;
}

export function openHub(home: string, opts: HubOptions = {}): Hub {
  const config = loadConfig(home, opts.flags);
  const shared = isPostgres(config.settings);
  const layout = layoutOf(config.home, shared ? config.settings.node : undefined);
  ensureLayout(layout);
  // SQLite: the threads of this process share one write lock; PostgreSQL serializes writes itself.
  const writeLock = opts.writeLock ?? new SharedArrayBuffer(4);
  const ledger = shared ? new PostgresLedger(config.settings.ledger) : new SqliteLedger(layout.db, { writeLock });
  const log = createLogger({ logDir: layout.log, console: opts.console ?? false, level: opts.logLevel, forward: opts.forwardLog });
  return { config, settings: config.settings, layout, places: new Places(layout), ledger, log, writeLock };
}

export async function closeHub(hub: Hub): Promise<void> {
  await hub.ledger.close();
}
