/** Running the hub day to day: statistics, health checks, configuration, retention. */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { processAlive } from '../../emit/atomic.js';
import type { Hub } from '../../hub.js';
import { SCHEMA_VERSION } from '../../ledger/db.js';
import { sql, type FlowRow } from '../../ledger/flows.js';
import { checkHome, durationOption, EXIT, homeOf, parseWhen, UsageError, withHub } from '../context.js';
import { printTable } from '../table.js';

type Verdict = 'ok' | 'warn' | 'FAIL';
interface Check {
  check: string;
  result: Verdict;
  detail: string;
}

function doctor(hub: Hub): Check[] {
  const checks: Check[] = [];
  const add = (check: string, result: Verdict, detail: string) => checks.push({ check, result, detail });
  const l = hub.layout;
  for (const [name, dir] of Object.entries({ inbox: l.inbox, outbox: l.outbox, archive: l.archive, failed: l.failed, spool: l.spool, log: l.log })) {
    try {
      fs.accessSync(dir, fs.constants.W_OK);
      add(`folder ${name}`, 'ok', dir);
    } catch {
      add(`folder ${name}`, 'FAIL', `${dir} is missing or not writable: fix its permissions`);
    }
  }
  const disk = fs.statfsSync(l.home);
  const free = disk.bavail * disk.bsize;
  const freeText = `${(free / 1024 ** 3).toFixed(1)} GiB free`;
  add('free disk', free < 256 * 1024 ** 2 ? 'FAIL' : free < 2 * 1024 ** 3 ? 'warn' : 'ok', free < 2 * 1024 ** 3 ? `${freeText}: flows stay in the spool when writes fail; free some space` : freeText);
  const integrity = String(hub.db.pragma('integrity_check', { simple: true }));
  add('ledger integrity', integrity === 'ok' ? 'ok' : 'FAIL', integrity === 'ok' ? l.db : `${integrity}: restore var/factflow.db from a backup`);
  const version = hub.db.pragma('user_version', { simple: true }) as number;
  add('ledger schema', version === SCHEMA_VERSION ? 'ok' : 'FAIL', `version ${version} (this factflow: ${SCHEMA_VERSION})`);
  add('ledger journal', 'ok', `${String(hub.db.pragma('journal_mode', { simple: true }))}, synchronous=${String(hub.db.pragma('synchronous', { simple: true }))} (2 = FULL)`);
  const structures = (sql(hub.db, 'SELECT count(*) n FROM structures').get() as { n: number }).n;
  const lastImport = sql(hub.db, 'SELECT at FROM directory_imports ORDER BY id DESC LIMIT 1').get() as { at: string } | undefined;
  add('directory', structures ? 'ok' : 'FAIL', structures ? `${structures} structures, imported ${lastImport?.at}` : 'empty: every invoice will be refused; run factflow directory import');
  const stuck = sql(hub.db, "SELECT count(*) n FROM flows WHERE stage <> 'DONE'").get() as { n: number };
  const faulty = sql(hub.db, "SELECT count(*) n FROM flows WHERE stage <> 'DONE' AND last_error IS NOT NULL").get() as { n: number };
  add('unfinished flows', faulty.n ? 'warn' : 'ok', faulty.n ? `${faulty.n} kept in the spool after a system fault (see factflow flows list --state CLAIMED)` : `${stuck.n} in progress`);
  const known = new Set((sql(hub.db, "SELECT spool_path FROM flows WHERE stage <> 'DONE'").all() as { spool_path: string }[]).map((r) => path.basename(r.spool_path)));
  const orphans = fs.readdirSync(l.spool).filter((f) => !known.has(f) && !f.endsWith('.copying'));
  add('spool', orphans.length ? 'warn' : 'ok', orphans.length ? `${orphans.length} file(s) the ledger does not know: ${orphans.slice(0, 3).join(', ')}` : 'consistent with the ledger');
  const lock = path.join(l.var, 'watch.lock');
  const pid = fs.existsSync(lock) ? Number(fs.readFileSync(lock, 'utf8')) : 0;
  add('daemon', 'ok', pid && processAlive(pid) ? `running (pid ${pid})` : 'not running (start it with npm start or factflow watch)');
  return checks;
}

function stats(hub: Hub, since: string | null) {
  const flows = sql(hub.db, "SELECT coalesce(state, stage) AS state, count(*) AS n FROM flows WHERE coalesce(kind, '') <> 'cli' AND (@since IS NULL OR received_at >= @since) GROUP BY 1 ORDER BY 2 DESC").all({ since });
  const invoices = sql(hub.db, "SELECT CASE WHEN i.accepted THEN i.status ELSE 'REJECTED' END AS status, count(*) AS n FROM invoices i JOIN flows f ON f.id = i.flow_id WHERE i.role = 'invoice' AND (@since IS NULL OR f.received_at >= @since) GROUP BY 1 ORDER BY 2 DESC").all({ since });
  const codes = sql(hub.db, `SELECT code, count(*) AS n FROM (
      SELECT json_extract(e.value, '$.code') AS code FROM flows f, json_each(f.errors) e WHERE (@since IS NULL OR f.received_at >= @since)
      UNION ALL SELECT json_extract(e.value, '$.code') FROM invoices i JOIN flows f ON f.id = i.flow_id, json_each(i.errors) e WHERE (@since IS NULL OR f.received_at >= @since)
      UNION ALL SELECT json_extract(e.value, '$.code') FROM status_updates s JOIN flows f ON f.id = s.flow_id, json_each(s.errors) e WHERE (@since IS NULL OR f.received_at >= @since)
    ) GROUP BY code ORDER BY n DESC, code`).all({ since });
  return { flows, invoices, rejectionCodes: codes };
}

/** Finished flows older than the cutoff whose rows nothing kept depends on (events, recycling links). */
function purgeable(hub: Hub, cutoff: string): FlowRow[] {
  const candidates = new Map((sql(hub.db, "SELECT * FROM flows WHERE stage = 'DONE' AND done_at < ?").all(cutoff) as FlowRow[]).map((f) => [f.id, f]));
  const links = sql(hub.db, `SELECT i.flow_id AS invoiceFlow, e.source_flow AS eventFlow FROM invoice_events e JOIN invoices i ON i.id = e.invoice_id
      UNION SELECT o.flow_id, n.flow_id FROM invoices n JOIN invoices o ON o.id = n.origin_invoice_id`).all() as { invoiceFlow: string; eventFlow: string }[];
  for (let changed = true; changed; ) {
    changed = false;
    for (const { invoiceFlow, eventFlow } of links) {
      if (candidates.has(invoiceFlow) !== candidates.has(eventFlow)) {
        changed = candidates.delete(invoiceFlow) || candidates.delete(eventFlow) || changed;
      }
    }
  }
  return [...candidates.values()];
}

function purge(hub: Hub, flows: FlowRow[]): number {
  let files = 0;
  hub.write(() => {
    for (const f of flows) {
      sql(hub.db, 'DELETE FROM invoice_events WHERE source_flow = ? OR invoice_id IN (SELECT id FROM invoices WHERE flow_id = ?)').run(f.id, f.id);
      for (const table of ['status_updates', 'outputs', 'replays']) sql(hub.db, `DELETE FROM ${table} WHERE flow_id = ?`).run(f.id);
      sql(hub.db, 'UPDATE invoices SET origin_invoice_id = NULL WHERE flow_id = ?').run(f.id);
      sql(hub.db, 'DELETE FROM invoices WHERE flow_id = ?').run(f.id);
      sql(hub.db, 'UPDATE flows SET duplicate_of = NULL WHERE duplicate_of = ?').run(f.id);
      sql(hub.db, 'DELETE FROM flows WHERE id = ?').run(f.id);
    }
  });
  // Files go after the rows: a crash between leaves files without rows, never rows without files.
  for (const f of flows) {
    for (const p of [f.final_path, `${f.final_path}.report.json`, `${f.final_path}.report.xml`]) {
      if (p && fs.existsSync(p)) {
        fs.rmSync(p);
        files++;
      }
    }
  }
  return files;
}

export function registerAdmin(program: Command): void {
  program
    .command('stats')
    .description('Flows by state, invoices by status, rejection codes by count.')
    .option('--since <when>', 'only flows received at or after: 2026-11-01 or a duration back (30d)')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExample:\n  factflow stats --since 7d')
    .action(async (opts: { since?: string; json?: boolean }) => {
      await withHub(program, false, (hub) => {
        const s = stats(hub, opts.since ? parseWhen(opts.since) : null);
        if (opts.json) return console.log(JSON.stringify(s, null, 2));
        const rows = (list: unknown[], key: string) => (list as Record<string, string | number>[]).map((r) => [r[key], r.n]);
        printTable(['FLOW STATE', 'FLOWS'], rows(s.flows, 'state'));
        console.log();
        printTable(['INVOICE STATUS', 'INVOICES'], rows(s.invoices, 'status'));
        console.log();
        printTable(['ERROR CODE', 'COUNT'], rows(s.rejectionCodes, 'code'));
      }, 'read');
    });

  program
    .command('doctor')
    .description('Check the home: folders and permissions, free disk, ledger integrity and schema version, directory, spool, daemon.')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExample:\n  factflow --home /srv/factflow doctor')
    .action(async (opts: { json?: boolean }) => {
      // A missing or uninitialised home is the doctor's first finding, not a usage error.
      try {
        checkHome(homeOf(program), 'read');
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        const checks: Check[] = [{ check: 'home', result: 'FAIL', detail: e.message }];
        if (opts.json) console.log(JSON.stringify(checks, null, 2));
        else printTable(['CHECK', 'RESULT', 'DETAIL'], checks.map((c) => [c.check, c.result, c.detail]));
        process.exitCode = EXIT.SYSTEM;
        return;
      }
      process.exitCode = await withHub(program, false, (hub) => {
        const checks = doctor(hub);
        if (opts.json) console.log(JSON.stringify(checks, null, 2));
        else printTable(['CHECK', 'RESULT', 'DETAIL'], checks.map((c) => [c.check, c.result, c.detail]));
        return checks.some((c) => c.result === 'FAIL') ? EXIT.SYSTEM : EXIT.OK;
      }, 'read');
    });

  program
    .command('config')
    .description('Configuration.')
    .command('show')
    .description('The effective settings and where each comes from (default, factflow.config.json, environment, --set).')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExample:\n  FACTFLOW_STABILITY_MS=2000 factflow config show')
    .action(async (opts: { json?: boolean }) => {
      await withHub(program, false, (hub) => {
        const entries = Object.entries(hub.settings).map(([key, value]) => ({ key, value, from: hub.config.origins[key as keyof typeof hub.settings] }));
        if (opts.json) console.log(JSON.stringify({ home: hub.config.home, settings: entries }, null, 2));
        else {
          console.log(`home: ${hub.config.home}`);
          printTable(['SETTING', 'VALUE', 'FROM'], entries.map((e) => [e.key, e.value, e.from]));
        }
      }, 'read');
    });

  program
    .command('purge')
    .description('Remove finished flows past retention: their archived files and ledger rows. Unfinished flows are never purged.')
    .option('--older-than <duration>', 'finished more than this long ago: 30m, 12h, 90d, 10y (default: the retentionDays setting)')
    .option('--dry-run', 'list the flows that would be removed (id, file, done date), change nothing')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExample:\n  factflow purge --older-than 10y --dry-run')
    .action(async (opts: { olderThan?: string; dryRun?: boolean; json?: boolean }) => {
      const olderThanMs = opts.olderThan === undefined ? undefined : durationOption('--older-than', opts.olderThan);
      await withHub(program, false, (hub) => {
        const cutoff = new Date(Date.now() - (olderThanMs ?? hub.settings.retentionDays * 86_400_000)).toISOString();
        const flows = purgeable(hub, cutoff);
        const files = opts.dryRun ? 0 : purge(hub, flows);
        if (!opts.dryRun) hub.log.info(`purged ${flows.length} flow(s) finished before ${cutoff}, ${files} file(s)`);
        const listed = flows.map((f) => ({ id: f.id, file: f.file_name, doneAt: f.done_at }));
        if (opts.json) return console.log(JSON.stringify({ cutoff, dryRun: !!opts.dryRun, flows: listed, files }, null, 2));
        if (opts.dryRun && listed.length) printTable(['FLOW', 'FILE', 'DONE'], listed.map((f) => [f.id, f.file, f.doneAt]));
        console.log(`${opts.dryRun ? 'Would purge' : 'Purged'} ${flows.length} flow(s) finished before ${cutoff}${opts.dryRun ? ' (nothing was changed: --dry-run)' : ` and ${files} archived file(s)`}.`);
      }, 'existing');
    });
}
