/** The daemon: a real chokidar watcher on a real inbox, with the real pipeline behind it. */
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon } from '../src/daemon/watcher.js';
import { mixedFlow } from '../src/devtools/synth.js';
import { closeHubs, deliveredInvoices, fixture, listFiles, readJson, tempDir, trackedHub, waitFor } from './helpers.js';

afterEach(closeHubs);


const reports = (home: string) => listFiles(path.join(home, 'outbox', 'reports')).filter((f) => f.endsWith('.json'));

test('a flow dropped in the inbox is claimed, processed and reported; dropped again it is a duplicate', async () => {
  const hub = await trackedHub({ stabilityMs: 200, sweepIntervalMs: 1000 });
  const home = hub.layout.home;
  const daemon = await startDaemon(hub);
  try {
    // Written in two parts, as a slow upload would: the daemon must wait for it to be stable.
    const target = path.join(hub.layout.inbox, 'flow one.xml');
    const bytes = fs.readFileSync(fixture('mixed', 'three-recipients.xml'));
    fs.writeFileSync(target, bytes.subarray(0, 1000));
    await new Promise((r) => setTimeout(r, 100));
    fs.appendFileSync(target, bytes.subarray(1000));

    const [first] = await waitFor('the first report', () => (reports(home).length === 1 ? reports(home) : undefined));
    const report = readJson(path.join(home, 'outbox', 'reports', first!));
    expect(report).toMatchObject({ file: 'flow one.xml', state: 'IN_INTEGRE', statusCode: '90' });
    expect(listFiles(path.join(home, 'outbox', 'recipients'))).toHaveLength(3);

    // Ignored names are left alone.
    fs.writeFileSync(path.join(hub.layout.inbox, 'upload.xml.part'), 'partial');
    fs.writeFileSync(path.join(hub.layout.inbox, '.hidden.xml'), 'hidden');

    fs.writeFileSync(path.join(hub.layout.inbox, 'flow one again.xml'), bytes);
    await waitFor('the duplicate report', () => (reports(home).length === 2 ? true : undefined));
    const dup = reports(home).map((f) => readJson(path.join(home, 'outbox', 'reports', f))).find((r) => r.file === 'flow one again.xml');
    expect(dup).toMatchObject({ state: 'QP_IRRECEVABLE', statusCode: '93', duplicateOf: report.flowId });
    await daemon.idle();
    expect([...deliveredInvoices(home).values()]).toEqual([1, 1, 1, 1]);
    expect(listFiles(hub.layout.inbox).sort()).toEqual(['.hidden.xml', 'upload.xml.part']);
    expect(listFiles(hub.layout.spool)).toEqual([]);
  } finally {
    await daemon.stop();
  }
});

test('files already in the inbox at start-up are swept and processed', async () => {
  const hub = await trackedHub({ stabilityMs: 100, sweepIntervalMs: 500 });
  fs.copyFileSync(fixture('mixed', 'partial.xml'), path.join(hub.layout.inbox, 'waiting.xml'));
  const daemon = await startDaemon(hub);
  try {
    await waitFor('the report', () => (reports(hub.layout.home).length === 1 ? true : undefined));
    expect(readJson(path.join(hub.layout.outbox, 'reports', reports(hub.layout.home)[0]!))).toMatchObject({ file: 'waiting.xml', state: 'IN_INTEGRE_PARTIEL' });
  } finally {
    await daemon.stop();
  }
});

test('a flow interrupted after its decision resumes at start-up and emits each invoice once', async () => {
  const hub = await trackedHub({ stabilityMs: 100, sweepIntervalMs: 500 });
  const { claimFile } = await import('../src/ingest/claim.js');
  const { decideFlows } = await import('../src/app/decide.js');
  // Claim and decide, then "crash" before delivery; a half-written pivot temp file is left behind.
  const id = (await claimFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true }))!;
  const [decided] = await decideFlows(hub, [(await hub.ledger.flows.get(id))!]);
  expect(decided).toHaveProperty('plan'); // decided (not a fault), delivery left to the daemon
  fs.mkdirSync(path.join(hub.layout.outbox, 'recipients', '11000201100044'), { recursive: true });
  fs.writeFileSync(path.join(hub.layout.outbox, 'recipients', '11000201100044', `.CPPFacturePivot_${id}.xml.999999.abcd1234.tmp`), '<CPPFacturePivot>');
  const daemon = await startDaemon(hub);
  try {
    await daemon.idle();
    expect((await hub.ledger.flows.get(id))!.stage).toBe('DONE');
    expect([...deliveredInvoices(hub.layout.home).values()]).toEqual([1, 1, 1, 1]);
    expect(listFiles(path.join(hub.layout.outbox, 'recipients')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(listFiles(hub.layout.spool)).toEqual([]);
  } finally {
    await daemon.stop();
  }
});

test('many flows dropped at once are claimed in batches and run in groups on the worker threads, each exactly once', async () => {
  const hub = await trackedHub({ stabilityMs: 100, sweepIntervalMs: 1000, workers: 2 });
  const staging = tempDir();
  const names = Array.from({ length: 40 }, (_, i) => {
    const name = `burst-${String(i).padStart(2, '0')}.xml`;
    fs.writeFileSync(path.join(staging, name), mixedFlow({ seed: 700 + i, flowTag: `B${i}`, invoices: 1 + (i % 3), pdfBytes: 2000 }));
    return name;
  });
  const daemon = await startDaemon(hub);
  try {
    // Written elsewhere, then renamed in: all quiet already, all claimable at once.
    for (const n of names) fs.renameSync(path.join(staging, n), path.join(hub.layout.inbox, n));
    await waitFor('forty reports', () => (reports(hub.layout.home).length === 40 ? true : undefined), 60_000);
    await daemon.idle();
  } finally {
    await daemon.stop();
  }
  const states = reports(hub.layout.home).map((f) => readJson<{ file: string; state: string }>(path.join(hub.layout.outbox, 'reports', f)));
  expect(states.map((r) => r.file).sort()).toEqual(names);
  expect(states.every((r) => r.state === 'IN_INTEGRE')).toBe(true);
  const delivered = deliveredInvoices(hub.layout.home);
  expect(delivered.size).toBe(names.reduce((n, _, i) => n + 1 + (i % 3), 0));
  expect([...delivered.values()].every((n) => n === 1)).toBe(true);
  expect(listFiles(hub.layout.spool)).toEqual([]);
  expect(listFiles(hub.layout.inbox)).toEqual([]);
});

test('a file quiet for the stability delay already is claimed at first sight; a fresh one waits for it', async () => {
  const hub = await trackedHub({ stabilityMs: 4000, sweepIntervalMs: 60_000 });
  const daemon = await startDaemon(hub);
  try {
    // Written an hour ago elsewhere, then renamed in.
    const staged = path.join(tempDir(), 'old.xml');
    fs.copyFileSync(fixture('mixed', 'partial.xml'), staged);
    const anHourAgo = new Date(Date.now() - 3600_000);
    fs.utimesSync(staged, anHourAgo, anHourAgo);
    fs.renameSync(staged, path.join(hub.layout.inbox, 'old.xml'));
    await waitFor('the quiet file to be processed', () => (reports(hub.layout.home).length === 1 ? true : undefined), 3000);

    // Just written: still in the inbox a second later, processed once the delay has passed.
    fs.copyFileSync(fixture('mixed', 'three-recipients.xml'), path.join(hub.layout.inbox, 'fresh.xml'));
    await new Promise((r) => setTimeout(r, 1000));
    expect(listFiles(hub.layout.inbox)).toEqual(['fresh.xml']);
    await waitFor('the fresh file to be processed', () => (reports(hub.layout.home).length === 2 ? true : undefined), 15_000);
  } finally {
    await daemon.stop();
  }
});
