/**
 * Status updates sent in by recipients (or typed by an operator for a recipient without EDI).
 * Each update is judged on its own: the invoice must exist and be delivered to the sender,
 * and the transition must be allowed. Judging and applying happen in the caller's transaction,
 * so a refused update changes nothing and a resumed flow never applies an update twice.
 */
import { flowError, type FlowError } from '../errors/catalog.js';
import { readFlowAcks, readStatusUpdates, type FlowAck, type StatusUpdate } from '../formats/statut.js';
import type { Db } from '../ledger/db.js';
import { recipientAllowed, type Partner } from '../route/partners.js';
import type { XNode } from '../xml/parse.js';
import { addEvent, sql, type InvoiceRow } from '../ledger/flows.js';
import { checkTransition, statusRule, type Producer } from './statuses.js';

export interface UpdateOutcome {
  update: StatusUpdate;
  invoice?: InvoiceRow;
  errors: FlowError[];
}

export function findInvoice(db: Db, supplierId: string, number: string, date?: string): InvoiceRow[] {
  const rows = sql(db, "SELECT * FROM invoices WHERE supplier_id = ? AND number = ? AND accepted = 1 AND role = 'invoice' ORDER BY id DESC").all(supplierId, number) as InvoiceRow[];
  const dated = date ? rows.filter((r) => r.issue_date === date) : rows;
  // A recycled invoice (04) is superseded by its new delivery, which is the one to update.
  const live = dated.filter((r) => r.status !== '04');
  return live.length ? live : dated;
}

/** Judges updates in order; later updates of the same file see the earlier ones' effect. */
export function judgeStatusUpdates(db: Db, updates: StatusUpdate[], producer: Producer, partner?: Partner): UpdateOutcome[] {
  const current = new Map<number, string | null>();
  return updates.map((update) => {
    if (!recipientAllowed(partner, update.recipientSiret)) {
      return { update, errors: [flowError('PARTNER_RECIPIENT_NOT_ALLOWED', { partner: partner!.code, recipient: update.recipientSiret || '(none)' }, update.where)] };
    }
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

/** A recipient acknowledges a pivot flow it received: 92 (taken in) or 94 (could not be taken in). */
export function judgeFlowAcks(db: Db, acks: FlowAck[], partner?: Partner): { ack: FlowAck; errors: FlowError[] }[] {
  return acks.map((ack) => {
    if (ack.status !== '92' && ack.status !== '94') return { ack, errors: [flowError('LIFE_ACK_STATUS_INVALID', { status: ack.status }, ack.where)] };
    const recipients = (sql(db, "SELECT DISTINCT i.recipient_siret FROM invoices i WHERE i.flow_id = ? AND i.pivot_path IS NOT NULL").all(ack.flowId) as { recipient_siret: string }[]).map((r) => r.recipient_siret);
    if (!recipients.length) return { ack, errors: [flowError('LIFE_ACK_FLOW_UNKNOWN', { flowId: ack.flowId }, ack.where)] };
    // A partner acknowledges only pivots it received for one of its recipients.
    if (partner && !recipients.some((r) => recipientAllowed(partner, r))) {
      return { ack, errors: [flowError('PARTNER_RECIPIENT_NOT_ALLOWED', { partner: partner.code, recipient: recipients.join(', ') }, ack.where)] };
    }
    return { ack, errors: [] };
  });
}

/** One line of a status flow, applied or refused: an invoice update or a flow acknowledgment. */
export interface StatusLine {
  position: number;
  /** The invoice number, or for an acknowledgment the pivot flow id. */
  number: string;
  supplier: string;
  recipient: string;
  status: string;
  invoiceId?: number;
  errors: FlowError[];
}

export interface StatusFlowJudgement {
  updates: UpdateOutcome[];
  lines: StatusLine[];
}

/** Judges every line of a CPPStatut sent in by a recipient, without changing anything. */
export function judgeStatusFlow(db: Db, root: XNode, partner?: Partner): StatusFlowJudgement {
  const updates = judgeStatusUpdates(db, readStatusUpdates(root), 'recipient', partner);
  const acks = judgeFlowAcks(db, readFlowAcks(root), partner);
  const lines: StatusLine[] = [
    ...updates.map(({ update: u, invoice, errors }) => ({ position: u.position, number: u.number, supplier: u.supplierId, recipient: u.recipientSiret, status: u.status, invoiceId: invoice?.id, errors })),
    ...acks.map(({ ack, errors }) => ({ position: ack.position, number: ack.flowId, supplier: '', recipient: '', status: ack.status, errors })),
  ];
  return { updates, lines };
}

/** How a status line appears in the integration report. */
export const statusLineReport = (l: StatusLine) => ({
  label: `NumOrdre ${l.position}`,
  number: l.number,
  supplier: l.supplier,
  recipient: l.recipient,
  requestedStatus: l.status,
  status: l.errors.length ? ('REJECTED' as const) : ('ACCEPTED' as const),
  errors: l.errors,
});
