/**
 * Just enough ZIP for pivot attachments: the pivot carries each attachment as a zip holding
 * exactly one file. `zipOne` writes such an archive (deflated, with a fixed timestamp so
 * that the same input always gives the same bytes); `unzipOne` reads one back and refuses
 * anything else.
 */
import zlib from 'node:zlib';
import { unsafeFileNameReason } from './fileNames.js';

const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const END = 0x06054b50;
// 1980-01-01 00:00: a constant so that re-emitting a flow rewrites identical files.
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

export const isZip = (b: Uint8Array): boolean => b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;

/** Formats that are compressed already: deflating them again costs time and saves nothing. */
const STORED = /\.(pdf|png|jpe?g|gif|tiff?|zip|docx|xlsx|pptx|odt|ods|odp)$/i;

export function zipOne(name: string, content: Buffer): Buffer {
  // Defence in depth: the deposit rules refuse such names; the writer never emits one.
  const unsafe = unsafeFileNameReason(name);
  if (unsafe) throw new Error(`refusing to write zip entry "${name}": ${unsafe}`);
  const fileName = Buffer.from(name, 'utf8');
  const method = STORED.test(name) ? 0 : 8;
  const data = method === 0 ? content : zlib.deflateRawSync(content, { level: 1 });
  const crc = zlib.crc32(content);
  const flags = 0x0800; // names are UTF-8
  const local = Buffer.alloc(30);
  local.writeUInt32LE(LOCAL, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(flags, 6);
  local.writeUInt16LE(method, 8);
  local.writeUInt16LE(DOS_TIME, 10);
  local.writeUInt16LE(DOS_DATE, 12);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(content.length, 22);
  local.writeUInt16LE(fileName.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(CENTRAL, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(flags, 8);
  central.writeUInt16LE(method, 10);
  central.writeUInt16LE(DOS_TIME, 12);
  central.writeUInt16LE(DOS_DATE, 14);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(content.length, 24);
  central.writeUInt16LE(fileName.length, 28);
  const centralOffset = local.length + fileName.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + fileName.length, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, fileName, data, central, fileName, end]);
}

/** The single file of a one-file zip, or undefined when the archive is not exactly that. */
export function unzipOne(zip: Buffer, maxSize: number): { name: string; content: Buffer } | undefined {
  const endAt = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endAt < 0 || endAt + 22 > zip.length) return undefined;
  if (zip.readUInt16LE(endAt + 10) !== 1) return undefined;
  const cd = zip.readUInt32LE(endAt + 16);
  if (cd + 46 > zip.length || zip.readUInt32LE(cd) !== CENTRAL) return undefined;
  const method = zip.readUInt16LE(cd + 10);
  const compressedSize = zip.readUInt32LE(cd + 20);
  const size = zip.readUInt32LE(cd + 24);
  const nameLength = zip.readUInt16LE(cd + 28);
  const localAt = zip.readUInt32LE(cd + 42);
  const name = zip.subarray(cd + 46, cd + 46 + nameLength).toString('utf8');
  if (size > maxSize || localAt + 30 > zip.length || zip.readUInt32LE(localAt) !== LOCAL) return undefined;
  const dataAt = localAt + 30 + zip.readUInt16LE(localAt + 26) + zip.readUInt16LE(localAt + 28);
  // The entry's bytes must lie before the central directory (no stream shared with it).
  if (dataAt + compressedSize > cd) return undefined;
  const data = zip.subarray(dataAt, dataAt + compressedSize);
  try {
    if (method === 0) return { name, content: Buffer.from(data) };
    if (method === 8) return { name, content: zlib.inflateRawSync(data, { maxOutputLength: Math.max(size, 1) }) };
  } catch {
    return undefined;
  }
  return undefined;
}
