/**
 * What the inbox holds, read as bytes: Node's string paths cannot name a file whose name is
 * not valid UTF-8, so folders are read with `encoding: 'buffer'` and such files are reached
 * through Buffer paths. Flows are the files of inbox/ and of its partner folders; anything
 * deeper (a folder inside a partner folder) or in a folder whose name is not text is never
 * claimed, and is listed as unexpected so that the daemon and `doctor` can say so.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Names the daemon never claims: hidden files and files still being written by convention. */
export const isIgnoredName = (name: string): boolean => name.startsWith('.') || /\.(part|tmp)$/i.test(name);

/**
 * A file name as readable, lossless text: valid UTF-8 as it is; otherwise every byte that is
 * not part of a valid UTF-8 sequence, and `%` itself, as `%XX`.
 */
export function readableName(name: Buffer): string {
  const text = name.toString('utf8');
  if (Buffer.from(text, 'utf8').equals(name)) return text;
  let out = '';
  for (let i = 0; i < name.length; ) {
    const len = utf8Length(name, i);
    if (len) {
      const piece = name.subarray(i, i + len).toString('utf8');
      out += piece === '%' ? '%25' : piece;
      i += len;
    } else out += `%${name[i]!.toString(16).toUpperCase().padStart(2, '0')}`, i++;
  }
  return out;
}

/** The length of the valid UTF-8 sequence starting at `i`, or 0. */
function utf8Length(b: Buffer, i: number): number {
  const c = b[i]!;
  const len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (!len || i + len > b.length) return 0;
  for (let k = 1; k < len; k++) if ((b[i + k]! & 0xc0) !== 0x80) return 0;
  return Buffer.from(b.subarray(i, i + len).toString('utf8'), 'utf8').equals(b.subarray(i, i + len)) ? len : 0;
}

export const isText = (name: Buffer): boolean => Buffer.from(name.toString('utf8'), 'utf8').equals(name);

export interface InboxFile {
  /** The readable path (the real one when the name is text): the key the daemon knows it by. */
  key: string;
  /** What the file system calls it (a Buffer when its name is not UTF-8). */
  fsPath: string | Buffer;
  /** Its readable name, as recorded on the flow. */
  name: string;
  partner?: string;
}

const bufferPath = (dir: string | Buffer, name: Buffer): string | Buffer =>
  typeof dir === 'string' && isText(name) ? path.join(dir, name.toString('utf8')) : Buffer.concat([typeof dir === 'string' ? Buffer.from(dir) : dir, Buffer.from(path.sep), name]);

function readdirBuffers(dir: string | Buffer): fs.Dirent<Buffer>[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true, encoding: 'buffer' });
  } catch {
    return [];
  }
}

/** At most this many unexpected entries are listed per scan. */
const MAX_UNEXPECTED = 200;

/** The inbox's candidate flows and the entries in places no flow is taken from (readable paths). */
export function scanInbox(inbox: string): { files: InboxFile[]; unexpected: string[] } {
  const files: InboxFile[] = [];
  const unexpected: string[] = [];
  const listUnder = (fsDir: string | Buffer, shown: string, depth: number) => {
    for (const e of readdirBuffers(fsDir)) {
      if (unexpected.length >= MAX_UNEXPECTED) return;
      const name = readableName(e.name);
      if (isIgnoredName(name)) continue;
      const child = path.join(shown, name);
      if (e.isDirectory() && depth < 8) listUnder(bufferPath(fsDir, e.name), child, depth + 1);
      else unexpected.push(child);
    }
  };
  for (const e of readdirBuffers(inbox)) {
    const name = readableName(e.name);
    if (isIgnoredName(name)) continue;
    // readdir's types come from lstat: a link to a folder is not a directory here, and is claimed (and refused) as a link.
    if (!e.isDirectory()) {
      files.push({ key: path.join(inbox, name), fsPath: bufferPath(inbox, e.name), name });
      continue;
    }
    const dir = path.join(inbox, name);
    if (!isText(e.name)) {
      // Not a partner code (those are AAA999): nothing in it is a flow.
      unexpected.push(dir);
      listUnder(bufferPath(inbox, e.name), dir, 1);
      continue;
    }
    for (const s of readdirBuffers(dir)) {
      const sub = readableName(s.name);
      if (isIgnoredName(sub)) continue;
      const key = path.join(dir, sub);
      if (s.isDirectory()) {
        if (unexpected.length < MAX_UNEXPECTED) unexpected.push(key);
        listUnder(bufferPath(dir, s.name), key, 2);
      } else files.push({ key, fsPath: bufferPath(dir, s.name), name: sub, partner: name });
    }
  }
  return { files, unexpected };
}
