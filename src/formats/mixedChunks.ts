/**
 * Large mixed flows read one invoice at a time. The flow is split at its top-level
 * CPPFactureMixteUnitaire elements; each invoice is parsed and validated as a small document
 * made of the flow's envelope, that one invoice and the closing tags. Such a document is valid
 * exactly when the invoice is valid in the flow, so the verdicts are those of the whole-flow
 * reading, while libxml2's memory follows one invoice instead of the flow. Line numbers and
 * element paths in errors are those of the original flow.
 */
import type { FlowError } from '../errors/catalog.js';
import type { Invoice } from '../model/invoice.js';
import { at, child, parseXml } from '../xml/parse.js';
import type { CompiledSchema } from '../xml/schemas.js';
import { countingErrors, readInvoice } from './mixed.js';

const OPEN = '<CPPFactureMixteUnitaire';
const CLOSE = '</CPPFactureMixteUnitaire>';

export interface Split {
  prefix: Buffer;
  suffix: Buffer;
  units: { start: number; end: number }[];
}

/** Where each invoice is, or undefined when the flow cannot be split safely (it is then read whole). */
export function splitMixedFlow(bytes: Buffer): Split | undefined {
  if (bytes[0] === 0xff || bytes[0] === 0xfe || bytes[1] === 0) return undefined; // UTF-16
  if (bytes.includes('<!--') || bytes.includes('<![CDATA[')) return undefined;
  const units: Split['units'] = [];
  let pos = bytes.indexOf('<CPPFactures');
  if (pos < 0) return undefined;
  for (;;) {
    const start = bytes.indexOf(OPEN, pos);
    if (start < 0) break;
    if (!/[\s>]/.test(String.fromCharCode(bytes[start + OPEN.length] ?? 0))) return undefined;
    const close = bytes.indexOf(CLOSE, start);
    const nested = bytes.indexOf(OPEN, start + OPEN.length);
    if (close < 0 || (nested >= 0 && nested < close)) return undefined;
    // Only white space between invoices.
    if (units.length && bytes.subarray(units[units.length - 1]!.end, start).toString('latin1').trim()) return undefined;
    units.push({ start, end: close + CLOSE.length });
    pos = close + CLOSE.length;
  }
  if (units.length < 2) return undefined;
  return { prefix: bytes.subarray(0, units[0]!.start), suffix: bytes.subarray(units[units.length - 1]!.end), units };
}

function newlines(bytes: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = bytes.indexOf(10, from); i >= 0 && i < to; i = bytes.indexOf(10, i + 1)) n++;
  return n;
}

export function readMixedFlowInParts(bytes: Buffer, split: Split, schema: CompiledSchema, maxAttachmentSize: number): { invoices: Invoice[]; errors: FlowError[] } {
  const prefixLines = newlines(bytes, 0, split.prefix.length);
  const invoices: Invoice[] = [];
  const errors: FlowError[] = [];
  const units: { numOrdre: string | undefined; where: ReturnType<typeof at> }[] = [];
  let compteur: string | undefined;
  let listAt: ReturnType<typeof at> = {};
  let linesBefore = prefixLines;
  let counted = split.prefix.length;
  split.units.forEach((u, i) => {
    linesBefore += newlines(bytes, counted, u.start);
    counted = u.start;
    const shift = linesBefore - prefixLines;
    const lineOf = (line: number) => (line > prefixLines ? line + shift : line);
    const step = `/CPPFactureMixteUnitaire[${i + 1}]`;
    const parsed = parseXml(
      Buffer.concat([split.prefix, bytes.subarray(u.start, u.end), split.suffix]),
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
