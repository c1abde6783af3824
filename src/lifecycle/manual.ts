/**
 * Lifecycle changes typed at the command line: a recipient without EDI sets a status, a
 * supplier completes a suspended invoice. Each accepted change is recorded as a small flow of
 * its own (kind "cli"), so the supplier receives it as a status file like any other, and the
 * history says where every status came from. A refused change records nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { flowError, type FlowError } from '../errors/catalog.js';
import type { Hub } from '../hub.js';
import { newFlowId } from '../ingest/claim.js';
import { addEvent, getFlow, sql, type EventRow, type InvoiceRow } from '../ledger/flows.js';
import type { Attachment } from '../model/invoice.js';
import { deliver, sourceOf } from '../pipeline/deliver.js';
import { readFlowFile } from '../pipeline/read.js';
import { ALLOWED_EXTENSIONS } from '../validate/rules.js';
import { applyStatusUpdates, judgeStatusUpdates } from './inbound.js';
import { statusRule, STATUS_NAMES, type Producer } from './statuses.js';

export class InvoiceRefError extends Error {
  /** cliops: true when the reference matches several suppliers' invoices (the CLI exits 64, else 3). */
  constructor(message: string, readonly ambiguous = false) {
    super(message);
  }
}

/**
 * An invoice by hub id (IdCPRO; any invoice, even one refused at deposit), by `supplier/number`
 * or by number when only one supplier used it (accepted invoices; with `includeRejected`, the
 * latest invoice refused at deposit when none was accepted).
 */
export function resolveInvoice(hub: Hub, ref: string, opts: { includeRejected?: boolean } = {}): InvoiceRow {
  // cliops: the query takes the accepted flag so that rejected invoices can be found as a fallback.
  const base = "SELECT * FROM invoices WHERE accepted = @accepted AND role = 'invoice'";
  const find = (accepted: number): InvoiceRow[] => {
    if (ref.includes('/')) {
      const [supplier, ...number] = ref.split('/');
      return sql(hub.db, `${base} AND supplier_id = @supplier AND number = @number ORDER BY id DESC`).all({ accepted, supplier, number: number.join('/') }) as InvoiceRow[];
    }
    return sql(hub.db, `${base} AND number = @number ORDER BY id DESC`).all({ accepted, number: ref }) as InvoiceRow[];
  };
  let rows: InvoiceRow[];
  if (/^\d+$/.test(ref)) rows = sql(hub.db, "SELECT * FROM invoices WHERE role = 'invoice' AND id = ?").all(Number(ref)) as InvoiceRow[];
  else {
    rows = find(1);
    if (!rows.length && opts.includeRejected) rows = find(0);
  }
  if (!rows.length) throw new InvoiceRefError(`No ${opts.includeRejected ? '' : 'accepted '}invoice "${ref}". Use its hub id (IdCPRO), or supplier/number; see factflow invoices search.`);
  const suppliers = new Set(rows.map((r) => r.supplier_id));
  if (suppliers.size > 1) throw new InvoiceRefError(`"${ref}" is the number of invoices from several suppliers (${[...suppliers].join(', ')}); write supplier/number.`, true);
  return rows.find((r) => r.status !== '04') ?? rows[0]!;
}

function recordCliFlow(hub: Hub, label: string, at: string): string {
  const id = newFlowId();
  sql(hub.db, "INSERT INTO flows (id, file_name, size, sha256, kind, stage, state, status_code, received_at, decided_at, spool_path) VALUES (?, ?, 0, '', 'cli', 'DECIDED', 'IN_INTEGRE', '90', ?, ?, '')")
    .run(id, label, at, at);
  return id;
}

export interface StatusChange {
  status: string;
  motif?: string;
  mandate?: string;
  producer: Producer;
}

/** Applies one status change; returns its flow id, or the coded errors that refused it. */
export function setStatus(hub: Hub, invoice: InvoiceRow, change: StatusChange): { flowId?: string; errors: FlowError[] } {
  const update = {
    position: 1,
    supplierId: invoice.supplier_id,
    recipientSiret: invoice.recipient_siret,
    number: invoice.number,
    invoiceDate: invoice.issue_date,
    status: change.status,
    motif: change.motif,
    mandate: change.mandate,
    where: {},
  };
  const outcomes = judgeStatusUpdates(hub.db, [update], change.producer);
  if (outcomes[0]!.errors.length) return { errors: outcomes[0]!.errors };
  const at = new Date().toISOString();
  const rule = statusRule(change.status)!;
  const flowId = hub.write(() => {
    const id = recordCliFlow(hub, `invoice status ${invoice.number} ${rule.code} ${rule.name}`, at);
    applyStatusUpdates(hub.db, outcomes, change.producer, id, at);
    return id;
  });
  deliver(hub, getFlow(hub.db, flowId)!);
  return { flowId, errors: [] };
}

const MIME_OF_EXTENSION: Record<string, string> = { pdf: 'application/pdf', xml: 'application/xml', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', csv: 'text/csv', txt: 'text/plain', zip: 'application/zip' };

/**
 * The supplier completes a suspended invoice with new documents: the invoice becomes 12, is
 * delivered again (Renvoi=Complétée) with its original attachments plus the new ones, then 03.
 */
export function completeInvoice(hub: Hub, invoice: InvoiceRow, files: string[], comment?: string): { flowId?: string; errors: FlowError[] } {
  if (invoice.status !== '06') {
    return { errors: [flowError('LIFE_TRANSITION_FORBIDDEN', { number: invoice.number, from: `${invoice.status} ${STATUS_NAMES[invoice.status ?? ''] ?? ''}`.trim(), to: '12 COMPLETEE' })] };
  }
  const source = getFlow(hub.db, invoice.flow_id)!;
  const file = sourceOf(hub, source);
  if (!file) throw new Error(`the flow ${source.id} that carried invoice ${invoice.number} is no longer archived (purged?); ask the supplier to resend it with its documents`);
  const original = readFlowFile(file, hub.settings).invoices.find((i) => i.position === invoice.position);
  if (!original) throw new Error(`invoice ${invoice.number} cannot be read back from ${file}`);
  const added: Attachment[] = files.map((f) => {
    const ext = path.extname(f).slice(1).toLowerCase();
    return { type: '02', name: path.basename(f), mimeType: MIME_OF_EXTENSION[ext] ?? 'application/octet-stream', content: fs.readFileSync(f) };
  });
  const bad = added.filter((a) => !ALLOWED_EXTENSIONS.includes(path.extname(a.name).slice(1).toLowerCase()) || a.content.length === 0 || a.name.length > 50);
  if (bad.length) return { errors: bad.map((a) => flowError(a.content.length ? 'RULE_ATTACHMENT_EXTENSION' : 'RULE_ATTACHMENT_EMPTY', { name: a.name, allowed: ALLOWED_EXTENSIONS.join(', ') })) };
  const model = { ...original, position: 1, label: 'completion', attachments: [...original.attachments, ...added] };
  const at = new Date().toISOString();
  const flowId = hub.write(() => {
    const id = recordCliFlow(hub, `invoice complete ${invoice.number}: ${files.map((f) => path.basename(f)).join(', ')}`, at);
    sql(hub.db, `INSERT INTO invoices (flow_id, position, label, number, supplier_type, supplier_id, supplier_name, supplier_country, recipient_siret, recipient_name,
        service_code, engagement, issue_date, type, amount_gross, currency, accepted, errors, role, renvoi, origin_invoice_id)
        SELECT ?, 1, 'completion', number, supplier_type, supplier_id, supplier_name, supplier_country, recipient_siret, recipient_name,
        service_code, engagement, issue_date, type, amount_gross, currency, 1, '[]', 'completion', 'Complétée', id FROM invoices WHERE id = ?`).run(id, invoice.id);
    addEvent(hub.db, invoice.id, '12', at, 'supplier', id, comment);
    return id;
  });
  deliver(hub, getFlow(hub.db, flowId)!, [model]);
  return { flowId, errors: [] };
}

export interface HistoryEntry extends EventRow {
  name: string;
  source_file: string;
  invoice_number: string;
}

/** The invoice's timeline, including the deliveries it was recycled from or into. */
export function invoiceHistory(hub: Hub, invoice: InvoiceRow): { chain: InvoiceRow[]; events: HistoryEntry[] } {
  const chain: InvoiceRow[] = [];
  let first = invoice;
  while (first.origin_invoice_id) first = sql(hub.db, 'SELECT * FROM invoices WHERE id = ?').get(first.origin_invoice_id) as InvoiceRow;
  for (let row: InvoiceRow | undefined = first; row; row = sql(hub.db, "SELECT * FROM invoices WHERE origin_invoice_id = ? AND role = 'invoice' AND accepted = 1").get(row.id) as InvoiceRow | undefined) chain.push(row);
  const ids = chain.map((r) => r.id);
  const events = sql(hub.db, `SELECT e.*, f.file_name AS source_file, i.number AS invoice_number FROM invoice_events e JOIN flows f ON f.id = e.source_flow JOIN invoices i ON i.id = e.invoice_id
      WHERE e.invoice_id IN (${ids.map(() => '?').join(',')}) ORDER BY e.at, e.id`).all(...ids) as HistoryEntry[];
  return { chain, events: events.map((e) => ({ ...e, name: STATUS_NAMES[e.status] ?? e.status })) };
}
