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
import { DEADLINE_BATCH, lapsedRequest, writeRequest } from '../app/requests.js';
import { isIgnoredName, scanInbox } from '../ingest/inboxScan.js';
import { openForWriting } from '../ingest/openWriters.js';
import { flowError } from '../errors/catalog.js';
import { logHealth } from '../log.js';
import { LEASE_LOST_EXIT, startHeartbeat } from './heartbeat.js';
import { startDispatcher, type Dispatcher } from '../notify/dispatcher.js';
import { FlowPool } from './pool.js';
import { releaseLock, tryLock } from './lock.js';
import { stateFileOf, type DaemonState } from './state.js';

export { isIgnoredName };

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
  /** Webhook calls and e-mails from the ledger's outbox. */
  readonly notifications: Dispatcher;
  /** Runs a flow claimed elsewhere in this process (an HTTP deposit) like one claimed from the inbox. */
  submit(flowId: string, size: number): void;
}

export async function startDaemon(hub: Hub, opts: { waitForLock?: boolean } = {}): Promise<Daemon> {
  const lockFile = path.join(hub.layout.nodeVar, 'watch.lock');
  while (!tryLock(lockFile)) {
    if (opts.waitForLock === false) throw new Error(`another factflow daemon holds ${lockFile}`);
    hub.log.warn(`another daemon is running on this home; waiting for ${lockFile}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  const stateFile = stateFileOf(hub.layout.nodeVar);
  let state: DaemonState['state'] = 'running';
  /** Set while the ledger file is not the one this daemon opened, or faults say it is unusable: nothing is claimed. */
  let ledgerProblem: string | undefined;
  let unexpected: string[] = [];
  const reported = new Set<string>();
  const writeState = () => {
    const log = logHealth();
    const body: DaemonState = {
      pid: process.pid, state, inProgress: inFlight.size, updatedAt: new Date().toISOString(), ledger: hub.ledger.fileIdentity,
      ...(ledgerProblem ? { ledgerProblem } : {}), ...(log.failing ? { logProblem: `${log.failing} since ${log.since} (${log.lost} line(s) lost)` } : {}), unexpected,
    };
    try {
      fs.writeFileSync(`${stateFile}.tmp`, JSON.stringify(body, null, 2));
      fs.renameSync(`${stateFile}.tmp`, stateFile);
    } catch {
      // a full disk: doctor still sees the lock; the daemon goes on
    }
  };
  /** Whether the ledger can be written: checked at each sweep and before each claim. */
  const ledgerUsable = (): boolean => {
    const problem = hub.ledger.fileProblem() ?? (ledgerProblem?.startsWith('SYS_LEDGER_UNAVAILABLE: faults') ? ledgerProblem : undefined);
    if (problem && !problem.startsWith('SYS_LEDGER_UNAVAILABLE')) {
      const fault = flowError('SYS_LEDGER_UNAVAILABLE', { detail: `${problem}; nothing more is claimed: stop the daemon, put the right var/factflow.db back (or move the new one aside) and start it again` });
      if (!ledgerProblem) hub.log.error(fault.message, { code: fault.code });
      ledgerProblem = `${fault.code}: ${fault.message}`;
      writeState();
    }
    return !ledgerProblem;
  };
  removeOrphans(hub);
  const pool = hub.settings.workers > 0 ? new FlowPool(hub, hub.settings.workers) : undefined;
  const notifications = startDispatcher(hub);
  const inFlight = new Set<string>();
  /** The last fault of each flow, also when the ledger could not record it. */
  const faults = new Map<string, string>();
  // Flows hit by a system fault are retried with capped exponential backoff (1 s, 2 s, 4 s … 5 min).
  const retryAt = new Map<string, number>();
  const attempts = new Map<string, number>();
  const finished = (flowId: string, fault?: string) => {
    inFlight.delete(flowId);
    if (!fault) {
      attempts.delete(flowId);
      faults.delete(flowId);
      return retryAt.delete(flowId);
    }
    faults.set(flowId, fault);
    if (fault.startsWith('SYS_LEDGER_UNAVAILABLE') && !ledgerProblem) {
      ledgerProblem = `SYS_LEDGER_UNAVAILABLE: faults: ${fault}`;
      hub.log.error(`the ledger cannot be used (${fault}); nothing more is claimed until a sweep finds it usable again`, { code: 'SYS_LEDGER_UNAVAILABLE', flowId });
      writeState();
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
      if (!ledgerUsable()) return;
      for (const f of await unfinishedFlows(hub)) {
        if (stopped || inFlight.has(f.id) || (retryAt.get(f.id) ?? 0) > Date.now()) continue;
        const why = faults.get(f.id) ?? f.last_error;
        hub.log.warn(`resuming flow left at stage ${f.stage}${why ? ` after a fault: ${why}` : ''}`, { flowId: f.id, ...(why ? { fault: why } : {}) });
        runClaimed(f.id, f.size);
      }
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      hub.log.error(`resuming unfinished flows failed, will retry: ${message}`, { fault: message });
    } finally {
      resuming = false;
    }
  };

  const pending = new Map<string, Seen>();
  const queue: string[] = [];
  /** Queued files, with the size and mtime seen stable (checked again after the rename). */
  const queued = new Map<string, { size: number; mtimeMs: number }>();
  /** Files whose name is not UTF-8: their key is readable, their real path a Buffer. */
  const rawPaths = new Map<string, { fsPath: string | Buffer; name: string }>();
  const fsOf = (key: string) => rawPaths.get(key)?.fsPath ?? key;
  let working = false;
  let stopped = false;
  const idleWaiters: (() => void)[] = [];

  const notifyIdle = () => {
    if (working || resuming || queue.length || pending.size || inFlight.size) return;
    while (idleWaiters.length) idleWaiters.shift()!();
  };
  const heartbeat = await startHeartbeat(hub, () => ({ state, doing: inFlight.size ? `${inFlight.size} flow(s) in progress: ${[...inFlight].slice(0, 3).join(', ')}${inFlight.size > 3 ? ', …' : ''}` : 'idle' }), (why) => {
    hub.log.error(`lease lost, stopping at once (exit ${LEASE_LOST_EXIT}): ${why}`);
    process.exit(LEASE_LOST_EXIT);
  });
  await resume();

  /**
   * Validation deadlines: at start and at each sweep, held invoices past due (an indexed query)
   * are declared so by one operator's request, claimed and run like any flow.
   */
  let checkingDeadlines = false;
  /** The last deadline request: the next check waits for it, so that no invoice is declared twice. */
  let deadlineFlow: string | undefined;
  const checkDeadlines = async () => {
    if (checkingDeadlines || stopped || !ledgerUsable() || (deadlineFlow && inFlight.has(deadlineFlow))) return;
    checkingDeadlines = true;
    try {
      const due = await hub.ledger.circuits.due(new Date().toISOString(), DEADLINE_BATCH);
      if (!due.length) return;
      const file = writeRequest(hub, lapsedRequest(due));
      const [claimed] = await claimFiles(hub, [{ source: file, channel: 'operator', name: `validation deadline passed for ${due.length} invoice(s)` }]);
      if (claimed) {
        deadlineFlow = claimed.id;
        hub.log.info(`validation deadline passed for ${due.length} invoice(s)`, { flowId: claimed.id });
        runClaimed(claimed.id, claimed.size);
      }
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      hub.log.error(`validation deadline check failed, will retry: ${message}`, { fault: message });
    } finally {
      checkingDeadlines = false;
    }
  };
  await checkDeadlines();

  const enqueue = (file: string, st: fs.Stats) => {
    pending.delete(file);
    queued.set(file, { size: st.size, mtimeMs: st.mtimeMs });
    queue.push(file);
  };

  /**
   * One look at a pending file. It is queued once two looks, stabilityMs apart, saw the same
   * size and mtime, or at the first look when its mtime is already stabilityMs old.
   */
  const look = (file: string, now: number) => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(fsOf(file));
    } catch {
      pending.delete(file);
      rawPaths.delete(file);
      return;
    }
    const seen = pending.get(file)!;
    if (st.isDirectory()) {
      pending.delete(file);
    } else if (!st.isFile()) {
      // A link (or other special file) is claimed at once, never followed, and refused as such.
      enqueue(file, st);
    } else if (st.size !== seen.size || st.mtimeMs !== seen.mtimeMs) {
      // First look, or changed since the last one: quiet already if its mtime is old enough.
      if (seen.size < 0 && now - st.mtimeMs >= hub.settings.stabilityMs) enqueue(file, st);
      else pending.set(file, { size: st.size, mtimeMs: st.mtimeMs, since: now });
    } else if (now - seen.since >= hub.settings.stabilityMs) {
      enqueue(file, st);
    }
  };

  const consider = (file: string) => {
    if (stopped || queued.has(file) || pending.has(file)) return;
    const rel = path.relative(hub.layout.inbox, file).split(path.sep);
    // Deeper files are reported by the sweep, never claimed.
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
    while (queue.length && !stopped && ledgerUsable() && (!pool || pool.room >= Math.min(queue.length, pool.capacity / 4))) {
      let batch = pool ? pool.take(queue, (file) => queued.get(file)!.size) : queue.splice(0, CLAIM_BATCH);
      // Only large files wait, and no worker is free for them: the next flow that ends drains again.
      if (!batch.length) break;
      let requeue: string[] = [];
      // Files another process still has open for writing wait (one pass over /proc per batch).
      const writers = openForWriting(batch.map(fsOf));
      const busy = batch.flatMap((file, i) => (writers[i] === undefined ? [] : [{ file, writer: writers[i] }]));
      batch = batch.filter((_, i) => writers[i] === undefined);
      for (const { file, writer } of busy) {
        const seen = queued.get(file)!;
        queued.delete(file);
        if (!reported.has(`open:${file}`)) {
          reported.add(`open:${file}`);
          hub.log.info(`waiting for ${file}: still open for writing by process ${writer}`);
        }
        // Stable again for stabilityMs before the next look at /proc.
        pending.set(file, { ...seen, since: Date.now() });
      }
      try {
        const claims = await claimFiles(hub, batch.map((file) => {
          const rel = path.relative(hub.layout.inbox, file).split(path.sep);
          const raw = rawPaths.get(file);
          return { source: fsOf(file), ...(raw ? { name: raw.name } : {}), ...(rel.length === 2 ? { partner: rel[0] } : {}), expect: queued.get(file)! };
        }));
        claims.forEach((claimed, i) => {
          if (claimed) {
            reported.delete(`open:${batch[i]!}`);
            rawPaths.delete(batch[i]!);
            runClaimed(claimed.id, claimed.size);
          }
        });
        // Put back (changed while claimed) or taken by another process: looked at again.
        requeue = batch.filter((_, i) => !claims[i]);
      } catch (e) {
        // The files stay in the inbox (or, if moved already, are recovered from the spool); a later sweep retries them.
        hub.log.error(`could not claim ${batch.join(', ')}: ${e instanceof Error ? e.message : String(e)}`);
      }
      for (const file of batch) queued.delete(file);
      for (const file of requeue) consider(file);
      await new Promise((r) => setImmediate(r));
    }
    working = false;
    notifyIdle();
  };

  const sweep = () => {
    const scan = scanInbox(hub.layout.inbox);
    for (const f of scan.files) {
      if (typeof f.fsPath !== 'string' && !rawPaths.has(f.key)) {
        rawPaths.set(f.key, { fsPath: f.fsPath, name: f.name });
        hub.log.warn(`${f.key}: the file name is not valid UTF-8; claimed as ${f.name}`, { file: f.key });
      }
      consider(f.key);
    }
    // Files where no flow is taken from: said once per file, never ignored silently.
    for (const u of scan.unexpected) {
      if (reported.has(`where:${u}`)) continue;
      reported.add(`where:${u}`);
      hub.log.warn(`${u} is in an unexpected place and is never claimed: flows go in inbox/ or inbox/<partner>/ (see factflow doctor)`, { file: u });
    }
    const changed = scan.unexpected.join('\n') !== unexpected.join('\n');
    unexpected = scan.unexpected;
    if (changed) writeState();
  };

  const watcher: FSWatcher = chokidarWatch(hub.layout.inbox, { depth: 1, ignoreInitial: true, followSymlinks: false, ignored: (p) => isIgnoredName(path.basename(p)) && p !== hub.layout.inbox });
  watcher.on('add', consider).on('change', consider).on('error', (e) => hub.log.warn(`watcher: ${String(e)}`));
  await new Promise<void>((r) => watcher.once('ready', () => r()));
  sweep();
  const tick = setInterval(checkPending, Math.max(50, Math.min(100, hub.settings.stabilityMs / 2)));
  const sweeper = setInterval(() => {
    sweep();
    if (ledgerProblem?.startsWith('SYS_LEDGER_UNAVAILABLE: faults')) {
      // Faults said the ledger was unusable: one read tells whether it is again.
      hub.ledger.flows.counts().then(() => {
        if (!hub.ledger.fileProblem() && ledgerProblem?.startsWith('SYS_LEDGER_UNAVAILABLE: faults')) {
          ledgerProblem = undefined;
          hub.log.info('the ledger answers again: claiming resumes');
        }
      }, () => undefined);
    }
    void resume();
    void drain();
    void checkDeadlines();
    writeState();
  }, hub.settings.sweepIntervalMs);
  writeState();
  hub.log.info(`watching ${hub.layout.inbox}`);
  if (!(await hub.ledger.directory.summary()).structures) {
    hub.log.warn('the directory of public structures is empty: every invoice will be refused (ROUTE_RECIPIENT_UNKNOWN); load one with factflow directory import');
  }

  return {
    pool,
    notifications,
    submit(flowId, size) {
      if (!stopped && !inFlight.has(flowId)) runClaimed(flowId, size);
    },
    async stop() {
      stopped = true;
      clearInterval(tick);
      clearInterval(sweeper);
      state = 'stopping';
      writeState();
      void heartbeat.beat().catch(() => undefined);
      hub.log.info(`stopping: finishing ${inFlight.size} flow(s)`);
      await watcher.close();
      // Flows still running past the wait stay in the spool and are resumed at the next start.
      const deadline = Date.now() + STOP_WAIT_MS;
      let shown = inFlight.size;
      while ((working || resuming || inFlight.size) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        if (inFlight.size !== shown) writeState(), (shown = inFlight.size);
      }
      if (inFlight.size) hub.log.warn(`stopped with ${inFlight.size} flow(s) unfinished; they resume at the next start`);
      await pool?.stop();
      await heartbeat.stop(inFlight.size ? `stopped with ${inFlight.size} flow(s) unfinished: the other nodes finish them` : 'stopped').catch(() => undefined);
      await notifications.stop();
      fs.rmSync(stateFile, { force: true });
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

