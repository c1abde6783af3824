/**
 * Stages detect → parse → schema → map: from a flow's bytes to canonical invoices, or to
 * the coded errors that refuse the whole flow. Pure apart from the compiled schemas.
 */
import { officialRulesOf } from '../rules/official.js';
import fs from 'node:fs';
import { flowError, type FlowError } from '../errors/catalog.js';
import type { Settings } from '../config.js';
import type { FlowKind } from '../detect/detect.js';
import { facturxLimitsOf, readFacturx } from '../formats/facturxDocument.js';
import { readTarGz, readZip, type ArchiveResult } from '../formats/archive.js';
import { readRequest } from '../formats/request.js';
import { mixedFlowFromUnits, readMixedUnit, splitMixedFlow, type ByteSource, type Split, type UnitResult } from '../formats/mixedChunks.js';
import type { Channel } from '../ledger/stores.js';
import { schema } from '../xml/schemas.js';
import { binaryFormatOf, XML_FORMATS } from './formats.js';
import { helperThreads, runTasks } from './parallel.js';
import { parseDocument } from './readDocument.js';
import { refused, type ReadResult } from './readResult.js';
import type { EntrySlot, TaskSet } from './readTasks.js';
import { openRegular, readFd } from '../util/openRegular.js';

export type { ReadResult } from './readResult.js';

/** Formats a flow may be as a whole document (archive entries are the structured ones). */
const FLOW_XML_KINDS = XML_FORMATS.map((f) => f.kind);

/** Below this many entries, waking the helper thread costs more than it saves. */
const PARALLEL_MIN_ENTRIES = 32;

/**
 * Reads a flow from disk, refusing one over the size limit before loading it. Only a
 * regular file is ever opened (never a link, FIFO or device: see util/openRegular).
 */
export function readFlowFile(file: string, settings: Settings, channel: Channel = 'edi'): ReadResult {
  const opened = openRegular(file);
  if (!opened.ok) return refused([flowError('FLOW_NOT_REGULAR_FILE', { what: opened.what })]);
  try {
    return readOpenedFlow(opened.fd, opened.size, settings, channel, splitLargeFlow(file, opened.fd, opened.size, settings));
  } finally {
    fs.closeSync(opened.fd);
  }
}

/** A flow from a file opened by the caller, who split it already when it is a large one (`splitLargeFlow`). */
export function readOpenedFlow(fd: number, size: number, settings: Settings, channel: Channel, large: LargeFlow | undefined): ReadResult {
  if (size > settings.maxFlowBytes) return refused([flowError('FLOW_TOO_LARGE', { size, limit: settings.maxFlowBytes })]);
  if (large) return { kind: 'mixed', inUnits: true, ...mixedFlowFromUnits(large.split.units.map((_, i) => readUnit(large, i, settings))) };
  return readFlow(readFd(fd, size), settings, channel);
}

/** A large mixed flow, opened: read one invoice at a time from the file. */
export interface LargeFlow {
  src: ByteSource;
  split: Split;
}

/**
 * The split of a flow above `chunkAboveBytes` when it is a mixed flow that splits safely;
 * undefined otherwise (it is read whole). Its invoices' attachments are set aside unless they
 * are `held` (one invoice read on its own: nothing to gain from reading them twice).
 */
export function splitLargeFlow(file: string, fd: number, size: number, settings: Settings, attachments: 'set aside' | 'held' = 'set aside'): LargeFlow | undefined {
  if (size <= settings.chunkAboveBytes || size > settings.maxFlowBytes) return undefined;
  const read = (start: number, end: number) => readFd(fd, end - start, start);
  const src: ByteSource = attachments === 'held' ? { size, read } : { size, read, file };
  const split = splitMixedFlow(src);
  return split && { src, split };
}

/** Invoice `i` (0-based) of a large flow. */
export const readUnit = ({ src, split }: LargeFlow, i: number, settings: Settings): UnitResult => readMixedUnit(src, split, i, schema('mixed'), settings.maxAttachmentBytes);

export function readFlow(bytes: Buffer, settings: Settings, channel: Channel = 'edi'): ReadResult {
  if (bytes.length === 0) return refused([flowError('FLOW_EMPTY')]);
  const binary = binaryFormatOf(bytes);
  if (binary && !binary.channels.includes(channel)) return refused([flowError('REQUEST_CHANNEL_FORBIDDEN')], binary.kind);
  if (binary?.reader === 'request') return readRequest(bytes);
  if (binary?.reader === 'archive') return readArchive(binary.kind, bytes, settings);
  if (binary?.reader === 'facturx') {
    const fx = readFacturx(bytes, 1, 'document', settings.maxAttachmentBytes, facturxLimitsOf(settings), officialRulesOf(settings));
    return fx.ok ? { kind: 'facturx', invoices: [fx.invoice], errors: [] } : refused(fx.errors, 'facturx');
  }
  const parsed = parseDocument(bytes, FLOW_XML_KINDS, (format, root): ReadResult => ({
    kind: format.kind,
    ...format.read(root, { bytes, position: 1, label: 'document', maxAttachmentBytes: settings.maxAttachmentBytes, rules: officialRulesOf(settings) }),
  }));
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
  const tasks: TaskSet = { data, entries, maxAttachmentBytes: settings.maxAttachmentBytes, pdfLimits: facturxLimitsOf(settings), rules: officialRulesOf(settings) };
  const { results, byHelpers } = runTasks(tasks, entries.length, entries.length >= PARALLEL_MIN_ENTRIES ? settings.readThreads : 0);
  const entryErrors = new Map<number, FlowError[]>();
  results.forEach((r, i) => r.errors && entryErrors.set(i + 1, r.errors));
  return { kind, invoices: results.map((r) => r.invoice), errors: [], entryErrors, readByHelpers: byHelpers };
}
