/**
 * Folder and file names built from data (file names, supplier identifiers) are an injective
 * encoding of the data, as one safe path segment: two distinct inputs never share a folder,
 * whatever their separators, Unicode normalization forms or lengths.
 *
 * - ASCII letters, digits, `_` and `-` stand for themselves, and so do `.` and space except
 *   in first position (no `.`, `..`, dotfile or leading blank can come out);
 * - every other UTF-8 byte is `%XX` (upper-case hex), `%` itself included; a lone UTF-16
 *   surrogate (not UTF-8 at all) is `%uXXXX`;
 * - the empty string is `%` alone, which no other input gives;
 * - a result over `maxLength` bytes is cut at a character boundary and ends with `~` and 16
 *   hex digits of the SHA-256 of the input (`~` is always escaped in the body).
 * A 14-digit SIRET, `FA-2026-0001.xml` or `facture 12.pdf` are kept as they are.
 */
import { createHash } from 'node:crypto';

const HASH_SUFFIX = 17; // '~' + 16 hex digits

const isPlain = (c: number, first: boolean): boolean =>
  (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2d || (!first && (c === 0x2e || c === 0x20));

const hex = (b: number) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`;

/** The encoded pieces (one per character), so that a cut never splits an escape. */
function encodePieces(name: string): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x80) {
      pieces.push(isPlain(c, i === 0) ? name[i]! : hex(c));
      continue;
    }
    const high = c >= 0xd800 && c <= 0xdbff;
    const low = name.charCodeAt(i + 1);
    if (high && low >= 0xdc00 && low <= 0xdfff) {
      pieces.push([...Buffer.from(name.slice(i, i + 2), 'utf8')].map(hex).join(''));
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) pieces.push(`%u${c.toString(16).toUpperCase()}`);
    else pieces.push([...Buffer.from(name[i]!, 'utf8')].map(hex).join(''));
  }
  return pieces;
}

export function safeName(name: string, maxLength = 120): string {
  const limit = Math.min(255, Math.max(HASH_SUFFIX + 1, maxLength));
  if (name === '') return '%';
  const pieces = encodePieces(name);
  const full = pieces.join('');
  if (full.length <= limit) return full; // the encoding is ASCII: length is bytes
  let body = '';
  for (const p of pieces) {
    if (body.length + p.length > limit - HASH_SUFFIX) break;
    body += p;
  }
  const digest = createHash('sha256').update(name, 'utf16le').digest('hex').slice(0, 16);
  return `${body}~${digest}`;
}
