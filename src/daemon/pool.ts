/**
 * The daemon's worker threads: claimed flows are run in parallel (their fsyncs overlap, and
 * both cores work). Each worker has its own ledger connection; the decision of a flow is one
 * write transaction that also does the judging, so parallel flows cannot both accept the same
 * invoice. A worker that dies is replaced at once; the flows it held are reported as faults
 * (SYS_WORKER_FAILED), so the daemon resumes them from their stage like any faulted flow.
 */
import { Worker } from 'node:worker_threads';
import type { LogEntry } from 'winston';
import { flowError } from '../errors/catalog.js';
import type { Hub } from '../hub.js';
import { WriteLock } from '../ledger/writeLock.js';
import { workerScript } from '../util/workerScript.js';
import type { FromWorker, ToWorker, WorkerInput } from './flowWorker.js';

interface Job {
  flowId: string;
  size: number;
  done: (error?: string) => void;
}

interface Slot {
  worker: Worker;
  busy?: Job[];
  /** Its worker died and the new one is not started yet: nothing is handed to it. */
  down?: boolean;
  /** Its worker is leaving on purpose (its XML engine grew too large): replaced at once. */
  recycling?: boolean;
}

/** A worker dying again and again is not replaced faster than this. */
const RESPAWN_MS = 1000;

/** Flows handed to a worker at once: small ones together share their fsyncs and commits. */
const GROUP_MAX_FLOWS = 8;
const GROUP_MAX_BYTES = 4 * 1024 * 1024;
/** An inbox file this large (an archive of hundreds of invoices, a big mixed flow) keeps a worker busy alone. */
const LARGE_FLOW_BYTES = 256 * 1024;

export class FlowPool {
  private readonly slots: Slot[];
  private readonly waiting: Job[] = [];

  private stopping = false;
  private readonly input: WorkerInput;

  constructor(private readonly hub: Hub, size: number) {
    this.input = { home: hub.layout.home, flags: { ...hub.settings }, writeLock: hub.writeLock };
    this.slots = Array.from({ length: size }, () => this.start({} as Slot));
  }

  /** Starts (or restarts) the worker of a slot. */
  private start(slot: Slot, lastStart = 0): Slot {
    const worker = new Worker(workerScript(import.meta.url, 'flowWorker.js'), { workerData: this.input });
    slot.worker = worker;
    slot.down = slot.recycling = false;
    const startedAt = Date.now();
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'log') {
        this.hub.log.log(m.entry as unknown as LogEntry);
        return;
      }
      const jobs = slot.busy ?? [];
      slot.busy = undefined;
      if (m.recycle) {
        slot.down = slot.recycling = true;
        this.hub.log.info(`flow worker recycled: it holds ${m.recycle} MB (XML engine and heap; workerMemoryMb ${this.hub.settings.workerMemoryMb})`);
      }
      for (const job of jobs) job.done(m.results.find((r) => r.flowId === job.flowId)?.error);
      this.dispatch();
    });
    worker.on('error', (e) => this.hub.log.error(`flow worker failed: ${e.message}`));
    const workerThread = worker.threadId;
    worker.on('exit', (code) => {
      // A worker ended mid-transaction still holds the threads' write lock: free it (SQLite
      // rolls its transaction back when the thread's connection goes).
      if (WriteLock.releaseIfHeldBy(this.input.writeLock, workerThread)) this.hub.log.warn('a stopped flow worker held the ledger write lock: released');
      if (slot.worker !== worker) return;
      const jobs = slot.busy ?? [];
      slot.busy = undefined;
      slot.down = true;
      const fault = flowError('SYS_WORKER_FAILED', { detail: `exit code ${code}` });
      for (const job of jobs) job.done(`${fault.code}: ${fault.message}`);
      if (this.stopping) return;
      if (slot.recycling && !jobs.length) {
        this.start(slot);
        this.dispatch();
        return;
      }
      this.hub.log.error(`flow worker stopped (exit code ${code}); ${jobs.length} flow(s) it held will be resumed; starting a new one`);
      const wait = Math.max(0, RESPAWN_MS - (Date.now() - Math.max(startedAt, lastStart)));
      setTimeout(() => {
        if (this.stopping) return;
        this.start(slot, Date.now());
        this.dispatch();
      }, wait).unref();
    });
    return slot;
  }

  /** Flows handed over and not finished: enough per worker to fill a group and keep the next one ready. */
  get capacity(): number {
    return 2 * GROUP_MAX_FLOWS * this.slots.length;
  }

  /** How many more flows can be handed over now. */
  get room(): number {
    return this.capacity - this.slots.reduce((n, s) => n + (s.busy?.length ?? 0), 0) - this.waiting.length;
  }

  /**
   * Takes out of `queue` the files to claim now: small ones up to `room`; a large one only for a
   * worker that is free now, never ahead, so that the next large ones are left to other nodes
   * (a node would otherwise hold dozens of archives while its peers sit idle).
   */
  take(queue: string[], sizeOf: (file: string) => number): string[] {
    let small = this.room;
    let large = this.slots.filter((s) => !s.busy && !s.down).length - this.waiting.length;
    const taken = new Set<string>();
    for (const file of queue) {
      if (sizeOf(file) >= LARGE_FLOW_BYTES ? large-- > 0 && small-- > 0 : small-- > 0) taken.add(file);
      if (small <= 0) break;
    }
    const rest = queue.filter((f) => !taken.has(f));
    queue.splice(0, queue.length, ...rest);
    return [...taken];
  }

  /** Runs a claimed flow of `size` bytes; resolves with the system fault that stopped it, if any. */
  run(flowId: string, size: number): Promise<string | undefined> {
    return new Promise((resolve) => {
      this.waiting.push({ flowId, size, done: resolve });
      this.dispatch();
    });
  }

  /**
   * Hands the waiting flows to the idle workers, shared evenly: each takes one large flow or
   * a group of small ones (flows that arrive while all workers are busy form the next groups).
   */
  private dispatch(): void {
    if (this.stopping) return;
    const idle = this.slots.filter((s) => !s.busy && !s.down);
    idle.forEach((slot, i) => {
      if (!this.waiting.length) return;
      const share = Math.min(GROUP_MAX_FLOWS, Math.ceil(this.waiting.length / (idle.length - i)));
      const jobs = [this.waiting.shift()!];
      let bytes = jobs[0]!.size;
      while (this.waiting.length && jobs.length < share && bytes + this.waiting[0]!.size <= GROUP_MAX_BYTES) {
        bytes += this.waiting[0]!.size;
        jobs.push(this.waiting.shift()!);
      }
      slot.busy = jobs;
      slot.worker.postMessage({ type: 'run', flowIds: jobs.map((j) => j.flowId) } satisfies ToWorker);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const job of this.waiting.splice(0)) job.done('stopping');
    await Promise.all(this.slots.map((s) => {
      const exited = new Promise((r) => s.worker.once('exit', r));
      s.worker.postMessage({ type: 'stop' } satisfies ToWorker);
      if (s.down) return undefined;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise((r) => (timer = setTimeout(r, 2000))).then(() => s.worker.terminate());
      return Promise.race([exited, late]).finally(() => clearTimeout(timer));
    }));
  }

  /** Ends a worker as a crash would (tests of the daemon's recovery). */
  async crashWorker(i: number): Promise<void> {
    await this.slots[i]!.worker.terminate();
  }
}
