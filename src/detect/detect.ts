/**
 * Detection by content, never by file name: leading bytes, then the root element and its
 * namespace for XML, both matched against the format table (pipeline/formats).
 */
import { pdfHeaderAt } from '../formats/pdf.js';

export type FlowKind = 'mixed' | 'statut' | 'cdar' | 'ubl-invoice' | 'ubl-creditnote' | 'cii' | 'facturx' | 'zip' | 'tar.gz' | 'request';

/* --- hardening (issue 13): UTF-16 in either byte order, with or without a BOM --- */

export interface TextEncoding {
  name: 'UTF-8' | 'UTF-16LE' | 'UTF-16BE';
  bom: boolean;
}

/**
 * The encoding family of an XML entity from its first bytes (XML 1.0 appendix F): a byte
 * order mark, or for UTF-16 without one, which byte of the first character is zero (any XML
 * document starts with an ASCII character: '<' or white space). Undefined: ASCII-compatible
 * (UTF-8, Latin-1...), decided by the declaration.
 */
export function xmlTextEncoding(bytes: Uint8Array): TextEncoding | undefined {
  const [b0, b1] = [bytes[0], bytes[1]];
  if (b0 === 0xef && b1 === 0xbb && bytes[2] === 0xbf) return { name: 'UTF-8', bom: true };
  if (b0 === 0xff && b1 === 0xfe) return { name: 'UTF-16LE', bom: true };
  if (b0 === 0xfe && b1 === 0xff) return { name: 'UTF-16BE', bom: true };
  if (bytes.length < 2) return undefined;
  if (b0 === 0 && b1 !== 0) return { name: 'UTF-16BE', bom: false };
  if (b0 !== 0 && b1 === 0) return { name: 'UTF-16LE', bom: false };
  return undefined;
}

/** A PDF by its magic bytes: `%PDF-` within the first 1024 bytes, as the PDF spec allows. */
export const isPdf = (head: Uint8Array): boolean => pdfHeaderAt(head) >= 0 && !looksLikeXml(head);

/** Whether the bytes can be XML at all: after an optional byte order mark and white space, a '<'. */
export function looksLikeXml(bytes: Uint8Array): boolean {
  const enc = xmlTextEncoding(bytes);
  const utf16 = enc?.name === 'UTF-16LE' || enc?.name === 'UTF-16BE';
  let i = enc?.bom ? (utf16 ? 2 : 3) : 0;
  const step = utf16 ? 2 : 1;
  // The code unit at k; a UTF-16 unit whose high byte is not zero is not ASCII.
  const at = (k: number) => (!utf16 ? bytes[k] : enc!.name === 'UTF-16LE' ? (bytes[k + 1] ? -1 : bytes[k]) : bytes[k] ? -1 : bytes[k + 1]);
  while (i < bytes.length && (at(i) === 0x20 || at(i) === 0x09 || at(i) === 0x0a || at(i) === 0x0d)) i += step;
  return at(i) === 0x3c;
}

/* --- end hardening --- */

/** A short, printable description of what a file starts with, for "unrecognised" reports. */
export function describeStart(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'an empty file';
  const head = Buffer.from(bytes.subarray(0, 32));
  const printable = head.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
  return `a file starting with "${printable}" (${bytes.length} bytes)`;
}
