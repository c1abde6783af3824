/**
 * Opening a flow file without ever blocking on, following or reading anything but a regular
 * file. `lstat` first, so that a device, FIFO or socket is never opened at all; then
 * `O_NOFOLLOW | O_NONBLOCK` (a link swapped in meanwhile fails, a FIFO swapped in does not
 * wait for a writer) and `fstat` of the descriptor itself, which is what gets read.
 */
import fs from 'node:fs';

export type NotRegular = 'symbolic link' | 'directory' | 'FIFO' | 'socket' | 'device' | 'special file';

export type Opened = { ok: true; fd: number; size: number } | { ok: false; code: 'FLOW_NOT_REGULAR_FILE'; what: NotRegular; stat?: fs.Stats };

const kindOf = (s: fs.Stats): NotRegular =>
  s.isSymbolicLink() ? 'symbolic link' : s.isDirectory() ? 'directory' : s.isFIFO() ? 'FIFO' : s.isSocket() ? 'socket' : s.isBlockDevice() || s.isCharacterDevice() ? 'device' : 'special file';

export function openRegular(file: string): Opened {
  const before = fs.lstatSync(file);
  if (!before.isFile()) return { ok: false, code: 'FLOW_NOT_REGULAR_FILE', what: kindOf(before), stat: before };
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (e) {
    // ELOOP: it became a link between lstat and open.
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') return { ok: false, code: 'FLOW_NOT_REGULAR_FILE', what: 'symbolic link' };
    throw e;
  }
  const stat = fs.fstatSync(fd);
  if (!stat.isFile()) {
    fs.closeSync(fd);
    return { ok: false, code: 'FLOW_NOT_REGULAR_FILE', what: kindOf(stat), stat };
  }
  return { ok: true, fd, size: stat.size };
}

/** The first `size` bytes of an open file (fewer if it shrank meanwhile). */
export function readFd(fd: number, size: number, position = 0): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let done = 0;
  while (done < size) {
    const n = fs.readSync(fd, buf, done, size - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done === size ? buf : buf.subarray(0, done);
}
