/**
 * The daemon: watches inbox/ (and one level of partner subfolders), claims files once their
 * size and mtime have stayed the same for the stability delay, and runs them in worker threads.
 * A file whose mtime is already older than the delay when first seen (renamed in after being
 * written elsewhere, or waiting since before start-up) has been quiet that long: it is claimed
 * at once.
 * chokidar's events are only hints: the inbox is also swept at start-up and periodically, so a
 * missed or odd event (a re-dropped file reported as `change`, a half-written file at start-up)
 * never loses or doubles a file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { watch as chokidarWatch, type FSWatcher } from 'chokidar';
import type { Hub } from '../hub.js';
import { runFlow, removeOrphans, unfinishedFlows } from '../app/run.js';
import { claimFiles } from '../ingest/claim.js';
import { FlowPool } from './pool.js';
import { releaseLock, tryLock } from './lock.js';

/** Names the daemon never claims: hidden files and files still being written by convention. */
export const isIgnoredName = (name: string): boolean => name.startsWith('.') || /\.(part|tmp)$/i.test(name);

const MAX_BACKOFF_MS = 5 * 60_000;
/** How long `stop()` waits for flows in progress before leaving them to be resumed at the next start. */
const STOP_WAIT_MS = 60_000;
/** Files claimed together when flows run in the main thread. */
const CLAIM_BATCH = 16;

interface Seen {
  size: number;
  mtimeMs: number;
  since: number;
}

export interface Daemon {
  /** Resolves once the daemon has stopped and released the home. */
  stop(): Promise<void>;
  /** Resolves when the inbox is empty and nothing is pending (for tests and one-shot use). */
  idle(): Promise<void>;
  /** The worker threads (absent when flows run in the main thread). */
  readonly pool?: FlowPool;
}

export async function startDaemon(hub: Hub, opts: { waitForLock?: boolean } = {}): Promise<Daemon> {
  const lockFile = path.join(hub.layout.var, 'watch.lock');
  while (!tryLock(lockFile)) {
    if (opts.waitForLock === false) throw new Error(`another factflow daemon holds ${lockFile}`);
    hub.log.warn(`another daemon is running on this home; waiting for ${lockFile}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  removeOrphans(hub);
  const pool = hub.settings.workers > 0 ? new FlowPool(hub, hub.settings.workers) : undefined;
  const inFlight = new Set<string>();
  // Flows hit by a system fault are retried with capped exponential backoff (1 s, 2 s, 4 s … 5 min).
  const retryAt = new Map<string, number>();
  const attempts = new Map<string, number>();
  const finished = (flowId: string, fault?: string) => {
    inFlight.delete(flowId);
    if (!fault) {
      attempts.delete(flowId);
      return retryAt.delete(flowId);
    }
    const n = (attempts.get(flowId) ?? 0) + 1;
    attempts.set(flowId, n);
    retryAt.set(flowId, Date.now() + Math.min(1000 * 2 ** Math.min(n, 20), MAX_BACKOFF_MS));
  };

  /** Runs a claimed flow in a worker (or here, without workers); faults are retried later. */
  const runClaimed = (flowId: string, size: number) => {
    inFlight.add(flowId);
    if (pool) {
      void pool.run(flowId, size).then((fault) => {
        finished(flowId, fault);
        void drain();
        notifyIdle();
      });
      return;
    }
    runFlow(hub, flowId).then(
      () => finished(flowId),
      (e: unknown) => finished(flowId, e instanceof Error ? e.message : String(e)), // recorded and logged by runFlows
    ).finally(() => {
      void drain();
      notifyIdle();
    });
  };

  let resuming = false;
  const resume = async () => {
    if (resuming) return;
    resuming = true;
    try {
      for (const f of await unfinishedFlows(hub)) {
        if (stopped || inFlight.has(f.id) || (retryAt.get(f.id) ?? 0) > Date.now()) continue;
        hub.log.warn(`resuming flow left at stage ${f.stage}${f.last_error ? ` after a fault: ${f.last_error}` : ''}`, { flowId: f.id });
        runClaimed(f.id, f.size);
      }
    } catch (e) {
      hub.log.error(`resuming unfinished flows failed, will retry: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      resuming = false;
    }
  };

  const pending = new Map<string, Seen>();
  const queue: string[] = [];
  const queued = new Set<string>();
  let working = false;
  let stopped = false;
  const idleWaiters: (() => void)[] = [];

  const notifyIdle = () => {
    if (working || resuming || queue.length || pending.size || inFlight.size) return;
    while (idleWaiters.length) idleWaiters.shift()!();
  };
  await resume();

  const enqueue = (file: string) => {
    pending.delete(file);
    queued.add(file);
    queue.push(file);
  };

  /**
   * One look at a pending file. It is queued once two looks, stabilityMs apart, saw the same
   * size and mtime, or at the first look when its mtime is already stabilityMs old.
   */
  const look = (file: string, now: number) => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(file);
    } catch {
      pending.delete(file);
      return;
    }
    const seen = pending.get(file)!;
    if (st.isDirectory()) {
      pending.delete(file);
    } else if (!st.isFile()) {
      // A link (or other special file) is claimed at once, never followed, and refused as such.
      enqueue(file);
    } else if (st.size !== seen.size || st.mtimeMs !== seen.mtimeMs) {
      // First look, or changed since the last one: quiet already if its mtime is old enough.
      if (seen.size < 0 && now - st.mtimeMs >= hub.settings.stabilityMs) enqueue(file);
      else pending.set(file, { size: st.size, mtimeMs: st.mtimeMs, since: now });
    } else if (now - seen.since >= hub.settings.stabilityMs) {
      enqueue(file);
    }
  };

  const consider = (file: string) => {
    if (stopped || queued.has(file) || pending.has(file)) return;
    const rel = path.relative(hub.layout.inbox, file).split(path.sep);
    if (rel.length > 2 || rel.some(isIgnoredName)) return;
    // A partner folder must be a real folder of the inbox: a link to a folder elsewhere is never followed.
    if (rel.length === 2 && !isRealDirectory(path.join(hub.layout.inbox, rel[0]!))) return;
    pending.set(file, { size: -1, mtimeMs: -1, since: Date.now() });
    look(file, Date.now());
    if (queued.has(file)) void drain();
  };

  const checkPending = () => {
    const now = Date.now();
    for (const file of pending.keys()) look(file, now);
    void drain();
    notifyIdle();
  };

  /**
   * Claims queued files while the workers have room for them (all of them, without workers),
   * several at a time: a batch shares its commits and folder fsyncs. A few flows are claimed
   * ahead, so that a worker finishing one finds the next one ready.
   */
  const drain = async () => {
    if (working) return;
    working = true;
    // With workers, claims wait until a quarter of the capacity is free, so that batches stay large.
    while (queue.length && !stopped && (!pool || pool.room >= Math.min(queue.length, pool.capacity / 4))) {
      const batch = queue.splice(0, pool ? pool.room : CLAIM_BATCH);
      try {
        const claims = await claimFiles(hub, batch.map((file) => {
          const rel = path.relative(hub.layout.inbox, file).split(path.sep);
          return { source: file, ...(rel.length === 2 ? { partner: rel[0] } : {}) };
        }));
        for (const claimed of claims) if (claimed) runClaimed(claimed.id, claimed.size);
      } catch (e) {
        // The files stay in the inbox (or, if moved already, are recovered from the spool); a later sweep retries them.
        hub.log.error(`could not claim ${batch.join(', ')}: ${e instanceof Error ? e.message : String(e)}`);
      }
      for (const file of batch) queued.delete(file);
      await new Promise((r) => setImmediate(r));
    }
    working = false;
    notifyIdle();
  };

  const sweep = () => {
    for (const entry of safeReaddir(hub.layout.inbox)) {
      const full = path.join(hub.layout.inbox, entry.name);
      // readdir's types come from lstat: a link to a folder is not a directory here, and is claimed (and refused) as a link.
      if (entry.isDirectory() && !isIgnoredName(entry.name)) {
        for (const sub of safeReaddir(full)) if (!sub.isDirectory()) consider(path.join(full, sub.name));
      } else consider(full);
    }
  };

  const watcher: FSWatcher = chokidarWatch(hub.layout.inbox, { depth: 1, ignoreInitial: true, followSymlinks: false, ignored: (p) => isIgnoredName(path.basename(p)) && p !== hub.layout.inbox });
  watcher.on('add', consider).on('change', consider).on('error', (e) => hub.log.warn(`watcher: ${String(e)}`));
  await new Promise<void>((r) => watcher.once('ready', () => r()));
  sweep();
  const tick = setInterval(checkPending, Math.max(50, Math.min(100, hub.settings.stabilityMs / 2)));
  const sweeper = setInterval(() => {
    sweep();
    void resume();
  }, hub.settings.sweepIntervalMs);
  hub.log.info(`watching ${hub.layout.inbox}`);
  if (!(await hub.ledger.directory.summary()).structures) {
    hub.log.warn('the directory of public structures is empty: every invoice will be refused (ROUTE_RECIPIENT_UNKNOWN); load one with factflow directory import');
  }

  return {
    pool,
    async stop() {
      stopped = true;
      clearInterval(tick);
      clearInterval(sweeper);
      hub.log.info(`stopping: finishing ${inFlight.size} flow(s)`);
      await watcher.close();
      // Flows still running past the wait stay in the spool and are resumed at the next start.
      const deadline = Date.now() + STOP_WAIT_MS;
      while ((working || resuming || inFlight.size) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      if (inFlight.size) hub.log.warn(`stopped with ${inFlight.size} flow(s) unfinished; they resume at the next start`);
      await pool?.stop();
      releaseLock(lockFile);
      hub.log.info('stopped');
    },
    idle() {
      sweep();
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        setTimeout(notifyIdle, 0);
      });
    },
  };
}

function isRealDirectory(dir: string): boolean {
  try {
    return fs.lstatSync(dir).isDirectory();
  } catch {
    return false;
  }
}

function safeReaddir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}
