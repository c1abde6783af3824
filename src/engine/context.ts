/**
 * What judging a flow needs besides the flow itself, gathered from the ledger beforehand (by
 * the application layer, inside the decision's transaction) so that the judge is a pure
 * function. `needsOf` says what to gather for a given read flow.
 */
import type { ProfileRule } from '../formats/facturxProfiles.js';
import type { Channel, EarlierDeposit, HoldRow, InvoiceRow } from '../ledger/stores.js';
import type { Invoice } from '../model/invoice.js';
import type { ReadResult } from '../pipeline/readResult.js';
import type { Service, Structure } from '../route/directory.js';
import type { Partner } from '../route/partners.js';

/** The partner a flow came from: none (flat inbox, operator), a registered one, or an unknown folder. */
export type PartnerView = { kind: 'none' } | { kind: 'registered'; partner: Partner } | { kind: 'unknown'; code: string };

export interface JudgeContext {
  channel: Channel;
  /** The flow's SHA-256 (a duplicate is reported with it). */
  sha256: string;
  /** The deposit date (local, YYYY-MM-DD): issue dates may not be after it. */
  depositDate: string;
  /** An earlier flow with the same bytes: this one is a duplicate. */
  duplicateOf?: string;
  partner: PartnerView;
  structures: Map<string, Structure>;
  /** By `siret\0code`. */
  services: Map<string, Service>;
  /** The latest accepted invoice per `invoiceKey`. */
  earlier: Map<string, EarlierDeposit>;
  /** For a replay: positions an earlier attempt accepted; they are never judged again. */
  acceptedBefore: Set<number>;
  /** Accepted invoices a status update may concern, by `supplier\0number`. */
  statusTargets: Map<string, InvoiceRow[]>;
  /** When the flow was received (ISO): validation deadlines are judged against it. */
  receivedAt?: string;
  /** The validation circuits the invoices of statusTargets are held in, by invoice id. */
  holds?: Map<number, HoldRow>;
  /** The recipients each pivot flow was delivered to, for acknowledgments. */
  deliveredRecipients: Map<string, string[]>;
  /** The deposit rules' settings: attachment caps, the Factur-X profiles accepted. */
  limits: { maxAttachmentBytes: number; maxInvoiceTotalBytes: number; facturxProfiles?: ProfileRule[] };
}

/** The key that makes two invoices "the same": supplier, number, issue year. */
export const invoiceKey = (inv: Pick<Invoice, 'number' | 'issueDate'> & { supplier: { id: string } }) => `${inv.supplier.id}\u0000${inv.number}\u0000${inv.issueDate.slice(0, 4)}`;
export const serviceKey = (siret: string, code: string) => `${siret}\u0000${code}`;
export const statusTargetKey = (supplierId: string, number: string) => `${supplierId}\u0000${number}`;

export interface ContextNeeds {
  sirets: string[];
  serviceKeys: string[];
  invoiceKeys: string[];
  statusTargets: [string, string][];
  ackFlows: string[];
}

/** The ledger rows judging `read` may look at (what the application gathers into a JudgeContext). */
export function needsOf(read: ReadResult, skip: Set<number> = new Set()): ContextNeeds {
  const invoices = read.invoices.filter((i) => !skip.has(i.position));
  return {
    sirets: [...new Set(invoices.map((i) => i.recipient.siret).filter(Boolean))],
    serviceKeys: [...new Set(invoices.filter((i) => i.recipient.siret && i.recipient.serviceCode).map((i) => serviceKey(i.recipient.siret, i.recipient.serviceCode!)))],
    invoiceKeys: [...new Set(invoices.filter((i) => i.number).map(invoiceKey))],
    statusTargets: (read.statuses?.updates ?? []).map((u) => [u.supplierId, u.number]),
    ackFlows: [...new Set((read.statuses?.acks ?? []).map((a) => a.flowId))],
  };
}
