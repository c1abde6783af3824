/** Decoding attachments sent as base64, possibly already zipped (as the pivot carries them). */
import type { Attachment } from '../model/invoice.js';
import { unsafeFileNameReason } from '../util/fileNames.js';
import { isZip, unzipOne } from '../util/zip.js';

/**
 * Base64 with white space anywhere and up to two '=' at the end only (then only white
 * space). One pass over the text: a regular expression here backtracks quadratically on
 * attacker-sized runs of white space.
 */
export function isBase64Text(text: string): boolean {
  let padding = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      if (padding) padding = 3; // after padding, white space only
      continue;
    }
    if (c === 0x3d) {
      if (padding >= 2 || (padding && text.charCodeAt(i - 1) !== 0x3d)) return false;
      padding++;
      continue;
    }
    if (padding) return false;
    const data = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f;
    if (!data) return false;
  }
  return true;
}

export function decodeAttachment(type: '01' | '02', name: string, mimeType: string, base64: string, maxSize: number): Attachment {
  if (!isBase64Text(base64)) return { type, name, mimeType, content: Buffer.alloc(0), badBase64: true };
  const bytes = Buffer.from(base64, 'base64');
  if (!isZip(bytes)) return { type, name, mimeType, content: bytes };
  // Already a zip: it must hold exactly one file; its content is what the size rules look at.
  const found = unzipOne(bytes, maxSize);
  // It is relayed as it is: an entry that is a path (zip-slip) makes it an invalid attachment zip.
  const inner = found && !unsafeFileNameReason(found.name) ? found : undefined;
  return { type, name, mimeType, content: inner?.content ?? Buffer.alloc(0), zipped: bytes, ...(inner ? {} : { badZip: true }) };
}
