/** Everything a command needs to work on one home: configuration, folders, ledger, log. */
import { ensureLayout, layoutOf, loadConfig, type Config, type Layout, type Settings } from './config.js';
import { openDb, type Db } from './ledger/db.js';
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
}

export interface HubOptions {
  flags?: Partial<Settings>;
  console?: boolean;
  logLevel?: string;
  /** In a worker thread: log through the main thread. */
  forwardLog?: (entry: Record<string, unknown>) => void;
}

export function openHub(home: string, opts: HubOptions = {}): Hub {
  const config = loadConfig(home, opts.flags);
  const layout = layoutOf(config.home);
  ensureLayout(layout);
  const db = openDb(layout.db);
  const log = createLogger({ logDir: layout.log, console: opts.console ?? false, level: opts.logLevel, forward: opts.forwardLog });
  return { config, settings: config.settings, layout, db, log, directory: sqliteDirectory(db) };
}

export function closeHub(hub: Hub): void {
  hub.db.close();
}
