/**
 * Files still open for writing by another process (an SFTP server in the middle of an upload)
 * must not be claimed. On Linux this can be told from /proc: each process's `fd/` holds a link
 * per open file, and `fdinfo/<fd>` its open flags. One pass over /proc serves a whole batch:
 * measured here, 17 ms for 78 processes holding 462 descriptors (both cores busy with tests),
 * so it is done only for files about to be claimed, never per look. Elsewhere (or without
 * /proc) nothing can be told, and the stability delay and the post-rename check stand alone.
 */
import fs from 'node:fs';

const O_ACCMODE = 0o3;

/** For each file (resolved path), the pid of a process that has it open for writing, if any. */
export function openForWriting(files: (string | Buffer)[]): (number | undefined)[] {
  const found: (number | undefined)[] = files.map(() => undefined);
  if (process.platform !== 'linux' || !files.length) return found;
  const targets = new Map<string, number[]>();
  files.forEach((f, i) => {
    let real: Buffer;
    try {
      real = fs.realpathSync(f, { encoding: 'buffer' });
    } catch {
      return;
    }
    const key = real.toString('latin1');
    targets.set(key, [...(targets.get(key) ?? []), i]);
  });
  if (!targets.size) return found;
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return found;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to look at
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: 'buffer' }).toString('latin1');
      } catch {
        continue;
      }
      const hits = targets.get(target);
      if (!hits) continue;
      let flags = 0;
      try {
        const m = /^flags:\s*([0-7]+)/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
        flags = m ? parseInt(m[1]!, 8) : 0;
      } catch {
        continue;
      }
      if ((flags & O_ACCMODE) !== 0) for (const i of hits) found[i] = Number(pid);
    }
  }
  return found;
}
