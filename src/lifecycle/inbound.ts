/**
 * Status updates sent in by recipients (or typed by an operator for a recipient without EDI).
 * Each update is judged on its own: the invoice must exist and be delivered to the sender,
 * and the transition must be allowed. Judging and applying happen in the caller's transaction,
 * so a refused update changes nothing and a resumed flow never applies an update twice.
 */
import { flowError, type FlowError } from '../errors/catalog.js';
import type { StatusUpdate } from '../formats/statut.js';
import type { Db } from '../ledger/db.js';
import { addEvent, sql, type InvoiceRow } from '../ledger/flows.js';
import { checkTransition, statusRule, type Producer } from './statuses.js';

export interface UpdateOutcome {
  update: StatusUpdate;
  invoice?: InvoiceRow;
  errors: FlowError[];
}

export function findInvoice(db: Db, supplierId: string, number: string, date?: string): InvoiceRow[] {
  const rows = sql(db, 'SELECT * FROM invoices WHERE supplier_id = ? AND number = ? AND accepted = 1 ORDER BY id DESC').all(supplierId, number) as InvoiceRow[];
  return date ? rows.filter((r) => r.issue_date === date) : rows;
}

/** Judges updates in order; later updates of the same file see the earlier ones' effect. */
export function judgeStatusUpdates(db: Db, updates: StatusUpdate[], producer: Producer): UpdateOutcome[] {
  const current = new Map<number, string | null>();
  return updates.map((update) => {
    const found = findInvoice(db, update.supplierId, update.number, update.invoiceDate);
    const params = { number: update.number, supplier: update.supplierId };
    if (!found.length) return { update, errors: [flowError('LIFE_INVOICE_UNKNOWN', params, update.where)] };
    if (new Set(found.map((r) => r.issue_date)).size > 1) return { update, errors: [flowError('LIFE_AMBIGUOUS_INVOICE', params, update.where)] };
    const invoice = found[0]!;
    if (producer === 'recipient' && invoice.recipient_siret !== update.recipientSiret) {
      return { update, invoice, errors: [flowError('LIFE_NOT_RECIPIENT', { number: update.number, recipient: invoice.recipient_siret, sender: update.recipientSiret || '(none)' }, update.where)] };
    }
    const from = current.has(invoice.id) ? current.get(invoice.id)! : invoice.status;
    const errors = checkTransition({ number: update.number, from, to: update.status, producer, motif: update.motif, mandate: update.mandate })
      .map((e) => ({ ...e, ...update.where }));
    if (!errors.length) current.set(invoice.id, statusRule(update.status)!.code);
    return { update, invoice, errors };
  });
}

/** Records the accepted updates as lifecycle events of `sourceFlow`. */
export function applyStatusUpdates(db: Db, outcomes: UpdateOutcome[], producer: Producer, sourceFlow: string, at: string): void {
  for (const o of outcomes) {
    if (o.errors.length || !o.invoice) continue;
    addEvent(db, o.invoice.id, statusRule(o.update.status)!.code, at, producer, sourceFlow, o.update.motif, o.update.mandate);
  }
}
