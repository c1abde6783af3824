/** Decoding attachments sent as base64, possibly already zipped (as the pivot carries them). */
import type { Attachment } from '../model/invoice.js';
import { unsafeFileNameReason } from '../util/fileNames.js';
import { isZip, unzipOne } from '../util/zip.js';

/** Any character that base64 text with white space cannot hold (a single class: scanned once, natively). */
const NOT_BASE64 = /[^A-Za-z0-9+/=\r\n\t ]/;
/** From the first '=': up to two of them, then only white space (the two classes share nothing, so no backtracking). */
const PADDING_TAIL = /^={1,2}[\r\n\t ]*$/;

/**
 * Base64 with white space anywhere and up to two '=' at the end only (then only white space).
 * Linear: two expressions that cannot backtrack (the single one this replaces took quadratic
 * time on attacker-sized runs of white space), each a native scan.
 */
export function isBase64Text(text: string): boolean {
  if (NOT_BASE64.test(text)) return false;
  const eq = text.indexOf('=');
  return eq < 0 || PADDING_TAIL.test(text.slice(eq));
}

/**
 * Bytes of their own: a small decoded Buffer is a slice of Node's shared 8 KB pool, which the
 * reading's transient buffers share too, and would keep a whole pool alive for as long as the
 * invoice is held (8 KB for a 1 KB PDF).
 */
function owned(bytes: Buffer): Buffer {
  if (bytes.byteLength === bytes.buffer.byteLength) return bytes;
  const copy = Buffer.allocUnsafeSlow(bytes.byteLength);
  bytes.copy(copy);
  return copy;
}

export function decodeAttachment(type: '01' | '02', name: string, mimeType: string, base64: string, maxSize: number): Attachment {
  if (!isBase64Text(base64)) return { type, name, mimeType, content: Buffer.alloc(0), badBase64: true };
  const bytes = owned(Buffer.from(base64, 'base64'));
  if (!isZip(bytes)) return { type, name, mimeType, content: bytes };
  // Already a zip: it must hold exactly one file; its content is what the size rules look at.
  const found = unzipOne(bytes, maxSize);
  // It is relayed as it is: an entry that is a path (zip-slip) makes it an invalid attachment zip.
  const inner = found && !unsafeFileNameReason(found.name) ? found : undefined;
  return { type, name, mimeType, content: inner?.content ?? Buffer.alloc(0), zipped: bytes, ...(inner ? {} : { badZip: true }) };
}
