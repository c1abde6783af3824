/**
 * The canonical invoice: what every input format is mapped to and every output is made from.
 * Values stay as the text the supplier sent (amounts included) so that nothing is lost or
 * reformatted on the way to the pivot; rules parse them when they need numbers.
 */
import type { FlowError, Location } from '../errors/catalog.js';

/** A postal address as printed (rendered PDF only; the pivot has no place for it). */
export interface PostalAddress {
  lines: string[];
  postcode?: string;
  city?: string;
  countryCode?: string;
}

export interface Party {
  /** 1 SIRET, 2 EU, 3 non-EU, 4 RIDET, 5 TAHITI, 6 being registered, 7 private person. */
  idType: string;
  id: string;
  name: string;
  countryCode: string;
  bankAccount?: { type: 'IBAN' | 'RIB'; account?: string; institution?: string; holder?: string };
  /** For the rendered PDF. */
  vatNumber?: string;
  address?: PostalAddress;
}

export interface Recipient {
  siret: string;
  name?: string;
  serviceCode?: string;
  serviceName?: string;
  /** For the rendered PDF. */
  address?: PostalAddress;
}

export interface VatLine {
  rate: string;
  base: string;
  amount: string;
}

export interface InvoiceLine {
  productRef?: string;
  unitPrice: string;
  quantity: string;
  netAmount: string;
  vatRate?: string;
  /** Item name and description, for the rendered PDF. */
  name?: string;
  description?: string;
}

/**
 * An attachment's base64 text in its source file, as a large flow's reader found it: the bytes
 * `start`..`end` of `file` decode to `size` bytes whose CRC-32 is `crc` (checked when read again).
 */
export interface StoredBytes {
  file: string;
  start: number;
  end: number;
  size: number;
  crc: number;
}

/** The decoded size of an attachment, held or set aside. */
export const attachmentSize = (a: Attachment): number => a.content?.length ?? a.stored?.size ?? 0;

export interface Attachment {
  /** 01: the invoice itself; 02: an additional document. */
  type: '01' | '02';
  name: string;
  mimeType: string;
  /**
   * The decoded file (for a mixed flow, the PDF; for a structured flow, the original XML).
   * Absent when the reader set it aside (`stored`): read it with the application's `bytesOf`.
   */
  content?: Buffer;
  /** Where a set-aside file lies in the source, so that a large flow holds its attachments' sizes, not their bytes. */
  stored?: StoredBytes;
  /** Set when the supplier already sent a zip holding the file: passed through as is. */
  zipped?: Buffer;
  /** The supplier's base64 text did not decode. */
  badBase64?: boolean;
  /** The supplier sent a zip that does not hold exactly one readable file. */
  badZip?: boolean;
}

export interface Invoice {
  /** Position in the flow (NumOrdre, or the archive entry's index), 1-based. */
  position: number;
  /** How the supplier refers to this invoice in the report: NumOrdre or archive entry name. */
  label: string;
  number: string;
  type: string;
  cadre: string;
  issueDate: string;
  deliveryDate?: string;
  currency: string;
  paymentMeans: { code: string; label?: string };
  /**
   * net: total without VAT (HT); gross: with VAT (TTC); payable: amount due.
   * lines: sum of the lines before document-level allowances and charges, when the format
   * says it (otherwise the lines must add up to net).
   */
  totals: { net: string; gross: string; payable: string; lines?: string; prepaid?: string };
  vat: VatLine[];
  contractNumber?: string;
  engagementNumber?: string;
  /** Main contractor (validator) for frameworks A9/A12. */
  validator?: { idType: string; id: string };
  /** Project manager (MOE) of a works statement: the validator of its MOE level (src/lifecycle/circuits.ts). */
  moe?: { idType: string; id: string };
  lines: InvoiceLine[];
  supplier: Party;
  recipient: Recipient;
  attachments: Attachment[];
  /** Free-text notes and the payment due date, for the rendered PDF. */
  notes?: string[];
  dueDate?: string;
  /** For a Factur-X PDF: its profile (checked by the rules against the deposit date) and its structural PDF/A-3 warnings. */
  facturx?: { profile: string; structural: { check: string; detail: string }[] };
  /** The official rules' findings, from the reading stage (rules/official.ts): errors refuse the invoice, warnings refuse nothing. */
  official?: { errors: FlowError[]; warnings: FlowError[] };
  /** Where each field the rules may complain about was found in the source. */
  where: Partial<Record<InvoiceField, Location>>;
}

export type InvoiceField =
  | 'invoice'
  | 'number'
  | 'type'
  | 'cadre'
  | 'issueDate'
  | 'currency'
  | 'paymentMeans'
  | 'totals'
  | 'vat'
  | 'lines'
  | 'supplierId'
  | 'recipientId'
  | 'serviceCode'
  | 'engagementNumber'
  | 'attachments';
