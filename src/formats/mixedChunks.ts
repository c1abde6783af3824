/**
 * Large mixed flows read one invoice at a time, straight from the file. The flow is split at
 * its top-level CPPFactureMixteUnitaire elements; each invoice is parsed and validated as a
 * small document made of the flow's envelope, that one invoice and the closing tags. Such a
 * document is valid exactly when the invoice is valid in the flow, so the verdicts are those of
 * the whole-flow reading, while memory follows one invoice instead of the flow (the file itself
 * is never loaded whole). Line numbers and element paths in errors are those of the flow.
 */
import type { FlowError } from '../errors/catalog.js';
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
}

export interface Split {
  prefix: Buffer;
  suffix: Buffer;
  units: { start: number; end: number }[];
}

/** Offsets of every occurrence of each marker, scanning the source block by block. */
function scan(src: ByteSource, markers: string[]): Map<string, number[]> {
  const found = new Map(markers.map((m) => [m, [] as number[]]));
  for (let offset = 0; offset < src.size; offset += BLOCK) {
    const buf = src.read(offset, Math.min(src.size, offset + BLOCK + OVERLAP));
    for (const m of markers) {
      for (let i = buf.indexOf(m); i >= 0 && i < BLOCK; i = buf.indexOf(m, i + 1)) {
        // An opening tag must end its name there (not <CPPFactureMixteUnitaireX).
        if (m === OPEN && !/[\s>]/.test(String.fromCharCode(buf[i + m.length] ?? 0))) continue;
        found.get(m)!.push(offset + i);
      }
    }
  }
  return found;
}

/** Where each invoice is, or undefined when the flow cannot be split safely (it is then read whole). */
export function splitMixedFlow(src: ByteSource): Split | undefined {
  const head = src.read(0, Math.min(src.size, 2));
  if (head[0] === 0xff || head[0] === 0xfe || head[1] === 0) return undefined; // UTF-16
  const found = scan(src, [OPEN, CLOSE, LIST, ...UNSUPPORTED]);
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
    units.push({ start: opens[i]!, end });
  }
  const prefix = src.read(0, units[0]!.start);
  if (!/<CPPFactureMixte[\s>]/.test(prefix.toString('latin1'))) return undefined;
  return { prefix, suffix: src.read(units[units.length - 1]!.end, src.size), units };
}

const newlines = (b: Buffer): number => {
  let n = 0;
  for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) n++;
  return n;
};

export function readMixedFlowInParts(src: ByteSource, split: Split, schema: CompiledSchema, maxAttachmentSize: number): { invoices: Invoice[]; errors: FlowError[] } {
  const prefixLines = newlines(split.prefix);
  const invoices: Invoice[] = [];
  const errors: FlowError[] = [];
  const units: { numOrdre: string | undefined; where: ReturnType<typeof at> }[] = [];
  let compteur: string | undefined;
  let listAt: ReturnType<typeof at> = {};
  let linesBefore = prefixLines;
  split.units.forEach((u, i) => {
    if (i) linesBefore += newlines(src.read(split.units[i - 1]!.end, u.start));
    const unitBytes = src.read(u.start, u.end);
    const shift = linesBefore - prefixLines;
    linesBefore += newlines(unitBytes);
    const lineOf = (line: number) => (line > prefixLines ? line + shift : line);
    const step = `/CPPFactureMixteUnitaire[${i + 1}]`;
    const parsed = parseXml(
      Buffer.concat([split.prefix, unitBytes, split.suffix]),
      () => schema,
      (root) => {
        const list = child(root, 'CPPFactures')!;
        if (i === 0) {
          compteur = list.attrs.Compteur;
          listAt = at(list);
        }
        const unit = list.children[0]! as { index: number } & typeof list;
        unit.index = i + 1;
        units.push({ numOrdre: unit.attrs.NumOrdre, where: at(unit) });
        return readInvoice(unit, maxAttachmentSize);
      },
      20,
      lineOf,
    );
    if (parsed.ok) invoices.push(parsed.value);
    else if (errors.length < 20) {
      errors.push(...parsed.errors.map((e) => ({
        ...e,
        ...(e.line ? { line: lineOf(e.line) } : {}),
        ...(e.element ? { element: e.element.replace('/CPPFactureMixteUnitaire', step) } : {}),
      })));
    }
  });
  if (errors.length) return { invoices: [], errors };
  const counting = countingErrors(compteur, units, listAt);
  return { invoices: counting.length ? [] : invoices, errors: counting };
}
