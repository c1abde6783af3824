/** One invoice: search, show, history, and the lifecycle commands. */
import path from 'node:path';
import type { Command } from 'commander';
import { invoiceHistory, InvoiceRefError, resolveInvoice } from '../../app/queries.js';
import { completeInvoice, decideValidation, setStatus } from '../../app/requests.js';
import type { Hub } from '../../hub.js';
import { parseErrors, type InvoiceRow } from '../../ledger/stores.js';
import { statusRule, STATUS_NAMES } from '../../lifecycle/statuses.js';
import { producerOption, statusOption, validatorOption } from '../choices.js';
import { codeOf, countOption, EXIT, parseWhen, printRefusal, withHub, type HomeMode } from '../context.js';
import { printTable } from '../table.js';

const statusLabel = (s: string | null) => (s ? `${s} ${STATUS_NAMES[s] ?? ''}`.trim() : '');

export function registerInvoices(program: Command): void {
  /** Runs an invoice command; an unknown or ambiguous reference is a data error with a hint. */
  /** Runs an invoice command; an unknown reference is "not found" (3), an ambiguous one a usage error (64), each with a hint. */
  const onInvoice = (ref: string, mode: HomeMode, fn: (hub: Hub, row: InvoiceRow) => number | Promise<number>) =>
    withHub(program, false, async (hub) => {
      let row: InvoiceRow;
      try {
        // Reading commands find invoices refused at deposit too; lifecycle commands only accepted ones.
        row = await resolveInvoice(hub, ref, { includeRejected: mode === 'read' });
      } catch (e) {
        if (!(e instanceof InvoiceRefError)) throw e;
        console.error(e.message);
        return e.ambiguous ? EXIT.USAGE : EXIT.NOT_FOUND;
      }
      return fn(hub, row);
    }, mode);

  const invoice = program.command('invoice').description('Follow and drive one invoice through its lifecycle.');
  invoice
    .command('status')
    .description('Set a lifecycle status, as the recipient (default) or the accountant; the supplier receives it as a status file.')
    .argument('<invoice>', 'hub id (IdCPRO), supplier/number, or number')
    .argument('<status>', 'code or name: 07 or SERVICE_FAIT, 08 MANDATEE, 04 A_RECYCLER, 05 REJETEE, 06 SUSPENDUE, ...')
    .option('--motif <text>', 'reason (ComplementStatut), required for 04, 05 and 06')
    .option('--comment <text>', 'a free comment for the supplier (Commentaire)')
    .option('--mandate <number>', 'payment order number, required for 08')
    .option('--as <producer>', 'recipient | accountant | supplier', 'recipient')
    .addHelpText('after', '\nExamples:\n  factflow invoice status 81234567800013/FA-2026-0002 SERVICE_FAIT\n  factflow invoice status 2 06 --motif "Bon de livraison manquant"')
    .action(async (ref: string, typed: string, opts: { motif?: string; comment?: string; mandate?: string; as: string }) => {
      const status = statusOption('<status>', typed);
      const producer = producerOption(opts.as);
      process.exitCode = await onInvoice(ref, 'existing', async (hub, row) => {
        const result = await setStatus(hub, row, { status, motif: opts.motif, comment: opts.comment, mandate: opts.mandate, producer });
        if (result.errors.length) return printRefusal(result.errors);
        const rule = statusRule(status)!;
        console.log(`Invoice ${row.number} (${row.supplier_id}) is now ${rule.code} ${rule.name}; supplier notified (flow ${result.flow!.id}).`);
        return EXIT.OK;
      });
    });

  // A validator of a circuit (main contractor, co-contractors' agent, MOE) decides on a held invoice.
  const decide = (approve: boolean) => async (ref: string, opts: { as: string; validator?: string; reason?: string; comment?: string; wrongValidator?: boolean }) => {
    validatorOption(opts.as);
    process.exitCode = await onInvoice(ref, 'existing', async (hub, row) => {
      const result = await decideValidation(hub, row, { approve, reason: opts.reason, comment: opts.comment, wrongValidator: opts.wrongValidator, validator: opts.validator });
      if (result.errors.length) return printRefusal(result.errors);
      const now = (await hub.ledger.invoices.get(row.id))!;
      console.log(`Invoice ${row.number} (${row.supplier_id}) is now ${statusLabel(now.status)}; supplier notified (flow ${result.flow!.id}).`);
      return EXIT.OK;
    });
  };
  invoice
    .command('validate')
    .description('Approve an invoice held in a validation circuit, as its validator: it goes on to the next level or to its recipient.')
    .argument('<invoice>', 'hub id (IdCPRO), supplier/number, or number')
    .option('--as <producer>', 'validator', 'validator')
    .option('--validator <id>', 'who approves (default: the validator the invoice awaits)')
    .option('--comment <text>', 'a comment for the supplier (Commentaire)')
    .addHelpText('after', '\nExample:\n  factflow invoice validate 52345678000015/ST-2026-0001 --as validator')
    .action(decide(true));
  invoice
    .command('refuse')
    .description('Refuse an invoice held in a validation circuit, as its validator: it goes back to its supplier with the reason.')
    .argument('<invoice>', 'hub id (IdCPRO), supplier/number, or number')
    .requiredOption('--reason <text>', 'why (ComplementStatut), sent to the supplier')
    .option('--as <producer>', 'validator', 'validator')
    .option('--validator <id>', 'who refuses (default: the validator the invoice awaits)')
    .option('--wrong-validator', 'the supplier named the wrong validator (ERREUR_FOURNISSEUR_SUR_VALIDEUR, or ERREUR_COTRAITANT_SUR_VALIDEUR at level 2)')
    .option('--comment <text>', 'a comment for the supplier (Commentaire)')
    .addHelpText('after', '\nExample:\n  factflow invoice refuse 52345678000015/ST-2026-0001 --as validator --reason "Travaux non réalisés"')
    .action(decide(false));

  invoice
    .command('complete')
    .description('Complete a suspended invoice (06) with the missing documents: it becomes 12 and is delivered again.')
    .argument('<invoice>', 'hub id (IdCPRO), supplier/number, or number')
    .requiredOption('--attach <file...>', 'the documents to add')
    .option('--comment <text>', 'a note for the recipient')
    .addHelpText('after', '\nExample:\n  factflow invoice complete 81234567800013/FA-2026-0002 --attach bon-de-livraison.pdf')
    .action(async (ref: string, opts: { attach: string[]; comment?: string }) => {
      process.exitCode = await onInvoice(ref, 'existing', async (hub, row) => {
        const result = await completeInvoice(hub, row, opts.attach.map((f) => path.resolve(f)), opts.comment);
        if (result.errors.some((e) => e.code === 'INPUT_NOT_FOUND')) {
          printRefusal(result.errors);
          return EXIT.NOT_FOUND;
        }
        if (result.errors.length) return printRefusal(result.errors);
        console.log(`Invoice ${row.number} completed and delivered again with ${opts.attach.length} new document(s) (flow ${result.flow!.id}).`);
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
      process.exitCode = await onInvoice(ref, 'read', async (hub, row) => {
        const { chain, events } = await invoiceHistory(hub, row);
        if (opts.json) {
          console.log(JSON.stringify({ invoice: { id: row.id, number: row.number, supplier: row.supplier_id, recipient: row.recipient_siret, status: row.status }, deliveries: chain.map((c) => ({ id: c.id, flowId: c.flow_id, recipient: c.recipient_siret, renvoi: c.renvoi, status: c.status })), events }, null, 2));
          return EXIT.OK;
        }
        console.log(`Invoice ${row.number} from ${row.supplier_id} to ${row.recipient_siret}${row.service_code ? ` (${row.service_code})` : ''}: ${statusLabel(row.status)}`);
        if (chain.length > 1) console.log(`Deliveries: ${chain.map((c) => `#${c.id} to ${c.recipient_siret}${c.renvoi !== 'Non' ? ` (${c.renvoi})` : ''}`).join(' → ')}`);
        // WHEN is the producer's own time when it gave one; RECEIVED is always the hub's.
        printTable(['WHEN', 'RECEIVED', 'STATUS', 'BY', 'MOTIF / COMMENT / MANDATE', 'FROM'], events.map((e) => [e.producedAt ?? e.receivedAt, e.receivedAt, `${e.status} ${e.name}`, e.producer, [e.motif, e.comment, e.mandate].filter(Boolean).join(' / '), `${e.source_flow} ${e.source_file}`]));
        return EXIT.OK;
      });
    });

  const invoices = program.command('invoices').description('Search invoices.');
  invoices
    .command('search')
    .description('Find invoices by number, supplier, recipient, status or issue date; accepted and rejected alike.')
    .option('--number <text>', 'invoice number (use % as a wildcard)')
    .option('--supplier <id>', 'supplier identifier')
    .option('--recipient <siret>', 'recipient SIRET')
    .option('--status <code|name>', 'current lifecycle status (07, SERVICE_FAIT, any case), or REJECTED for invoices refused at deposit')
    .option('--from <date>', 'issued on or after (YYYY-MM-DD)')
    .option('--to <date>', 'issued on or before (YYYY-MM-DD)')
    .option('--limit <n>', 'at most this many, newest first', '200')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExamples:\n  factflow invoices search --supplier 81234567800013 --status SUSPENDUE\n  factflow invoices search --number "FA-2026-%" --from 2026-11-01')
    .action(async (opts: { number?: string; supplier?: string; recipient?: string; status?: string; from?: string; to?: string; limit: string; json?: boolean }) => {
      const checked = opts.status ? statusOption('--status', opts.status, ['REJECTED']) : undefined;
      const rejected = checked === 'REJECTED';
      const status = rejected ? undefined : checked;
      const limit = countOption('--limit', opts.limit, 1);
      await withHub(program, false, async (hub) => {
        const rows = await hub.ledger.invoices.search({
          number: opts.number, supplier: opts.supplier, recipient: opts.recipient, status: rejected ? 'REJECTED' : status,
          from: opts.from ? parseWhen(opts.from).slice(0, 10) : undefined, to: opts.to ? parseWhen(opts.to).slice(0, 10) : undefined, limit,
        });
        if (opts.json) {
          console.log(JSON.stringify(rows.map((r) => ({ id: r.id, number: r.number, supplier: r.supplier_id, recipient: r.recipient_siret, issueDate: r.issue_date, amount: r.amount_gross, currency: r.currency, accepted: !!r.accepted, status: r.status, flowId: r.flow_id })), null, 2));
          return;
        }
        printTable(['ID', 'NUMBER', 'SUPPLIER', 'RECIPIENT', 'ISSUED', 'AMOUNT', 'STATUS', 'FLOW'], rows.map((r) => [
          r.id, r.number, r.supplier_id, r.recipient_siret, r.issue_date, `${r.amount_gross} ${r.currency}`, r.accepted ? statusLabel(r.status) : 'REJECTED at deposit', r.flow_id,
        ]));
      }, 'read');
    });

  invoices
    .command('show')
    .description('One invoice: its data, decision, errors, status and deliveries.')
    .argument('<invoice>', 'hub id (IdCPRO), supplier/number, or number')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExample:\n  factflow invoices show 3')
    .action(async (ref: string, opts: { json?: boolean }) => {
      process.exitCode = await onInvoice(ref, 'read', async (hub, found) => {
        const { chain, events } = found.accepted && found.role === 'invoice' ? await invoiceHistory(hub, found) : { chain: [], events: [] };
        const details = { ...found, errors: parseErrors(found.errors), deliveries: chain.map((c) => ({ id: c.id, flowId: c.flow_id, pivot: c.pivot_path, renvoi: c.renvoi })), events };
        if (opts.json) {
          console.log(JSON.stringify(details, null, 2));
          return EXIT.OK;
        }
        console.log(`Invoice #${found.id} ${found.number} (${found.type}), issued ${found.issue_date}, ${found.amount_gross} ${found.currency}`);
        console.log(`From ${found.supplier_name} (${found.supplier_id}) to ${found.recipient_name ?? ''} ${found.recipient_siret}${found.service_code ? `, service ${found.service_code}` : ''}${found.engagement ? `, EJ ${found.engagement}` : ''}`);
        console.log(`Flow ${found.flow_id} (${found.label}): ${found.accepted ? `accepted, now ${statusLabel(found.status)}` : 'rejected at deposit'}`);
        for (const e of details.errors) console.log(`  ${codeOf(e)}: ${e.message}`);
        if (found.pivot_path) console.log(`Delivered in ${found.pivot_path}`);
        return EXIT.OK;
      });
    });
}
