/**
 * Stages rules → route → decide: every invoice of a readable flow is accepted or rejected
 * on its own, and the whole decision is committed in one transaction (stage DECIDED), so a
 * crash leaves either no decision or a complete one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { flowError, type FlowError } from '../errors/catalog.js';
import type { Hub } from '../hub.js';
import { addEvent, earlierSameContent, sql, type FlowRow } from '../ledger/flows.js';
import type { Invoice } from '../model/invoice.js';
import { flowStateOf, STATUS_OF_STATE } from '../emit/report.js';
import { checkRouting } from '../route/routing.js';
import { checkInvoice } from '../validate/rules.js';
import { readFlow, type ReadResult } from './read.js';
import { safeName } from '../util/paths.js';
import { holdsInvoiceStatuses, readStatusUpdates } from '../formats/statut.js';
import { applyStatusUpdates, judgeStatusUpdates, type UpdateOutcome } from '../lifecycle/inbound.js';

export interface InvoiceDecision {
  invoice: Invoice;
  errors: FlowError[];
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

function doubleInvoicing(hub: Hub, inv: Invoice, flowId: string): FlowError[] {
  const earlier = sql(hub.db, "SELECT id, flow_id, status FROM invoices WHERE supplier_id = ? AND number = ? AND substr(issue_date, 1, 4) = ? AND accepted = 1 AND flow_id <> ? ORDER BY id DESC LIMIT 1")
    .get(inv.supplier.id, inv.number, inv.issueDate.slice(0, 4), flowId) as Earlier | undefined;
  if (!earlier) return [];
  return [flowError('RULE_DOUBLE_INVOICING', { supplier: inv.supplier.id, number: inv.number, year: inv.issueDate.slice(0, 4), earlierFlowId: earlier.flow_id }, inv.where.number)];
}

/** Checks every invoice: deposit rules, routing, duplicates within the flow and in the ledger. */
export function judgeInvoices(hub: Hub, read: ReadResult, flowId: string, depositDate: string): InvoiceDecision[] {
  const ctx = { depositDate, maxAttachmentBytes: hub.settings.maxAttachmentBytes, maxInvoiceTotalBytes: hub.settings.maxInvoiceTotalBytes };
  const seen = new Set<string>();
  return read.invoices.map((invoice) => {
    // An archive entry that could not be read is refused with what was wrong with it.
    const unreadable = read.entryErrors?.get(invoice.position);
    if (unreadable) return { invoice, errors: unreadable };
    const errors = [...checkInvoice(invoice, ctx), ...checkRouting(invoice, hub.directory)];
    const key = invoiceKey(invoice);
    if (invoice.number && seen.has(key)) {
      errors.push(flowError('RULE_DUPLICATE_IN_FLOW', { number: invoice.number, supplier: invoice.supplier.id }, invoice.where.number));
    }
    seen.add(key);
    if (!errors.length) errors.push(...doubleInvoicing(hub, invoice, flowId));
    return { invoice, errors };
  });
}

/** CLAIMED → DECIDED. Returns the models so that delivery need not parse the flow again. */
export function decide(hub: Hub, flow: FlowRow): Decided {
  const decidedAt = new Date().toISOString();
  const duplicate = earlierSameContent(hub.db, flow.sha256, flow.id);
  let read: ReadResult;
  if (duplicate) {
    read = { invoices: [], errors: [flowError('FLOW_DUPLICATE', { sha256: flow.sha256, earlierFlowId: duplicate.id })] };
  } else if (flow.size > hub.settings.maxFlowBytes) {
    read = { invoices: [], errors: [flowError('FLOW_TOO_LARGE', { size: flow.size, limit: hub.settings.maxFlowBytes })] };
  } else {
    read = readFlow(fs.readFileSync(flow.spool_path), hub.settings);
  }
  if (read.kind === 'statut' && read.root && !holdsInvoiceStatuses(read.root)) {
    read = { ...read, errors: [flowError('FLOW_UNSUPPORTED_FORMAT', { kind: 'CPPStatut/CPPFluxStatuts (flow statuses are sent by the hub, not received)' })] };
  }
  const decisions = judgeInvoices(hub, read, flow.id, localDate(flow.received_at));
  const updates: UpdateOutcome[] = read.kind === 'statut' && read.root && !read.errors.length
    ? judgeStatusUpdates(hub.db, readStatusUpdates(read.root), 'recipient')
    : [];
  const outcomes = [...decisions, ...updates].map((d) => ({ status: d.errors.length ? 'REJECTED' as const : 'ACCEPTED' as const }));
  const state = flowStateOf(read.errors, outcomes);
  const finalDir = state === 'IN_INTEGRE' || state === 'IN_INTEGRE_PARTIEL'
    ? path.join(hub.layout.archive, ...localDate(flow.received_at).split('-'))
    : hub.layout.failed;
  const finalPath = path.join(finalDir, `${flow.id}__${safeName(flow.file_name)}`);

  hub.db.transaction(() => {
    for (const { invoice: inv, errors } of decisions) {
      const row = sql(hub.db, `INSERT INTO invoices (flow_id, position, label, number, supplier_type, supplier_id, supplier_name, supplier_country,
          recipient_siret, recipient_name, service_code, engagement, issue_date, type, amount_gross, currency, accepted, errors)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        flow.id, inv.position, inv.label, inv.number, inv.supplier.idType, inv.supplier.id, inv.supplier.name, inv.supplier.countryCode,
        inv.recipient.siret, inv.recipient.name ?? null, inv.recipient.serviceCode ?? null, inv.engagementNumber ?? null,
        inv.issueDate, inv.type, inv.totals.gross, inv.currency, errors.length ? 0 : 1, JSON.stringify(errors),
      );
      if (!errors.length) addEvent(hub.db, Number(row.lastInsertRowid), '01', decidedAt, 'platform', flow.id);
    }
    for (const { update: u, invoice, errors } of updates) {
      sql(hub.db, 'INSERT INTO status_updates (flow_id, position, number, supplier_id, recipient_siret, status, invoice_id, accepted, errors) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(flow.id, u.position, u.number, u.supplierId, u.recipientSiret, u.status, invoice?.id ?? null, errors.length ? 0 : 1, JSON.stringify(errors));
    }
    applyStatusUpdates(hub.db, updates, 'recipient', flow.id, decidedAt);
    sql(hub.db, "UPDATE flows SET stage = 'DECIDED', kind = ?, state = ?, status_code = ?, duplicate_of = ?, errors = ?, decided_at = ?, final_path = ? WHERE id = ? AND stage = 'CLAIMED'")
      .run(read.kind ?? null, state, STATUS_OF_STATE[state], duplicate?.id ?? null, JSON.stringify(read.errors), decidedAt, finalPath, flow.id);
  }).immediate();
  return { read, decisions };
}
