/**
 * Durable, atomic file output: write a temp file in the target folder, fsync it, rename it
 * over the final name, then fsync the folder so the rename itself survives a crash.
 * A reader never sees a half-written output, and rewriting the same name is idempotent.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import os from 'node:os';

/**
 * Fault injection for tests: called before every write, fsync and rename of the file layer;
 * a hook that throws (ENOSPC, EACCES, EIO) simulates that failure at that exact step.
 */
export type FaultHook = (operation: 'write' | 'fsync' | 'rename', file: string) => void;
let faultHook: FaultHook | undefined;
export function setFaultHook(hook: FaultHook | undefined): void {
  faultHook = hook;
}

/** fsync of a file or a folder by its path. */
export function fsyncPath(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A temp file's name carries its writer: `.<final>.<pid>@<host>.<random>.tmp`, the host as a short
 * hash. Only the writer's own machine can tell whether that pid is alive; nodes on other machines
 * share the folders and leave such a file alone until it is older than any write takes.
 */
const HOST_TAG = crypto.createHash('sha256').update(os.hostname()).digest('hex').slice(0, 8);
const TEMP_NAME = /^\..+\.(\d+)(?:@([0-9a-f]{8}))?\.[0-9a-f]{8}\.tmp$/;
const FOREIGN_TEMP_MAX_AGE_MS = 3600_000;

const tempNameFor = (file: string): string =>
  path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}@${HOST_TAG}.${crypto.randomBytes(4).toString('hex')}.tmp`);

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the writer of a temp file is gone: a dead pid here, or a file of another host left for an hour. */
function abandonedTemp(file: string, pid: number, host: string | undefined, now: number): boolean {
  if (!host || host === HOST_TAG) return !processAlive(pid);
  try {
    return now - fs.statSync(file).mtimeMs > FOREIGN_TEMP_MAX_AGE_MS;
  } catch {
    return false; // renamed or removed meanwhile by its writer
  }
}

/** Removes temp files left below `dir` by writers that died (crash, kill) before renaming. */
export function removeOrphanTempFiles(dir: string): number {
  let removed = 0;
  if (!fs.existsSync(dir)) return 0;
  const now = Date.now();
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[]) {
    const m = entry.isFile() ? TEMP_NAME.exec(entry.name) : null;
    const file = m && path.join(entry.parentPath, entry.name);
    if (m && abandonedTemp(file!, Number(m[1]), m[2], now)) {
      fs.rmSync(file!, { force: true });
      removed++;
    }
  }
  return removed;
}

/**
 * Folders whose new entries still have to be made durable. Several outputs landing in the same
 * folder (a flow's two reports, the files of flows delivered together) then cost one fsync of
 * that folder instead of one each; the caller syncs them before recording the outputs as done.
 */
export class PendingDirs {
  private readonly dirs = new Set<string>();

  add(dir: string): void {
    this.dirs.add(dir);
  }

  sync(): void {
    for (const dir of this.dirs) fsyncPath(dir);
    this.dirs.clear();
  }
}

/**
 * Folders this process created or found: `mkdir -p` once per folder, not once per output. A
 * folder removed behind our back is recreated when opening in it fails with ENOENT.
 */
const knownDirs = new Set<string>();

export function ensureDir(dir: string): void {
  if (knownDirs.has(dir)) return;
  fs.mkdirSync(dir, { recursive: true });
  knownDirs.add(dir);
}

function openInDir(dir: string, file: string, flags: string, mode?: number): number {
  try {
    return fs.openSync(file, flags, mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !knownDirs.delete(dir)) throw e;
    ensureDir(dir);
    return fs.openSync(file, flags, mode);
  }
}

/** Chunks are gathered up to this size before each write: one syscall per 1 MiB, not per chunk. */
const WRITE_BATCH = 1024 * 1024;

/** Writes chunks to `fd` as they come, holding at most about one batch in memory. */
function writeChunks(fd: number, chunks: Iterable<string | Uint8Array>): void {
  let held: (string | Uint8Array)[] = [];
  let heldBytes = 0;
  const flush = () => {
    if (held.length === 1) fs.writeSync(fd, typeof held[0] === 'string' ? Buffer.from(held[0], 'utf8') : held[0]!);
    else if (held.length) fs.writeSync(fd, Buffer.concat(held.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c))));
    held = [];
    heldBytes = 0;
  };
  for (const chunk of chunks) {
    held.push(chunk);
    heldBytes += chunk.length; // UTF-16 units for strings: close enough for a batch size
    if (heldBytes >= WRITE_BATCH) flush();
  }
  flush();
}

const GROUP = 32;

/** Writes `file` atomically; its folder is fsynced now, or later with `pending`. */
export function writeFileAtomic(file: string, chunks: Iterable<string | Uint8Array>, pending?: PendingDirs): void {
  writeFilesAtomic([{ path: file, chunks }], pending);
}

/**
 * Writes several files atomically as a group: every temp file written, then each fsynced,
 * then each renamed over its name (so the disk takes the group's data in one go instead of
 * one write-and-wait per file). Each file is still durable before it appears; on a fault
 * before the renames, the temps written so far are removed and no file of the group appears.
 */
export function writeFilesAtomic(files: { path: string; chunks: Iterable<string | Uint8Array> }[], pending?: PendingDirs): void {
  // A flow cut per invoice may have thousands of files: groups stay small (open descriptors).
  if (files.length > GROUP) {
    for (let i = 0; i < files.length; i += GROUP) writeFilesAtomic(files.slice(i, i + GROUP), pending);
    return;
  }
  const open: { file: string; dir: string; tmp: string; fd: number }[] = [];
  const abandon = () => {
    for (const o of open.splice(0)) {
      try {
        fs.closeSync(o.fd);
      } catch {
        // closed already
      }
      fs.rmSync(o.tmp, { force: true });
    }
  };
  try {
    for (const { path: file, chunks } of files) {
      const dir = path.dirname(file);
      ensureDir(dir);
      const tmp = tempNameFor(file);
      open.push({ file, dir, tmp, fd: openInDir(dir, tmp, 'w', 0o644) });
      faultHook?.('write', file);
      writeChunks(open[open.length - 1]!.fd, chunks);
    }
    for (const o of open) {
      faultHook?.('fsync', o.file);
      fs.fsyncSync(o.fd);
    }
    for (const o of open) fs.closeSync(o.fd);
  } catch (e) {
    abandon();
    throw e;
  }
  // A fault here (a crash between renames) leaves the files renamed so far: each is complete and
  // durable, and a resumed delivery rewrites the same names with the same contents.
  for (const [i, o] of open.entries()) {
    try {
      faultHook?.('rename', o.file);
      fs.renameSync(o.tmp, o.file);
    } catch (e) {
      for (const rest of open.slice(i)) fs.rmSync(rest.tmp, { force: true });
      throw e;
    }
  }
  const dirs = pending ?? new PendingDirs();
  for (const o of open) dirs.add(o.dir);
  if (!pending) dirs.sync();
}

/** Moves a file durably (same filesystem): rename, then fsync both folders (now, or later with `pending`). */
export function moveDurably(from: string, to: string, pending?: PendingDirs): void {
  faultHook?.('rename', to);
  const dir = path.dirname(to);
  ensureDir(dir);
  try {
    fs.renameSync(from, to);
  } catch (e) {
    // The folder was removed since it was first seen: made again, once.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !knownDirs.delete(dir) || !fs.existsSync(from)) throw e;
    ensureDir(dir);
    fs.renameSync(from, to);
  }
  const dirs = pending ?? new PendingDirs();
  dirs.add(path.dirname(to));
  dirs.add(path.dirname(from));
  if (!pending) dirs.sync();
}
