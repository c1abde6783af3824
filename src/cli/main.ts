#!/usr/bin/env node
/**
 * factflow's command line. Exit codes: 0 success, 2 data errors (a flow or an update was
 * refused), 1 system error, 64 usage error.
 */
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { closeHub, openHub, type Hub } from '../hub.js';
import { closeLogger } from '../log.js';
import { startDaemon } from '../ingest/watcher.js';
import { processFile } from '../pipeline/pipeline.js';
import { buildReport } from '../pipeline/deliver.js';
import { DirectoryImportError, importDirectory } from '../route/directoryImport.js';
import { sql, type FlowRow } from '../ledger/flows.js';
import { printTable } from './table.js';
import { previewReport } from '../pipeline/preview.js';
import type { IntegrationReport } from '../emit/report.js';

export const EXIT = { OK: 0, SYSTEM: 1, DATA: 2, USAGE: 64 } as const;

const program = new Command('factflow')
  .description('E-invoicing flow hub for public buyers (Chorus Pro model).')
  .option('--home <dir>', 'home folder (inbox/, outbox/, archive/, failed/, var/)', process.env.FACTFLOW_HOME ?? '.')
  .showHelpAfterError()
  .exitOverride();

const home = () => path.resolve(program.opts<{ home: string }>().home);

async function withHub<T>(consoleLog: boolean, fn: (hub: Hub) => T | Promise<T>): Promise<T> {
  const hub = openHub(home(), { console: consoleLog });
  try {
    return await fn(hub);
  } finally {
    closeHub(hub);
    await closeLogger(hub.log);
  }
}

program
  .command('watch')
  .description('Run the hub: watch inbox/ and process every flow dropped there (what `npm start` runs).')
  .addHelpText('after', '\nExample:\n  factflow --home /srv/factflow watch')
  .action(async () => {
    const hub = openHub(home(), { console: true });
    const daemon = await startDaemon(hub);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await daemon.stop();
    closeHub(hub);
    await closeLogger(hub.log);
  });

program
  .command('process')
  .description('Process flows once, through the same pipeline as the daemon, and print their outcome.')
  .argument('<file...>', 'flow files; files outside inbox/ are copied, files inside it are moved')
  .option('--json', 'print the integration reports as JSON')
  .addHelpText('after', '\nExample:\n  factflow process fixtures/mixed/three-recipients.xml')
  .action(async (files: string[], opts: { json?: boolean }) => {
    const code = await withHub(!opts.json, (hub) => {
      let worst: number = EXIT.OK;
      const reports = [];
      for (const file of files) {
        const abs = path.resolve(file);
        const inInbox = abs.startsWith(hub.layout.inbox + path.sep);
        const flow = processFile(hub, abs, { copy: !inInbox });
        if (!flow) continue;
        const report = buildReport(hub, flow.id);
        reports.push(report);
        if (flow.state !== 'IN_INTEGRE') worst = EXIT.DATA;
        if (!opts.json) printReport(report, file);
      }
      if (opts.json) console.log(JSON.stringify(reports, null, 2));
      return worst;
    });
    process.exitCode = code;
  });

program
  .command('validate')
  .description('Check a flow as processing would (schema, rules, routing, duplicates) without changing anything; print the report.')
  .argument('<file>', 'the flow to check; it is left where it is')
  .option('--json', 'print the report as JSON (same shape as outbox/reports/*.json)')
  .addHelpText('after', '\nExample:\n  factflow validate --json fixtures/ubl/invoice-commune.xml')
  .action(async (file: string, opts: { json?: boolean }) => {
    process.exitCode = await withHub(false, (hub) => {
      const report = previewReport(hub, path.resolve(file));
      if (opts.json) console.log(JSON.stringify(report, null, 2));
      else printReport(report, file);
      return report.state === 'IN_INTEGRE' ? EXIT.OK : EXIT.DATA;
    });
  });

function printReport(report: IntegrationReport, file: string): void {
  const units = report.statusUpdates ?? report.invoices;
  const accepted = units.filter((i) => i.status === 'ACCEPTED').length;
  const what = report.statusUpdates ? 'status updates applied' : 'invoices integrated';
  console.log(`${report.flowId}  ${report.state} (${report.statusCode})  ${file}: ${accepted}/${units.length} ${what}`);
  for (const e of report.errors) console.log(`  ${e.code}: ${e.message}${e.line ? ` (line ${e.line})` : ''}`);
  for (const u of units) for (const e of u.errors) console.log(`  ${[u.label, u.number].filter(Boolean).join(' ')}: ${e.code}: ${e.message}`);
}

const directory = program.command('directory').description('The directory of public structures.');
directory
  .command('import')
  .description('Replace the directory with a structures export (and optionally a services export).')
  .requiredOption('--structures <csv>', 'structures export (semicolon-separated, UTF-8 or ISO-8859-1)')
  .option('--services <csv>', 'services export')
  .addHelpText('after', '\nExample:\n  factflow directory import --structures fixtures/directory/structures.csv --services fixtures/directory/services.csv')
  .action(async (opts: { structures: string; services?: string }) => {
    process.exitCode = await withHub(false, (hub) => {
      try {
        const n = importDirectory(hub.db, path.resolve(opts.structures), opts.services && path.resolve(opts.services));
        hub.log.info(`directory imported: ${n.structures} structures, ${n.services} services`);
        console.log(`Directory replaced: ${n.structures} structures, ${n.services} services.`);
        return EXIT.OK;
      } catch (e) {
        if (!(e instanceof DirectoryImportError)) throw e;
        console.error(`Directory NOT imported (the previous one is unchanged):\n${e.message}`);
        return EXIT.DATA;
      }
    });
  });

const flows = program.command('flows').description('Inspect flows.');
flows
  .command('list')
  .description('List flows, newest first.')
  .option('--state <state>', 'only flows in this state (IN_INTEGRE, IN_INTEGRE_PARTIEL, IN_REJETE, QP_IRRECEVABLE) or stage')
  .option('--json', 'JSON output')
  .addHelpText('after', '\nExample:\n  factflow flows list --state IN_REJETE')
  .action(async (opts: { state?: string; json?: boolean }) => {
    await withHub(false, (hub) => {
      const rows = sql(hub.db, `SELECT f.*, (SELECT count(*) FROM invoices i WHERE i.flow_id = f.id) AS invoices,
          (SELECT count(*) FROM invoices i WHERE i.flow_id = f.id AND i.accepted = 1) AS accepted
          FROM flows f WHERE (@state IS NULL OR f.state = @state OR f.stage = @state) ORDER BY f.received_at DESC, f.id DESC`)
        .all({ state: opts.state ?? null }) as (FlowRow & { invoices: number; accepted: number })[];
      if (opts.json) {
        console.log(JSON.stringify(rows.map((r) => ({ id: r.id, file: r.file_name, stage: r.stage, state: r.state, statusCode: r.status_code, invoices: r.invoices, accepted: r.accepted, receivedAt: r.received_at, lastError: r.last_error })), null, 2));
        return;
      }
      printTable(['FLOW', 'FILE', 'STATE', 'INVOICES', 'ACCEPTED', 'RECEIVED'], rows.map((r) => [r.id, r.file_name, r.state ?? r.stage, r.invoices, r.accepted, r.received_at]));
    });
  });

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
      return;
    }
    console.error(`factflow: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = EXIT.SYSTEM;
  }
}

await main();
