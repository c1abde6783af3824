/**
 * Large mixed flows read one invoice at a time, straight from the file. The flow is split at
 * its top-level CPPFactureMixteUnitaire elements; each invoice is parsed and validated as a
 * small document made of the flow's envelope, that one invoice and the closing tags. Such a
 * document is valid exactly when the invoice is valid in the flow, so the verdicts are those of
 * the whole-flow reading, while memory follows one invoice instead of the flow (the file itself
 * is never loaded whole). Line numbers and element paths in errors are those of the flow.
 */
import { crc32 } from 'node:zlib';
import { xmlTextEncoding } from '../detect/detect.js';
import type { FlowError, Location } from '../errors/catalog.js';
import type { Invoice } from '../model/invoice.js';
import { at, child, parseXml } from '../xml/parse.js';
import type { CompiledSchema } from '../xml/schemas.js';
import { countingErrors, readInvoice } from './mixed.js';

const OPEN = '<CPPFactureMixteUnitaire';
const CLOSE = '</CPPFactureMixteUnitaire>';
const LIST = '<CPPFactures';
/** Markers of constructs the splitter does not handle: such flows are read whole. */
const UNSUPPORTED = ['<!--', '<![CDATA['];
const BLOCK = 4 * 1024 * 1024;
const OVERLAP = 64;

/** Random access to a flow's bytes (a file, or a buffer in tests). */
export interface ByteSource {
  size: number;
  read(start: number, end: number): Buffer;
  /** The file read, when it is one: its invoices' attachments are then set aside (model `stored`). */
  file?: string;
}

export interface Split {
  prefix: Buffer;
  /** Line breaks in the prefix (the envelope before the first invoice). */
  prefixNewlines: number;
  suffix: Buffer;
  /** Each invoice's bytes, and how many line breaks come before it in the flow. */
  units: { start: number; end: number; newlinesBefore: number }[];
}

const newlines = (b: Uint8Array, from = 0, to = b.length): number => {
  let n = 0;
  for (let i = b.indexOf(10, from); i >= 0 && i < to; i = b.indexOf(10, i + 1)) n++;
  return n;
};

/** Offsets of every occurrence of each marker, and the line breaks before each opening tag. */
function scan(src: ByteSource, markers: string[]): { found: Map<string, number[]>; openNewlines: number[] } {
  const found = new Map(markers.map((m) => [m, [] as number[]]));
  const openNewlines: number[] = [];
  let newlinesBefore = 0;
  for (let offset = 0; offset < src.size; offset += BLOCK) {
    const buf = src.read(offset, Math.min(src.size, offset + BLOCK + OVERLAP));
    for (const m of markers) {
      let counted = 0;
      for (let i = buf.indexOf(m); i >= 0 && i < BLOCK; i = buf.indexOf(m, i + 1)) {
        // An opening tag must end its name there (not <CPPFactureMixteUnitaireX).
        if (m === OPEN && !/[\s>]/.test(String.fromCharCode(buf[i + m.length] ?? 0))) continue;
        found.get(m)!.push(offset + i);
        if (m === OPEN) {
          newlinesBefore += newlines(buf, counted, i);
          counted = i;
          openNewlines.push(newlinesBefore);
        }
      }
      if (m === OPEN) newlinesBefore += newlines(buf, counted, Math.min(BLOCK, buf.length));
    }
  }
  return { found, openNewlines };
}

/** Where each invoice is, or undefined when the flow cannot be split safely (it is then read whole). */
export function splitMixedFlow(src: ByteSource): Split | undefined {
  const head = src.read(0, Math.min(src.size, 4));
  if (xmlTextEncoding(head)?.name.startsWith('UTF-16')) return undefined; // either byte order, BOM or not
  const { found, openNewlines } = scan(src, [OPEN, CLOSE, LIST, ...UNSUPPORTED]);
  if (UNSUPPORTED.some((m) => found.get(m)!.length)) return undefined;
  const opens = found.get(OPEN)!;
  const closes = found.get(CLOSE)!;
  const list = found.get(LIST)![0];
  if (opens.length < 2 || opens.length !== closes.length || list === undefined || list > opens[0]!) return undefined;
  const units: Split['units'] = [];
  for (let i = 0; i < opens.length; i++) {
    const end = closes[i]! + CLOSE.length;
    // Strictly alternating open/close (no nesting), only white space between invoices.
    if (closes[i]! < opens[i]! || (i + 1 < opens.length && opens[i + 1]! < end)) return undefined;
    if (i && src.read(units[i - 1]!.end, opens[i]!).toString('latin1').trim()) return undefined;
    units.push({ start: opens[i]!, end, newlinesBefore: openNewlines[i]! });
  }
  const prefix = src.read(0, units[0]!.start);
  if (!/<CPPFactureMixte[\s>]/.test(prefix.toString('latin1'))) return undefined;
  return { prefix, prefixNewlines: newlines(prefix), suffix: src.read(units[units.length - 1]!.end, src.size), units };
}

/** One invoice of a split flow, as a task: its model, or the errors that refuse the flow. */
export interface UnitResult {
  invoice?: Invoice;
  errors: FlowError[];
  numOrdre?: string;
  where?: Location;
  /** Read from the first invoice's document: the list's declared count and where it is. */
  list?: { compteur?: string; where: Location };
}

/**
 * Reads invoice `i` of a split flow as the document envelope + that invoice + closing tags,
 * with line numbers and element paths given as in the whole flow.
 */
export function readMixedUnit(src: ByteSource, split: Split, i: number, schema: CompiledSchema, maxAttachmentSize: number): UnitResult {
  const u = split.units[i]!;
  const prefixLines = split.prefixNewlines;
  const shift = u.newlinesBefore - prefixLines;
  const lineOf = (line: number) => (line > prefixLines ? line + shift : line);
  const step = `/CPPFactureMixteUnitaire[${i + 1}]`;
  const result: UnitResult = { errors: [] };
  const bytes = src.read(u.start, u.end);
  const parsed = parseXml(
    Buffer.concat([split.prefix, bytes, split.suffix]),
    () => schema,
    (root) => {
      const list = child(root, 'CPPFactures')!;
      if (i === 0) result.list = { compteur: list.attrs.Compteur, where: at(list) };
      const unit = list.children[0]! as { index: number } & typeof list;
      unit.index = i + 1;
      result.numOrdre = unit.attrs.NumOrdre;
      result.where = at(unit);
      return readInvoice(unit, maxAttachmentSize, i + 1);
    },
    20,
    lineOf,
  );
  if (parsed.ok) {
    result.invoice = parsed.value;
    if (src.file) setAside(parsed.value, bytes, u.start, src.file);
  } else {
    result.errors = parsed.errors.map((e) => ({
      ...e,
      ...(e.line ? { line: lineOf(e.line) } : {}),
      ...(e.element ? { element: e.element.replace('/CPPFactureMixteUnitaire', step) } : {}),
    }));
  }
  return result;
}

const CONTENT_OPEN = Buffer.from('<Contenu');
const CONTENT_CLOSE = Buffer.from('</Contenu>');
/** What may follow an element's name in its start tag. */
const AFTER_NAME = new Set([...'> \t\r\n'].map((c) => c.charCodeAt(0)));

/**
 * Sets aside the decoded attachments of an invoice read from a file, so that a flow of many
 * invoices holds their sizes rather than their bytes until its pivots are written. The k-th
 * Contenu element of the invoice's bytes is its k-th PJ's (the schema has Contenu nowhere
 * else); an attachment is set aside only when that text, decoded, is exactly the bytes the
 * parser gave, and kept held otherwise (entities, an element out of step, a zip relayed as is).
 */
function setAside(invoice: Invoice, unit: Buffer, unitStart: number, file: string): void {
  let from = 0;
  for (const a of invoice.attachments) {
    const open = unit.indexOf(CONTENT_OPEN, from);
    if (open < 0 || !AFTER_NAME.has(unit[open + CONTENT_OPEN.length]!)) return;
    const textStart = unit.indexOf(0x3e /* > */, open) + 1;
    if (textStart === 0) return;
    // <Contenu/>: an empty attachment, nothing to set aside.
    if (unit[textStart - 2] === 0x2f /* / */) {
      from = textStart;
      continue;
    }
    const textEnd = unit.indexOf(CONTENT_CLOSE, textStart);
    if (textEnd < 0) return;
    from = textEnd + CONTENT_CLOSE.length;
    if (!a.content?.length || a.zipped) continue;
    const text = unit.subarray(textStart, textEnd);
    if (text.includes(0x26 /* & */) || !Buffer.from(text.toString('latin1'), 'base64').equals(a.content)) continue;
    a.stored = { file, start: unitStart + textStart, end: unitStart + textEnd, size: a.content.length, crc: crc32(a.content) };
    delete a.content;
  }
}

/** The flow from its invoices read one by one: all of them, or the errors that refuse it. */
export function mixedFlowFromUnits(results: UnitResult[]): { invoices: Invoice[]; errors: FlowError[] } {
  const errors: FlowError[] = [];
  for (const r of results) if (r.errors.length && errors.length < 20) errors.push(...r.errors);
  if (errors.length) return { invoices: [], errors };
  const first = results[0]!.list!;
  const counting = countingErrors(first.compteur, results.map((r) => ({ numOrdre: r.numOrdre, where: r.where! })), first.where);
  return { invoices: counting.length ? [] : results.map((r) => r.invoice!), errors: counting };
}
