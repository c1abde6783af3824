/**
 * The CDAR files a delivery writes, planned beside the CPPStatut files (pure): for each supplier
 * whose status format includes CDAR, one message per status this attempt records or makes (through
 * the one table, src/lifecycle/cdar.ts) and a 213 per invoice the flow rejected, with the
 * concentrator's variant of 200, 210 and 213 in outbox/ppf/; and for the flow's sender, CDAR
 * answers to what it refused: 501 for a whole flow, 213 for each refused line of a CDAR flow.
 */
import type { StatusFormat } from '../config.js';
import { cdarXml, type CdarMessage, type CdarParty } from '../emit/cdar.js';
import { parseErrors, type FlowRow, type InvoiceEventRow, type InvoiceRow, type StatusUpdateRow } from '../ledger/stores.js';
import { cdarOf, irreceivableReason, reasonOf, rejectionReason, wantsCdar, type CdarRow } from '../lifecycle/cdar.js';
import type { Places } from './places.js';

export interface CdarPlanned {
  kind: 'supplier-cdar' | 'ppf-cdar' | 'answer-cdar';
  path: string;
  chunks: () => Iterable<string>;
}

export interface CdarInput {
  flow: FlowRow;
  /** Events of this attempt and the 03s it makes, in the order of the supplier's statuses. */
  entries: InvoiceEventRow[];
  rows: InvoiceRow[];
  rowsById: Map<number, InvoiceRow>;
  statusUpdates: StatusUpdateRow[];
  /** The invoices refused status lines named (a 213 answer carries the invoice's date). */
  lineInvoices: Map<number, InvoiceRow>;
  /** Each supplier's format; missing: cpp. */
  formats: Map<string, StatusFormat>;
  /** The format of the flow's sender (its partner's, else the setting). */
  senderFormat: StatusFormat;
  partner?: string;
  platform: CdarParty;
  places: Places;
}

const DOCUMENT_TYPES = new Set(['380', '389', '393', '501', '386', '500', '384', '471', '472', '473', '261', '262', '381', '396', '502', '503']);
const typeCode = (t: string | undefined) => (t && DOCUMENT_TYPES.has(t) ? t : '380');
const party = (id: string, name?: string | null, idType = '1'): CdarParty => ({ id, scheme: idType === '1' ? '0009' : undefined, name: name ?? undefined });

export function planCdar(input: CdarInput): CdarPlanned[] {
  const { flow, places } = input;
  const attempt = flow.replays;
  const out: CdarPlanned[] = [];
  const seen = new Map<string, number>();
  // Names are deterministic: a status met twice for one invoice in one attempt gets _2, _3…
  const unitOf = (base: string) => {
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n > 1 ? `${base}_${n}` : base;
  };
  const emit = (supplierId: string, unit: string, m: Omit<CdarMessage, 'id' | 'platform'>) => {
    const id = `${flow.id}_${unit}${attempt ? `_r${attempt}` : ''}`;
    const message = { ...m, id, platform: input.platform };
    out.push({ kind: 'supplier-cdar', path: places.supplierCdar(supplierId, flow.id, attempt, unit), chunks: () => [cdarXml(message)] });
    if (m.row.ppf) out.push({ kind: 'ppf-cdar', path: places.ppfCdar(flow.id, attempt, unit), chunks: () => [cdarXml({ ...message, ppf: true })] });
  };
  const formatOf = (supplierId: string) => input.formats.get(supplierId) ?? 'cpp';

  for (const e of input.entries) {
    const row = cdarOf(e.status);
    if (!row || !wantsCdar(formatOf(e.supplier_id))) continue;
    const invoice = input.rowsById.get(e.invoice_id);
    emit(e.supplier_id, unitOf(`${e.invoice_id}_${row.cdar}`), {
      createdAt: e.at,
      row,
      buyer: party(e.recipient_siret, e.recipient_name),
      seller: party(e.supplier_id, e.supplier_name, e.supplier_type),
      invoice: { number: e.number, issueDate: e.issue_date, typeCode: typeCode(invoice?.type), receivedAt: invoice?.flow_id === flow.id ? flow.received_at : undefined },
      at: e.produced_at ?? e.at,
      reason: row.reason || e.motif ? reasonOf(row, e.motif ?? undefined) : undefined,
      comment: e.comment ?? undefined,
    });
  }

  // Invoices the flow rejected: 213 Rejetée, the reason from their first error.
  const rejected = cdarOf('96')!;
  for (const r of input.rows) {
    if (r.accepted || !wantsCdar(formatOf(r.supplier_id))) continue;
    const errors = parseErrors(r.errors);
    emit(r.supplier_id, unitOf(`P${r.position}_${rejected.cdar}`), {
      createdAt: flow.decided_at ?? flow.received_at,
      row: rejected,
      buyer: party(r.recipient_siret, r.recipient_name),
      seller: party(r.supplier_id, r.supplier_name, r.supplier_type),
      invoice: { number: r.number || `NumOrdre ${r.position}`, issueDate: r.issue_date || undefined, typeCode: typeCode(r.type), receivedAt: flow.received_at },
      at: flow.decided_at ?? flow.received_at,
      reason: { code: rejectionReason(errors), text: errors[0]?.message },
    });
  }

  // Answers to the flow's sender (a partner's platform): what it sent and the hub refused.
  if (flow.channel === 'edi' && (wantsCdar(input.senderFormat) || flow.kind === 'cdar')) {
    const answer = (unit: string, row: CdarRow, number: string, errors: ReturnType<typeof parseErrors>, seller?: CdarParty, target?: InvoiceRow) => {
      const message: CdarMessage = {
        id: `${flow.id}_${unit}`,
        createdAt: flow.decided_at ?? flow.received_at,
        row,
        platform: input.platform,
        buyer: {},
        seller: seller ?? {},
        answerTo: { id: input.partner, name: input.partner },
        invoice: { number, issueDate: target?.issue_date, typeCode: typeCode(target?.type), receivedAt: flow.received_at },
        at: flow.decided_at ?? flow.received_at,
        reason: { code: row.cdar === '501' ? irreceivableReason(errors) : rejectionReason(errors), text: errors[0]?.message },
      };
      out.push({ kind: 'answer-cdar', path: places.answerCdar(flow.id, input.partner, unit), chunks: () => [cdarXml(message)] });
    };
    const flowErrors = parseErrors(flow.errors);
    if (flowErrors.length) answer('501', cdarOf('93')!, flow.file_name, flowErrors);
    else if (flow.kind === 'cdar') {
      for (const u of input.statusUpdates) {
        if (u.accepted) continue;
        const target = u.invoice_id === null ? undefined : input.lineInvoices.get(u.invoice_id);
        // 213 must name the invoice's date (BR-FR-CDV-11): a line naming no invoice the hub knows is irreceivable.
        if (target) answer(`L${u.position}_213`, rejected, u.number, parseErrors(u.errors), party(target.supplier_id, target.supplier_name, target.supplier_type), target);
        else answer(`L${u.position}_501`, cdarOf('93')!, u.number, parseErrors(u.errors));
      }
    }
  }
  return out;
}
