/**
 * The daemon's worker threads: claimed flows are run in parallel (their fsyncs overlap, and
 * both cores work). Each worker has its own ledger connection; the decision of a flow is one
 * write transaction that also does the judging, so parallel flows cannot both accept the same
 * invoice.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LogEntry } from 'winston';
import type { Hub } from '../hub.js';
import type { FromWorker, ToWorker, WorkerInput } from './flowWorker.js';

/** The compiled worker script (tests run the sources, the worker runs the build). */
function workerScript(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const beside = path.join(here, 'flowWorker.js');
  return fs.existsSync(beside) ? beside : path.resolve(here, '../../dist/ingest/flowWorker.js');
}

interface Slot {
  worker: Worker;
  busy?: { flowId: string; done: (error?: string) => void };
}

export class FlowPool {
  private readonly slots: Slot[];
  private readonly waiting: { flowId: string; done: (error?: string) => void }[] = [];

  constructor(hub: Hub, size: number) {
    const input: WorkerInput = { home: hub.layout.home, flags: { ...hub.settings } };
    this.slots = Array.from({ length: size }, () => {
      const slot: Slot = { worker: new Worker(workerScript(), { workerData: input }) };
      slot.worker.on('message', (m: FromWorker) => {
        if (m.type === 'log') {
          hub.log.log(m.entry as unknown as LogEntry);
          return;
        }
        const job = slot.busy!;
        slot.busy = undefined;
        job.done(m.error);
        this.next(slot);
      });
      slot.worker.on('error', (e) => hub.log.error(`flow worker failed: ${e.message}`));
      return slot;
    });
  }

  /** Whether another flow can be handed over: each worker has at most one running and one waiting. */
  get hasRoom(): boolean {
    return this.slots.filter((s) => s.busy).length + this.waiting.length < 2 * this.slots.length;
  }

  /** Runs a claimed flow; resolves with the system fault that stopped it, if any. */
  run(flowId: string): Promise<string | undefined> {
    return new Promise((resolve) => {
      this.waiting.push({ flowId, done: resolve });
      const idle = this.slots.find((s) => !s.busy);
      if (idle) this.next(idle);
    });
  }

  private next(slot: Slot): void {
    const job = this.waiting.shift();
    if (!job) return;
    slot.busy = job;
    slot.worker.postMessage({ type: 'run', flowId: job.flowId } satisfies ToWorker);
  }

  async stop(): Promise<void> {
    await Promise.all(this.slots.map((s) => {
      const exited = new Promise((r) => s.worker.once('exit', r));
      s.worker.postMessage({ type: 'stop' } satisfies ToWorker);
      return Promise.race([exited, new Promise((r) => setTimeout(r, 2000)).then(() => s.worker.terminate())]);
    }));
  }
}
