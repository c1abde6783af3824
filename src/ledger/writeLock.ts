/**
 * The threads of one process (the daemon and its flow workers) queue here for the ledger's
 * write lock and are woken the moment it is free. Left to SQLite, a thread that finds the lock
 * taken sleeps in its busy handler by steps of 1, 2, 5, 10… ms, which under load costs more
 * than the writes themselves. Other processes (a `factflow process` beside the daemon) still
 * meet at SQLite's own lock, with the busy timeout.
 * The lock holds its holder's thread id (plus one: the main thread is 0), so that a thread
 * that dies holding it (a worker ended mid-transaction) can be released by the one that saw it
 * die, instead of leaving every other thread waiting forever.
 */
import { threadId } from 'node:worker_threads';

const FREE = 0;
const ME = threadId + 1;

export class WriteLock {
  private readonly state: Int32Array;
  /** Nested use on the same thread (a write inside a write) does not wait for itself. */
  private depth = 0;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.state = new Int32Array(buffer);
  }

  /** Waits for the lock (a thread holds it between acquire and release, across awaits). */
  acquire(): void {
    if (this.depth++ > 0) return;
    for (let held = Atomics.compareExchange(this.state, 0, FREE, ME); held !== FREE; held = Atomics.compareExchange(this.state, 0, FREE, ME)) {
      Atomics.wait(this.state, 0, held, 1000);
    }
  }

  release(): void {
    if (--this.depth > 0) return;
    Atomics.store(this.state, 0, FREE);
    Atomics.notify(this.state, 0, 1);
  }

  /** Frees the lock if the thread `deadThreadId` held it when it died; true when it did. */
  static releaseIfHeldBy(buffer: SharedArrayBuffer, deadThreadId: number): boolean {
    const state = new Int32Array(buffer);
    const freed = Atomics.compareExchange(state, 0, deadThreadId + 1, FREE) === deadThreadId + 1;
    if (freed) Atomics.notify(state, 0, 1);
    return freed;
  }
}
