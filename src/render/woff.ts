/**
 * WOFF 1.0 → TrueType (sfnt), once per process. The font ships as WOFF; fontkit reads WOFF,
 * but inflates a table again on every access, and subsetting reads the glyph table once per
 * glyph: on the plain sfnt the same subset is a hundred times faster.
 */
import zlib from 'node:zlib';
import { writeSfnt } from './unhint.js';

const WOFF_SIGNATURE = 0x774f4646; // 'wOFF'

export function woffToSfnt(woff: Buffer): Buffer {
  if (woff.readUInt32BE(0) !== WOFF_SIGNATURE) return woff; // already an sfnt
  const numTables = woff.readUInt16BE(12);
  const tables = Array.from({ length: numTables }, (_, i) => {
    const at = 44 + i * 20;
    const offset = woff.readUInt32BE(at + 4);
    const compLength = woff.readUInt32BE(at + 8);
    const origLength = woff.readUInt32BE(at + 12);
    const stored = woff.subarray(offset, offset + compLength);
    const data = compLength < origLength ? zlib.inflateSync(stored) : stored;
    if (data.length !== origLength) throw new Error(`WOFF table ${i} inflates to ${data.length} bytes, expected ${origLength}`);
    return { tag: woff.toString('latin1', at, at + 4), checksum: woff.readUInt32BE(at + 16), data };
  });
  return writeSfnt(woff.readUInt32BE(4), tables);
}
