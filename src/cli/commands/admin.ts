/** Running the hub day to day: statistics, health checks, configuration, retention. */
import type { Command } from 'commander';
import { doctor, purge, purgeable, purgeNotifications, type Check } from '../../app/maintenance.js';
import { checkHome, durationOption, EXIT, homeOf, parseWhen, UsageError, withHub } from '../context.js';
import { printTable } from '../table.js';

export function registerAdmin(program: Command): void {
  program
    .command('stats')
    .description('Flows by state, invoices by status, rejection codes by count.')
    .option('--since <when>', 'only flows received at or after: 2026-11-01 or a duration back (30d)')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExample:\n  factflow stats --since 7d')
    .action(async (opts: { since?: string; json?: boolean }) => {
      await withHub(program, false, async (hub) => {
        const s = await hub.ledger.flows.stats(opts.since ? parseWhen(opts.since) : undefined);
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
      process.exitCode = await withHub(program, false, async (hub) => {
        const checks = await doctor(hub);
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
        // A ledger URL's password is not printed.
        const shown = <T,>(key: string, value: T): T => (key === 'ledger' && typeof value === 'string' ? (value.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@") as T) : value);
        const entries = Object.entries(hub.settings).map(([key, value]) => ({ key, value: shown(key, value), from: hub.config.origins[key as keyof typeof hub.settings] }));
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
      await withHub(program, false, async (hub) => {
        const cutoff = new Date(Date.now() - (olderThanMs ?? hub.settings.retentionDays * 86_400_000)).toISOString();
        const flows = await purgeable(hub, cutoff);
        const files = opts.dryRun ? 0 : await purge(hub, flows);
        const events = opts.dryRun ? 0 : await purgeNotifications(hub, cutoff);
        if (!opts.dryRun) hub.log.info(`purged ${flows.length} flow(s) finished before ${cutoff}, ${files} file(s), ${events} notification event(s)`);
        const listed = flows.map((f) => ({ id: f.id, file: f.file_name, doneAt: f.done_at }));
        if (opts.json) return console.log(JSON.stringify({ cutoff, dryRun: !!opts.dryRun, flows: listed, files, notificationEvents: events }, null, 2));
        if (opts.dryRun && listed.length) printTable(['FLOW', 'FILE', 'DONE'], listed.map((f) => [f.id, f.file, f.doneAt]));
        console.log(`${opts.dryRun ? 'Would purge' : 'Purged'} ${flows.length} flow(s) finished before ${cutoff}${opts.dryRun ? ' (nothing was changed: --dry-run)' : ` and ${files} archived file(s)`}.`);
      }, 'existing');
    });
}
