/**
 * Configuration: embedded defaults, overridden by `factflow.config.json` in the home,
 * overridden by environment variables, overridden by command-line flags. Every value
 * remembers where it came from (`factflow config show`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_FACTURX_PROFILES, parseProfileRules } from './formats/facturxProfiles.js';
import { DEFAULT_OFFICIAL_RULES, parseOfficialRules } from './rules/official.js';

export interface Settings {
  /** How long a file's size and mtime must stay unchanged before it is claimed (ms). */
  stabilityMs: number;
  /** How often the inbox is swept besides the watcher's events (ms). */
  sweepIntervalMs: number;
  /**
   * Worker threads processing flows in parallel in the daemon; 0 processes them in the main
   * thread. Two per CPU by default: a flow spends much of its time waiting on fsync, and another
   * thread's flow uses the CPU meanwhile.
   */
  workers: number;
  /** The hub's own EDI partner id (Emetteur of every output), 3 to 8 characters. */
  platformPartnerId: string;
  /** Partner id used for suppliers and recipients that have none of their own. */
  defaultPartnerId: string;
  maxFlowBytes: number;
  /** Mixed flows larger than this are read one invoice at a time (memory follows one invoice). */
  chunkAboveBytes: number;
  /** Helper threads reading the entries of an archive beside the thread running its flow; 0 reads on that thread only. */
  readThreads: number;
  maxAttachmentBytes: number;
  maxInvoiceTotalBytes: number;
  archiveMaxEntries: number;
  archiveMaxEntryBytes: number;
  archiveMaxTotalBytes: number;
  /** Days a finished flow's archived file and ledger rows are kept (`factflow purge`). */
  retentionDays: number;
  /**
   * A daemon worker holding more than this many MB (its XML engine, grown by a huge document:
   * WebAssembly memory never shrinks; and its JavaScript heap) is replaced by a fresh one once
   * its flows are done.
   */
  workerMemoryMb: number;
  /**
   * Days a validator has to decide on an invoice held in a validation circuit, at level 1 and
   * level 2 (src/lifecycle/circuits.ts says what happens after: by default it goes on).
   */
  validationDeadlineDays: number;
  validation2DeadlineDays: number;
  /** Add a readable PDF rendered by the hub to structured invoices that carry none (PJ 02 `PJ00….pdf`). */
  renderPdf: boolean;
  /** Factur-X profiles accepted: comma-separated, `PROFILE<YYYY-MM-DD` for deposits before a date only. */
  facturxProfiles: string;
  /** Caps on a Factur-X PDF: indirect objects, array/dictionary nesting, inflated embedded XML, inflated XMP. */
  pdfMaxObjects: number;
  pdfMaxDepth: number;
  pdfMaxXmlBytes: number;
  pdfMaxXmpBytes: number;
  /**
   * Pivot files (and supplier status files): one per recipient (or supplier) per flow, or one
   * per invoice (per status) for platforms that read only a file's first unit. A partner may
   * override it for the recipients and suppliers it is registered for.
   */
  pivotGrouping: PivotGrouping;
  /** The ledger: `sqlite` (var/factflow.db in the home) or a `postgres://` URL (a database several nodes share). */
  ledger: string;
  /** This node's name among those sharing a PostgreSQL ledger (its spool is var/spool/<node>/). */
  node: string;
  /** A node whose heartbeat is older than this is presumed dead: the others finish its flows (ms). */
  leaseMs: number;
  /** SMTP server partners' e-mails are sent through; `off` (the default) sends none. */
  smtpHost: string;
  smtpPort: number;
  /** TLS from the start (port 465); otherwise STARTTLS when the server offers it. */
  smtpSecure: boolean;
  smtpFrom: string;
  /** SMTP login, `none` for none; the password comes from the environment only (FACTFLOW_SMTP_PASSWORD). */
  smtpUser: string;
  /** How often the daemon looks for notifications to send besides its own (ms). */
  notifyIntervalMs: number;
  /** Retries of a webhook call or an e-mail: the first after this (ms), doubling, at most notifyRetryMaxMs apart. */
  notifyRetryBaseMs: number;
  notifyRetryMaxMs: number;
  /** Attempts before a delivery is given up (failed). */
  notifyMaxAttempts: number;
  /** How long a webhook receiver has to answer (ms). */
  webhookTimeoutMs: number;
  /** How suppliers receive their statuses: CPPStatut, CDAR (flow 6), or both; a partner may override it. */
  statusFormat: StatusFormat;
  /** Where `watch` and `serve` listen for the API and the console: host:port, or `off`. */
  httpListen: string;
  /** Official rule sets per syntax and Factur-X profile: `UBL=EN16931+BR-FR CII=… FX-EN16931=…` (src/rules/official.ts). */
  officialRules: string;
  /** Whether the official rules' fatal failures refuse the invoice (otherwise they are warnings). */
  officialRulesRefuse: boolean;
}

export const PIVOT_GROUPINGS = ['recipient', 'invoice'] as const;
export type PivotGrouping = (typeof PIVOT_GROUPINGS)[number];
export const STATUS_FORMATS = ['cpp', 'cdar', 'both'] as const;
export type StatusFormat = (typeof STATUS_FORMATS)[number];

const MB = 1024 * 1024;

export const DEFAULTS: Settings = {
  stabilityMs: 500,
  sweepIntervalMs: 5000,
  workers: Math.min(8, 2 * os.availableParallelism()),
  platformPartnerId: 'FFL001',
  defaultPartnerId: 'EDI000',
  maxFlowBytes: 512 * MB,
  chunkAboveBytes: 1 * MB,
  readThreads: 1,
  maxAttachmentBytes: 10 * MB,
  maxInvoiceTotalBytes: 120 * MB,
  archiveMaxEntries: 10_000,
  archiveMaxEntryBytes: 50 * MB,
  archiveMaxTotalBytes: 1024 * MB,
  retentionDays: 3650,
  workerMemoryMb: 128,
  renderPdf: true,
  validationDeadlineDays: 15,
  validation2DeadlineDays: 15,
  facturxProfiles: DEFAULT_FACTURX_PROFILES,
  pdfMaxObjects: 50_000,
  pdfMaxDepth: 48,
  pdfMaxXmlBytes: 20 * MB,
  pdfMaxXmpBytes: 1 * MB,
  pivotGrouping: 'recipient',
  ledger: 'sqlite',
  node: os.hostname(),
  leaseMs: 15_000,
  smtpHost: 'off',
  smtpPort: 587,
  smtpSecure: false,
  smtpFrom: 'factflow@localhost',
  smtpUser: 'none',
  notifyIntervalMs: 1000,
  notifyRetryBaseMs: 10_000,
  notifyRetryMaxMs: 3_600_000,
  notifyMaxAttempts: 20,
  webhookTimeoutMs: 10_000,
  statusFormat: 'cpp',
  httpListen: '127.0.0.1:8480',
  officialRules: DEFAULT_OFFICIAL_RULES,
  officialRulesRefuse: true,
};

const ENV_NAMES: Record<keyof Settings, string> = {
  stabilityMs: 'FACTFLOW_STABILITY_MS',
  sweepIntervalMs: 'FACTFLOW_SWEEP_INTERVAL_MS',
  workers: 'FACTFLOW_WORKERS',
  platformPartnerId: 'FACTFLOW_PLATFORM_PARTNER_ID',
  defaultPartnerId: 'FACTFLOW_DEFAULT_PARTNER_ID',
  maxFlowBytes: 'FACTFLOW_MAX_FLOW_BYTES',
  chunkAboveBytes: 'FACTFLOW_CHUNK_ABOVE_BYTES',
  readThreads: 'FACTFLOW_READ_THREADS',
  maxAttachmentBytes: 'FACTFLOW_MAX_ATTACHMENT_BYTES',
  maxInvoiceTotalBytes: 'FACTFLOW_MAX_INVOICE_TOTAL_BYTES',
  archiveMaxEntries: 'FACTFLOW_ARCHIVE_MAX_ENTRIES',
  archiveMaxEntryBytes: 'FACTFLOW_ARCHIVE_MAX_ENTRY_BYTES',
  archiveMaxTotalBytes: 'FACTFLOW_ARCHIVE_MAX_TOTAL_BYTES',
  retentionDays: 'FACTFLOW_RETENTION_DAYS',
  workerMemoryMb: 'FACTFLOW_WORKER_MEMORY_MB',
  renderPdf: 'FACTFLOW_RENDER_PDF',
  validationDeadlineDays: 'FACTFLOW_VALIDATION_DEADLINE_DAYS',
  validation2DeadlineDays: 'FACTFLOW_VALIDATION2_DEADLINE_DAYS',
  facturxProfiles: 'FACTFLOW_FACTURX_PROFILES',
  pdfMaxObjects: 'FACTFLOW_PDF_MAX_OBJECTS',
  pdfMaxDepth: 'FACTFLOW_PDF_MAX_DEPTH',
  pdfMaxXmlBytes: 'FACTFLOW_PDF_MAX_XML_BYTES',
  pdfMaxXmpBytes: 'FACTFLOW_PDF_MAX_XMP_BYTES',
  pivotGrouping: 'FACTFLOW_PIVOT_GROUPING',
  ledger: 'FACTFLOW_LEDGER',
  node: 'FACTFLOW_NODE',
  leaseMs: 'FACTFLOW_LEASE_MS',
  smtpHost: 'FACTFLOW_SMTP_HOST',
  smtpPort: 'FACTFLOW_SMTP_PORT',
  smtpSecure: 'FACTFLOW_SMTP_SECURE',
  smtpFrom: 'FACTFLOW_SMTP_FROM',
  smtpUser: 'FACTFLOW_SMTP_USER',
  notifyIntervalMs: 'FACTFLOW_NOTIFY_INTERVAL_MS',
  notifyRetryBaseMs: 'FACTFLOW_NOTIFY_RETRY_BASE_MS',
  notifyRetryMaxMs: 'FACTFLOW_NOTIFY_RETRY_MAX_MS',
  notifyMaxAttempts: 'FACTFLOW_NOTIFY_MAX_ATTEMPTS',
  webhookTimeoutMs: 'FACTFLOW_WEBHOOK_TIMEOUT_MS',
  statusFormat: 'FACTFLOW_STATUS_FORMAT',
  httpListen: 'FACTFLOW_HTTP_LISTEN',
  officialRules: 'FACTFLOW_OFFICIAL_RULES',
  officialRulesRefuse: 'FACTFLOW_OFFICIAL_RULES_REFUSE',
};

export type Origin = 'default' | 'file' | 'env' | 'flag';

export interface Config {
  home: string;
  settings: Settings;
  origins: Record<keyof Settings, Origin>;
}

export const CONFIG_FILE = 'factflow.config.json';

/** FACTFLOW_* variables that are not settings but are read elsewhere (home folder, log level, SMTP password; the PostgreSQL server of the tests and of the bench). */
export const OTHER_ENV = ['FACTFLOW_HOME', 'FACTFLOW_LOG_LEVEL', 'FACTFLOW_SMTP_PASSWORD', 'FACTFLOW_TEST_PG', 'FACTFLOW_TEST_LEDGER', 'FACTFLOW_BENCH_PG'] as const;

/** A setting that is unknown, of the wrong type, or a config file that cannot be read; names its source. */
export class ConfigError extends Error {}

const KNOWN = Object.keys(DEFAULTS) as (keyof Settings)[];
const isKnown = (key: string): key is keyof Settings => Object.hasOwn(DEFAULTS, key);
const unknownSetting = (key: string, source: string) =>
  new ConfigError(`unknown setting "${key}" (${source}); known settings: ${KNOWN.join(', ')}`);

export function loadConfig(home: string, flags: Partial<Settings> | Record<string, string> = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const settings = { ...DEFAULTS };
  const origins = Object.fromEntries(KNOWN.map((k) => [k, 'default'])) as Record<keyof Settings, Origin>;
  const file = path.join(home, CONFIG_FILE);
  const fromFile = readConfigFile(file);
  checkEnvNames(env);
  for (const key of Object.keys(flags)) if (!isKnown(key)) throw unknownSetting(key, `--set ${key}=…`);
  for (const key of KNOWN) {
    const candidates: [Origin, unknown, string][] = [
      ['file', fromFile[key], file],
      ['env', env[ENV_NAMES[key]], `environment variable ${ENV_NAMES[key]}`],
      ['flag', (flags as Record<string, unknown>)[key], `--set ${key}`],
    ];
    for (const [origin, raw, source] of candidates) {
      if (raw === undefined || (origin !== 'file' && raw === '')) continue;
      (settings as unknown as Record<string, unknown>)[key] = coerce(key, raw, origin, source);
      origins[key] = origin;
    }
  }
  return { home: path.resolve(home), settings, origins };
}

/** The home's config file: a JSON object of known settings; a syntax error names the line and column. */
function readConfigFile(file: string): Record<string, unknown> {
  if (!fs.existsSync(file)) return {};
  const text = fs.readFileSync(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const at = /at position (\d+)/.exec(message);
    const pos = at ? Number(at[1]) : text.length;
    const before = text.slice(0, pos).split('\n');
    throw new ConfigError(`${file}: invalid JSON at line ${before.length}, column ${before.at(-1)!.length + 1} (position ${pos}): ${message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`${file}: expected a JSON object of settings, like {"stabilityMs": 2000}`);
  for (const key of Object.keys(parsed)) if (!isKnown(key)) throw unknownSetting(key, `in ${file}`);
  return parsed as Record<string, unknown>;
}

/** A FACTFLOW_* variable that names no setting is a typo: refused rather than ignored. */
function checkEnvNames(env: NodeJS.ProcessEnv): void {
  const known = new Set<string>([...Object.values(ENV_NAMES), ...OTHER_ENV]);
  const unknown = Object.keys(env).filter((name) => name.startsWith('FACTFLOW_') && !known.has(name));
  if (unknown.length) {
    throw new ConfigError(`unknown environment variable ${unknown.join(', ')}; factflow reads ${[...known].join(', ')}`);
  }
}

/**
 * Numbers are non-negative integers: a JSON number in the file, digits in the environment,
 * either from flags (strings from --set, numbers from code opening a hub); ids are strings.
 */
const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function coerce(key: keyof Settings, raw: unknown, origin: Origin, source: string): string | number | boolean {
  const shown = typeof raw === 'string' ? `"${raw}"` : JSON.stringify(raw);
  if (typeof DEFAULTS[key] === 'string') {
    if (typeof raw !== 'string' || raw === '') throw new ConfigError(`${key} from ${source} must be a non-empty string, got ${shown}`);
    // A bad profile list is refused at start-up, not at the first Factur-X.
    if (key === 'facturxProfiles') parseProfileRules(raw);
    if (key === 'officialRules') {
      try {
        parseOfficialRules(raw);
      } catch (e) {
        throw new ConfigError(`${(e as Error).message} (${source})`);
      }
    }
    if (key === 'pivotGrouping' && !(PIVOT_GROUPINGS as readonly string[]).includes(raw)) throw new ConfigError(`${key} from ${source} must be one of ${PIVOT_GROUPINGS.join(', ')}, got ${shown}`);
    if (key === 'ledger' && raw !== 'sqlite' && !/^postgres(ql)?:\/\//.test(raw)) throw new ConfigError(`${key} from ${source} must be sqlite or a postgres:// URL, got ${shown}`);
    // The name is a folder of the spool and a key of the ledger.
    if (key === 'node' && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(raw)) throw new ConfigError(`${key} from ${source} must be 1 to 63 letters, digits, '.', '_' or '-', got ${shown}`);
    if (key === 'statusFormat' && !(STATUS_FORMATS as readonly string[]).includes(raw)) throw new ConfigError(`${key} from ${source} must be one of ${STATUS_FORMATS.join(', ')}, got ${shown}`);
    if (key === 'httpListen' && raw !== 'off' && !parseListen(raw)) throw new ConfigError(`${key} from ${source} must be host:port (like 127.0.0.1:8480, port 0 for any free one) or off, got ${shown}`);
    return raw;
  }
  if (typeof DEFAULTS[key] === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    const text = origin === 'file' ? '' : String(raw).trim().toLowerCase();
    if (TRUE.has(text)) return true;
    if (FALSE.has(text)) return false;
    throw new ConfigError(`${key} from ${source} must be true or false, got ${shown}`);
  }
  const digits = typeof raw === 'string' && /^\s*\d+\s*$/.test(raw);
  const ok = origin === 'file' ? typeof raw === 'number' : origin === 'env' ? digits : digits || typeof raw === 'number';
  const n = Number(raw);
  if (!ok || !Number.isSafeInteger(n) || n < 0) throw new ConfigError(`${key} from ${source} must be a non-negative whole number, got ${shown}`);
  return n;
}

/** Whether the ledger is a PostgreSQL database (shared by nodes) rather than the home's SQLite file. */
export const isPostgres = (s: Settings): boolean => s.ledger !== 'sqlite';
/** host:port (an IPv6 host in brackets) of the httpListen setting; undefined when it is not one. */
export function parseListen(value: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value.trim());
  if (!m || Number(m[2]) > 65535) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** The folders under a home. */
export interface Layout {
  home: string;
  inbox: string;
  outbox: string;
  archive: string;
  failed: string;
  var: string;
  spool: string;
  /** Where this node's daemon keeps watch.lock and watch.state.json: var/, or var/nodes/<node>/ for a node of several. */
  nodeVar: string;
  log: string;
  db: string;
}

/**
 * `node`: a node sharing the home with others (a PostgreSQL ledger) has its own spool,
 * var/spool/<node>/, and log folder, var/log/<node>/; a home with a SQLite ledger has one
 * node and keeps var/spool/ and var/log/.
 */
export function layoutOf(home: string, node?: string): Layout {
  const abs = path.resolve(home);
  const v = path.join(abs, 'var');
  return {
    home: abs,
    inbox: path.join(abs, 'inbox'),
    outbox: path.join(abs, 'outbox'),
    archive: path.join(abs, 'archive'),
    failed: path.join(abs, 'failed'),
    var: v,
    spool: node ? path.join(v, 'spool', node) : path.join(v, 'spool'),
    nodeVar: node ? path.join(v, 'nodes', node) : v,
    // Nodes sharing a home log apart: one writer per log file.
    log: node ? path.join(v, 'log', node) : path.join(v, 'log'),
    db: path.join(v, 'factflow.db'),
  };
}

export function ensureLayout(l: Layout): void {
  for (const dir of [l.inbox, l.outbox, l.archive, l.failed, l.spool, l.nodeVar, l.log]) fs.mkdirSync(dir, { recursive: true });
  for (const sub of ['recipients', 'suppliers', 'reports']) fs.mkdirSync(path.join(l.outbox, sub), { recursive: true });
}
