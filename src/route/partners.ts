/**
 * EDI partners: each drops its flows in inbox/<code>/ and may act only for the suppliers and
 * recipients it is registered for. A flat inbox (no partner folder) is a single-partner
 * installation and is not checked.
 */
import { flowError, type FlowError } from '../errors/catalog.js';
import type { Db } from '../ledger/db.js';
import { sql } from '../ledger/flows.js';

export interface Partner {
  code: string;
  name: string;
  suppliers: string[];
  recipients: string[];
}

/** Partner codes look like AAA999; nothing else is used to build a path. */
export const PARTNER_CODE = /^[A-Z]{3}\d{3}$/;

interface PartnerRow {
  code: string;
  name: string;
  suppliers: string;
  recipients: string;
}

const fromRow = (r: PartnerRow): Partner => ({ code: r.code, name: r.name, suppliers: JSON.parse(r.suppliers), recipients: JSON.parse(r.recipients) });

export function getPartner(db: Db, code: string): Partner | undefined {
  const row = sql(db, 'SELECT * FROM partners WHERE code = ?').get(code) as PartnerRow | undefined;
  return row && fromRow(row);
}

export const listPartners = (db: Db): Partner[] => (sql(db, 'SELECT * FROM partners ORDER BY code').all() as PartnerRow[]).map(fromRow);

export function savePartner(db: Db, p: Partner): void {
  sql(db, `INSERT INTO partners (code, name, suppliers, recipients, created_at) VALUES (@code, @name, @suppliers, @recipients, @at)
      ON CONFLICT (code) DO UPDATE SET name = excluded.name, suppliers = excluded.suppliers, recipients = excluded.recipients`)
    .run({ code: p.code, name: p.name, suppliers: JSON.stringify(p.suppliers), recipients: JSON.stringify(p.recipients), at: new Date().toISOString() });
}

export const removePartner = (db: Db, code: string): boolean => sql(db, 'DELETE FROM partners WHERE code = ?').run(code).changes > 0;

/** The partner a flow came from: none (flat inbox), a registered one, or an error refusing the flow. */
export function partnerOf(db: Db, code: string | null): { partner?: Partner; error?: FlowError } {
  if (!code) return {};
  const partner = PARTNER_CODE.test(code) ? getPartner(db, code) : undefined;
  return partner ? { partner } : { error: flowError('FLOW_PARTNER_UNKNOWN', { partner: code }) };
}

export const supplierAllowed = (partner: Partner | undefined, supplierId: string): boolean => !partner || partner.suppliers.includes(supplierId);
export const recipientAllowed = (partner: Partner | undefined, siret: string): boolean => !partner || partner.recipients.includes(siret);
