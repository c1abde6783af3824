/** What operators look up: invoices by reference, an invoice's history, a flow's details. */
import { reportHeaderOf, reportOf } from '../engine/plan.js';
import type { Hub } from '../hub.js';
import { parseErrors, type EventRow, type FlowRow, type InvoiceRow } from '../ledger/stores.js';
import { STATUS_NAMES } from '../lifecycle/statuses.js';

export class InvoiceRefError extends Error {
  /** True when the reference matches several suppliers' invoices (a usage error, not "not found"). */
  constructor(message: string, readonly ambiguous = false) {
    super(message);
  }
}

/**
 * An invoice by hub id (IdCPRO: any invoice, even one refused at deposit), by `supplier/number`
 * or by number when only one supplier used it: accepted invoices, or with `includeRejected`,
 * when none was accepted, the latest refused at deposit.
 */
export async function resolveInvoice(hub: Hub, ref: string, opts: { includeRejected?: boolean } = {}): Promise<InvoiceRow> {
  const { invoices } = hub.ledger;
  const [supplier, ...rest] = ref.includes('/') ? ref.split('/') : [undefined, ref];
  const number = rest.join('/');
  let rows: InvoiceRow[];
  if (/^\d+$/.test(ref)) {
    const row = await invoices.get(Number(ref));
    rows = row && row.role === 'invoice' ? [row] : [];
  } else {
    rows = supplier ? await invoices.bySupplierNumber(supplier, number) : await invoices.byNumber(number);
    if (!rows.length && opts.includeRejected) rows = await invoices.search({ number, supplier, status: 'REJECTED', limit: 100 });
  }
  if (!rows.length) throw new InvoiceRefError(`No ${opts.includeRejected ? '' : 'accepted '}invoice "${ref}". Use its hub id (IdCPRO), or supplier/number; see factflow invoices search.`);
  const suppliers = new Set(rows.map((r) => r.supplier_id));
  if (suppliers.size > 1) throw new InvoiceRefError(`"${ref}" is the number of invoices from several suppliers (${[...suppliers].join(', ')}); write supplier/number.`, true);
  return rows.find((r) => r.status !== '04') ?? rows[0]!;
}

export interface HistoryEntry extends EventRow {
  name: string;
  /** When the hub received the status (`at`), and the producer's own Horodatage when it gave one. */
  receivedAt: string;
  producedAt: string | null;
  source_file: string;
  invoice_number: string;
}

/** The invoice's timeline, including the deliveries it was recycled from or into. */
export async function invoiceHistory(hub: Hub, invoice: InvoiceRow): Promise<{ chain: InvoiceRow[]; events: HistoryEntry[] }> {
  const { invoices, events } = hub.ledger;
  let first = invoice;
  while (first.origin_invoice_id) first = (await invoices.get(first.origin_invoice_id))!;
  const chain: InvoiceRow[] = [];
  for (let row: InvoiceRow | undefined = first; row; row = await invoices.recycledInto(row.id)) chain.push(row);
  const found = await events.ofInvoices(chain.map((r) => r.id));
  return { chain, events: found.map((e) => ({ ...e, name: STATUS_NAMES[e.status] ?? e.status, receivedAt: e.at, producedAt: e.produced_at })) };
}

/** Everything about one flow, for `flows show`. */
export async function flowDetails(hub: Hub, flow: FlowRow) {
  const { ledger } = hub;
  const rows = await ledger.invoices.ofFlow(flow.id);
  const updates = await ledger.statusUpdates.ofFlow(flow.id);
  const report = flow.stage === 'DONE' || flow.stage === 'DECIDED' ? reportOf(reportHeaderOf(flow), rows, updates) : undefined;
  return {
    id: flow.id,
    file: flow.file_name,
    size: flow.size,
    sha256: flow.sha256,
    partner: flow.partner,
    channel: flow.channel,
    kind: flow.kind,
    stage: flow.stage,
    state: flow.state,
    statusCode: flow.status_code,
    duplicateOf: flow.duplicate_of,
    times: { received: flow.received_at, decided: flow.decided_at, done: flow.done_at },
    source: flow.final_path,
    attempts: flow.attempts,
    lastError: flow.last_error,
    replays: await ledger.flows.replays(flow.id),
    acknowledgments: await ledger.flows.acknowledgments(flow.id),
    errors: parseErrors(flow.errors),
    invoices: rows.map((r) => ({
      id: r.id,
      label: r.label,
      number: r.number,
      supplier: r.supplier_id,
      recipient: r.recipient_siret,
      serviceCode: r.service_code,
      engagement: r.engagement,
      accepted: !!r.accepted,
      status: r.status,
      renvoi: r.renvoi,
      errors: parseErrors(r.errors),
      warnings: parseErrors(r.warnings),
    })),
    statusUpdates: report?.statusUpdates,
    outputs: await ledger.flows.outputs(flow.id),
  };
}

/** The integration report of a decided flow, as recorded. */
export async function flowReport(hub: Hub, flow: FlowRow) {
  return reportOf(reportHeaderOf(flow), await hub.ledger.invoices.ofFlow(flow.id), await hub.ledger.statusUpdates.ofFlow(flow.id));
}
