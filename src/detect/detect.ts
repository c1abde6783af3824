/**
 * Detection by content, never by file name: magic bytes for archives, then the root
 * element and its namespace for XML. The table is data: adding a format is one row.
 */
import { pdfHeaderAt } from '../formats/pdf.js';
import type { SchemaName } from '../xml/schemas.js';

export type FlowKind = 'mixed' | 'statut' | 'ubl-invoice' | 'ubl-creditnote' | 'cii' | 'facturx' | 'zip' | 'tar.gz';

interface XmlKind {
  kind: FlowKind;
  root: string;
  ns: string;
  schema: SchemaName;
}

export const XML_KINDS: readonly XmlKind[] = [
  { kind: 'mixed', root: 'CPPFactureMixte', ns: '', schema: 'mixed' },
  { kind: 'statut', root: 'CPPStatut', ns: '', schema: 'statut' },
  { kind: 'ubl-invoice', root: 'Invoice', ns: 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2', schema: 'ubl-invoice' },
  { kind: 'ubl-creditnote', root: 'CreditNote', ns: 'urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2', schema: 'ubl-creditnote' },
  { kind: 'cii', root: 'CrossIndustryInvoice', ns: 'urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100', schema: 'cii' },
];

export const xmlKindOf = (root: string, ns: string): XmlKind | undefined => XML_KINDS.find((k) => k.root === root && k.ns === ns);

/** Archives by magic bytes; undefined means "treat as XML". */
export function archiveKindOf(head: Uint8Array): FlowKind | undefined {
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'zip';
  if (head[0] === 0x1f && head[1] === 0x8b) return 'tar.gz';
  return undefined;
}

/* --- Factur-X (to be re-homed into the format registry) --- */
/** A PDF by its magic bytes: `%PDF-` within the first 1024 bytes, as the PDF spec allows. */
export const isPdf = (head: Uint8Array): boolean => pdfHeaderAt(head) >= 0 && !looksLikeXml(head);
/* --- end Factur-X */

/** Whether the bytes can be XML at all: after an optional byte order mark and white space, a '<'. */
export function looksLikeXml(bytes: Uint8Array): boolean {
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
  if (utf16) i = 2;
  const step = utf16 ? 2 : 1;
  const at = (k: number) => (utf16 ? bytes[k] || bytes[k + 1] : bytes[k]);
  while (i < bytes.length && (at(i) === 0x20 || at(i) === 0x09 || at(i) === 0x0a || at(i) === 0x0d)) i += step;
  return at(i) === 0x3c;
}

/** A short, printable description of what a file starts with, for "unrecognised" reports. */
export function describeStart(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'an empty file';
  const head = Buffer.from(bytes.subarray(0, 32));
  const printable = head.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
  return `a file starting with "${printable}" (${bytes.length} bytes)`;
}
