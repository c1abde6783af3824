/**
 * Detection by content, never by file name: leading bytes, then the root element and its
 * namespace for XML, both matched against the format table (pipeline/formats).
 */

export type FlowKind = 'mixed' | 'statut' | 'ubl-invoice' | 'ubl-creditnote' | 'cii' | 'zip' | 'tar.gz' | 'request';

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
