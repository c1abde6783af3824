/**
 * What UBL and CII adapters share: reading party identifiers (SIRET scheme 0009 or
 * schemeName 1, SIREN 0002, VAT numbers for foreign suppliers), the billing framework
 * (A1, or A2 when the invoice is already paid), and the attachments of a structured
 * invoice (the original XML as type 01, embedded documents as type 02).
 */
import type { Attachment, Invoice, Party } from '../model/invoice.js';
import { safeName } from '../util/paths.js';
import { parseDecimal } from '../validate/decimal.js';
import type { XNode } from '../xml/parse.js';
import { decodeAttachment } from './attachments.js';

export interface IdCandidate {
  value: string;
  scheme?: string;
  schemeName?: string;
}

const EU = new Set('AT BE BG CY CZ DE DK EE ES FI FR GR EL HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK'.split(' '));

export const isSiretScheme = (c: IdCandidate) => c.scheme === '0009' || c.schemeName === '1' || c.schemeName?.toUpperCase() === 'SIRET';
const isSirenScheme = (c: IdCandidate) => c.scheme === '0002' || c.schemeName?.toUpperCase() === 'SIREN';

/** The SIRET among the identifiers, else a SIREN (which the rules will refuse as not a SIRET). */
export function pickSiret(ids: IdCandidate[]): string | undefined {
  return (ids.find(isSiretScheme) ?? ids.find(isSirenScheme) ?? ids.find((c) => /^\d{14}$/.test(c.value)))?.value;
}

/** Supplier identity: SIRET (type 1) for French suppliers, VAT number (2 EU, 3 elsewhere) otherwise. */
export function supplierIdentity(ids: IdCandidate[], vatIds: string[], country: string): Pick<Party, 'idType' | 'id'> {
  const siret = pickSiret(ids);
  if (siret || country === 'FR' || !country) return { idType: '1', id: siret ?? '' };
  const foreign = vatIds[0] ?? ids[0]?.value ?? '';
  return { idType: EU.has(country) ? '2' : '3', id: foreign };
}

/** A2 (already paid, e.g. purchase card) when nothing is left to pay and something was prepaid. */
export function cadreOf(payable: string, prepaid: string | undefined): string {
  // Exact decimals: 1e-30 is not nothing, and a number that is not one decides nothing.
  const left = parseDecimal(payable)?.value;
  const paid = prepaid === undefined ? undefined : parseDecimal(prepaid)?.value;
  return left?.eq(0) && paid?.gt(0) ? 'A2' : 'A1';
}

const EXTENSION_OF_MIME: Record<string, string> = {
  'application/pdf': 'pdf',
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/tiff': 'tif',
  'text/csv': 'csv',
  'text/plain': 'txt',
  'text/xml': 'xml',
  'application/xml': 'xml',
  'application/zip': 'zip',
  'application/vnd.oasis.opendocument.spreadsheet': 'ods',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
};

/** The original document as the pivot's type-01 attachment, named after the invoice. */
export function originalDocument(number: string, bytes: Buffer): Attachment {
  return { type: '01', name: `${safeName(number || 'facture', 46)}.xml`, mimeType: 'application/xml', content: bytes };
}

/** An embedded document (type 02): its file name, or its id with the extension of its MIME type. */
export function embeddedDocument(binary: XNode, id: string | undefined, maxSize: number): Attachment {
  const mime = binary.attrs.mimeCode ?? 'application/octet-stream';
  const name = binary.attrs.filename || `${id || 'piece-jointe'}.${EXTENSION_OF_MIME[mime] ?? 'bin'}`;
  return decodeAttachment('02', name, mime, binary.text, maxSize);
}

/** Fields that stay empty until a structured adapter fills them. */
export function blankInvoice(position: number, label: string): Invoice {
  return {
    position,
    label,
    number: '',
    type: '',
    cadre: '',
    issueDate: '',
    currency: '',
    paymentMeans: { code: '' },
    totals: { net: '', gross: '', payable: '' },
    vat: [],
    lines: [],
    supplier: { idType: '', id: '', name: '', countryCode: '' },
    recipient: { siret: '' },
    attachments: [],
    where: {},
  };
}
