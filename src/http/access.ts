/**
 * Who may see what over HTTP (pure). An operator sees everything. A partner sees in full the
 * flows it deposited; of other flows, only the invoices of the suppliers it represents and of the
 * recipients it serves (the same lists as its inbox permissions, src/route/partners.ts): their
 * metadata, their pivots and readable views, never the original file nor the whole report, which
 * hold other parties' invoices.
 */
import type { Principal } from '../app/tokens.js';
import type { FlowRow, HoldRow, InvoiceRow, Visibility } from '../ledger/stores.js';
import { validatorsOf } from '../lifecycle/circuits.js';

export type FlowView = 'full' | 'partial' | 'none';

export const visibilityOf = (p: Principal): Visibility | undefined =>
  p.kind === 'operator' ? undefined : { partner: p.partner.code, suppliers: p.partner.suppliers, recipients: p.partner.recipients };

export function invoiceVisible(p: Principal, invoice: Pick<InvoiceRow, 'supplier_id' | 'recipient_siret'>, flow: Pick<FlowRow, 'partner'>): boolean {
  if (p.kind === 'operator' || flow.partner === p.partner.code) return true;
  return p.partner.suppliers.includes(invoice.supplier_id) || p.partner.recipients.includes(invoice.recipient_siret);
}

/**
 * A validator's partner sees the invoices held in a circuit for it (either level, awaited or
 * decided): their metadata and history, so that it can decide over the API what its outbox
 * folder made available to it.
 */
export const heldFor = (p: Principal, hold: Pick<HoldRow, 'validator_1' | 'validator_2'> | undefined): boolean =>
  p.kind === 'partner' && !!hold && validatorsOf(hold).some((v) => (p.partner.validators ?? []).includes(v));

export function flowView(p: Principal, flow: Pick<FlowRow, 'partner'>, invoices: Pick<InvoiceRow, 'supplier_id' | 'recipient_siret'>[]): FlowView {
  if (p.kind === 'operator' || flow.partner === p.partner.code) return 'full';
  return invoices.some((i) => invoiceVisible(p, i, flow)) ? 'partial' : 'none';
}

/** A pivot file goes to one recipient and may hold several suppliers' invoices: visible when every one of them is. */
export const pivotVisible = (p: Principal, flow: Pick<FlowRow, 'partner'>, invoicesInPivot: Pick<InvoiceRow, 'supplier_id' | 'recipient_siret'>[]): boolean =>
  invoicesInPivot.every((i) => invoiceVisible(p, i, flow));

/** Whom a deposit is made for: a partner deposits as itself; an operator as the partner it names (or the flat inbox). */
export function depositAs(p: Principal, organizationId: string | undefined): { partner?: string } | { forbidden: string } {
  if (p.kind === 'operator') return organizationId ? { partner: organizationId } : {};
  if (organizationId && organizationId !== p.partner.code) return { forbidden: `partner ${p.partner.code} may not deposit for ${organizationId}: a partner's token deposits as that partner only` };
  return { partner: p.partner.code };
}

export const whoIs = (p: Principal): string => (p.kind === 'operator' ? `operator ${p.name}` : `partner ${p.partner.code}`);
