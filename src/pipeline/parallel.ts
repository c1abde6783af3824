/**
 * Reading one archive on several cores. Its entries are independent tasks (parse, validate,
 * map: pure), numbered 0..n-1. This thread and the helper threads take them in small batches
 * from a shared counter, so none waits for another (a helper still starting up included);
 * this thread then blocks until the helpers' batches are in and returns every result in order.
 * The pipeline stays synchronous: results come back through `receiveMessageOnPort`, with
 * `Atomics.wait` between them. Helpers that fail or stop answering are dropped and their tasks
 * done here: tasks are pure, so doing one twice changes nothing.
 * (Mixed flows are not shared this way: measured, their invoices read faster as one document
 * on one thread than split, once the helper's start-up and warm-up are paid.)
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { workerScript } from '../util/workerScript.js';
import { revive, runTask, type TaskResult, type TaskSet } from './readTasks.js';

/** Tasks taken at a time: large enough to amortize messages, small enough to balance. */
export const BATCH = 8;
/** Helpers silent for this long while they hold tasks are given up on. */
const STALL_MS = 30_000;
/** Shared counters: the next task to take, and how many batches the helpers have posted. */
export const NEXT = 0;
export const POSTED = 1;

export interface HelperJob {
  tasks: TaskSet;
  count: number;
  control: SharedArrayBuffer;
  port: MessagePort;
}

export interface HelperBatch {
  results: [number, TaskResult][];
  /** The helper met an unexpected error: the tasks it did not post are to be done here. */
  failed?: string;
}

const helpers: (Worker | undefined)[] = [];
const started: Promise<void>[] = [];

/**
 * The first `n` helper threads, started on first use and kept for later flows (they never hold
 * the process open). Called early, as soon as an archive is recognized, they start while it inflates.
 */
export function helperThreads(n: number): Worker[] {
  for (let i = 0; i < n; i++) {
    if (helpers[i]) continue;
    const worker = new Worker(workerScript(import.meta.url, 'readHelper.js'));
    worker.unref();
    const forget = () => helpers[i] === worker && (helpers[i] = undefined);
    worker.on('error', forget).on('exit', forget);
    started[i] = new Promise((resolve) => worker.once('message', () => resolve()));
    helpers[i] = worker;
  }
  return helpers.slice(0, n) as Worker[];
}

/** Resolves once the first `n` helper threads have loaded and can take tasks at once. */
export async function helpersReady(n: number): Promise<void> {
  helperThreads(n);
  await Promise.all(started.slice(0, n));
}

export interface TasksRun {
  /** Every task's result, in task order. */
  results: TaskResult[];
  /** How many tasks the helper threads did. */
  byHelpers: number;
}

/** Runs every task, here and on `threads` helper threads. */
export function runTasks(tasks: TaskSet, count: number, threads: number): TasksRun {
  const results: (TaskResult | undefined)[] = new Array(count);
  if (threads <= 0 || count < 2 * BATCH) {
    for (let i = 0; i < count; i++) results[i] = runTask(tasks, i);
    return { results: results as TaskResult[], byHelpers: 0 };
  }
  const control = new Int32Array(new SharedArrayBuffer(8));
  const workers = helperThreads(threads);
  const ports = workers.map((w) => {
    const { port1, port2 } = new MessageChannel();
    w.postMessage({ tasks, count, control: control.buffer, port: port2 } satisfies HelperJob, [port2]);
    return port1;
  });

  let mine = 0;
  let done = 0;
  try {
    for (let start = Atomics.add(control, NEXT, BATCH); start < count; start = Atomics.add(control, NEXT, BATCH)) {
      for (let i = start; i < Math.min(count, start + BATCH); i++, mine++) results[i] = runTask(tasks, i);
    }
    done = mine;
    let lastProgress = Date.now();
    let failed = false;
    while (done < count && !failed) {
      const posted = Atomics.load(control, POSTED);
      let progress = false;
      for (const port of ports) {
        for (let m = receiveMessageOnPort(port) as { message: HelperBatch } | undefined; m; m = receiveMessageOnPort(port) as typeof m) {
          for (const [i, r] of m.message.results) results[i] = revive(r);
          done += m.message.results.length;
          progress = true;
          failed ||= m.message.failed !== undefined;
        }
      }
      if (progress) lastProgress = Date.now();
      else if (Date.now() - lastProgress > STALL_MS) {
        for (const w of workers) void w.terminate();
        failed = true;
      } else Atomics.wait(control, POSTED, posted, 50);
    }
    // Tasks a failed or silent helper held are done here.
    if (failed) for (let i = 0; i < count; i++) results[i] ??= runTask(tasks, i);
  } finally {
    // Whatever happened here, the helpers take no more of this job's tasks.
    Atomics.store(control, NEXT, count);
    for (const port of ports) port.close();
  }
  const byHelpers = done - mine;
  return { results: results as TaskResult[], byHelpers };
}
