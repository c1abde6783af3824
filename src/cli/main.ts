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
import { completeInvoice, invoiceHistory, InvoiceRefError, resolveInvoice, setStatus } from '../lifecycle/manual.js';
import { statusRule, STATUS_NAMES, type Producer } from '../lifecycle/statuses.js';
import type { FlowError } from '../errors/catalog.js';
import type { InvoiceRow } from '../ledger/flows.js';
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

const invoice = program.command('invoice').description('Follow and drive one invoice through its lifecycle.');

/** Runs an invoice command; an unknown or ambiguous reference is a data error with a hint. */
function onInvoice(ref: string, fn: (hub: Hub, row: InvoiceRow) => number): Promise<number> {
  return withHub(false, (hub) => {
    let row: InvoiceRow;
    try {
      row = resolveInvoice(hub, ref);
    } catch (e) {
      if (!(e instanceof InvoiceRefError)) throw e;
      console.error(e.message);
      return EXIT.DATA;
    }
    return fn(hub, row);
  });
}

function printRefusal(errors: FlowError[]): number {
  for (const e of errors) console.error(`refused: ${e.code}: ${e.message}`);
  console.error('Nothing was changed.');
  return EXIT.DATA;
}

invoice
  .command('status')
  .description('Set a lifecycle status, as the recipient (default) or the accountant; the supplier receives it as a status file.')
  .argument('<invoice>', 'hub id (IdCPRO), supplier/number, or number')
  .argument('<status>', 'code or name: 07 or SERVICE_FAIT, 08 MANDATEE, 04 A_RECYCLER, 05 REJETEE, 06 SUSPENDUE, ...')
  .option('--motif <text>', 'reason, required for 04, 05 and 06')
  .option('--mandate <number>', 'payment order number, required for 08')
  .option('--as <producer>', 'recipient | accountant | supplier', 'recipient')
  .addHelpText('after', '\nExamples:\n  factflow invoice status 81234567800013/FA-2026-0002 SERVICE_FAIT\n  factflow invoice status 2 06 --motif "Bon de livraison manquant"')
  .action(async (ref: string, status: string, opts: { motif?: string; mandate?: string; as: string }) => {
    process.exitCode = await onInvoice(ref, (hub, row) => {
      const result = setStatus(hub, row, { status, motif: opts.motif, mandate: opts.mandate, producer: opts.as as Producer });
      if (result.errors.length) return printRefusal(result.errors);
      const rule = statusRule(status)!;
      console.log(`Invoice ${row.number} (${row.supplier_id}) is now ${rule.code} ${rule.name}; supplier notified (flow ${result.flowId}).`);
      return EXIT.OK;
    });
  });

invoice
  .command('complete')
  .description('Complete a suspended invoice (06) with the missing documents: it becomes 12 and is delivered again.')
  .argument('<invoice>', 'hub id (IdCPRO), supplier/number, or number')
  .requiredOption('--attach <file...>', 'the documents to add')
  .option('--comment <text>', 'a note for the recipient')
  .addHelpText('after', '\nExample:\n  factflow invoice complete 81234567800013/FA-2026-0002 --attach bon-de-livraison.pdf')
  .action(async (ref: string, opts: { attach: string[]; comment?: string }) => {
    process.exitCode = await onInvoice(ref, (hub, row) => {
      const result = completeInvoice(hub, row, opts.attach.map((f) => path.resolve(f)), opts.comment);
      if (result.errors.length) return printRefusal(result.errors);
      console.log(`Invoice ${row.number} completed and delivered again with ${opts.attach.length} new document(s) (flow ${result.flowId}).`);
      return EXIT.OK;
    });
  });

invoice
  .command('history')
  .description("Show an invoice's timeline: every status, who set it, when, and from which flow.")
  .argument('<invoice>', 'hub id (IdCPRO), supplier/number, or number')
  .option('--json', 'JSON output')
  .addHelpText('after', '\nExample:\n  factflow invoice history 81234567800013/FA-2026-0002')
  .action(async (ref: string, opts: { json?: boolean }) => {
    process.exitCode = await onInvoice(ref, (hub, row) => {
      const { chain, events } = invoiceHistory(hub, row);
      if (opts.json) {
        console.log(JSON.stringify({ invoice: { id: row.id, number: row.number, supplier: row.supplier_id, recipient: row.recipient_siret, status: row.status }, deliveries: chain.map((c) => ({ id: c.id, flowId: c.flow_id, recipient: c.recipient_siret, renvoi: c.renvoi, status: c.status })), events }, null, 2));
        return EXIT.OK;
      }
      console.log(`Invoice ${row.number} from ${row.supplier_id} to ${row.recipient_siret}${row.service_code ? ` (${row.service_code})` : ''}: ${row.status} ${STATUS_NAMES[row.status ?? ''] ?? ''}`);
      if (chain.length > 1) console.log(`Deliveries: ${chain.map((c) => `#${c.id} to ${c.recipient_siret}${c.renvoi !== 'Non' ? ` (${c.renvoi})` : ''}`).join(' → ')}`);
      printTable(['WHEN', 'STATUS', 'BY', 'MOTIF / MANDATE', 'FROM'], events.map((e) => [e.at, `${e.status} ${e.name}`, e.producer, e.motif ?? e.mandate ?? '', `${e.source_flow} ${e.source_file}`]));
      return EXIT.OK;
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
