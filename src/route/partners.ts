/**
 * EDI partners: each drops its flows in inbox/<code>/ and may act only for the suppliers and
 * recipients it is registered for. A flat inbox (no partner folder) is a single-partner
 * installation and is not checked.
 */

export interface Partner {
  code: string;
  name: string;
  suppliers: string[];
  recipients: string[];
}

/** Partner codes look like AAA999; nothing else is used to build a path. */
export const PARTNER_CODE = /^[A-Z]{3}\d{3}$/;

export const supplierAllowed = (partner: Partner | undefined, supplierId: string): boolean => !partner || partner.suppliers.includes(supplierId);
export const recipientAllowed = (partner: Partner | undefined, siret: string): boolean => !partner || partner.recipients.includes(siret);
