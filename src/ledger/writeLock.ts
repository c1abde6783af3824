/**
 * The threads of one process (the daemon and its flow workers) queue here for the ledger's
 * write lock and are woken the moment it is free. Left to SQLite, a thread that finds the lock
 * taken sleeps in its busy handler by steps of 1, 2, 5, 10… ms, which under load costs more
 * than the writes themselves. Other processes (a `factflow process` beside the daemon) still
 * meet at SQLite's own lock, with the busy timeout.
 */
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
    while (Atomics.compareExchange(this.state, 0, 0, 1) !== 0) Atomics.wait(this.state, 0, 1, 1000);
  }

  release(): void {
    if (--this.depth > 0) return;
    Atomics.store(this.state, 0, 0);
    Atomics.notify(this.state, 0, 1);
  }
}
