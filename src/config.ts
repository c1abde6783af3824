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
  /** Official rule sets per syntax and Factur-X profile: `UBL=EN16931+BR-FR CII=… FX-EN16931=…` (src/rules/official.ts). */
  officialRules: string;
  /** Whether the official rules' fatal failures refuse the invoice (otherwise they are warnings). */
  officialRulesRefuse: boolean;
}

export const PIVOT_GROUPINGS = ['recipient', 'invoice'] as const;
export type PivotGrouping = (typeof PIVOT_GROUPINGS)[number];

const MB = 1024 * 1024;

export const DEFAULTS: Settings = {
  stabilityMs: 500,
  sweepIntervalMs: 5000,
  workers: Math.min(8, 2 * os.availableParallelism()),
  platformPartnerId: 'FFL001',
  defaultPartnerId: 'EDI000',
  maxFlowBytes: 512 * MB,
  chunkAboveBytes: 32 * MB,
  readThreads: 1,
  maxAttachmentBytes: 10 * MB,
  maxInvoiceTotalBytes: 120 * MB,
  archiveMaxEntries: 10_000,
  archiveMaxEntryBytes: 50 * MB,
  archiveMaxTotalBytes: 1024 * MB,
  retentionDays: 3650,
  workerMemoryMb: 128,
  renderPdf: true,
  facturxProfiles: DEFAULT_FACTURX_PROFILES,
  pdfMaxObjects: 50_000,
  pdfMaxDepth: 48,
  pdfMaxXmlBytes: 20 * MB,
  pdfMaxXmpBytes: 1 * MB,
  pivotGrouping: 'recipient',
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
  facturxProfiles: 'FACTFLOW_FACTURX_PROFILES',
  pdfMaxObjects: 'FACTFLOW_PDF_MAX_OBJECTS',
  pdfMaxDepth: 'FACTFLOW_PDF_MAX_DEPTH',
  pdfMaxXmlBytes: 'FACTFLOW_PDF_MAX_XML_BYTES',
  pdfMaxXmpBytes: 'FACTFLOW_PDF_MAX_XMP_BYTES',
  pivotGrouping: 'FACTFLOW_PIVOT_GROUPING',
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

/** FACTFLOW_* variables that are not settings but are read elsewhere (home folder, log level). */
export const OTHER_ENV = ['FACTFLOW_HOME', 'FACTFLOW_LOG_LEVEL'] as const;

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

/** The folders under a home. */
export interface Layout {
  home: string;
  inbox: string;
  outbox: string;
  archive: string;
  failed: string;
  var: string;
  spool: string;
  log: string;
  db: string;
}

export function layoutOf(home: string): Layout {
  const abs = path.resolve(home);
  const v = path.join(abs, 'var');
  return {
    home: abs,
    inbox: path.join(abs, 'inbox'),
    outbox: path.join(abs, 'outbox'),
    archive: path.join(abs, 'archive'),
    failed: path.join(abs, 'failed'),
    var: v,
    spool: path.join(v, 'spool'),
    log: path.join(v, 'log'),
    db: path.join(v, 'factflow.db'),
  };
}

export function ensureLayout(l: Layout): void {
  for (const dir of [l.inbox, l.outbox, l.archive, l.failed, l.spool, l.log]) fs.mkdirSync(dir, { recursive: true });
  for (const sub of ['recipients', 'suppliers', 'reports']) fs.mkdirSync(path.join(l.outbox, sub), { recursive: true });
}
