/** Reading an archive's entries on this thread and a helper thread (src/pipeline/parallel.ts). */
import { ublInvoice } from '../src/devtools/synth.js';
import { helpersReady, runTasks } from '../src/pipeline/parallel.js';
import type { TaskSet } from '../src/pipeline/readTasks.js';

/** Entries laid out in one shared buffer, as readArchive does. */
function taskSet(count: number): TaskSet {
  const docs = Array.from({ length: count }, (_, i) => Buffer.from(ublInvoice({ seed: 900 + i, number: `PAR-${i}`, lines: 1 })));
  const data = new SharedArrayBuffer(docs.reduce((n, d) => n + d.length, 0));
  let offset = 0;
  const entries = docs.map((d, i) => {
    const start = offset;
    offset += d.copy(new Uint8Array(data), start);
    return { name: `par-${i}.xml`, start, end: offset };
  });
  return { data, entries, maxAttachmentBytes: 10 * 1024 * 1024 };
}

test('results come back in task order whoever read them, and the helper takes its share', async () => {
  await helpersReady(1);
  // Whether the helper gets a batch of a short archive depends on the scheduler (on a loaded
  // machine this thread may finish first), so the archive grows until it does.
  let helped = 0;
  for (let count = 64; count <= 4096 && helped === 0; count *= 4) {
    const tasks = taskSet(count);
    const { results, byHelpers } = runTasks(tasks, count, 1);
    expect(results.map((r) => [r.invoice.number, r.invoice.position, r.errors])).toEqual(tasks.entries.map((_, i) => [`PAR-${i}`, i + 1, undefined]));
    expect(runTasks(tasks, count, 0)).toEqual({ results, byHelpers: 0 });
    helped = byHelpers;
  }
  expect(helped).toBeGreaterThan(0);
});

test('a task that fails on the helper is done again here: its error surfaces, nothing hangs, the helper serves the next archive', async () => {
  await helpersReady(1);
  const tasks = taskSet(48);
  // An entry pointing past the end of the shared buffer fails wherever it is read.
  const broken: TaskSet = { ...tasks, entries: tasks.entries.map((e, i) => (i === 40 ? { ...e, end: e.start + tasks.data.byteLength + 1 } : e)) };
  expect(() => runTasks(broken, 48, 1)).toThrow(/outside of buffer bounds/);
  const { results } = runTasks(tasks, 48, 1);
  expect(results.map((r) => r.invoice.number)).toEqual(tasks.entries.map((_, i) => `PAR-${i}`));
});
