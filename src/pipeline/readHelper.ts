/** The helper thread of parallel.ts: takes batches of tasks from the shared counter and posts their results. */
import { parentPort } from 'node:worker_threads';
import { BATCH, NEXT, POSTED, type HelperBatch, type HelperJob } from './parallel.js';
import { runTask } from './readTasks.js';

parentPort!.postMessage('ready');
parentPort!.on('message', ({ tasks, count, control, port }: HelperJob) => {
  const counters = new Int32Array(control);
  const post = (batch: HelperBatch) => {
    port.postMessage(batch);
    Atomics.add(counters, POSTED, 1);
    Atomics.notify(counters, POSTED);
  };
  try {
    for (let start = Atomics.add(counters, NEXT, BATCH); start < count; start = Atomics.add(counters, NEXT, BATCH)) {
      const results: HelperBatch['results'] = [];
      for (let i = start; i < Math.min(count, start + BATCH); i++) results.push([i, runTask(tasks, i)]);
      post({ results });
    }
  } catch (e) {
    // The thread that asked does the rest itself (and meets the same fault, if it is one).
    post({ results: [], failed: e instanceof Error ? e.message : String(e) });
  } finally {
    port.close();
  }
});
