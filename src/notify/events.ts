/**
 * Notification events, as data: what a finished flow or a status change tells webhooks and
 * partners' e-mail. Pure: the application layer writes them to the ledger's outbox in the
 * transaction that causes them, and the dispatcher delivers them from there.
 */
import { randomUUID } from 'node:crypto';
import type { IntegrationReport } from '../emit/report.js';
import type { EventRecord, FlowRow, InvoiceRow, NotifyEventRecord, NotifyEventRow } from '../ledger/stores.js';
import { STATUS_NAMES } from '../lifecycle/statuses.js';
import type { Partner } from '../route/partners.js';

export const EVENT_TYPES = ['flow.done', 'flow.refused', 'invoice.status'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** States in which a flow is refused whole (status 93). */
const REFUSED_STATES = new Set(['IN_REJETE', 'QP_IRRECEVABLE']);

/** Microseconds, strictly increasing in this process: events recorded in one transaction keep their order. */
let lastSeq = 0;
const nextSeq = () => (lastSeq = Math.max(lastSeq + 1, Date.now() * 1000));

const event = (type: EventType, at: string, fields: Omit<NotifyEventRecord, 'id' | 'type' | 'at' | 'seq'>): NotifyEventRecord => ({
  id: randomUUID(),
  type,
  at,
  seq: nextSeq(),
  ...fields,
});

/** A partner's flow has finished an attempt: `flow.done`, and `flow.refused` when it was refused whole. */
export function flowEvents(flow: Pick<FlowRow, 'id' | 'file_name' | 'partner' | 'received_at' | 'decided_at' | 'replays'>, report: IntegrationReport, doneAt: string): NotifyEventRecord[] {
  const rejected = report.invoices.filter((i) => i.status === 'REJECTED');
  const updates = report.statusUpdates ?? [];
  const payload = {
    flowId: flow.id,
    file: flow.file_name,
    partner: flow.partner,
    attempt: flow.replays,
    state: report.state,
    statusCode: report.statusCode,
    receivedAt: flow.received_at,
    doneAt,
    ...(report.duplicateOf ? { duplicateOf: report.duplicateOf } : {}),
    errors: report.errors.map((e) => ({ code: e.code, message: e.message })),
    invoices: { total: report.invoices.length, accepted: report.invoices.length - rejected.length, rejected: rejected.length },
    rejected: rejected.map((i) => ({ label: i.label, number: i.number, supplier: i.supplier, recipient: i.recipient, errors: i.errors.map((e) => ({ code: e.code, message: e.message })) })),
    ...(updates.length ? { statusUpdates: { total: updates.length, applied: updates.filter((u) => u.status === 'ACCEPTED').length } } : {}),
  };
  const fields = {
    flowId: flow.id,
    invoiceId: null,
    partner: flow.partner,
    suppliers: [...new Set([...report.invoices, ...updates].map((i) => i.supplier).filter(Boolean))],
    recipients: [...new Set([...report.invoices, ...updates].map((i) => i.recipient).filter(Boolean))],
    payload,
  };
  const out = [event('flow.done', doneAt, fields)];
  if (REFUSED_STATES.has(report.state)) out.push(event('flow.refused', doneAt, fields));
  return out;
}

/** A status change of an invoice (deposited, made available, a recipient's or an operator's status). */
export function statusEvent(invoice: InvoiceRow, e: EventRecord): NotifyEventRecord {
  return event('invoice.status', e.at, {
    flowId: e.sourceFlow,
    invoiceId: invoice.id,
    partner: null,
    suppliers: [invoice.supplier_id],
    recipients: [invoice.recipient_siret],
    payload: {
      invoiceId: invoice.id,
      number: invoice.number,
      issueDate: invoice.issue_date,
      supplier: invoice.supplier_id,
      supplierName: invoice.supplier_name,
      recipient: invoice.recipient_siret,
      recipientName: invoice.recipient_name,
      serviceCode: invoice.service_code,
      amountGross: invoice.amount_gross,
      currency: invoice.currency,
      status: e.status,
      statusLabel: STATUS_NAMES[e.status] ?? e.status,
      producer: e.producer,
      ...(e.motif ? { motif: e.motif } : {}),
      ...(e.comment ? { comment: e.comment } : {}),
      ...(e.mandate ? { mandate: e.mandate } : {}),
      ...(e.producedAt ? { producedAt: e.producedAt } : {}),
      flowId: e.sourceFlow,
      depositFlowId: invoice.flow_id,
      attempt: e.attempt,
    },
  });
}

/**
 * Whether an event concerns a partner: a flow it sent (or, from the flat inbox, one about its
 * suppliers or recipients); an invoice of a supplier it represents or a recipient it serves.
 * Another partner's flow is never shown, even when it names one of its suppliers.
 */
export function concerns(partner: Pick<Partner, 'code' | 'suppliers' | 'recipients'>, e: Pick<NotifyEventRow, 'type' | 'partner' | 'suppliers' | 'recipients'>): boolean {
  const covered = () => (JSON.parse(e.suppliers) as string[]).some((s) => partner.suppliers.includes(s)) || (JSON.parse(e.recipients) as string[]).some((r) => partner.recipients.includes(r));
  if (e.type === 'invoice.status') return covered();
  return e.partner ? e.partner === partner.code : covered();
}

/** The JSON body a webhook receives: the event's id (for idempotency), type, time and data. */
export const eventBody = (d: { event_id: string; event_type: string; event_at: string; payload: string }): string =>
  `{"id":${JSON.stringify(d.event_id)},"type":${JSON.stringify(d.event_type)},"at":${JSON.stringify(d.event_at)},"data":${d.payload}}`;
