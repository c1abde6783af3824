/**
 * System faults: disk full, permission denied, a file deleted while being claimed, the ledger
 * locked by another process, two daemons on one home. The flow stays safe in the spool, is
 * retried, and nothing is lost or emitted twice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setFaultHook } from '../src/emit/atomic.js';
import { claimFile } from '../src/ingest/claim.js';
import { startDaemon } from '../src/daemon/watcher.js';
import { processFile, resumeUnfinished, runFlows } from '../src/app/run.js';
import { mixedFlow } from '../src/devtools/synth.js';
import type { Hub } from '../src/hub.js';
import { CLI, cli, closeHubs, deliveredInvoices, fixture, ledgerSql, listFiles, readJson, tempDir, trackedHub, variant } from './helpers.js';

afterEach(async () => {
  setFaultHook(undefined);
  await closeHubs();
});

const stagesOf = async (hub: Hub, ids: string[], field: 'stage' | 'state') => {
  const out: (string | null)[] = [];
  for (const id of ids) out.push((await hub.ledger.flows.get(id))![field]);
  return out;
};

const errno = (code: string) => Object.assign(new Error(`${code}: simulated`), { code });

test.each([
  ['disk full while writing a pivot', 'write', 'recipients', 'ENOSPC'],
  ['permission denied renaming a report', 'rename', 'reports', 'EACCES'],
  ['I/O error syncing a status file', 'fsync', 'suppliers', 'EIO'],
  ['disk full moving the source to the archive', 'rename', 'archive', 'ENOSPC'],
])('%s: the flow stays in the spool with its fault shown, then finishes exactly once', async (_, operation, where, code) => {
  const hub = await trackedHub();
  let failures = 0;
  setFaultHook((op, file) => {
    if (op === operation && file.includes(`${path.sep}${where}${path.sep}`)) {
      failures++;
      throw errno(code);
    }
  });
  await expect(processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true })).rejects.toThrow(code);
  expect(failures).toBe(1);
  const [flowId] = listFiles(hub.layout.spool);
  const stuck = (await hub.ledger.flows.get(flowId!))!;
  expect(stuck).toMatchObject({ stage: 'DECIDED', attempts: 1, last_error: expect.stringContaining(code) });
  expect(listFiles(hub.layout.outbox).filter((f) => f.endsWith('.tmp'))).toEqual([]);

  // Still failing: retried, still safe.
  await resumeUnfinished(hub);
  expect(await hub.ledger.flows.get(flowId!)).toMatchObject({ stage: 'DECIDED', attempts: 2 });
  // The cause is fixed: it finishes, each invoice delivered once.
  setFaultHook(undefined);
  const { done } = await resumeUnfinished(hub);
  expect(done.map((f) => [f.id, f.stage])).toEqual([[flowId, 'DONE']]);
  expect([...deliveredInvoices(hub.layout.home).values()]).toEqual([1, 1, 1, 1]);
  expect(listFiles(hub.layout.spool)).toEqual([]);
});

test('flows delivered together: a fault in one leaves the others done, and it finishes alone later', async () => {
  const hub = await trackedHub();
  const ids: string[] = [];
  for (const f of ['three-recipients.xml', 'partial.xml']) ids.push((await claimFile(hub, fixture('mixed', f), { copy: true }))!);
  ids.push((await claimFile(hub, fixture('cii', 'invoice-etat.xml'), { copy: true }))!);
  const victim = ids[1]!;
  setFaultHook((op, file) => {
    if (op === 'write' && file.includes(victim) && file.includes(`${path.sep}reports${path.sep}`)) throw errno('ENOSPC');
  });
  const runs = await runFlows(hub, ids);
  expect(runs.map((r) => [r.flowId, r.fault?.message])).toEqual([[ids[0], undefined], [victim, expect.stringContaining('ENOSPC')], [ids[2], undefined]]);
  expect(await stagesOf(hub, ids, 'stage')).toEqual(['DONE', 'DECIDED', 'DONE']);
  expect(await hub.ledger.flows.get(victim)).toMatchObject({ attempts: 1, last_error: expect.stringContaining('ENOSPC') });
  expect(listFiles(hub.layout.spool)).toEqual([victim]);

  setFaultHook(undefined);
  expect(await runFlows(hub, [victim])).toEqual([{ flowId: victim }]);
  expect((await hub.ledger.flows.get(victim))!.stage).toBe('DONE');
  expect(listFiles(hub.layout.spool)).toEqual([]);
  // Every accepted invoice of the three flows reached its recipient exactly once.
  expect([...deliveredInvoices(hub.layout.home).values()].every((n) => n === 1)).toBe(true);
  expect(deliveredInvoices(hub.layout.home).size).toBe(ledgerSql<{ n: number }>(hub.layout.home, 'SELECT count(*) n FROM invoices WHERE accepted = 1')[0]!.n);
  expect(deliveredInvoices(hub.layout.home).size).toBeGreaterThanOrEqual(6);
});

test('flows decided together are judged in order: the same invoices sent twice in one group are accepted once', async () => {
  const hub = await trackedHub();
  const first = fixture('mixed', 'three-recipients.xml');
  // Same invoices, different bytes (so not the same file): double invoicing for the second.
  const again = variant(first, path.join(tempDir(), 'again.xml'), [['<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="UTF-8"?>\n']]);
  const ids: string[] = [];
  for (const f of [first, again]) ids.push((await claimFile(hub, f, { copy: true }))!);
  expect(await runFlows(hub, ids)).toEqual(ids.map((flowId) => ({ flowId })));
  expect(await stagesOf(hub, ids, 'state')).toEqual(['IN_INTEGRE', 'IN_REJETE']);
  const second = readJson(path.join(hub.layout.outbox, 'reports', `${ids[1]}.json`)) as { invoices: { errors: { code: string }[] }[] };
  expect(second.invoices.map((i) => i.errors.map((e) => e.code))).toEqual([['RULE_DOUBLE_INVOICING'], ['RULE_DOUBLE_INVOICING'], ['RULE_DOUBLE_INVOICING'], ['RULE_DOUBLE_INVOICING']]);
  expect([...deliveredInvoices(hub.layout.home).values()]).toEqual([1, 1, 1, 1]);
});

test('the daemon retries a faulty flow with backoff and shows the fault meanwhile', async () => {
  // In-process (no worker threads), so that the fault hook set here applies.
  const hub = await trackedHub({ stabilityMs: 50, sweepIntervalMs: 200, workers: 0 });
  let failures = 0;
  setFaultHook((op, file) => {
    if (op === 'write' && file.includes(`${path.sep}recipients${path.sep}`) && failures < 2) {
      failures++;
      throw errno('ENOSPC');
    }
  });
  const daemon = await startDaemon(hub);
  try {
    fs.copyFileSync(fixture('mixed', 'partial.xml'), path.join(hub.layout.inbox, 'partial.xml'));
    const until = Date.now() + 20_000;
    while (!listFiles(path.join(hub.layout.outbox, 'reports')).length) {
      if (Date.now() > until) throw new Error('not retried in time');
      await new Promise((r) => setTimeout(r, 100));
    }
    await daemon.idle();
  } finally {
    await daemon.stop();
  }
  expect(failures).toBe(2);
  const flow = ledgerSql<{ attempts: number; stage: string }>(hub.layout.home, 'SELECT * FROM flows')[0]!;
  expect(flow).toMatchObject({ stage: 'DONE', attempts: 2 });
  expect([...deliveredInvoices(hub.layout.home).values()]).toEqual([1]);
});

test('a file deleted while being claimed leaves no trace', async () => {
  const hub = await trackedHub();
  const gone = path.join(tempDir(), 'gone.xml');
  fs.writeFileSync(gone, 'x');
  // Deleted between the ledger row and the rename (another process took it, an operator removed it).
  const rename = fs.renameSync;
  fs.renameSync = ((from: fs.PathLike, to: fs.PathLike) => {
    if (String(from) === gone) fs.rmSync(gone);
    return rename(from, to);
  }) as typeof fs.renameSync;
  try {
    expect(await claimFile(hub, gone)).toBeUndefined();
  } finally {
    fs.renameSync = rename;
  }
  expect(ledgerSql(hub.layout.home, 'SELECT count(*) n FROM flows')).toEqual([{ n: 0 }]);
  expect(listFiles(hub.layout.spool)).toEqual([]);
});

test('the ledger locked by another process is waited for, then the flow proceeds', async () => {
  const hub = await trackedHub();
  const holder = spawn(process.execPath, ['-e', `
    const D = require('better-sqlite3'); const db = new D(${JSON.stringify(hub.layout.db)});
    db.exec('BEGIN IMMEDIATE'); console.log('locked'); setTimeout(() => { db.exec('COMMIT'); process.exit(0); }, 1000);
  `], { cwd: path.resolve(path.dirname(CLI), '../..'), stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => holder.stdout!.once('data', r));
  const started = Date.now();
  const flow = (await processFile(hub, fixture('mixed', 'partial.xml'), { copy: true }))!;
  expect(flow.stage).toBe('DONE');
  expect(Date.now() - started).toBeGreaterThanOrEqual(500); // it did wait for the other writer
});

test('two daemons on one home: the second waits for the lock, takes over when the first dies, nothing is processed twice', async () => {
  const home = tempDir();
  cli(['directory', 'import', '--structures', fixture('directory', 'structures.csv'), '--services', fixture('directory', 'services.csv')], { home });
  const env = { ...process.env, FACTFLOW_STABILITY_MS: '50', FACTFLOW_SWEEP_INTERVAL_MS: '200' };
  const start = () => {
    const child = spawn(process.execPath, [CLI, '--home', home, 'watch'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => (err += String(d)));
    return { child, log: () => err };
  };
  const exited = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));
  const waitFor = async (what: string, ok: () => boolean) => {
    const until = Date.now() + 30_000;
    while (!ok()) {
      if (Date.now() > until) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const reports = () => listFiles(path.join(home, 'outbox', 'reports')).filter((f) => f.endsWith('.json'));
  const first = start();
  await waitFor('first daemon ready', () => first.log().includes('watching'));
  const second = start();
  try {
    await waitFor('second daemon waiting', () => second.log().includes('another daemon is running'));
    for (let i = 0; i < 6; i++) fs.writeFileSync(path.join(home, 'inbox', `a${i}.xml`), mixedFlow({ seed: i, flowTag: `TWO${i}`, invoices: 5 }));
    await waitFor('six reports', () => reports().length === 6);
    first.child.kill('SIGKILL');
    await exited(first.child);
    await waitFor('second daemon takes over', () => second.log().includes('watching'));
    for (let i = 0; i < 3; i++) fs.writeFileSync(path.join(home, 'inbox', `b${i}.xml`), mixedFlow({ seed: 100 + i, flowTag: `TWOB${i}`, invoices: 5 }));
    await waitFor('nine reports', () => reports().length === 9);
  } finally {
    second.child.kill('SIGTERM');
    await exited(second.child);
    first.child.kill('SIGKILL');
  }
  const states = reports().map((f) => readJson(path.join(home, 'outbox', 'reports', f)).state);
  expect(states.every((s) => s === 'IN_INTEGRE')).toBe(true);
  const delivered = deliveredInvoices(home);
  expect(delivered.size).toBe(45);
  expect([...delivered.values()].every((n) => n === 1)).toBe(true);
  expect(fs.existsSync(path.join(home, 'var', 'watch.lock'))).toBe(false); // released on a clean stop
});

test('four processes depositing the same invoices at once accept each invoice exactly once', async () => {
  const home = tempDir();
  cli(['directory', 'import', '--structures', fixture('directory', 'structures.csv'), '--services', fixture('directory', 'services.csv')], { home });
  // Four different files (different envelopes) carrying the same 30 invoices.
  const files = Array.from({ length: 4 }, (_, i) => {
    const f = path.join(tempDir(), `copy-${i}.xml`);
    fs.writeFileSync(f, mixedFlow({ seed: 77, flowTag: 'SAME', invoices: 30 }).replace('<Valeurparametre>SAME</Valeurparametre>', `<Valeurparametre>SAME-${i}</Valeurparametre>`));
    return f;
  });
  const runs = files.map((f) => new Promise<number | null>((resolve) => {
    const c = spawn(process.execPath, [CLI, '--home', home, 'process', '--json', f], { stdio: 'ignore' });
    c.once('exit', (code) => resolve(code));
  }));
  const codes = await Promise.all(runs);
  expect(codes.filter((c) => c === 0)).toHaveLength(1); // one integrated all 30
  const delivered = deliveredInvoices(home);
  expect(delivered.size).toBe(30);
  expect([...delivered.values()].every((n) => n === 1)).toBe(true);
  const reports = listFiles(path.join(home, 'outbox', 'reports')).filter((f) => f.endsWith('.json')).map((f) => readJson(path.join(home, 'outbox', 'reports', f)));
  expect(reports.map((r) => r.state).sort()).toEqual(['IN_INTEGRE', 'IN_REJETE', 'IN_REJETE', 'IN_REJETE']);
});

test('a flow another live process is working on is never resumed; one whose owner died is', async () => {
  const hub = await trackedHub();
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)']);
  try {
    const mine = (await claimFile(hub, fixture('mixed', 'partial.xml'), { copy: true }))!;
    const theirs = (await claimFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true }))!;
    const orphan = (await claimFile(hub, fixture('cii', 'invoice-etat.xml'), { copy: true }))!;
    ledgerSql(hub.layout.home, 'UPDATE flows SET owner_pid = ? WHERE id = ?', sleeper.pid, theirs);
    ledgerSql(hub.layout.home, 'UPDATE flows SET owner_pid = 999999 WHERE id = ?', orphan);
    const { done } = await resumeUnfinished(hub);
    expect(done.map((f) => f.id).sort()).toEqual([mine, orphan].sort());
    expect((await hub.ledger.flows.get(theirs))!.stage).toBe('CLAIMED');
    expect((await hub.ledger.flows.get(orphan))!.owner_pid).toBe(process.pid);
  } finally {
    sleeper.kill();
  }
});

test('a delivery whose flow was taken over meanwhile (its lease expired) records nothing; the new owner delivers it once', async () => {
  const hub = await trackedHub();
  const id = (await claimFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true }))!;
  // Another node takes the flow over while this process writes its pivots, before its first commit.
  let takenOver = false;
  setFaultHook((op) => {
    if (op === 'rename' && !takenOver) {
      takenOver = true;
      ledgerSql(hub.layout.home, "UPDATE flows SET owner_node = 'other', owner_pid = 999999 WHERE id = ?", id);
    }
  });
  const [run] = await runFlows(hub, [id]);
  setFaultHook(undefined);
  expect(run).toEqual({ flowId: id, skipped: true });
  expect((await hub.ledger.flows.get(id))!.stage).toBe('DECIDED');
  expect(ledgerSql(hub.layout.home, "SELECT count(*) AS n FROM invoice_events WHERE status = '03'")).toEqual([{ n: 0 }]);
  expect(ledgerSql(hub.layout.home, 'SELECT count(*) AS n FROM outputs')).toEqual([{ n: 0 }]);
  // That node dies in turn: this one finishes the flow, each invoice made available once.
  ledgerSql(hub.layout.home, "UPDATE flows SET owner_node = ? WHERE id = ?", hub.settings.node, id);
  const { done } = await resumeUnfinished(hub);
  expect(done.map((f) => [f.id, f.stage])).toEqual([[id, 'DONE']]);
  expect([...deliveredInvoices(hub.layout.home).values()]).toEqual([1, 1, 1, 1]);
  expect(ledgerSql(hub.layout.home, "SELECT invoice_id FROM invoice_events GROUP BY invoice_id HAVING group_concat(status) <> '01,03'")).toEqual([]);
});

test('temp files of dead writers are removed at start-up; those of another host only once they are an hour old', async () => {
  const hub = await trackedHub();
  const dir = path.join(hub.layout.outbox, 'recipients', '11000201100044');
  fs.mkdirSync(dir, { recursive: true });
  const left = (name: string, ageMs = 0) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, '<half');
    const t = new Date(Date.now() - ageMs);
    fs.utimesSync(file, t, t);
    return name;
  };
  const deadHere = left('.a.xml.999999.abcd1234.tmp'); // a name from before hosts were recorded
  const liveHere = left(`.b.xml.${process.pid}.abcd1234.tmp`);
  const freshElsewhere = left('.c.xml.999999@00000000.abcd1234.tmp');
  const oldElsewhere = left('.d.xml.999999@00000000.abcd1234.tmp', 2 * 3600_000);
  await resumeUnfinished(hub);
  expect(fs.readdirSync(dir).sort()).toEqual([liveHere, freshElsewhere].sort());
  expect([deadHere, oldElsewhere].some((f) => fs.existsSync(path.join(dir, f)))).toBe(false);
});
