/**
 * Stages detect → parse → schema → map: from a flow's bytes to canonical invoices, or to
 * the coded errors that refuse the whole flow. Pure apart from the compiled schemas.
 */
import fs from 'node:fs';
import { flowError, type FlowError } from '../errors/catalog.js';
import type { Settings } from '../config.js';
import { archiveKindOf, isPdf, type FlowKind } from '../detect/detect.js';
import { facturxLimitsOf, readFacturx } from '../formats/facturxDocument.js';
import { readTarGz, readZip, type ArchiveResult } from '../formats/archive.js';
import { readMixedFlow } from '../formats/mixed.js';
import { mixedFlowFromUnits, readMixedUnit, splitMixedFlow } from '../formats/mixedChunks.js';
import type { Invoice } from '../model/invoice.js';
import { materialize, type XNode } from '../xml/parse.js';
import { schema } from '../xml/schemas.js';
import { helperThreads, runTasks } from './parallel.js';
import { mapStructured, parseDocument, STRUCTURED } from './readDocument.js';
import type { EntrySlot, TaskSet } from './readTasks.js';

export interface ReadResult {
  kind?: FlowKind;
  invoices: Invoice[];
  /** Errors that refuse the whole flow. */
  errors: FlowError[];
  /** Archive entries that could not be read at all, by invoice position: refused as they are. */
  entryErrors?: Map<number, FlowError[]>;
  /** The parsed document, for flows that are not invoices (statuses). */
  root?: XNode;
  /** Archive entries read on helper threads (the others were read on the flow's thread). */
  readByHelpers?: number;
}

const refused = (errors: FlowError[], kind?: FlowKind): ReadResult => ({ kind, invoices: [], errors });

/** Below this many entries, waking the helper thread costs more than it saves. */
const PARALLEL_MIN_ENTRIES = 32;

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
    if (!split) return undefined;
    const units = split.units.map((_, i) => readMixedUnit(src, split, i, schema('mixed'), settings.maxAttachmentBytes));
    return { kind: 'mixed', ...mixedFlowFromUnits(units) };
  } finally {
    fs.closeSync(fd);
  }
}

export function readFlow(bytes: Buffer, settings: Settings): ReadResult {
  if (bytes.length === 0) return refused([flowError('FLOW_EMPTY')]);
  const archive = archiveKindOf(bytes);
  if (archive) return readArchive(archive, bytes, settings);
  // --- Factur-X (to be re-homed into the format registry)
  if (isPdf(bytes)) {
    const fx = readFacturx(bytes, 1, 'document', settings.maxAttachmentBytes, facturxLimitsOf(settings));
    return fx.ok ? { kind: 'facturx', invoices: [fx.invoice], errors: [] } : refused(fx.errors, 'facturx');
  }
  // --- end Factur-X

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
        return { kind, invoices: [mapStructured(kind, root, bytes, 1, 'document', settings.maxAttachmentBytes)], errors: [] };
    }
  });
  return parsed.ok ? parsed.value : refused(parsed.errors, parsed.kind);
}

/**
 * An archive of E1 documents is one flow; each entry is an invoice reported by its name. The
 * entries are laid out in one shared buffer so that both threads read them without copies.
 */
function readArchive(kind: FlowKind, bytes: Buffer, settings: Settings): ReadResult {
  // Started now, the helpers are ready by the time the archive has inflated.
  if (bytes.length >= 64 * 1024) helperThreads(settings.readThreads);
  const limits = { maxEntries: settings.archiveMaxEntries, maxEntryBytes: settings.archiveMaxEntryBytes, maxTotalBytes: settings.archiveMaxTotalBytes };
  const result: ArchiveResult = kind === 'zip' ? readZip(bytes, limits) : readTarGz(bytes, limits);
  if (!result.ok) return refused([result.error], kind);
  if (!result.entries.length) return refused([flowError('ARCHIVE_EMPTY')], kind);
  const data = new SharedArrayBuffer(result.entries.reduce((n, e) => n + (e.content?.length ?? 0), 0));
  let offset = 0;
  const entries: EntrySlot[] = result.entries.map((e) => {
    const start = offset;
    if (e.content) offset += e.content.copy(new Uint8Array(data), start);
    return { name: e.name, start, end: offset, ...(e.content ? {} : { error: e.error! }) };
  });
  result.entries.length = 0; // the inflated copies can go
  const tasks: TaskSet = { data, entries, maxAttachmentBytes: settings.maxAttachmentBytes, pdfLimits: facturxLimitsOf(settings) };
  const { results, byHelpers } = runTasks(tasks, entries.length, entries.length >= PARALLEL_MIN_ENTRIES ? settings.readThreads : 0);
  const entryErrors = new Map<number, FlowError[]>();
  results.forEach((r, i) => r.errors && entryErrors.set(i + 1, r.errors));
  return { kind, invoices: results.map((r) => r.invoice), errors: [], entryErrors, readByHelpers: byHelpers };
}
