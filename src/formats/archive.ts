/**
 * Batches of structured invoices as zip or tar.gz archives, extracted in memory and never to
 * disk. Every entry is checked before it is inflated: no absolute paths or `..`, no links, no
 * nested archives, and caps on the entry count, each entry's size and the total expanded size
 * (zip bombs). The caps bound the bytes actually inflated, not the sizes headers declare:
 * inflation stops at the entry's cap or at what is left of the total, and a zip whose
 * entries overlap each other or its central directory (one stream counted many times) is
 * refused before anything is inflated. Each refusal is a coded error: for the whole archive when the archive itself is
 * unusable, for the one entry otherwise.
 */
import zlib from 'node:zlib';
import { flowError, type FlowError } from '../errors/catalog.js';

export interface ArchiveLimits {
  maxEntries: number;
  maxEntryBytes: number;
  maxTotalBytes: number;
}

export interface ArchiveEntry {
  name: string;
  content?: Buffer;
  /** Why this entry was not extracted. */
  error?: FlowError;
}

export type ArchiveResult = { ok: true; entries: ArchiveEntry[] } | { ok: false; error: FlowError };

const NESTED_NAME = /\.(zip|tar|tgz|gz|7z|rar|bz2|xz)$/i;

export function unsafePath(name: string): boolean {
  const n = name.replace(/\\/g, '/');
  return n.startsWith('/') || /^[A-Za-z]:/.test(n) || n.split('/').includes('..') || n.includes('\0');
}

const isNested = (name: string, content: Buffer) =>
  NESTED_NAME.test(name) || (content[0] === 0x50 && content[1] === 0x4b && content[2] === 0x03) || (content[0] === 0x1f && content[1] === 0x8b);

/** Common checks once an entry's name, kind and declared size are known. */
function entryError(name: string, isLink: boolean, size: number, limits: ArchiveLimits): FlowError | undefined {
  if (unsafePath(name)) return flowError('ARCHIVE_UNSAFE_PATH', { entry: name });
  if (isLink) return flowError('ARCHIVE_LINK', { entry: name });
  if (size > limits.maxEntryBytes) return flowError('ARCHIVE_ENTRY_TOO_LARGE', { entry: name, limit: limits.maxEntryBytes });
  return undefined;
}

type Refusal = { ok: false; error: FlowError };
const corrupt = (detail: string): Refusal => ({ ok: false, error: flowError('ARCHIVE_CORRUPT', { detail }) });
const tooLarge = (limits: ArchiveLimits): Refusal => ({ ok: false, error: flowError('ARCHIVE_TOO_LARGE', { limit: limits.maxTotalBytes }) });

/* ----------------------------------------------------------------------------- zip */

interface ZipRecord {
  name: string;
  flags: number;
  method: number;
  compressed: number;
  size: number;
  mode: number;
  dataAt: number;
}

/**
 * The central directory, checked so that each byte of the archive belongs to one entry at
 * most: entries whose local header and data overlap another's, or the central directory,
 * are how one small deflate stream is made to count as thousands of entries.
 */
function zipDirectory(zip: Buffer, limits: ArchiveLimits): { ok: true; records: ZipRecord[] } | Refusal {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0 || end + 22 > zip.length) return corrupt('no end of central directory');
  const count = zip.readUInt16LE(end + 10);
  const cdStart = zip.readUInt32LE(end + 16);
  let at = cdStart;
  if (count === 0xffff || at === 0xffffffff) return corrupt('ZIP64 archives are not supported');
  if (count > limits.maxEntries) return { ok: false, error: flowError('ARCHIVE_TOO_MANY_ENTRIES', { limit: limits.maxEntries }) };
  const records: ZipRecord[] = [];
  const spans: { start: number; end: number; name: string }[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== 0x02014b50) return corrupt(`central directory entry ${i + 1} is damaged`);
    const flags = zip.readUInt16LE(at + 8);
    const nameLength = zip.readUInt16LE(at + 28);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString(flags & 0x800 ? 'utf8' : 'latin1');
    const compressed = zip.readUInt32LE(at + 20);
    const record = { name, flags, method: zip.readUInt16LE(at + 10), compressed, size: zip.readUInt32LE(at + 24), mode: zip.readUInt32LE(at + 38) >>> 16, dataAt: 0 };
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    if (local + 30 > zip.length || zip.readUInt32LE(local) !== 0x04034b50) return corrupt(`local header of "${name}" is damaged`);
    record.dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    spans.push({ start: local, end: record.dataAt + compressed, name });
    records.push(record);
  }
  spans.sort((a, b) => a.start - b.start);
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    if (s.end > cdStart) return { ok: false, error: flowError('ARCHIVE_OVERLAPPING_ENTRIES', { entry: s.name, other: 'the central directory' }) };
    const prev = spans[i - 1];
    if (prev && s.start < prev.end) return { ok: false, error: flowError('ARCHIVE_OVERLAPPING_ENTRIES', { entry: s.name, other: prev.name }) };
  }
  return { ok: true, records };
}

export function readZip(zip: Buffer, limits: ArchiveLimits): ArchiveResult {
  const dir = zipDirectory(zip, limits);
  if (!dir.ok) return dir;
  const entries: ArchiveEntry[] = [];
  let declared = 0;
  // Bytes actually produced (inflated or copied), whatever the headers say: the work done.
  let produced = 0;
  for (const { name, flags, method, compressed, size, mode, dataAt } of dir.records) {
    if (name.endsWith('/')) continue; // a folder
    const refused = entryError(name, (mode & 0o170000) === 0o120000, size, limits);
    if (refused) {
      entries.push({ name, error: refused });
      continue;
    }
    if (flags & 0x1) {
      entries.push({ name, error: flowError('ARCHIVE_ENTRY_INVALID', { entry: name, detail: 'the entry is encrypted' }) });
      continue;
    }
    if (method !== 0 && method !== 8) {
      entries.push({ name, error: flowError('ARCHIVE_ENTRY_INVALID', { entry: name, detail: `compression method ${method} is not supported` }) });
      continue;
    }
    declared += size;
    if (declared > limits.maxTotalBytes) return tooLarge(limits);
    const data = zip.subarray(dataAt, dataAt + compressed);
    // Inflation stops at whichever cap comes first: this entry's, or what is left of the total.
    const left = limits.maxTotalBytes - produced;
    const cap = Math.max(1, Math.min(limits.maxEntryBytes, left));
    let content: Buffer;
    try {
      if (method === 0 && data.length > cap) throw new RangeError('stored entry over the cap');
      content = method === 0 ? Buffer.from(data) : zlib.inflateRawSync(data, { maxOutputLength: cap });
    } catch (e) {
      const bomb = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError;
      if (bomb && cap < limits.maxEntryBytes) return tooLarge(limits);
      produced += bomb ? cap : 0;
      entries.push({ name, error: bomb ? flowError('ARCHIVE_ENTRY_TOO_LARGE', { entry: name, limit: limits.maxEntryBytes }) : flowError('ARCHIVE_ENTRY_INVALID', { entry: name, detail: 'it cannot be inflated' }) });
      continue;
    }
    produced += content.length;
    if (content.length !== size) {
      entries.push({ name, error: flowError('ARCHIVE_ENTRY_INVALID', { entry: name, detail: `it expands to ${content.length} bytes, not the ${size} it declares` }) });
      continue;
    }
    entries.push(isNested(name, content) ? { name, error: flowError('ARCHIVE_NESTED', { entry: name }) } : { name, content });
  }
  return { ok: true, entries };
}

/* ------------------------------------------------------------------------- tar.gz */

const tarString = (block: Buffer, from: number, length: number) => {
  const raw = block.subarray(from, from + length);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? raw.length : nul).toString('utf8');
};

/* Parsed without regular expressions: these bodies are attacker-sized. */
function withoutTrailingNuls(b: Buffer): Buffer {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  return b.subarray(0, end);
}

/** The `path` record of a pax header (`<length> path=<value>\n` lines). */
function paxPath(text: string): string | undefined {
  let found: string | undefined;
  for (let at = 0; at < text.length; ) {
    const nl = text.indexOf('\n', at);
    if (nl < 0) break;
    const space = text.indexOf(' ', at);
    if (space > at && space < nl && text.startsWith('path=', space + 1)) {
      const digits = text.slice(at, space);
      if (digits.split('').every((c) => c >= '0' && c <= '9')) found ??= text.slice(space + 6, nl);
    }
    at = nl + 1;
  }
  return found;
}

export function readTarGz(gz: Buffer, limits: ArchiveLimits): ArchiveResult {
  let tar: Buffer;
  try {
    // Tar headers add 512 bytes per entry: allow for them beyond the content cap.
    tar = zlib.gunzipSync(gz, { maxOutputLength: limits.maxTotalBytes + 1024 * (limits.maxEntries + 2) });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) return tooLarge(limits);
    return corrupt(`gzip: ${(e as Error).message}`);
  }
  const entries: ArchiveEntry[] = [];
  let contentBytes = 0;
  let longName: string | undefined;
  for (let at = 0; at + 512 <= tar.length; ) {
    const block = tar.subarray(at, at + 512);
    if (block.every((b) => b === 0)) break; // end of archive
    const size = parseInt(tarString(block, 124, 12).trim() || '0', 8);
    if (!Number.isFinite(size) || size < 0) return corrupt(`bad size in the header at offset ${at}`);
    const type = String.fromCharCode(block[156] || 0x30);
    const prefix = tarString(block, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${tarString(block, 0, 100)}` : tarString(block, 0, 100));
    const body = tar.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    // gunzip stopped at the total plus room for headers; the bodies themselves get the total.
    contentBytes += body.length;
    if (contentBytes > limits.maxTotalBytes) return tooLarge(limits);
    longName = undefined;
    if (type === 'L') {
      longName = withoutTrailingNuls(body).toString('utf8');
      continue;
    }
    if (type === 'x') {
      longName = paxPath(body.toString('utf8'));
      continue;
    }
    if (type === 'g' || type === '5') continue; // global header, folder
    if (entries.length >= limits.maxEntries) return { ok: false, error: flowError('ARCHIVE_TOO_MANY_ENTRIES', { limit: limits.maxEntries }) };
    const refused = entryError(name, type === '1' || type === '2', size, limits);
    if (refused) entries.push({ name, error: refused });
    else if (type !== '0' && type !== '7') entries.push({ name, error: flowError('ARCHIVE_ENTRY_INVALID', { entry: name, detail: `tar entry type "${type}" is not a regular file` }) });
    else if (body.length !== size) return corrupt(`"${name}" is truncated`);
    else entries.push(isNested(name, body) ? { name, error: flowError('ARCHIVE_NESTED', { entry: name }) } : { name, content: Buffer.from(body) });
  }
  return { ok: true, entries };
}
