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
import type { PDFContext, PDFHexString, PDFRef } from 'pdf-lib';
import type { Font, Glyph } from 'pdf-lib/cjs/types/fontkit.js';
import { fontkit, packageFile, pdfLib } from './libs.js';
import { woffToSfnt } from './woff.js';

export type FontStyle = 'regular' | 'bold';

const FILES: Record<FontStyle, string> = {
  regular: '@fontsource/dejavu-sans/files/dejavu-sans-latin-400-normal.woff',
  bold: '@fontsource/dejavu-sans/files/dejavu-sans-latin-700-normal.woff',
};

const BASE_TEXT =
  ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~' +
  '€°’–…ÀÇÉÈàâçéèêëîïôùû';

interface LoadedFont {
  font: Font;
  /** Glyphs by code point: one per character, no kerning or ligatures, so the text copies back as written. */
  glyphs: Map<number, Glyph>;
  /** Encoded subsets (deflated, and their raw length) by their glyph list: most documents share one. */
  files: Map<string, SubsetFiles>;
}

interface SubsetFiles {
  /** The subset font, deflated, and its length inflated. */
  font: Uint8Array;
  length: number;
  /** The ToUnicode CMap, deflated. */
  toUnicode: Uint8Array;
}

const loaded = new Map<FontStyle, LoadedFont>();

function load(style: FontStyle): LoadedFont {
  let f = loaded.get(style);
  if (!f) {
    const file = packageFile(FILES[style]);
    f = { font: fontkit().create(woffToSfnt(fs.readFileSync(file))) as Font, glyphs: new Map(), files: new Map() };
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

/** One font as used by one document: the glyphs it needs, numbered in the order first used. */
export class DocumentFont {
  private readonly f: LoadedFont;
  private readonly subset: SyncSubset;
  /** Subset glyph id → the glyph (for widths and the ToUnicode map). */
  private readonly used: Glyph[] = [];
  private readonly cidOf = new Map<number, number>();
  readonly scale: number;

  constructor(readonly style: FontStyle) {
    this.f = load(style);
    this.subset = this.f.font.createSubset() as unknown as SyncSubset;
    this.scale = 1000 / this.f.font.unitsPerEm;
    this.encode(BASE_TEXT);
  }

  /** The text as the hex string of its subset glyph ids. */
  encode(text: string): PDFHexString {
    let hex = '';
    for (const ch of text) {
      const g = glyphOf(this.f, ch.codePointAt(0)!);
      let cid = this.cidOf.get(g.id);
      if (cid === undefined) {
        cid = this.subset.includeGlyph(g);
        this.cidOf.set(g.id, cid);
        this.used[cid] = g;
      }
      hex += cid.toString(16).padStart(4, '0');
    }
    return pdfLib().PDFHexString.of(hex);
  }

  width(text: string, size: number): number {
    let w = 0;
    for (const ch of text) w += glyphOf(this.f, ch.codePointAt(0)!).advanceWidth;
    return (w * this.scale * size) / 1000;
  }

  /** Registers the font's objects in the document; returns the font dictionary's reference. */
  embed(context: PDFContext, name: string): PDFRef {
    const { PDFString } = pdfLib();
    const font = this.f.font;
    const files = this.files();
    const fontFile = context.register(context.stream(files.font, { Filter: 'FlateDecode', Length1: files.length }));
    const bbox = font.bbox;
    const descriptor = context.register(
      context.obj({
        Type: 'FontDescriptor',
        FontName: name,
        Flags: 4, // symbolic: glyphs addressed by id, not by a standard encoding
        FontBBox: [bbox.minX * this.scale, bbox.minY * this.scale, bbox.maxX * this.scale, bbox.maxY * this.scale].map(Math.round),
        ItalicAngle: 0,
        Ascent: Math.round(font.ascent * this.scale),
        Descent: Math.round(font.descent * this.scale),
        CapHeight: Math.round((font.capHeight || font.ascent) * this.scale),
        StemV: this.style === 'bold' ? 140 : 80,
        FontFile2: fontFile,
      }),
    );
    const widths: number[] = [];
    for (let cid = 0; cid < this.used.length; cid++) widths.push(Math.round((this.used[cid]?.advanceWidth ?? 0) * this.scale));
    const cidFont = context.register(
      context.obj({
        Type: 'Font',
        Subtype: 'CIDFontType2',
        BaseFont: name,
        CIDSystemInfo: { Registry: PDFString.of('Adobe'), Ordering: PDFString.of('Identity'), Supplement: 0 },
        FontDescriptor: descriptor,
        W: [0, widths],
        CIDToGIDMap: 'Identity',
      }),
    );
    const toUnicode = context.register(context.stream(files.toUnicode, { Filter: 'FlateDecode' }));
    return context.register(
      context.obj({ Type: 'Font', Subtype: 'Type0', BaseFont: name, Encoding: 'Identity-H', DescendantFonts: [cidFont], ToUnicode: toUnicode }),
    );
  }

  /** The subset's font file and ToUnicode map; the same glyph list gives the cached bytes. */
  private files(): SubsetFiles {
    const key = this.used.map((g) => g?.id ?? -1).join(',');
    let files = this.f.files.get(key);
    if (!files) {
      const raw = encodeSubset(this.subset);
      files = { font: zlib.deflateSync(raw), length: raw.length, toUnicode: zlib.deflateSync(this.toUnicode()) };
      if (this.f.files.size >= 32) this.f.files.clear();
      this.f.files.set(key, files);
    }
    return files;
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
