/** Decoding attachments sent as base64, possibly already zipped (as the pivot carries them). */
import type { Attachment } from '../model/invoice.js';
import { isZip, unzipOne } from '../util/zip.js';

const BASE64 = /^[A-Za-z0-9+/\r\n\t ]*={0,2}[\r\n\t ]*$/;

export function decodeAttachment(type: '01' | '02', name: string, mimeType: string, base64: string, maxSize: number): Attachment {
  if (!BASE64.test(base64)) return { type, name, mimeType, content: Buffer.alloc(0), badBase64: true };
  const bytes = Buffer.from(base64, 'base64');
  if (!isZip(bytes)) return { type, name, mimeType, content: bytes };
  // Already a zip: it must hold exactly one file; its content is what the size rules look at.
  const inner = unzipOne(bytes, maxSize);
  return { type, name, mimeType, content: inner?.content ?? Buffer.alloc(0), zipped: bytes, ...(inner ? {} : { badZip: true }) };
}
