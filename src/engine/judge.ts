/**
 * The one judgement of a flow: `judgeFlow(read, context) → Decision`, pure. Every path runs it:
 * the daemon, `factflow process`, `validate` (nothing applied), `replay` (only the invoices an
 * earlier attempt refused), and operators' requests (`invoice status`, `invoice complete`).
 *   1. the flow as a whole: a duplicate, an unknown partner folder, or what reading refused;
 *   2. each invoice: deposit rules, routing against the directory, the partner's permission,
 *      duplicates in the flow, and earlier deposits (double invoicing, recycling, completion);
 *   3. each status update or acknowledgment sent back, through the lifecycle table.
 */
import { flowError, type FlowError } from '../errors/catalog.js';
import { flowStateOf, type FlowState } from '../emit/report.js';
import { wordsOverLimit, type FlowAck, type StatusUpdate } from '../formats/statut.js';
import type { InvoiceRow } from '../ledger/stores.js';
import { checkTransition, statusRule, type Producer } from '../lifecycle/statuses.js';
import type { Invoice } from '../model/invoice.js';
import type { FlowKind } from '../detect/detect.js';
import type { ReadResult } from '../pipeline/readResult.js';
import type { Directory } from '../route/directory.js';
import { recipientAllowed, supplierAllowed, type Partner } from '../route/partners.js';
import { circuitChecks, lineProducer } from './circuitJudge.js';
import { checkRouting } from '../route/routing.js';
import { checkInvoice } from '../validate/rules.js';
import { invoiceKey, serviceKey, statusTargetKey, type JudgeContext } from './context.js';

/**
 * A resent invoice that is not double invoicing: the recipient sent it back for recycling
 * (04: a new delivery, Renvoi=Recyclée) or suspended it for missing documents (06: this is its
 * completion, Renvoi=Complétée, and the original invoice becomes 12 then 03).
 */
export interface Resend {
  role: 'invoice' | 'completion';
  renvoi: 'Recyclée' | 'Complétée';
  originId: number;
}

export interface InvoiceDecision {
  invoice: Invoice;
  errors: FlowError[];
  resend?: Resend;
}

/** A status change the decision applies. */
export interface AcceptedUpdate {
  invoiceId: number;
  status: string;
  producer: Producer;
  update: StatusUpdate;
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

export interface Decision {
  kind?: FlowKind;
  /** Errors refusing the whole flow. */
  flowErrors: FlowError[];
  duplicateOf?: string;
  /** The invoices judged now (for a replay, those an earlier attempt refused). */
  invoices: InvoiceDecision[];
  statusLines: StatusLine[];
  updates: AcceptedUpdate[];
  state: FlowState;
  /** How many invoices an earlier attempt had accepted (a replay's). */
  acceptedBefore: number;
}

export function judgeFlow(read: ReadResult, ctx: JudgeContext): Decision {
  const flowErrors = ctx.duplicateOf
    ? [flowError('FLOW_DUPLICATE', { sha256: ctx.sha256, earlierFlowId: ctx.duplicateOf })]
    : ctx.partner.kind === 'unknown'
      ? [flowError('FLOW_PARTNER_UNKNOWN', { partner: ctx.partner.code })]
      : read.errors;
  const base = { kind: read.kind, duplicateOf: ctx.duplicateOf, acceptedBefore: ctx.acceptedBefore.size };
  if (flowErrors.length) return { ...base, flowErrors, invoices: [], statusLines: [], updates: [], state: flowStateOf(flowErrors, []) };
  const partner = ctx.partner.kind === 'registered' ? ctx.partner.partner : undefined;
  const invoices = judgeInvoices(read.invoices.filter((i) => !ctx.acceptedBefore.has(i.position)), read, ctx, partner);
  const { lines, updates } = read.statuses ? judgeStatuses(read.statuses, ctx, partner) : { lines: [], updates: [] };
  const outcomes = [
    ...[...ctx.acceptedBefore].map(() => ({ status: 'ACCEPTED' as const })),
    ...[...invoices, ...lines].map((d) => ({ status: d.errors.length ? ('REJECTED' as const) : ('ACCEPTED' as const) })),
  ];
  return { ...base, flowErrors: [], invoices, statusLines: lines, updates, state: flowStateOf([], outcomes) };
}

/** A directory view over the structures and services gathered for this flow. */
const directoryOf = (ctx: JudgeContext): Directory => ({
  structure: (siret) => ctx.structures.get(siret),
  service: (siret, code) => ctx.services.get(serviceKey(siret, code)),
});

/**
 * Judges invoices in order; `seen` carries the flow's invoice keys across calls, so that a
 * large flow can be judged in bounded batches and still find duplicates within it.
 */
export function judgeInvoices(invoices: Invoice[], read: Pick<ReadResult, 'kind' | 'entryErrors'>, ctx: JudgeContext, partner?: Partner, seen = new Set<string>()): InvoiceDecision[] {
  const directory = directoryOf(ctx);
  const rules = { depositDate: ctx.depositDate, ...ctx.limits };
  return invoices.map((invoice) => {
    // An archive entry that could not be read is refused with what was wrong with it.
    const unreadable = read.entryErrors?.get(invoice.position);
    if (unreadable) return { invoice, errors: unreadable };
    // The hub's own findings first (they name the field to fill), then the official rules'.
    const errors = [...checkInvoice(invoice, rules), ...checkRouting(invoice, directory), ...(invoice.official?.errors ?? [])];
    if (!supplierAllowed(partner, invoice.supplier.id)) {
      errors.push(flowError('PARTNER_SUPPLIER_NOT_ALLOWED', { partner: partner!.code, supplier: invoice.supplier.id }, invoice.where.supplierId));
    }
    const key = invoiceKey(invoice);
    if (invoice.number && seen.has(key)) {
      errors.push(flowError('RULE_DUPLICATE_IN_FLOW', { number: invoice.number, supplier: invoice.supplier.id }, invoice.where.number));
    }
    seen.add(key);
    if (errors.length) return { invoice, errors };
    const earlier = earlierDeposit(invoice, ctx, read.kind === 'request');
    if (earlier && 'code' in earlier) return { invoice, errors: [earlier] };
    return earlier ? { invoice, errors, resend: earlier } : { invoice, errors };
  });
}

/**
 * The same supplier, number and issue year already accepted: a recycle (the earlier one is 04),
 * a completion (it is 06, and the lifecycle table lets the supplier make it 12), or double
 * invoicing. An operator's completion request must find a suspended invoice.
 */
function earlierDeposit(inv: Invoice, ctx: JudgeContext, completionRequest: boolean): FlowError | Resend | undefined {
  const earlier = ctx.earlier.get(invoiceKey(inv));
  const params = { number: inv.number, supplier: inv.supplier.id };
  if (completionRequest) {
    if (!earlier) return flowError('LIFE_INVOICE_UNKNOWN', params, inv.where.number);
    const refused = checkTransition({ number: inv.number, from: earlier.status, to: '12', producer: 'supplier' });
    return refused.length ? refused[0]! : { role: 'completion', renvoi: 'Complétée', originId: earlier.id };
  }
  if (!earlier) return undefined;
  if (earlier.status === '04') return { role: 'invoice', renvoi: 'Recyclée', originId: earlier.id };
  if (!checkTransition({ number: inv.number, from: earlier.status, to: '12', producer: 'supplier' }).length) return { role: 'completion', renvoi: 'Complétée', originId: earlier.id };
  return flowError('RULE_DOUBLE_INVOICING', { ...params, year: inv.issueDate.slice(0, 4), earlierFlowId: earlier.flow_id }, inv.where.number);
}

/** The delivery a status update concerns: by supplier and number (and date when given), the live one of a recycled chain. */
function targetOf(u: StatusUpdate, ctx: JudgeContext): InvoiceRow[] {
  const rows = ctx.statusTargets.get(statusTargetKey(u.supplierId, u.number)) ?? [];
  const dated = u.invoiceDate ? rows.filter((r) => r.issue_date === u.invoiceDate) : rows;
  // A recycled invoice (04) is superseded by its new delivery, which is the one to update.
  const live = dated.filter((r) => r.status !== '04');
  return live.length ? live : dated;
}

/** Judges updates in order; later updates of the same flow see the earlier ones' effect. */
function judgeStatuses(statuses: NonNullable<ReadResult['statuses']>, ctx: JudgeContext, partner?: Partner): { lines: StatusLine[]; updates: AcceptedUpdate[] } {
  const current = new Map<number, string | null>();
  const updates: AcceptedUpdate[] = [];
  const lines: StatusLine[] = statuses.updates.map((u) => {
    const line = { position: u.position, number: u.number, supplier: u.supplierId, recipient: u.recipientSiret, status: u.status };
    const refuse = (e: FlowError, invoiceId?: number): StatusLine => ({ ...line, invoiceId, errors: [e] });
    const tooLong = wordsOverLimit('CPPFactureStatutUnitaire', { ComplementStatut: u.complement, Commentaire: u.comment })[0];
    if (tooLong) return refuse(flowError('STATUS_TEXT_TOO_LONG', tooLong, u.where));
    // A circuit status in a status file comes from a validator, not from the recipient.
    const producer = lineProducer(statuses.producer, u.status);
    if (producer !== 'validator' && !recipientAllowed(partner, u.recipientSiret)) return refuse(flowError('PARTNER_RECIPIENT_NOT_ALLOWED', { partner: partner!.code, recipient: u.recipientSiret || '(none)' }, u.where));
    const found = targetOf(u, ctx);
    const params = { number: u.number, supplier: u.supplierId };
    if (!found.length) return refuse(flowError('LIFE_INVOICE_UNKNOWN', params, u.where));
    if (new Set(found.map((r) => r.issue_date)).size > 1) return refuse(flowError('LIFE_AMBIGUOUS_INVOICE', params, u.where));
    const invoice = found[0]!;
    if (producer === 'recipient' && invoice.recipient_siret !== u.recipientSiret) {
      return refuse(flowError('LIFE_NOT_RECIPIENT', { number: u.number, recipient: invoice.recipient_siret, sender: u.recipientSiret || '(none)' }, u.where), invoice.id);
    }
    const from = current.has(invoice.id) ? current.get(invoice.id)! : invoice.status;
    const circuit = circuitChecks(u, producer, from, invoice, ctx, partner)[0];
    if (circuit) return refuse(circuit, invoice.id);
    const errors = checkTransition({ number: u.number, from, to: u.status, producer, motif: u.motif, mandate: u.mandate }).map((e) => ({ ...e, ...u.where }));
    if (!errors.length) {
      const status = statusRule(u.status)!.code;
      current.set(invoice.id, status);
      updates.push({ invoiceId: invoice.id, status, producer, update: u });
    }
    return { ...line, invoiceId: invoice.id, errors };
  });
  return { lines: [...lines, ...statuses.acks.map((a) => judgeAck(a, ctx, partner))], updates };
}

/** A recipient acknowledges a pivot flow it received: 92 (taken in) or 94 (could not be taken in). */
function judgeAck(ack: FlowAck, ctx: JudgeContext, partner?: Partner): StatusLine {
  const line = { position: ack.position, number: ack.flowId, supplier: '', recipient: '', status: ack.status };
  const tooLong = wordsOverLimit('CPPFluxStatutUnitaire', { ComplementStatut: ack.complement, Commentaire: ack.comment })[0];
  if (tooLong) return { ...line, errors: [flowError('STATUS_TEXT_TOO_LONG', tooLong, ack.where)] };
  if (ack.status !== '92' && ack.status !== '94') return { ...line, errors: [flowError('LIFE_ACK_STATUS_INVALID', { status: ack.status }, ack.where)] };
  const recipients = ctx.deliveredRecipients.get(ack.flowId) ?? [];
  if (!recipients.length) return { ...line, errors: [flowError('LIFE_ACK_FLOW_UNKNOWN', { flowId: ack.flowId }, ack.where)] };
  // A partner acknowledges only pivots it received for one of its recipients.
  if (partner && !recipients.some((r) => recipientAllowed(partner, r))) {
    return { ...line, errors: [flowError('PARTNER_RECIPIENT_NOT_ALLOWED', { partner: partner.code, recipient: recipients.join(', ') }, ack.where)] };
  }
  return { ...line, errors: [] };
}
