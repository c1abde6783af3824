/**
 * DejaVu Sans (regular and bold) embedded as TrueType subsets, synchronously. The delivery of
 * a flow is synchronous, and pdf-lib's own font embedding is not (its subset is written
 * through a stream on the next tick), so this module does what pdf-lib's embedder does on
 * pdf-lib's object model: a Type0 font over a CIDFontType2 with Identity encoding, glyph
 * widths, a ToUnicode map (so the text is searchable and copyable) and the subset font file.
 *
 * Each font file is parsed once per thread. Every document starts its subset with the same
 * base glyphs (ASCII, the euro sign, the usual French accents), so the encoded subset of most
 * invoices is the same bytes, encoded and compressed once; rarer characters are added after.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import type { PDFContext, PDFObject, PDFRef } from 'pdf-lib';
import type { Font, Glyph } from 'pdf-lib/cjs/types/fontkit.js';
import { fontkit, packageFile, pdfLib } from './libs.js';
import { unhinted } from './unhint.js';
import { woffToSfnt } from './woff.js';

export type FontStyle = 'regular' | 'bold';

const FILES: Record<FontStyle, string> = {
  regular: '@fontsource/dejavu-sans/files/dejavu-sans-latin-400-normal.woff',
  bold: '@fontsource/dejavu-sans/files/dejavu-sans-latin-700-normal.woff',
};

/** What nearly every invoice shows: letters, digits, the punctuation of amounts, dates and references, the usual accents. */
const BASE_TEXT = ' %&\'()+,-./0123456789:;ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz€°’–…ÀÇÉÈàâçéèêëîïôùû';

interface LoadedFont {
  font: Font;
  scale: number;
  /** Glyphs by code point: one per character, no kerning or ligatures, so the text copies back as written. */
  glyphs: Map<number, Glyph>;
  /** The base glyphs, in subset order (subset id = index + 1, 0 being .notdef), and their subset ids by glyph id. */
  base: Glyph[];
  baseCid: Map<number, number>;
  /** Widths of strings, and the encoding of those made of base glyphs only: the same in every document. */
  strings: Map<string, { hex?: string; width: number }>;
  /** Encoded subsets by their glyph list: most documents share one. */
  files: Map<string, SubsetFiles>;
}

interface SubsetFiles {
  /** The subset font, deflated, and its length inflated. */
  font: Uint8Array;
  length: number;
  /** The ToUnicode CMap, deflated. */
  toUnicode: Uint8Array;
  /** The font's PDF objects as first registered (from object number `first`, named `name`), for documents that register them from the same number. */
  objects?: PDFObject[];
  first?: number;
  name?: string;
}

const loaded = new Map<FontStyle, LoadedFont>();

function load(style: FontStyle): LoadedFont {
  let f = loaded.get(style);
  if (!f) {
    const font = fontkit().create(unhinted(woffToSfnt(fs.readFileSync(packageFile(FILES[style]))))) as Font;
    f = { font, scale: 1000 / font.unitsPerEm, glyphs: new Map(), base: [], baseCid: new Map(), strings: new Map(), files: new Map() };
    for (const ch of BASE_TEXT) {
      const g = glyphOf(f, ch.codePointAt(0)!);
      // .notdef (a character the font lacks) is subset glyph 0 already.
      if (g.id !== 0 && !f.baseCid.has(g.id)) f.baseCid.set(g.id, f.base.push(g));
    }
    loaded.set(style, f);
  }
  return f;
}

function glyphOf(f: LoadedFont, codePoint: number): Glyph {
  let g = f.glyphs.get(codePoint);
  if (!g) {
    g = f.font.glyphForCodePoint(codePoint);
    f.glyphs.set(codePoint, g);
  }
  return g;
}

/** The parts of fontkit's subset this module uses (its synchronous `encode`, not the stream). */
interface SyncSubset {
  includeGlyph(glyph: number | Glyph): number;
  encode(stream: ByteSink): void;
}

const STRING_CACHE_MAX = 20_000;

/** One font as used by one document: the base glyphs, then those it needs besides, numbered in the order first used. */
export class DocumentFont {
  private readonly f: LoadedFont;
  /** Subset glyph id → the glyph (for widths and the ToUnicode map). */
  private readonly used: (Glyph | undefined)[];
  private readonly extraCid = new Map<number, number>();

  constructor(readonly style: FontStyle) {
    this.f = load(style);
    this.used = [undefined, ...this.f.base];
  }

  /** The text as the hex digits of its subset glyph ids (for a PDF hex string). */
  encode(text: string): string {
    const cached = this.f.strings.get(text);
    if (cached?.hex) return cached.hex;
    let hex = '';
    let baseOnly = true;
    for (const ch of text) {
      const g = glyphOf(this.f, ch.codePointAt(0)!);
      let cid = this.f.baseCid.get(g.id);
      if (cid === undefined) {
        baseOnly = false;
        cid = g.id === 0 ? 0 : this.extraCid.get(g.id);
        if (cid === undefined) {
          // Subset ids follow the order of first use; the subset itself is built only when its bytes are not cached.
          cid = this.used.push(g) - 1;
          this.extraCid.set(g.id, cid);
        }
      }
      hex += cid.toString(16).padStart(4, '0');
    }
    if (baseOnly) this.remember(text).hex = hex;
    return hex;
  }

  width(text: string, size: number): number {
    return (this.remember(text).width * this.f.scale * size) / 1000;
  }

  /** The cache entry of a string (its width in font units; its encoding once known, if base-only). */
  private remember(text: string): { hex?: string; width: number } {
    let entry = this.f.strings.get(text);
    if (!entry) {
      if (this.f.strings.size >= STRING_CACHE_MAX) this.f.strings.clear();
      let units = 0;
      for (const ch of text) units += glyphOf(this.f, ch.codePointAt(0)!).advanceWidth;
      entry = { width: units };
      this.f.strings.set(text, entry);
    }
    return entry;
  }

  /**
   * Registers the font's objects in the document; returns the font dictionary's reference.
   * A document with the same glyph list as an earlier one, its fonts registered from the same
   * object number (they come first in every document), reuses that document's objects as they
   * are: their references to each other are the same numbers.
   */
  embed(context: PDFContext, name: string): PDFRef {
    const files = this.files();
    const first = context.largestObjectNumber + 1;
    const reuse = files.objects && files.first === first && files.name === name;
    const objects = reuse ? files.objects! : this.fontObjects(context, files, name);
    let ref: PDFRef | undefined;
    for (const o of objects) ref = context.register(o);
    if (!reuse) Object.assign(files, { objects, first, name });
    return ref!;
  }

  /** FontFile2, FontDescriptor, CIDFontType2, ToUnicode and Type0, in this order, to be registered from `context`'s next number. */
  private fontObjects(context: PDFContext, files: SubsetFiles, name: string): PDFObject[] {
    const { PDFString } = pdfLib();
    const font = this.f.font;
    const scale = this.f.scale;
    // The objects are registered in this order right after: their numbers are known now.
    const next = context.largestObjectNumber + 1;
    const refOf = (n: number) => pdfLib().PDFRef.of(n);
    const fontFile = context.stream(files.font, { Filter: 'FlateDecode', Length1: files.length });
    const bbox = font.bbox;
    const descriptor = context.obj({
      Type: 'FontDescriptor',
      FontName: name,
      Flags: 4, // symbolic: glyphs addressed by id, not by a standard encoding
      FontBBox: [bbox.minX * scale, bbox.minY * scale, bbox.maxX * scale, bbox.maxY * scale].map(Math.round),
      ItalicAngle: 0,
      Ascent: Math.round(font.ascent * scale),
      Descent: Math.round(font.descent * scale),
      CapHeight: Math.round((font.capHeight || font.ascent) * scale),
      StemV: this.style === 'bold' ? 140 : 80,
      FontFile2: refOf(next),
    });
    const cidFont = context.obj({
      Type: 'Font',
      Subtype: 'CIDFontType2',
      BaseFont: name,
      CIDSystemInfo: { Registry: PDFString.of('Adobe'), Ordering: PDFString.of('Identity'), Supplement: 0 },
      FontDescriptor: refOf(next + 1),
      W: [0, this.used.map((g) => Math.round((g?.advanceWidth ?? 0) * scale))],
      CIDToGIDMap: 'Identity',
    });
    const toUnicode = context.stream(files.toUnicode, { Filter: 'FlateDecode' });
    const type0 = context.obj({ Type: 'Font', Subtype: 'Type0', BaseFont: name, Encoding: 'Identity-H', DescendantFonts: [refOf(next + 2)], ToUnicode: refOf(next + 3) });
    return [fontFile, descriptor, cidFont, toUnicode, type0];
  }

  /** The subset's font file and ToUnicode map; the same glyph list gives the cached bytes. */
  private files(): SubsetFiles {
    const key = this.used.map((g) => g?.id ?? -1).join(',');
    let files = this.f.files.get(key);
    if (!files) {
      const raw = encodeSubset(this.subset());
      files = { font: zlib.deflateSync(raw), length: raw.length, toUnicode: zlib.deflateSync(this.toUnicode()) };
      if (this.f.files.size >= 32) this.f.files.clear();
      this.f.files.set(key, files);
    }
    return files;
  }

  /** fontkit's subset of the glyphs used, numbered as `encode` numbered them. */
  private subset(): SyncSubset {
    const subset = this.f.font.createSubset() as unknown as SyncSubset;
    for (let cid = 1; cid < this.used.length; cid++) {
      if (subset.includeGlyph(this.used[cid]!) !== cid) throw new Error(`font subset numbering differs at glyph ${cid}`);
    }
    return subset;
  }

  /** CMap from subset glyph ids to the text they stand for. */
  private toUnicode(): string {
    const entries: string[] = [];
    for (let cid = 1; cid < this.used.length; cid++) {
      const g = this.used[cid];
      if (!g || !g.codePoints.length) continue;
      const utf16 = Buffer.from(String.fromCodePoint(...g.codePoints), 'utf16le').swap16().toString('hex');
      entries.push(`<${cid.toString(16).padStart(4, '0')}> <${utf16}>`);
    }
    const chunks: string[] = [];
    for (let i = 0; i < entries.length; i += 100) {
      const part = entries.slice(i, i + 100);
      chunks.push(`${part.length} beginbfchar\n${part.join('\n')}\nendbfchar`);
    }
    return [
      '/CIDInit /ProcSet findresource begin',
      '12 dict begin',
      'begincmap',
      '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def',
      '/CMapName /Adobe-Identity-UCS def',
      '/CMapType 2 def',
      '1 begincodespacerange',
      '<0000> <ffff>',
      'endcodespacerange',
      ...chunks,
      'endcmap',
      'CMapName currentdict /CMap defineresource pop',
      'end',
      'end',
    ].join('\n');
  }
}


/** fontkit's subset written into memory at once, instead of through its next-tick stream. */
function encodeSubset(subset: SyncSubset): Buffer {
  const sink = new ByteSink();
  subset.encode(sink);
  return sink.bytes();
}

/**
 * The writer fontkit's encoders (restructure) expect: big- and little-endian integers,
 * buffers, strings, fill, and the position written so far.
 */
class ByteSink {
  private buf = Buffer.alloc(64 * 1024);
  pos = 0;

  private room(n: number): number {
    if (this.pos + n > this.buf.length) {
      const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.pos + n));
      this.buf.copy(bigger, 0, 0, this.pos);
      this.buf = bigger;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  writeUInt8(v: number) { this.buf.writeUInt8(v, this.room(1)); }
  writeInt8(v: number) { this.buf.writeInt8(v, this.room(1)); }
  writeUInt16BE(v: number) { this.buf.writeUInt16BE(v, this.room(2)); }
  writeUInt16LE(v: number) { this.buf.writeUInt16LE(v, this.room(2)); }
  writeInt16BE(v: number) { this.buf.writeInt16BE(v, this.room(2)); }
  writeInt16LE(v: number) { this.buf.writeInt16LE(v, this.room(2)); }
  writeUInt24BE(v: number) { this.buf.writeUIntBE(v, this.room(3), 3); }
  writeUInt24LE(v: number) { this.buf.writeUIntLE(v, this.room(3), 3); }
  writeInt24BE(v: number) { this.buf.writeIntBE(v, this.room(3), 3); }
  writeInt24LE(v: number) { this.buf.writeIntLE(v, this.room(3), 3); }
  writeUInt32BE(v: number) { this.buf.writeUInt32BE(v, this.room(4)); }
  writeUInt32LE(v: number) { this.buf.writeUInt32LE(v, this.room(4)); }
  writeInt32BE(v: number) { this.buf.writeInt32BE(v, this.room(4)); }
  writeInt32LE(v: number) { this.buf.writeInt32LE(v, this.room(4)); }
  writeFloatBE(v: number) { this.buf.writeFloatBE(v, this.room(4)); }
  writeFloatLE(v: number) { this.buf.writeFloatLE(v, this.room(4)); }
  writeDoubleBE(v: number) { this.buf.writeDoubleBE(v, this.room(8)); }
  writeDoubleLE(v: number) { this.buf.writeDoubleLE(v, this.room(8)); }

  writeBuffer(b: Uint8Array) {
    const at = this.room(b.length);
    this.buf.set(b, at);
  }

  writeString(s: string, encoding: BufferEncoding | 'utf16be' = 'ascii') {
    const b = encoding === 'utf16be' ? Buffer.from(s, 'utf16le').swap16() : Buffer.from(s, encoding);
    this.writeBuffer(b);
  }

  fill(v: number, length: number) {
    const at = this.room(length);
    this.buf.fill(v, at, at + length);
  }
}
