/**
 * One daemon per home: the watcher holds var/watch.lock (its pid). A second daemon started
 * on the same home waits until the first one stops; a lock left by a dead process is taken over.
 */
import fs from 'node:fs';

import { processAlive } from '../emit/atomic.js';

export function tryLock(file: string): boolean {
  try {
    fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const holder = Number(fs.readFileSync(file, 'utf8').trim());
  if (holder && holder !== process.pid && processAlive(holder)) return false;
  // Stale: replace it atomically so two newcomers cannot both take it.
  const mine = `${file}.${process.pid}`;
  fs.writeFileSync(mine, String(process.pid));
  fs.renameSync(mine, file);
  return Number(fs.readFileSync(file, 'utf8').trim()) === process.pid;
}

export function releaseLock(file: string): void {
  try {
    if (Number(fs.readFileSync(file, 'utf8').trim()) === process.pid) fs.rmSync(file);
  } catch {
    // already gone
  }
}
