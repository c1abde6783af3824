/**
 * Stages detect → parse → schema → map: from a flow's bytes to canonical invoices, or to
 * the coded errors that refuse the whole flow. Pure apart from the compiled schemas.
 */
import fs from 'node:fs';
import { flowError, type FlowError } from '../errors/catalog.js';
import type { Settings } from '../config.js';
import { archiveKindOf, describeStart, looksLikeXml, xmlKindOf, type FlowKind } from '../detect/detect.js';
import { readTarGz, readZip, type ArchiveResult } from '../formats/archive.js';
import { readCii } from '../formats/cii.js';
import { readMixedFlow } from '../formats/mixed.js';
import { readMixedFlowInParts, splitMixedFlow } from '../formats/mixedChunks.js';
import { blankInvoice } from '../formats/structured.js';
import { readUbl } from '../formats/ubl.js';
import type { Invoice } from '../model/invoice.js';
import { materialize, parseXml, type XNode } from '../xml/parse.js';
import { schema } from '../xml/schemas.js';

export interface ReadResult {
  kind?: FlowKind;
  invoices: Invoice[];
  /** Errors that refuse the whole flow. */
  errors: FlowError[];
  /** Archive entries that could not be read at all, by invoice position: refused as they are. */
  entryErrors?: Map<number, FlowError[]>;
  /** The parsed document, for flows that are not invoices (statuses). */
  root?: XNode;
}

const refused = (errors: FlowError[], kind?: FlowKind): ReadResult => ({ kind, invoices: [], errors });
const STRUCTURED: readonly FlowKind[] = ['ubl-invoice', 'ubl-creditnote', 'cii'];

type Parsed<T> = { ok: true; value: T } | { ok: false; kind?: FlowKind; errors: FlowError[] };

/**
 * Detects an XML document by its root, parses it once, validates it against its schema, and
 * maps it with `use` while it is parsed.
 */
function parseDocument<T>(bytes: Buffer, accept: readonly FlowKind[], use: (kind: FlowKind, root: XNode) => T): Parsed<T> {
  if (!looksLikeXml(bytes)) return { ok: false, errors: [flowError('FLOW_UNKNOWN_FORMAT', { found: describeStart(bytes) })] };
  let kind: FlowKind | undefined;
  const parsed = parseXml(bytes, (root, ns) => {
    const k = xmlKindOf(root, ns);
    if (!k || !accept.includes(k.kind)) {
      const found = k ? `a ${k.root} document, not accepted here` : `an XML document with root element ${ns ? `{${ns}}` : ''}${root}`;
      return [flowError('FLOW_UNKNOWN_FORMAT', { found }, { line: 1 })];
    }
    kind = k.kind;
    return schema(k.schema);
  }, (root) => use(kind!, root));
  return parsed.ok ? parsed : { ok: false, kind, errors: parsed.errors };
}

function mapStructured(kind: FlowKind, root: XNode, bytes: Buffer, position: number, label: string, settings: Settings): Invoice {
  return kind === 'cii'
    ? readCii(root, bytes, position, label, settings.maxAttachmentBytes)
    : readUbl(root, bytes, position, label, settings.maxAttachmentBytes);
}

/** Reads a flow from disk, refusing one over the size limit before loading it. */
export function readFlowFile(file: string, settings: Settings): ReadResult {
  const stat = fs.lstatSync(file);
  // A link dropped in the inbox could point anywhere: it is never followed.
  if (!stat.isFile()) return refused([flowError('FLOW_NOT_REGULAR_FILE', { what: stat.isSymbolicLink() ? 'symbolic link' : 'special file' })]);
  const size = stat.size;
  if (size > settings.maxFlowBytes) return refused([flowError('FLOW_TOO_LARGE', { size, limit: settings.maxFlowBytes })]);
  if (size > settings.chunkAboveBytes) {
    const inParts = readLargeMixedFlow(file, size, settings);
    if (inParts) return inParts;
  }
  return readFlow(fs.readFileSync(file), settings);
}

/** A large mixed flow read one invoice at a time from the file; undefined when it is not one. */
function readLargeMixedFlow(file: string, size: number, settings: Settings): ReadResult | undefined {
  const fd = fs.openSync(file, 'r');
  try {
    const src = {
      size,
      read(start: number, end: number) {
        const buf = Buffer.allocUnsafe(end - start);
        const n = fs.readSync(fd, buf, 0, buf.length, start);
        return n === buf.length ? buf : buf.subarray(0, n);
      },
    };
    const split = splitMixedFlow(src);
    return split && { kind: 'mixed', ...readMixedFlowInParts(src, split, schema('mixed'), settings.maxAttachmentBytes) };
  } finally {
    fs.closeSync(fd);
  }
}

export function readFlow(bytes: Buffer, settings: Settings): ReadResult {
  if (bytes.length === 0) return refused([flowError('FLOW_EMPTY')]);
  const archive = archiveKindOf(bytes);
  if (archive) return readArchive(archive, bytes, settings);

  const parsed = parseDocument(bytes, ['mixed', 'statut', ...STRUCTURED], (kind, root): ReadResult => {
    switch (kind) {
      case 'mixed': {
        const flow = readMixedFlow(root, settings.maxAttachmentBytes);
        return { kind, invoices: flow.errors.length ? [] : flow.invoices, errors: flow.errors };
      }
      case 'statut':
        // Status flows are small and judged later: keep a copy of the tree.
        return { kind, invoices: [], errors: [], root: materialize(root) };
      default:
        return { kind, invoices: [mapStructured(kind, root, bytes, 1, 'document', settings)], errors: [] };
    }
  });
  return parsed.ok ? parsed.value : refused(parsed.errors, parsed.kind);
}

/** An archive of E1 documents is one flow; each entry is an invoice reported by its name. */
function readArchive(kind: FlowKind, bytes: Buffer, settings: Settings): ReadResult {
  const limits = { maxEntries: settings.archiveMaxEntries, maxEntryBytes: settings.archiveMaxEntryBytes, maxTotalBytes: settings.archiveMaxTotalBytes };
  const result: ArchiveResult = kind === 'zip' ? readZip(bytes, limits) : readTarGz(bytes, limits);
  if (!result.ok) return refused([result.error], kind);
  if (!result.entries.length) return refused([flowError('ARCHIVE_EMPTY')], kind);
  const invoices: Invoice[] = [];
  const entryErrors = new Map<number, FlowError[]>();
  result.entries.forEach((entry, i) => {
    const position = i + 1;
    const refuse = (errors: FlowError[]) => {
      invoices.push(blankInvoice(position, entry.name));
      entryErrors.set(position, errors);
    };
    if (!entry.content) return refuse([entry.error!]);
    const content = entry.content;
    const parsed = parseDocument(content, STRUCTURED, (kind, root) => mapStructured(kind, root, content, position, entry.name, settings));
    if (!parsed.ok) {
      return refuse(parsed.errors.map((e) => flowError('ARCHIVE_ENTRY_INVALID', { entry: entry.name, detail: `${e.code}: ${e.message}` }, e)));
    }
    invoices.push(parsed.value);
  });
  return { kind, invoices, errors: [], entryErrors };
}
