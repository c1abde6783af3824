/**
 * Batches of structured invoices as zip or tar.gz archives, extracted in memory and never to
 * disk. Every entry is checked before it is inflated: no absolute paths or `..`, no links, no
 * nested archives, and caps on the entry count, each entry's size and the total expanded size
 * (zip bombs). Each refusal is a coded error: for the whole archive when the archive itself is
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

const corrupt = (detail: string): ArchiveResult => ({ ok: false, error: flowError('ARCHIVE_CORRUPT', { detail }) });
const tooLarge = (limits: ArchiveLimits): ArchiveResult => ({ ok: false, error: flowError('ARCHIVE_TOO_LARGE', { limit: limits.maxTotalBytes }) });

/* ----------------------------------------------------------------------------- zip */

export function readZip(zip: Buffer, limits: ArchiveLimits): ArchiveResult {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0 || end + 22 > zip.length) return corrupt('no end of central directory');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  if (count === 0xffff || at === 0xffffffff) return corrupt('ZIP64 archives are not supported');
  if (count > limits.maxEntries) return { ok: false, error: flowError('ARCHIVE_TOO_MANY_ENTRIES', { limit: limits.maxEntries }) };
  const entries: ArchiveEntry[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== 0x02014b50) return corrupt(`central directory entry ${i + 1} is damaged`);
    const flags = zip.readUInt16LE(at + 8);
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const next = at + 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const mode = zip.readUInt32LE(at + 38) >>> 16;
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString(flags & 0x800 ? 'utf8' : 'latin1');
    at = next;
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
    total += size;
    if (total > limits.maxTotalBytes) return tooLarge(limits);
    if (local + 30 > zip.length || zip.readUInt32LE(local) !== 0x04034b50) return corrupt(`local header of "${name}" is damaged`);
    const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataAt, dataAt + compressed);
    let content: Buffer;
    try {
      // The declared size may lie: inflation itself is capped.
      content = method === 0 ? Buffer.from(data) : method === 8 ? zlib.inflateRawSync(data, { maxOutputLength: Math.max(1, limits.maxEntryBytes) }) : Buffer.alloc(0);
    } catch (e) {
      const bomb = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError;
      entries.push({ name, error: bomb ? flowError('ARCHIVE_ENTRY_TOO_LARGE', { entry: name, limit: limits.maxEntryBytes }) : flowError('ARCHIVE_ENTRY_INVALID', { entry: name, detail: 'it cannot be inflated' }) });
      continue;
    }
    if (method !== 0 && method !== 8) {
      entries.push({ name, error: flowError('ARCHIVE_ENTRY_INVALID', { entry: name, detail: `compression method ${method} is not supported` }) });
      continue;
    }
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
    longName = undefined;
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    if (type === 'x') {
      longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
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
