/**
 * What every command shares: the global options (--home, --set), opening the home, exit codes,
 * and printing reports the same way everywhere.
 */
import path from 'node:path';
import { Command } from 'commander';
import type { Settings } from '../config.js';
import type { FlowError } from '../errors/catalog.js';
import type { IntegrationReport } from '../emit/report.js';
import { closeHub, openHub, type Hub } from '../hub.js';
import { closeLogger } from '../log.js';

/** 0 success, 2 data errors (something was refused), 3 not found, 1 system error, 64 usage error. */
export const EXIT = { OK: 0, SYSTEM: 1, DATA: 2, NOT_FOUND: 3, USAGE: 64 } as const;

export class UsageError extends Error {}

export function createProgram(): Command {
  return new Command('factflow')
    .description('E-invoicing flow hub for public buyers (Chorus Pro model).')
    .option('--home <dir>', 'home folder (inbox/, outbox/, archive/, failed/, var/); or FACTFLOW_HOME', process.env.FACTFLOW_HOME ?? '.')
    .option('--set <key=value>', 'override a setting for this run, repeatable (see factflow config show), e.g. --set stabilityMs=2000', (v: string, all: string[]) => [...all, v], [] as string[])
    .showHelpAfterError()
    .exitOverride();
}

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

/** Opens the home for one command and closes it (ledger, log) afterwards, whatever happens. */
export async function withHub<T>(program: Command, consoleLog: boolean, fn: (hub: Hub) => T | Promise<T>): Promise<T> {
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
  for (const e of report.errors) console.log(`  ${e.code}: ${e.message}${where(e)}`);
  for (const u of units) for (const e of u.errors) console.log(`  ${[u.label, u.number].filter(Boolean).join(' ')}: ${e.code}: ${e.message}${where(e)}`);
}

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

/** Dates for --since/--until: YYYY-MM-DD, an ISO time, or a duration back from now (7d, 12h). */
export function parseWhen(value: string): string {
  const m = /^(\d+)([dhm])$/.exec(value);
  if (m) {
    const ms = Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as 'd' | 'h' | 'm'];
    return new Date(Date.now() - ms).toISOString();
  }
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new UsageError(`"${value}" is not a date (2026-11-01), a time, or a duration (7d, 12h)`);
  return d.toISOString();
}
