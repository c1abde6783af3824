/**
 * Configuration: embedded defaults, overridden by `factflow.config.json` in the home,
 * overridden by environment variables, overridden by command-line flags. Every value
 * remembers where it came from (`factflow config show`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_FACTURX_PROFILES, parseProfileRules } from './formats/facturxProfiles.js';

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
  /** Add a readable PDF rendered by the hub to structured invoices that carry none (PJ 02 `PJ00….pdf`). */
  renderPdf: boolean;
  /** Factur-X profiles accepted: comma-separated, `PROFILE<YYYY-MM-DD` for deposits before a date only. */
  facturxProfiles: string;
  /** Caps on a Factur-X PDF: indirect objects, array/dictionary nesting, inflated embedded XML, inflated XMP. */
  pdfMaxObjects: number;
  pdfMaxDepth: number;
  pdfMaxXmlBytes: number;
  pdfMaxXmpBytes: number;
}

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
  renderPdf: true,
  facturxProfiles: DEFAULT_FACTURX_PROFILES,
  pdfMaxObjects: 50_000,
  pdfMaxDepth: 48,
  pdfMaxXmlBytes: 20 * MB,
  pdfMaxXmpBytes: 1 * MB,
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
  renderPdf: 'FACTFLOW_RENDER_PDF',
  facturxProfiles: 'FACTFLOW_FACTURX_PROFILES',
  pdfMaxObjects: 'FACTFLOW_PDF_MAX_OBJECTS',
  pdfMaxDepth: 'FACTFLOW_PDF_MAX_DEPTH',
  pdfMaxXmlBytes: 'FACTFLOW_PDF_MAX_XML_BYTES',
  pdfMaxXmpBytes: 'FACTFLOW_PDF_MAX_XMP_BYTES',
};

export type Origin = 'default' | 'file' | 'env' | 'flag';

export interface Config {
  home: string;
  settings: Settings;
  origins: Record<keyof Settings, Origin>;
}

export const CONFIG_FILE = 'factflow.config.json';

export function loadConfig(home: string, flags: Partial<Settings> = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const settings = { ...DEFAULTS };
  const origins = Object.fromEntries(Object.keys(DEFAULTS).map((k) => [k, 'default'])) as Record<keyof Settings, Origin>;
  const file = path.join(home, CONFIG_FILE);
  const fromFile: Record<string, unknown> = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  for (const key of Object.keys(DEFAULTS) as (keyof Settings)[]) {
    const candidates: [Origin, unknown][] = [
      ['file', fromFile[key]],
      ['env', env[ENV_NAMES[key]]],
      ['flag', flags[key]],
    ];
    for (const [origin, raw] of candidates) {
      if (raw === undefined || raw === '') continue;
      (settings as unknown as Record<string, unknown>)[key] = coerce(key, raw, origin);
      origins[key] = origin;
    }
  }
  return { home: path.resolve(home), settings, origins };
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function coerce(key: keyof Settings, raw: unknown, origin: Origin): string | number | boolean {
  // A bad profile list is refused at start-up, not at the first Factur-X.
  if (key === 'facturxProfiles') return parseProfileRules(String(raw)) && String(raw);
  if (typeof DEFAULTS[key] === 'string') return String(raw);
  if (typeof DEFAULTS[key] === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    const text = String(raw).trim().toLowerCase();
    if (TRUE.has(text)) return true;
    if (FALSE.has(text)) return false;
    throw new Error(`${key} from ${origin} must be true or false, got "${String(raw)}".`);
  }
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${key} from ${origin} must be a non-negative number, got "${String(raw)}".`);
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
