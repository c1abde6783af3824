/**
 * A worker thread of the daemon: runs claimed flows through the same pipeline as everywhere
 * else (`runFlows`: the flows handed over together are delivered together), with its own
 * ledger connection and its own libxml2, and logs through the main thread.
 */
import v8 from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { closeHub, openHub } from '../hub.js';
import { runFlows } from '../app/run.js';
import { xmlEngineBytes } from '../xml/parse.js';

export interface WorkerInput {
  home: string;
  flags: Record<string, unknown>;
  /** The main thread's ledger write lock, so that threads queue for it instead of polling SQLite. */
  writeLock: SharedArrayBuffer;
}

export type ToWorker = { type: 'run'; flowIds: string[] } | { type: 'stop' };
/** `recycle`: the worker's XML engine grew past workerMemoryMb (MB held): it exits after this reply and the pool starts a fresh one. */
export type FromWorker = { type: 'done'; results: { flowId: string; error?: string }[]; recycle?: number } | { type: 'log'; entry: Record<string, unknown> };

const port = parentPort!;
const { home, flags, writeLock } = workerData as WorkerInput;
const hub = openHub(home, { flags, writeLock, forwardLog: (entry) => port.postMessage({ type: 'log', entry } satisfies FromWorker) });

port.on('message', async (message: ToWorker) => {
  if (message.type === 'stop') {
    await closeHub(hub);
    port.close();
    return;
  }
  let results: { flowId: string; error?: string }[];
  try {
    // Faults are recorded on their flows by runFlows; the daemon schedules the retries.
    results = (await runFlows(hub, message.flowIds)).map((r) => ({ flowId: r.flowId, ...(r.fault ? { error: r.fault.message } : {}) }));
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    results = message.flowIds.map((flowId) => ({ flowId, error }));
  }
  // What this thread holds: its XML engine's memory and its JavaScript heap.
  const held = xmlEngineBytes() + v8.getHeapStatistics().total_heap_size;
  if (held <= hub.settings.workerMemoryMb * 1024 * 1024) {
    port.postMessage({ type: 'done', results } satisfies FromWorker);
    return;
  }
  port.postMessage({ type: 'done', results, recycle: Math.round(held / 1024 / 1024) } satisfies FromWorker);
  await closeHub(hub);
  process.exit(0);
});
