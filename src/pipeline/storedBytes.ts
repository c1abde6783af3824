/**
 * Attachments a large flow's reader set aside (model `stored`), read back from their source
 * when a pivot or a document needs their bytes: one descriptor per file, one read per
 * attachment, and the decoded bytes checked against the size and CRC-32 found at reading, so
 * that a file changed in between is a system fault (the flow is read again), never a wrong PDF.
 */
import fs from 'node:fs';
import { crc32 } from 'node:zlib';
import { flowError, SystemFault } from '../errors/catalog.js';
import type { Attachment } from '../model/invoice.js';
import { openRegular, readFd } from '../util/openRegular.js';

export interface StoredBytesReader {
  /** An attachment's decoded bytes, held or read back. */
  bytesOf(a: Attachment): Buffer;
  /** Closes the files opened so far (the reader can still be used: they are opened again). */
  close(): void;
}

export function storedBytesReader(): StoredBytesReader {
  const fds = new Map<string, number>();
  const fdOf = (file: string): number => {
    let fd = fds.get(file);
    if (fd === undefined) {
      const opened = openRegular(file);
      if (!opened.ok) throw new SystemFault(flowError('SYS_SOURCE_CHANGED', { file, what: 'it cannot be opened' }));
      fds.set(file, (fd = opened.fd));
    }
    return fd;
  };
  return {
    bytesOf(a) {
      if (a.content) return a.content;
      const s = a.stored!;
      const bytes = Buffer.from(readFd(fdOf(s.file), s.end - s.start, s.start).toString('latin1'), 'base64');
      if (bytes.length !== s.size || crc32(bytes) !== s.crc) throw new SystemFault(flowError('SYS_SOURCE_CHANGED', { file: s.file, what: `the attachment at bytes ${s.start} to ${s.end}` }));
      return bytes;
    },
    close() {
      for (const fd of fds.values()) fs.closeSync(fd);
      fds.clear();
    },
  };
}
