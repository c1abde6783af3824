/**
 * The daemon through faults at its edges (issues 13 and 18): log files that cannot be written,
 * the ledger deleted or replaced under it, names that are not UTF-8, FIFOs given to `process`,
 * uploads paused half-way by a writer that keeps the file open, files in unexpected places,
 * a stopping daemon seen by doctor, and the CLI working beside the daemon on the same flows.
 * Real files, real child processes, the real ledger; every daemon and child is stopped.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { startDaemon, type Daemon } from '../src/daemon/watcher.js';
import { doctor } from '../src/app/maintenance.js';
import { closeHub, openHub } from '../src/hub.js';
import { mixedFlow } from '../src/devtools/synth.js';
import { CLI, cli, closeHubs, deliveredInvoices, fixture, ledgerSql, listFiles, newHub, readJson, tempDir, trackedHub, waitFor } from './helpers.js';

const children: ChildProcess[] = [];
const daemons: Daemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) {
    c.kill('SIGKILL');
    await exited(c);
  }
  await closeHubs();
});

const exited = (child: ChildProcess) => new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));


const reportsOf = (home: string) => listFiles(path.join(home, 'outbox', 'reports')).filter((f) => f.endsWith('.json')).map((f) => readJson(path.join(home, 'outbox', 'reports', f)));
const logText = (home: string) => listFiles(path.join(home, 'var', 'log')).filter((f) => f.endsWith('.log')).map((f) => fs.readFileSync(path.join(home, 'var', 'log', f), 'utf8')).join('');

/** A home with the fixture directory, closed again (for child processes). */
async function preparedHome(): Promise<string> {
  const hub = await newHub();
  await closeHub(hub);
  return hub.layout.home;
}

/** `factflow watch` in a child process, its stderr collected. */
function watchChild(home: string, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [CLI, '--home', home, 'watch'], { env: { ...process.env, FACTFLOW_STABILITY_MS: '100', FACTFLOW_SWEEP_INTERVAL_MS: '300', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  const out = { stderr: '' };
  child.stderr!.on('data', (d: Buffer) => (out.stderr += d.toString()));
  return { child, out };
}

function drop(home: string, name: string, content: string | Buffer): void {
  const tmp = path.join(home, `${name}.upload`);
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, path.join(home, 'inbox', name));
}

test('a log file that cannot be written (ENOSPC) does not stop the daemon: it says so on stderr and in doctor, and goes on processing', async () => {
  const home = await preparedHome();
  const logDir = path.join(home, 'var', 'log');
  fs.rmSync(logDir, { recursive: true, force: true });
  fs.mkdirSync(logDir);
  // Every write to /dev/full fails with ENOSPC: a real full disk, for the log files only.
  const now = new Date();
  const days = new Set([now.toISOString().slice(0, 10), `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`]);
  for (const day of days) fs.symlinkSync('/dev/full', path.join(logDir, `factflow-${day}.log`));
  const { child, out } = watchChild(home);
  await waitFor('the log failure on stderr', () => out.stderr.includes('cannot write the log files'));
  for (let i = 0; i < 3; i++) drop(home, `full-${i}.xml`, mixedFlow({ seed: 700 + i, flowTag: `LOG${i}`, invoices: 3 }));
  await waitFor('three reports', () => reportsOf(home).length === 3);
  expect(child.exitCode).toBeNull();
  expect(out.stderr).toMatch(/ENOSPC/);
  const checks = JSON.parse(cli(['doctor', '--json'], { home }).stdout) as { check: string; result: string; detail: string }[];
  expect(checks.find((c) => c.check === 'log files')).toMatchObject({ result: 'FAIL' });
  expect(checks.find((c) => c.check === 'log files')!.detail).toMatch(/ENOSPC/);
  child.kill('SIGTERM');
  await exited(child);
  expect(child.exitCode).toBe(0);
}, 120_000);

test('the ledger replaced or deleted under a running daemon: claiming stops with SYS_LEDGER_UNAVAILABLE, and doctor says so', async () => {
  const hub = await trackedHub({ stabilityMs: 100, sweepIntervalMs: 200, workers: 0 });
  const home = hub.layout.home;
  const daemon = await startDaemon(hub);
  daemons.push(daemon);
  drop(home, 'before.xml', fs.readFileSync(fixture('mixed', 'three-recipients.xml')));
  await waitFor('the first report', () => reportsOf(home).length === 1);
  // An operator "restores" the ledger: a copy renamed over the file the daemon has open.
  const copy = path.join(home, 'var', 'restored.db');
  ledgerSql(home, `VACUUM INTO '${copy}'`);
  fs.renameSync(copy, hub.layout.db);
  drop(home, 'after.xml', fs.readFileSync(fixture('mixed', 'partial.xml')));
  await waitFor('the ledger error in the log', () => /SYS_LEDGER_UNAVAILABLE/.test(logText(home)) && /replaced/.test(logText(home)));
  const checks = JSON.parse(cli(['doctor', '--json'], { home }).stdout) as { check: string; result: string; detail: string }[];
  expect(checks.find((c) => c.check === 'daemon ledger')).toMatchObject({ result: 'FAIL' });
  expect(checks.find((c) => c.check === 'daemon ledger')!.detail).toMatch(/SYS_LEDGER_UNAVAILABLE/);
  // Nothing was claimed into a ledger no one will read again.
  expect(fs.readdirSync(hub.layout.inbox)).toEqual(['after.xml']);
  expect(reportsOf(home)).toHaveLength(1);
  // Deleted outright: also seen.
  fs.rmSync(hub.layout.db);
  expect(hub.ledger.fileProblem()).toMatch(/deleted/);
}, 60_000);

test('a file whose name is not valid UTF-8 is claimed, under a readable lossless name', async () => {
  const hub = await trackedHub({ stabilityMs: 100, sweepIntervalMs: 200, workers: 0 });
  const daemon = await startDaemon(hub);
  daemons.push(daemon);
  const name = Buffer.concat([Buffer.from('facture-'), Buffer.from([0xff, 0xfe, 0x25]), Buffer.from('é.xml')]);
  const tmp = path.join(hub.layout.home, 'upload.tmp');
  fs.writeFileSync(tmp, fs.readFileSync(fixture('mixed', 'three-recipients.xml')));
  fs.renameSync(tmp, Buffer.concat([Buffer.from(hub.layout.inbox + path.sep), name]));
  const [report] = await waitFor('its report', () => (reportsOf(hub.layout.home).length ? reportsOf(hub.layout.home) : undefined));
  expect(report).toMatchObject({ file: 'facture-%FF%FE%25é.xml', state: 'IN_INTEGRE' });
  await daemon.idle();
  expect(fs.readdirSync(hub.layout.inbox, { encoding: 'buffer' })).toEqual([]);
  expect(logText(hub.layout.home)).toMatch(/not valid UTF-8/);
}, 60_000);

test('factflow process of a FIFO refuses it at once instead of blocking', async () => {
  const home = await preparedHome();
  const fifo = path.join(tempDir(), 'pipe.xml');
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
  // In a child process with a deadline: a regression fails here instead of hanging the suite.
  const r = spawnSync(process.execPath, [CLI, '--home', home, 'process', fifo], { encoding: 'utf8', timeout: 30_000 });
  expect(r.signal).toBeNull();
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/FLOW_NOT_REGULAR_FILE/);
  expect(ledgerSql(home, 'SELECT id FROM flows')).toEqual([]);
  expect(fs.readdirSync(path.join(home, 'var', 'spool'))).toEqual([]);
}, 60_000);

test('an upload paused half-way by a writer that keeps the file open is claimed once, complete', async () => {
  const hub = await trackedHub({ stabilityMs: 300, sweepIntervalMs: 200, workers: 0 });
  const daemon = await startDaemon(hub);
  daemons.push(daemon);
  const target = path.join(hub.layout.inbox, 'slow-upload.xml');
  const bytes = fs.readFileSync(fixture('mixed', 'three-recipients.xml'));
  const half = Math.floor(bytes.length / 2);
  // An SFTP-like writer: half, a pause of 2.5 s (far beyond stabilityMs), the rest, then close.
  const writer = spawn(process.execPath, ['-e', `
    const fs = require('fs');
    const bytes = fs.readFileSync(${JSON.stringify(fixture('mixed', 'three-recipients.xml'))});
    const fd = fs.openSync(${JSON.stringify(target)}, 'w');
    fs.writeSync(fd, bytes, 0, ${half});
    setTimeout(() => { fs.writeSync(fd, bytes, ${half}, bytes.length - ${half}); fs.closeSync(fd); }, 2500);
  `]);
  children.push(writer);
  await exited(writer);
  expect(writer.exitCode).toBe(0);
  const [report] = await waitFor('its report', () => (reportsOf(hub.layout.home).length ? reportsOf(hub.layout.home) : undefined));
  await daemon.idle();
  expect(reportsOf(hub.layout.home)).toHaveLength(1);
  expect(report).toMatchObject({ file: 'slow-upload.xml', state: 'IN_INTEGRE', sha256: crypto.createHash('sha256').update(bytes).digest('hex') });
  expect(logText(hub.layout.home)).toMatch(/still open for writing/);
}, 60_000);

test('files in unexpected places are reported once each by the daemon, and listed by doctor', async () => {
  const hub = await trackedHub({ stabilityMs: 100, sweepIntervalMs: 150, workers: 0 });
  fs.mkdirSync(path.join(hub.layout.inbox, 'ACM001', 'sub'), { recursive: true });
  fs.writeFileSync(path.join(hub.layout.inbox, 'ACM001', 'sub', 'x.xml'), '<x/>');
  const odd = Buffer.concat([Buffer.from(hub.layout.inbox + path.sep), Buffer.from([0x41, 0xc3, 0x28])]);
  fs.mkdirSync(odd);
  fs.writeFileSync(Buffer.concat([odd, Buffer.from('/y.xml')]), '<y/>');
  const daemon = await startDaemon(hub);
  daemons.push(daemon);
  const nested = path.join(hub.layout.inbox, 'ACM001', 'sub', 'x.xml');
  await waitFor('the warning', () => logText(hub.layout.home).includes(`${nested} is in an unexpected place`));
  // Several sweeps later, still said once.
  for (let i = 0; i < 4; i++) await daemon.idle();
  await new Promise((r) => setTimeout(r, 600));
  expect(logText(hub.layout.home).split(`${nested} is in an unexpected place`).length - 1).toBe(1);
  expect(logText(hub.layout.home)).toContain(`${path.join(hub.layout.inbox, 'A%C3(')} is in an unexpected place`);
  const inbox = (await doctor(hub)).find((c) => c.check === 'inbox')!;
  expect(inbox.result).toBe('warn');
  expect(inbox.detail).toContain(nested);
  expect(inbox.detail).toContain(path.join(hub.layout.inbox, 'A%C3(', 'y.xml'));
}, 60_000);

test('SIGTERM: factflow watch says at once how many flows it finishes, and doctor sees a stopping daemon', async () => {
  const home = await preparedHome();
  const { child, out } = watchChild(home);
  await waitFor('watching', () => out.stderr.includes('watching'));
  drop(home, 'big.xml', mixedFlow({ seed: 900, flowTag: 'BIG', invoices: 3000 }));
  await waitFor('the claim', () => out.stderr.includes('claimed big.xml'));
  child.kill('SIGTERM');
  await waitFor('the stopping line', () => out.stderr.includes('stopping: finishing 1 flow(s)'));
  const stateFile = path.join(home, 'var', 'watch.state.json');
  // Still finishing the flow (3,000 invoices): the state says stopping, and doctor knows.
  const state = fs.existsSync(stateFile) ? readJson(stateFile) : undefined;
  if (!out.stderr.includes('done:')) {
    expect(state).toMatchObject({ state: 'stopping', inProgress: 1, pid: child.pid });
    const hub = openHub(home);
    try {
      const d = (await doctor(hub)).find((c) => c.check === 'daemon')!;
      // (unless it finished and exited while doctor was looking)
      if (fs.existsSync(stateFile)) expect(d.detail).toMatch(/^stopping \(pid \d+\): finishing 1 flow\(s\) in progress/);
    } finally {
      await closeHub(hub);
    }
  }
  expect(out.stderr.indexOf('stopping: finishing 1 flow(s)')).toBeLessThan(out.stderr.indexOf('done:') === -1 ? Infinity : out.stderr.indexOf('done:'));
  await exited(child);
  expect(fs.existsSync(stateFile)).toBe(false);
  expect(fs.existsSync(path.join(home, 'var', 'watch.lock'))).toBe(false);
}, 120_000);

test('replay and process beside a running daemon, on the same invoices, never deliver twice', async () => {
  const home = await preparedHome();
  const { child } = watchChild(home, { FACTFLOW_SWEEP_INTERVAL_MS: '200' });
  const FLOWS = 12;
  const flows = Array.from({ length: FLOWS }, (_, i) => mixedFlow({ seed: 500 + i, flowTag: `CC${i}`, invoices: 40 }));
  for (let i = 0; i < FLOWS / 2; i++) drop(home, `flow-${i}.xml`, flows[i]!);
  await waitFor('the first flows done', () => reportsOf(home).length >= 2);
  // While the daemon works on the rest: replays of finished flows, and process of the same
  // invoices in other files (a comment added: not the identical file), at the same time.
  for (let i = FLOWS / 2; i < FLOWS; i++) drop(home, `flow-${i}.xml`, flows[i]!);
  const outside = tempDir();
  const copies = flows.map((f, i) => {
    const p = path.join(outside, `copy-${i}.xml`);
    fs.writeFileSync(p, f.replace('?>', '?><!-- resent -->'));
    return p;
  });
  const run = (args: string[]) => new Promise<number | null>((resolve) => {
    const c = spawn(process.execPath, [CLI, '--home', home, ...args], { stdio: 'ignore' });
    children.push(c);
    c.on('exit', (code) => resolve(code));
  });
  const done = () => ledgerSql<{ id: string }>(home, "SELECT id FROM flows WHERE stage = 'DONE' AND file_name LIKE 'flow-%'").map((r) => r.id);
  await Promise.all([
    run(['replay', ...done()]),
    run(['process', ...copies.slice(0, FLOWS / 2)]),
    run(['process', ...copies.slice(FLOWS / 2)]),
    run(['replay', ...done()]),
  ]);
  await waitFor('every flow finished', () => reportsOf(home).length >= 2 * FLOWS && !ledgerSql(home, "SELECT id FROM flows WHERE stage <> 'DONE'").length && !fs.readdirSync(path.join(home, 'inbox')).length);
  child.kill('SIGTERM');
  await exited(child);

  const delivered = deliveredInvoices(home);
  expect(delivered.size).toBe(FLOWS * 40);
  expect([...delivered].filter(([, n]) => n !== 1)).toEqual([]);
  // Each pivot file written once (a second write of an `_r1` pivot would be a second file or a second commit).
  const twice = ledgerSql(home, "SELECT invoice_id, source_flow, count(*) AS n FROM invoice_events WHERE status LIKE '%03%' OR status = 'MISE_A_DISPOSITION' GROUP BY invoice_id, source_flow HAVING n > 1");
  expect(twice).toEqual([]);
  const accepted = ledgerSql<{ n: number }>(home, 'SELECT count(*) AS n FROM invoices WHERE accepted = 1')[0]!.n;
  expect(accepted).toBe(FLOWS * 40);
}, 240_000);
