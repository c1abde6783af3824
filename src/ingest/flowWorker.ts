/**
 * A worker thread of the daemon: runs claimed flows through the same pipeline as everywhere
 * else (`runFlow`), with its own ledger connection and its own libxml2, and logs through the
 * main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { closeHub, openHub } from '../hub.js';
import { runFlow } from '../pipeline/pipeline.js';

export interface WorkerInput {
  home: string;
  flags: Record<string, unknown>;
}

export type ToWorker = { type: 'run'; flowId: string } | { type: 'stop' };
export type FromWorker = { type: 'done'; flowId: string; error?: string } | { type: 'log'; entry: Record<string, unknown> };

const port = parentPort!;
const { home, flags } = workerData as WorkerInput;
const hub = openHub(home, { flags, forwardLog: (entry) => port.postMessage({ type: 'log', entry } satisfies FromWorker) });

port.on('message', (message: ToWorker) => {
  if (message.type === 'stop') {
    closeHub(hub);
    port.close();
    return;
  }
  try {
    runFlow(hub, message.flowId);
    port.postMessage({ type: 'done', flowId: message.flowId } satisfies FromWorker);
  } catch (e) {
    // runFlow recorded the fault on the flow; the daemon schedules the retry.
    port.postMessage({ type: 'done', flowId: message.flowId, error: e instanceof Error ? e.message : String(e) } satisfies FromWorker);
  }
});
