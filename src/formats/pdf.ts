/**
 * Reading the objects of an untrusted PDF with pdf-lib's tokenizer and object model, driven
 * synchronously and within caps. pdf-lib's own `PDFDocument.load` is asynchronous (the hub reads
 * flows synchronously, on worker threads) and inflates object streams without a bound, so the
 * top-level loop is re-driven here from pdf-lib's synchronous parts: indirect objects are parsed
 * by pdf-lib, object streams are inflated here with a cap, and nothing else is decoded until a
 * caller asks for one stream (`streamBytes`, capped as well).
 */
import zlib from 'node:zlib';
import type { PDFContext, PDFDict, PDFRawStream, PDFRef, PDFObject } from 'pdf-lib';
import { pdfLib } from './pdfLib.js';
import { scanPdf } from './pdfScan.js';

export interface PdfLimits {
  /** Indirect objects, counting those packed in object streams. */
  maxObjects: number;
  /** Nesting of arrays and dictionaries. */
  maxDepth: number;
  /** Inflated size of any one stream the hub decodes (object streams, the embedded file, XMP). */
  maxStreamBytes: number;
}

export const PDF_LIMITS: PdfLimits = { maxObjects: 50_000, maxDepth: 48, maxStreamBytes: 20 * 1024 * 1024 };

/** Why a PDF could not be read: the caller turns it into a coded error. */
export type PdfProblem =
  | { problem: 'not-pdf' | 'damaged'; detail: string }
  | { problem: 'encrypted' }
  | { problem: 'too-complex'; detail: string };

export interface PdfFile {
  /** "1.7", from the %PDF- header. */
  version: string;
  context: PDFContext;
  catalog?: PDFDict;
  encrypted: boolean;
  /** Objects that could not be parsed and were skipped. */
  damagedObjects: number;
}

export type PdfRead = { ok: true; pdf: PdfFile } | ({ ok: false } & PdfProblem);

/** The synchronous members of pdf-lib's parser that the loop below drives (not in its public types). */
interface SyncParser {
  context: PDFContext;
  bytes: { offset(): number; moveTo(at: number): void; done(): boolean; peek(): number };
  parseHeader(): { toString(): string };
  parseIndirectObjectHeader(): PDFRef;
  parseObject(): PDFObject;
  skipWhitespaceAndComments(): void;
  skipJibberish(): void;
  matchKeyword(keyword: number[]): boolean;
  maybeParseCrossRefSection(): XrefSection | undefined;
  maybeParseTrailerDict(): void;
  maybeParseTrailer(): void;
}

interface XrefSection {
  subsections: { ref: PDFRef; offset: number; deleted: boolean }[][];
}

class Refused extends Error {
  constructor(readonly why: PdfProblem) {
    super('refused');
  }
}

const ENDOBJ_TEXT = Buffer.from('endobj');
const MAX_DAMAGED = 4;
const ENDOBJ = [...ENDOBJ_TEXT];
const name = (n: string) => pdfLib().PDFName.of(n);
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;

/** Where the PDF header starts: the spec allows it within the first 1024 bytes. */
export function pdfHeaderAt(bytes: Uint8Array): number {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 1024));
  return head.indexOf('%PDF-');
}

export function readPdf(bytes: Uint8Array, limits: PdfLimits = PDF_LIMITS): PdfRead {
  const headerAt = pdfHeaderAt(bytes);
  if (headerAt < 0) return { ok: false, problem: 'not-pdf', detail: 'no %PDF- header in the first 1024 bytes' };
  const version = /^%PDF-(\d\.\d)/.exec(Buffer.from(bytes.subarray(headerAt, headerAt + 8)).toString('latin1'))?.[1];
  if (!version) return { ok: false, problem: 'damaged', detail: 'the %PDF- header has no version' };
  const scan = scanPdf(bytes, limits);
  if (!scan.ok && scan.what === 'unterminated') return { ok: false, problem: 'damaged', detail: `the stream or string at byte ${scan.at} is not terminated` };
  if (!scan.ok) return { ok: false, problem: 'too-complex', detail: scan.what === 'objects' ? `more than ${scan.limit} objects` : `arrays or dictionaries nested deeper than ${scan.limit}` };
  try {
    return { ok: true, pdf: parseAll(bytes, version, limits) };
  } catch (e) {
    if (e instanceof Refused) return { ok: false, ...e.why };
    // A stack overflow despite the depth scan still ends here, as damage.
    return { ok: false, problem: 'damaged', detail: (e as Error).message.split('\n')[0]!.slice(0, 200) };
  }
}

function parseAll(bytes: Uint8Array, version: string, limits: PdfLimits): PdfFile {
  const p = pdfLib().PDFParser.forBytesWithOptions(bytes, Infinity, true, true) as unknown as SyncParser;
  const raw = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  p.parseHeader();
  const ctx = p.context;
  const budget = { objects: 0, damaged: 0 };
  let xrefTrailer: PDFDict | undefined;
  const xrefs: XrefSection[] = [];
  let previous = -1;
  while (!p.bytes.done()) {
    p.skipWhitespaceAndComments();
    while (!p.bytes.done() && isDigit(p.bytes.peek())) {
      if (++budget.objects > limits.maxObjects) throw new Refused({ problem: 'too-complex', detail: `more than ${limits.maxObjects} objects` });
      const start = p.bytes.offset();
      try {
        const ref = p.parseIndirectObjectHeader();
        const object = p.parseObject();
        p.skipWhitespaceAndComments();
        p.matchKeyword(ENDOBJ);
        const type = object instanceof pdfLib().PDFRawStream ? object.dict.get(name('Type')) : undefined;
        if (type === name('ObjStm')) unpackObjectStream(object as PDFRawStream, ctx, budget, limits);
        else if (type === name('XRef')) xrefTrailer = (object as PDFRawStream).dict; // its dictionary is the trailer
        else ctx.assign(ref, object);
      } catch (e) {
        if (e instanceof Refused || e instanceof RangeError) throw e;
        // A damaged object is skipped up to its endobj; the others may still hold the invoice.
        // Each can cost a scan to the end of the file (a stream without endstream): few are allowed.
        if (++budget.damaged > MAX_DAMAGED) throw new Refused({ problem: 'damaged', detail: `more than ${MAX_DAMAGED} objects cannot be parsed` });
        const end = raw.indexOf(ENDOBJ_TEXT, start);
        p.bytes.moveTo(end < 0 ? raw.length : end + ENDOBJ_TEXT.length);
      }
      p.skipWhitespaceAndComments();
      p.skipJibberish();
    }
    const xref = p.maybeParseCrossRefSection();
    if (xref) xrefs.push(xref);
    p.maybeParseTrailerDict();
    p.maybeParseTrailer();
    p.skipJibberish();
    const at = p.bytes.offset();
    if (at === previous) throw new Refused({ problem: 'damaged', detail: `the parser stalled at byte ${at}` });
    previous = at;
  }
  const misplaced = misplacedEntries(raw, xrefs, pdfHeaderAt(raw));
  if (misplaced) throw new Refused({ problem: 'damaged', detail: `its cross-reference table points ${misplaced} object(s) to the wrong place, so viewers would not show what the hub reads` });
  if (xrefTrailer) {
    const t = ctx.trailerInfo;
    ctx.trailerInfo = {
      Root: t.Root ?? xrefTrailer.get(name('Root')),
      Encrypt: t.Encrypt ?? xrefTrailer.get(name('Encrypt')),
      Info: t.Info ?? xrefTrailer.get(name('Info')),
      ID: t.ID ?? xrefTrailer.get(name('ID')),
    };
  }
  return { version, context: ctx, catalog: findCatalog(ctx), encrypted: ctx.trailerInfo.Encrypt !== undefined, damagedObjects: budget.damaged };
}

/**
 * The hub reads objects in file order; viewers follow the cross-reference table. When the two
 * disagree the hub could integrate an invoice the recipient never sees, so such a PDF is damaged.
 * (Cross-reference streams are compressed: not checked.)
 */
function misplacedEntries(raw: Buffer, xrefs: XrefSection[], headerAt: number): number {
  let misplaced = 0;
  for (const section of xrefs) for (const sub of section.subsections) for (const e of sub) {
    if (e.deleted || e.ref.objectNumber === 0) continue;
    // Offsets count from the file's first byte; some writers count from a late %PDF- header.
    const at = (offset: number) => /^\s*(\d+)\s+\d+\s+obj/.exec(raw.toString('latin1', offset, offset + 32))?.[1] === String(e.ref.objectNumber);
    if (!at(e.offset) && !at(e.offset + headerAt)) misplaced++;
  }
  return misplaced;
}

function findCatalog(ctx: PDFContext): PDFDict | undefined {
  const root = ctx.trailerInfo.Root;
  const isCatalog = (o: unknown): o is PDFDict => o instanceof pdfLib().PDFDict && o.get(name('Type')) === name('Catalog');
  const declared = root instanceof pdfLib().PDFRef ? ctx.lookup(root) : root;
  if (isCatalog(declared)) return declared;
  // A damaged trailer: the catalog is the object that says it is one.
  return ctx.enumerateIndirectObjects().map(([, o]) => o).find(isCatalog);
}

/** Object streams hold further objects: inflated within the cap, each object counted. */
function unpackObjectStream(stream: PDFRawStream, ctx: PDFContext, budget: { objects: number }, limits: PdfLimits): void {
  const n = numberIn(stream.dict, 'N') ?? 0;
  const first = numberIn(stream.dict, 'First') ?? 0;
  budget.objects += n;
  if (budget.objects > limits.maxObjects) throw new Refused({ problem: 'too-complex', detail: `more than ${limits.maxObjects} objects` });
  const data = decodeStream(stream, ctx, limits.maxStreamBytes);
  const parser = pdfLib().PDFObjectParser.forBytes(data, ctx, true) as unknown as SyncParser & { parseRawInt(): number };
  const entries: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    parser.skipWhitespaceAndComments();
    const objectNumber = parser.parseRawInt();
    parser.skipWhitespaceAndComments();
    entries.push([objectNumber, parser.parseRawInt()]);
  }
  for (const [objectNumber, offset] of entries) {
    parser.bytes.moveTo(first + offset);
    ctx.assign(pdfLib().PDFRef.of(objectNumber, 0), parser.parseObject());
  }
}

const numberIn = (dict: PDFDict, key: string): number | undefined => {
  const v = dict.get(name(key));
  return v instanceof pdfLib().PDFNumber ? v.asNumber() : undefined;
};

/** A stream's decoded bytes: unfiltered or FlateDecode (the filters Factur-X writers use), at most `max` bytes. */
export function decodeStream(stream: PDFRawStream, ctx: PDFContext, max: number): Buffer {
  const raw = Buffer.from(stream.contents.buffer, stream.contents.byteOffset, stream.contents.byteLength);
  const filter = resolve(ctx, stream.dict.get(name('Filter')));
  const filters = filter instanceof pdfLib().PDFArray ? filter.asArray().map((f) => resolve(ctx, f)) : filter ? [filter] : [];
  if (filters.length === 0) {
    if (raw.length > max) throw new Refused({ problem: 'too-complex', detail: `a stream is over ${max} bytes` });
    return raw;
  }
  if (filters.length > 1 || filters[0] !== name('FlateDecode')) throw new Refused({ problem: 'damaged', detail: `stream filter ${filters.map(String).join(' ')} is not supported` });
  try {
    return zlib.inflateSync(raw, { maxOutputLength: Math.max(1, max), finishFlush: zlib.constants.Z_SYNC_FLUSH });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) throw new Refused({ problem: 'too-complex', detail: `a stream inflates to more than ${max} bytes` });
    throw new Refused({ problem: 'damaged', detail: `a stream cannot be inflated (${(e as Error).message})` });
  }
}

/** Decodes a stream for a caller; the problem is returned, not thrown. */
export function streamBytes(pdf: PdfFile, stream: PDFRawStream, max: number): { ok: true; bytes: Buffer } | ({ ok: false } & PdfProblem) {
  try {
    return { ok: true, bytes: decodeStream(stream, pdf.context, max) };
  } catch (e) {
    if (e instanceof Refused) return { ok: false, ...e.why };
    throw e;
  }
}

export const resolve = (ctx: PDFContext, o: PDFObject | undefined): PDFObject | undefined => (o instanceof pdfLib().PDFRef ? ctx.lookup(o) : o);

export function dictOf(ctx: PDFContext, o: PDFObject | undefined): PDFDict | undefined {
  const r = resolve(ctx, o);
  return r instanceof pdfLib().PDFDict ? r : r instanceof pdfLib().PDFRawStream ? r.dict : undefined;
}

/** The text of a PDF string, hex string or name. */
export function textOf(ctx: PDFContext, o: PDFObject | undefined): string | undefined {
  const r = resolve(ctx, o);
  if (r instanceof pdfLib().PDFString || r instanceof pdfLib().PDFHexString) return r.decodeText();
  if (r instanceof pdfLib().PDFName) return r.decodeText();
  return undefined;
}
