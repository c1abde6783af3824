/**
 * Stages rules → route → decide: every invoice of a readable flow is accepted or rejected
 * on its own, and the whole decision is committed in one transaction (stage DECIDED), so a
 * crash leaves either no decision or a complete one.
 */
import { parseProfileRules } from '../formats/facturxProfiles.js';
import path from 'node:path';
import { asError, flowError, type FlowError } from '../errors/catalog.js';
import type { Hub } from '../hub.js';
import { addEvent, earlierSameContent, getFlow, sql, type EventSource, type FlowRow } from '../ledger/flows.js';
import type { Invoice } from '../model/invoice.js';
import { flowStateOf, STATUS_OF_STATE, type FlowState } from '../emit/report.js';
import { checkRouting } from '../route/routing.js';
import { checkInvoice } from '../validate/rules.js';
import { readFlowFile, type ReadResult } from './read.js';
import { safeName } from '../util/paths.js';
import { partnerOf, supplierAllowed, type Partner } from '../route/partners.js';
import { applyStatusUpdates, judgeStatusFlow, type StatusFlowJudgement } from '../lifecycle/inbound.js';

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

export interface Decided {
  read: ReadResult;
  decisions: InvoiceDecision[];
}

export const localDate = (iso: string): string => {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};

/** The key that makes two invoices "the same": supplier, number, issue year. */
const invoiceKey = (inv: Invoice) => `${inv.supplier.id}\u0000${inv.number}\u0000${inv.issueDate.slice(0, 4)}`;

interface Earlier {
  id: number;
  flow_id: string;
  status: string | null;
}

/** The same supplier, number and issue year already deposited: a recycle, a completion, or double invoicing. */
function earlierDeposit(hub: Hub, inv: Invoice): FlowError | Resend | undefined {
  const year = inv.issueDate.slice(0, 4);
  // Accepted invoices of this same flow count too: a replay must not accept a second copy.
  const earlier = sql(hub.db, "SELECT id, flow_id, status FROM invoices WHERE supplier_id = ? AND number = ? AND substr(issue_date, 1, 4) = ? AND accepted = 1 AND role = 'invoice' ORDER BY id DESC LIMIT 1")
    .get(inv.supplier.id, inv.number, year) as Earlier | undefined;
  if (!earlier) return undefined;
  if (earlier.status === '04') return { role: 'invoice', renvoi: 'Recyclée', originId: earlier.id };
  if (earlier.status === '06') return { role: 'completion', renvoi: 'Complétée', originId: earlier.id };
  return flowError('RULE_DOUBLE_INVOICING', { supplier: inv.supplier.id, number: inv.number, year, earlierFlowId: earlier.flow_id }, inv.where.number);
}

/** Checks every invoice: deposit rules, routing, duplicates within the flow and in the ledger. */
export function judgeInvoices(hub: Hub, read: ReadResult, depositDate: string, partner?: Partner): InvoiceDecision[] {
  const ctx = { depositDate, maxAttachmentBytes: hub.settings.maxAttachmentBytes, maxInvoiceTotalBytes: hub.settings.maxInvoiceTotalBytes, facturxProfiles: parseProfileRules(hub.settings.facturxProfiles) };
  const seen = new Set<string>();
  return read.invoices.map((invoice) => {
    // An archive entry that could not be read is refused with what was wrong with it.
    const unreadable = read.entryErrors?.get(invoice.position);
    if (unreadable) return { invoice, errors: unreadable };
    const errors = [...checkInvoice(invoice, ctx), ...checkRouting(invoice, hub.directory)];
    if (!supplierAllowed(partner, invoice.supplier.id)) {
      errors.push(flowError('PARTNER_SUPPLIER_NOT_ALLOWED', { partner: partner!.code, supplier: invoice.supplier.id }, invoice.where.supplierId));
    }
    const key = invoiceKey(invoice);
    if (invoice.number && seen.has(key)) {
      errors.push(flowError('RULE_DUPLICATE_IN_FLOW', { number: invoice.number, supplier: invoice.supplier.id }, invoice.where.number));
    }
    seen.add(key);
    if (errors.length) return { invoice, errors };
    const earlier = earlierDeposit(hub, invoice);
    if (earlier && 'code' in earlier) return { invoice, errors: [earlier] };
    return earlier ? { invoice, errors, resend: earlier } : { invoice, errors };
  });
}

/** Integrated flows (fully or partly) are archived by deposit date; refused ones go to failed/. */
export function finalPathOf(hub: Hub, flow: FlowRow, state: FlowState): string {
  const dir = state === 'IN_INTEGRE' || state === 'IN_INTEGRE_PARTIEL' ? path.join(hub.layout.archive, ...localDate(flow.received_at).split('-')) : hub.layout.failed;
  return path.join(dir, `${flow.id}__${safeName(flow.file_name)}`);
}

/** Writes one invoice's decision (a new row, or the row of an earlier attempt) and its first event. */
export function recordDecision(hub: Hub, flowId: string, { invoice: inv, errors, resend }: InvoiceDecision, source: EventSource, at: string): void {
  const values = [
    inv.label, inv.number, inv.supplier.idType, inv.supplier.id, inv.supplier.name, inv.supplier.countryCode,
    inv.recipient.siret, inv.recipient.name ?? null, inv.recipient.serviceCode ?? null, inv.engagementNumber ?? null,
    inv.issueDate, inv.type, inv.totals.gross, inv.currency, errors.length ? 0 : 1, JSON.stringify(errors),
    resend?.role ?? 'invoice', resend?.renvoi ?? 'Non', resend?.originId ?? null,
  ];
  const row = sql(hub.db, `INSERT INTO invoices (flow_id, position, label, number, supplier_type, supplier_id, supplier_name, supplier_country,
      recipient_siret, recipient_name, service_code, engagement, issue_date, type, amount_gross, currency, accepted, errors, role, renvoi, origin_invoice_id)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (flow_id, position) DO UPDATE SET label = excluded.label, number = excluded.number, supplier_type = excluded.supplier_type,
        supplier_id = excluded.supplier_id, supplier_name = excluded.supplier_name, supplier_country = excluded.supplier_country,
        recipient_siret = excluded.recipient_siret, recipient_name = excluded.recipient_name, service_code = excluded.service_code,
        engagement = excluded.engagement, issue_date = excluded.issue_date, type = excluded.type, amount_gross = excluded.amount_gross,
        currency = excluded.currency, accepted = excluded.accepted, errors = excluded.errors, role = excluded.role, renvoi = excluded.renvoi,
        origin_invoice_id = excluded.origin_invoice_id
      RETURNING id`).get(flowId, inv.position, ...values) as { id: number };
  if (errors.length) return;
  // A completion brings the suspended invoice to 12; any other accepted invoice is deposited (01).
  if (resend?.role === 'completion') addEvent(hub.db, resend.originId, '12', at, 'supplier', source);
  else addEvent(hub.db, row.id, '01', at, 'platform', source);
}

/** CLAIMED → DECIDED. Returns the models so that delivery need not parse the flow again. */
export function decide(hub: Hub, flow: FlowRow): Decided {
  const [decided] = decideTogether(hub, [flow]);
  if (decided instanceof Error) throw decided;
  return decided!;
}

/**
 * CLAIMED → DECIDED for flows decided together (a worker's group of small flows). Reading
 * happens outside the ledger's write lock; judging (duplicates, double invoicing) and
 * recording happen inside it, so two processes deciding at once (the daemon and a `factflow
 * process`) cannot both accept the same file or the same invoice. The flows are judged in
 * order in one transaction, each in its own savepoint: a later flow sees what an earlier one
 * accepted, a fault undoes its own flow only, and the group costs one commit. Returns each
 * flow's decision, or the system fault that stopped it.
 */
export function decideTogether(hub: Hub, flows: FlowRow[]): (Decided | Error)[] {
  const decidedAt = new Date().toISOString();
  const results: (Decided | Error | undefined)[] = flows.map(() => undefined);
  const parsed = flows.map((flow, i) => {
    try {
      const read = earlierSameContent(hub.db, flow.sha256, flow.id) ? undefined : readFlowFile(flow.spool_path, hub.settings);
      if (read?.readByHelpers) hub.log.debug(`${read.readByHelpers} of ${read.invoices.length} archive entries read on helper threads`, { flowId: flow.id });
      return read;
    } catch (e) {
      results[i] = asError(e);
      return undefined;
    }
  });
  try {
    hub.write(() =>
      flows.forEach((flow, i) => {
        if (results[i]) return;
        try {
          results[i] = hub.db.transaction(() => judgeAndRecord(hub, flow, parsed[i], decidedAt))();
        } catch (e) {
          results[i] = asError(e);
        }
      }),
    );
  } catch (e) {
    // The commit itself failed: none of them is decided.
    flows.forEach((_, i) => !(results[i] instanceof Error) && (results[i] = asError(e)));
  }
  flows.forEach((flow, i) => {
    const decided = results[i];
    if (!decided || decided instanceof Error) return;
    for (const { invoice, errors } of decided.decisions) {
      if (errors.length) hub.log.info(`invoice rejected: ${errors.map((e) => e.code).join(', ')}`, { flowId: flow.id, invoice: invoice.number || invoice.label });
      else hub.log.debug('invoice accepted', { flowId: flow.id, invoice: invoice.number });
    }
    if (decided.read.errors.length) hub.log.info(`flow refused: ${decided.read.errors.map((e) => e.code).join(', ')}`, { flowId: flow.id });
  });
  return results as (Decided | Error)[];
}

/** Inside the write lock: judges a flow read earlier (`parsed`) and records its decision. */
function judgeAndRecord(hub: Hub, flow: FlowRow, parsed: ReadResult | undefined, decidedAt: string): Decided {
  // Decided meanwhile by another process: its decision stands.
  if (getFlow(hub.db, flow.id)?.stage !== 'CLAIMED') return { read: parsed ?? { invoices: [], errors: [] }, decisions: [] };
  const duplicate = earlierSameContent(hub.db, flow.sha256, flow.id);
  let read: ReadResult = duplicate
    ? { invoices: [], errors: [flowError('FLOW_DUPLICATE', { sha256: flow.sha256, earlierFlowId: duplicate.id })] }
    : (parsed ?? readFlowFile(flow.spool_path, hub.settings));
  const { partner, error: partnerError } = partnerOf(hub.db, flow.partner);
  if (partnerError) read = { kind: read.kind, invoices: [], errors: [partnerError] };
  const decisions = judgeInvoices(hub, read, localDate(flow.received_at), partner);
  const statuses: StatusFlowJudgement = read.kind === 'statut' && read.root && !read.errors.length ? judgeStatusFlow(hub.db, read.root, partner) : { updates: [], lines: [] };
  const state = flowStateOf(read.errors, [...decisions, ...statuses.lines].map((d) => ({ status: d.errors.length ? 'REJECTED' : 'ACCEPTED' })));
  for (const d of decisions) recordDecision(hub, flow.id, d, { flowId: flow.id }, decidedAt);
  for (const l of statuses.lines) {
    sql(hub.db, 'INSERT INTO status_updates (flow_id, position, number, supplier_id, recipient_siret, status, invoice_id, accepted, errors) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(flow.id, l.position, l.number, l.supplier, l.recipient, l.status, l.invoiceId ?? null, l.errors.length ? 0 : 1, JSON.stringify(l.errors));
  }
  applyStatusUpdates(hub.db, statuses.updates, 'recipient', flow.id, decidedAt);
  sql(hub.db, "UPDATE flows SET stage = 'DECIDED', kind = ?, state = ?, status_code = ?, duplicate_of = ?, errors = ?, decided_at = ?, final_path = ? WHERE id = ? AND stage = 'CLAIMED'")
    .run(read.kind ?? null, state, STATUS_OF_STATE[state], duplicate?.id ?? null, JSON.stringify(read.errors), decidedAt, finalPathOf(hub, flow, state), flow.id);
  return { read, decisions };
}
