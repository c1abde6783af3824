/**
 * EDI partners: each drops its flows in inbox/<code>/ and may act only for the suppliers and
 * recipients it is registered for. A flat inbox (no partner folder) is a single-partner
 * installation and is not checked.
 */
import type { PivotGrouping, StatusFormat } from '../config.js';

export interface Partner {
  code: string;
  name: string;
  suppliers: string[];
  recipients: string[];
  /** Validators (main contractors, agents, MOEs) it may send circuit statuses for. */
  validators?: string[];
  /** Overrides the pivotGrouping setting for its recipients' pivots and its suppliers' status files. */
  pivotGrouping?: PivotGrouping;
  /** Contact address: receives an e-mail on refusals and status changes of its invoices (when SMTP is set up). */
  email?: string;
  /** Overrides the statusFormat setting for its suppliers' statuses (and its own flows' answers). */
  statusFormat?: StatusFormat;
}

/** Partner codes look like AAA999; nothing else is used to build a path. */
export const PARTNER_CODE = /^[A-Z]{3}\d{3}$/;

export const supplierAllowed = (partner: Partner | undefined, supplierId: string): boolean => !partner || partner.suppliers.includes(supplierId);
export const validatorAllowed = (partner: Partner | undefined, id: string): boolean => !partner || (partner.validators ?? []).includes(id);
export const recipientAllowed = (partner: Partner | undefined, siret: string): boolean => !partner || partner.recipients.includes(siret);

/**
 * The partner serving a recipient (or a supplier): the first registered partner, by code,
 * whose list holds it. Its grouping, when it has one, overrides the setting.
 */
export function groupingFor(partners: Partner[], side: 'recipients' | 'suppliers', id: string, setting: PivotGrouping): PivotGrouping {
  return servingPartner(partners, side, id)?.pivotGrouping ?? setting;
}

const servingPartner = (partners: Partner[], side: 'recipients' | 'suppliers', id: string): Partner | undefined =>
  [...partners].sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)).find((p) => p[side].includes(id));

/** The status format of a supplier: the override of the partner serving it, else the setting. */
export const statusFormatFor = (partners: Partner[], supplierId: string, setting: StatusFormat): StatusFormat =>
  servingPartner(partners, 'suppliers', supplierId)?.statusFormat ?? setting;
