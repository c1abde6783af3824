/**
 * The entries of an archive as independent tasks either thread can run (see parallel.ts). The
 * entries' bytes sit in one shared buffer, so a task set is plain data that crosses to the
 * helper thread without copying them.
 */
import type { OfficialRules } from '../rules/official.js';
import { flowError, type FlowError } from '../errors/catalog.js';
import { blankInvoice } from '../formats/structured.js';
import type { Invoice } from '../model/invoice.js';
import { ARCHIVE_ENTRY_KINDS, binaryFormatOf } from './formats.js';
import { parseDocument } from './readDocument.js';
import type { FacturxLimits } from '../formats/facturx.js';
import { readFacturx, type FacturxRead } from '../formats/facturxDocument.js';

export interface EntrySlot {
  name: string;
  start: number;
  end: number;
  /** Why the entry could not be extracted: it is refused as it is. */
  error?: FlowError;
}

export interface TaskSet {
  data: SharedArrayBuffer;
  entries: EntrySlot[];
  maxAttachmentBytes: number;
  /** Caps on Factur-X PDF entries (plain data: the set crosses threads). */
  pdfLimits?: FacturxLimits;
  rules?: OfficialRules;
}

/** An entry's invoice, blank when the entry is refused with `errors`. */
export interface TaskResult {
  invoice: Invoice;
  errors?: FlowError[];
}

export function runTask(tasks: TaskSet, i: number): TaskResult {
  const slot = tasks.entries[i]!;
  const position = i + 1;
  if (slot.error) return { invoice: blankInvoice(position, slot.name), errors: [slot.error] };
  const content = Buffer.from(tasks.data, slot.start, slot.end - slot.start);
  // A Factur-X entry is read by its own reader; the PDF is copied out of the shared buffer.
  const parsed = binaryFormatOf(content)?.reader === 'facturx'
    ? asParsed(readFacturx(Buffer.from(content), position, slot.name, tasks.maxAttachmentBytes, tasks.pdfLimits, tasks.rules))
    : parseDocument(content, ARCHIVE_ENTRY_KINDS, (format, root) => format.read(root, { bytes: content, position, label: slot.name, maxAttachmentBytes: tasks.maxAttachmentBytes, rules: tasks.rules }).invoices[0]!);
  if (parsed.ok) return { invoice: parsed.value };
  return {
    invoice: blankInvoice(position, slot.name),
    errors: parsed.errors.map((e) => flowError('ARCHIVE_ENTRY_INVALID', { entry: slot.name, detail: `${e.code}: ${e.message}` }, e)),
  };
}

const asParsed = (r: FacturxRead): { ok: true; value: Invoice } | { ok: false; errors: FlowError[] } => (r.ok ? { ok: true, value: r.invoice } : r);

const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** A result that crossed threads: its byte arrays become Buffers again. */
export function revive(result: TaskResult): TaskResult {
  for (const a of result.invoice.attachments) {
    if (a.content) a.content = asBuffer(a.content);
    if (a.zipped) a.zipped = asBuffer(a.zipped);
  }
  return result;
}
