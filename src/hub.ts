/** Everything a command needs to work on one home: configuration, folders, ledger, log. */
import { ensureLayout, layoutOf, loadConfig, type Config, type Layout, type Settings } from './config.js';
import { openDb, type Db } from './ledger/db.js';
import { WriteLock } from './ledger/writeLock.js';
import { createLogger, type Logger } from './log.js';
import type { Directory } from './route/directory.js';
import { sqliteDirectory } from './route/sqliteDirectory.js';

export interface Hub {
  config: Config;
  settings: Settings;
  layout: Layout;
  db: Db;
  log: Logger;
  directory: Directory;
  /** Shared with the daemon's worker threads. */
  writeLock: SharedArrayBuffer;
  /** Runs `fn` as one write transaction (BEGIN IMMEDIATE), queued behind this process's other threads. */
  write<T>(fn: () => T): T;
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
  const layout = layoutOf(config.home);
  ensureLayout(layout);
  const db = openDb(layout.db);
  const log = createLogger({ logDir: layout.log, console: opts.console ?? false, level: opts.logLevel, forward: opts.forwardLog });
  const lock = new WriteLock(opts.writeLock);
  return {
    config,
    settings: config.settings,
    layout,
    db,
    log,
    directory: sqliteDirectory(db),
    writeLock: lock.buffer,
    write: (fn) => lock.run(() => db.transaction(fn).immediate()),
  };
}

export function closeHub(hub: Hub): void {
  hub.db.close();
}
