/**
 * What every command shares: the global options (--home, --set), opening the home, exit codes,
 * and printing reports the same way everywhere.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { isPostgres, layoutOf, loadConfig, type Settings } from '../config.js';
import { flowError, ruleOf, type FlowError } from '../errors/catalog.js';
import type { IntegrationReport } from '../emit/report.js';
import { closeHub, openHub, type Hub } from '../hub.js';
import { closeLogger } from '../log.js';

/** 0 success, 1 system error, 2 data errors (something was refused), 3 not found, 64 usage error. */
export const EXIT = { OK: 0, SYSTEM: 1, DATA: 2, NOT_FOUND: 3, USAGE: 64 } as const;

/** Shown at the end of every command's --help: one contract for all commands. */
export const EXIT_CODES_HELP = `
Exit codes:
  0   success
  1   system error (disk, permissions, a failed doctor check)
  2   data error: a flow, an invoice, an update or an import was refused
  3   not found: the flow, invoice, structure, partner or file named does not exist
  64  usage error: unknown command or option, bad option value, unknown setting,
      bad factflow.config.json, or a home that does not exist`;

export class UsageError extends Error {}
/** Something named on the command line does not exist (exit 3). */
export class NotFoundError extends Error {}

/** The version in package.json, two folders above dist/cli/. */
export function packageVersion(): string {
  const file = new URL('../../package.json', import.meta.url);
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

export function createProgram(): Command {
  return new Command('factflow')
    .description('E-invoicing flow hub for public buyers (Chorus Pro model).')
    .version(packageVersion(), '-V, --version', 'print the factflow version')
    .option('--home <dir>', 'home folder (inbox/, outbox/, archive/, failed/, var/); or FACTFLOW_HOME', process.env.FACTFLOW_HOME ?? '.')
    .option('--set <key=value>', 'override a setting for this run, repeatable (see factflow config show), e.g. --set stabilityMs=2000', (v: string, all: string[]) => [...all, v], [] as string[])
    .showHelpAfterError()
    .addHelpText('afterAll', EXIT_CODES_HELP)
    .exitOverride();
}

/** Raw --set pairs (strings, typed as settings for openHub); config.ts refuses unknown keys and converts the values. */
export function flagSettings(program: Command): Partial<Settings> {
  const pairs = program.opts<{ set?: string[] }>().set ?? [];
  return Object.fromEntries(
    pairs.map((p) => {
      const eq = p.indexOf('=');
      if (eq < 1) throw new UsageError(`--set takes key=value, got "${p}"`);
      return [p.slice(0, eq), p.slice(eq + 1)];
    }),
  ) as Partial<Settings>;
}

export const homeOf = (program: Command) => path.resolve(program.opts<{ home: string }>().home);

/**
 * What a command may do to its home: `create` it (watch, process, init); use an `existing`
 * folder, completing its layout (commands that write: import, partners, lifecycle, replay,
 * purge); or only `read` an initialised home (a ledger present), creating nothing, so a typo in
 * --home fails instead of creating a new empty home.
 */
export type HomeMode = 'create' | 'existing' | 'read';

export function checkHome(home: string, mode: HomeMode, flags: Partial<Settings> = {}): void {
  if (mode === 'create') return;
  const hint = `check --home / FACTFLOW_HOME, or create it with: factflow --home ${JSON.stringify(home)} init`;
  if (!fs.existsSync(home)) throw new UsageError(`the home ${home} does not exist; ${hint}`);
  if (!fs.statSync(home).isDirectory()) throw new UsageError(`the home ${home} is not a folder; ${hint}`);
  if (mode !== 'read') return;
  // A home whose ledger is a PostgreSQL database has no ledger file: its var/ says it was opened.
  const shared = isPostgres(loadConfig(home, flags).settings);
  const mark = shared ? layoutOf(home).var : layoutOf(home).db;
  if (!fs.existsSync(mark)) throw new UsageError(`${home} is not a factflow home (no ${shared ? 'var/' : 'var/factflow.db'}); ${hint}`);
}

/** Opens the home for one command and closes it (ledger, log) afterwards, whatever happens. */
export async function withHub<T>(program: Command, consoleLog: boolean, fn: (hub: Hub) => T | Promise<T>, mode: HomeMode = 'read'): Promise<T> {
  checkHome(homeOf(program), mode, flagSettings(program));
  const hub = openHub(homeOf(program), { console: consoleLog, flags: flagSettings(program) });
  try {
    return await fn(hub);
  } finally {
    await closeHub(hub);
    await closeLogger(hub.log);
  }
}

export function printReport(report: IntegrationReport, file: string): void {
  const units = report.statusUpdates ?? report.invoices;
  const accepted = units.filter((i) => i.status === 'ACCEPTED').length;
  const what = report.statusUpdates ? 'status updates applied' : 'invoices integrated';
  console.log(`${report.flowId}  ${report.state} (${report.statusCode})  ${file}: ${accepted}/${units.length} ${what}`);
  for (const e of report.errors) console.log(`  ${codeOf(e)}: ${e.message}${where(e)}`);
  for (const u of units) for (const e of u.errors) console.log(`  ${[u.label, u.number].filter(Boolean).join(' ')}: ${codeOf(e)}: ${e.message}${where(e)}`);
}

/** An error's code as printed: with its official rule id when it has one, e.g. `CODE [BR-CO-10]`. */
export const codeOf = (e: FlowError): string => {
  const rule = ruleOf(e);
  return rule ? `${e.code} [${rule}]` : e.code;
};

export const where = (e: FlowError) => (e.line ? ` (line ${e.line}${e.column ? `, column ${e.column}` : ''})` : '');

export function printRefusal(errors: FlowError[]): number {
  for (const e of errors) console.error(`refused: ${e.code}: ${e.message}`);
  console.error('Nothing was changed.');
  return EXIT.DATA;
}

/** A progress bar on stderr, only when it is a terminal. */
export function progress(total: number, label: string): { tick(): void; set(n: number, of?: number): void; done(): void } {
  const tty = process.stderr.isTTY && total > 1;
  let n = 0;
  const draw = () => {
    const width = 30;
    const filled = Math.round((n / total) * width);
    process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${n}/${total}`);
  };
  return {
    tick() {
      n++;
      if (tty) draw();
    },
    set(value: number, of?: number) {
      n = value;
      if (of) total = of;
      if (tty) draw();
    },
    done() {
      if (tty && n) process.stderr.write('\n');
    },
  };
}

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, y: 365 * 86_400_000 } as const;
const DURATION_HELP = 'a duration like 30m, 12h, 7d or 10y';

/** A duration (30m, 12h, 7d, 10y) in milliseconds; undefined when the text is not one. */
export function parseDuration(value: string): number | undefined {
  const m = /^(\d+)\s*([mhdy])$/i.exec(value.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]!.toLowerCase() as keyof typeof UNIT_MS] : undefined;
}

/** --older-than and the like: a duration, required. */
export function durationOption(option: string, value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new UsageError(`${option} takes ${DURATION_HELP} (got "${value}")`);
  return ms;
}

/** Dates for --since/--until: YYYY-MM-DD, an ISO time, or a duration back from now (7d, 12h). */
export function parseWhen(value: string): string {
  const ms = parseDuration(value);
  if (ms !== undefined) return new Date(Date.now() - ms).toISOString();
  const d = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(NaN);
  if (Number.isNaN(d.getTime())) throw new UsageError(`"${value}" is not a date (2026-11-01), an ISO time, or ${DURATION_HELP}`);
  return d.toISOString();
}

/**
 * One enumerated option value, matched case-insensitively; returns the canonical spelling.
 * `aliases` maps other accepted spellings (a status code for its name) to a canonical value.
 */
export function choice<T extends string>(option: string, value: string, accepted: readonly T[], aliases: Record<string, T> = {}, note = ''): T {
  const wanted = value.trim().toUpperCase();
  const hit = accepted.find((a) => a.toUpperCase() === wanted) ?? aliases[wanted] ?? aliases[value.trim()];
  if (hit === undefined) throw new UsageError(`${option} "${value}" is not one of: ${accepted.join(', ')}${note}`);
  return hit;
}

/** A whole number option (--limit, --offset), at least `min`. */
export function countOption(option: string, value: string, min = 0): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min) throw new UsageError(`${option} takes a whole number${min ? ` of at least ${min}` : ''} (got "${value}")`);
  return Number(value);
}

/** Files named on the command line must exist: a missing one is "not found" (exit 3), not a crash. */
export function existingFiles(files: string[]): string[] {
  const missing = files.flatMap((file) => {
    try {
      fs.accessSync(file, fs.constants.R_OK);
      // A folder is not a flow: said like a missing file, before any other file is read.
      if (fs.statSync(file).isDirectory()) throw Object.assign(new Error('a folder'), { code: 'EISDIR' });
      return [];
    } catch (e) {
      const err = flowError('INPUT_NOT_FOUND', { file, detail: (e as NodeJS.ErrnoException).code ?? String(e) });
      return [`${err.code}: ${err.message}`];
    }
  });
  if (missing.length) throw new NotFoundError(missing.join('\nfactflow: '));
  return files.map((f) => path.resolve(f));
}
