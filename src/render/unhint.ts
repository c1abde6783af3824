/**
 * TrueType hinting removed from a font, once per process: the glyph programs and the tables
 * they run (fpgm, prep, cvt) are a fifth of each embedded subset, and PDF viewers render at
 * any scale without them. Outlines, metrics and every other table are kept as they are.
 */

interface Table {
  tag: string;
  checksum: number;
  data: Buffer;
}

const DROPPED = new Set(['fpgm', 'prep', 'cvt ', 'hdmx', 'LTSH', 'VDMX']);

// Composite glyph component flags.
const ARG_WORDS = 0x0001;
const HAS_SCALE = 0x0008;
const MORE = 0x0020;
const HAS_XY_SCALE = 0x0040;
const HAS_2X2 = 0x0080;
const HAS_INSTRUCTIONS = 0x0100;

export function unhinted(sfnt: Buffer): Buffer {
  const tables = readTables(sfnt);
  const byTag = new Map(tables.map((t) => [t.tag, t]));
  const head = byTag.get('head');
  const loca = byTag.get('loca');
  const glyf = byTag.get('glyf');
  const maxp = byTag.get('maxp');
  if (!head || !loca || !glyf || !maxp) return sfnt; // not TrueType outlines: nothing to do
  const numGlyphs = maxp.data.readUInt16BE(4);
  const longLoca = head.data.readInt16BE(50) === 1;
  const offset = (i: number) => (longLoca ? loca.data.readUInt32BE(4 * i) : loca.data.readUInt16BE(2 * i) * 2);

  const glyphs: Buffer[] = [];
  const newLoca = Buffer.alloc(4 * (numGlyphs + 1));
  let at = 0;
  for (let g = 0; g < numGlyphs; g++) {
    newLoca.writeUInt32BE(at, 4 * g);
    const start = offset(g);
    const end = offset(g + 1);
    if (end <= start) continue;
    const stripped = stripGlyph(glyf.data.subarray(start, end));
    const padded = Buffer.alloc((stripped.length + 3) & ~3);
    stripped.copy(padded);
    glyphs.push(padded);
    at += padded.length;
  }
  newLoca.writeUInt32BE(at, 4 * numGlyphs);
  const newHead = Buffer.from(head.data);
  newHead.writeInt16BE(1, 50); // indexToLocFormat: long offsets
  newHead.writeUInt32BE(0, 8); // checkSumAdjustment: not checked by PDF consumers
  const kept = tables
    .filter((t) => !DROPPED.has(t.tag))
    .map((t) => (t.tag === 'glyf' ? { ...t, data: Buffer.concat(glyphs) } : t.tag === 'loca' ? { ...t, data: newLoca } : t.tag === 'head' ? { ...t, data: newHead } : t))
    .map((t) => (t.tag === 'glyf' || t.tag === 'loca' || t.tag === 'head' ? { ...t, checksum: checksum(t.data) } : t));
  return writeSfnt(sfnt.readUInt32BE(0), kept);
}

/** A glyph without its instructions. */
function stripGlyph(g: Buffer): Buffer {
  const contours = g.readInt16BE(0);
  if (contours >= 0) {
    const lengthAt = 10 + 2 * contours;
    const length = g.readUInt16BE(lengthAt);
    const out = Buffer.concat([g.subarray(0, lengthAt), Buffer.alloc(2), g.subarray(lengthAt + 2 + length)]);
    return out;
  }
  // Composite: walk the components, clear their "instructions follow" flag, cut what follows.
  const out = Buffer.from(g);
  let p = 10;
  for (;;) {
    const flags = out.readUInt16BE(p);
    out.writeUInt16BE(flags & ~HAS_INSTRUCTIONS, p);
    p += 4 + (flags & ARG_WORDS ? 4 : 2);
    if (flags & HAS_SCALE) p += 2;
    else if (flags & HAS_XY_SCALE) p += 4;
    else if (flags & HAS_2X2) p += 8;
    if (!(flags & MORE)) break;
  }
  return out.subarray(0, p);
}

function readTables(sfnt: Buffer): Table[] {
  const n = sfnt.readUInt16BE(4);
  return Array.from({ length: n }, (_, i) => {
    const rec = 12 + 16 * i;
    const at = sfnt.readUInt32BE(rec + 8);
    return { tag: sfnt.toString('latin1', rec, rec + 4), checksum: sfnt.readUInt32BE(rec + 4), data: sfnt.subarray(at, at + sfnt.readUInt32BE(rec + 12)) };
  });
}

function checksum(data: Buffer): number {
  let sum = 0;
  const padded = data.length % 4 ? Buffer.concat([data, Buffer.alloc(4 - (data.length % 4))]) : data;
  for (let i = 0; i < padded.length; i += 4) sum = (sum + padded.readUInt32BE(i)) >>> 0;
  return sum;
}

/** An sfnt from its tables (in tag order, as the format asks). */
export function writeSfnt(flavor: number, tables: Table[]): Buffer {
  const sorted = [...tables].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  const n = sorted.length;
  let power = 1;
  let log2 = 0;
  while (power * 2 <= n) {
    power *= 2;
    log2++;
  }
  const header = Buffer.alloc(12 + 16 * n);
  header.writeUInt32BE(flavor, 0);
  header.writeUInt16BE(n, 4);
  header.writeUInt16BE(power * 16, 6);
  header.writeUInt16BE(log2, 8);
  header.writeUInt16BE(n * 16 - power * 16, 10);
  const parts: Buffer[] = [header];
  let offset = header.length;
  sorted.forEach((t, i) => {
    const rec = 12 + 16 * i;
    header.write(t.tag, rec, 'latin1');
    header.writeUInt32BE(t.checksum, rec + 4);
    header.writeUInt32BE(offset, rec + 8);
    header.writeUInt32BE(t.data.length, rec + 12);
    const padded = (t.data.length + 3) & ~3;
    parts.push(t.data, Buffer.alloc(padded - t.data.length));
    offset += padded;
  });
  return Buffer.concat(parts);
}
