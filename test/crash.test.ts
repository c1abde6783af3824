/**
 * Crash test: the real daemon (`factflow watch` in a child process) is killed with SIGKILL at
 * seeded random moments while it works, and restarted each time. Afterwards every invoice must
 * have been delivered exactly once, every flow must have exactly one report, the inbox and the
 * spool must be empty and the ledger consistent.
 *   CRASH_KILLS (default 6 under `npm test`, 200 under `npm run test:crash`), CRASH_SEED.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { mixedFlow, prng } from '../src/devtools/synth.js';
import { CLI, cli, deliveredInvoices, fixture, ledgerSql, listFiles, readJson, tempDir } from './helpers.js';

const KILLS = Number(process.env.CRASH_KILLS ?? 6);
const SEED = Number(process.env.CRASH_SEED ?? 20261123);
const FLOWS = Number(process.env.CRASH_FLOWS ?? Math.max(12, KILLS + 2));
const INVOICES_PER_FLOW = Number(process.env.CRASH_INVOICES ?? 300);

const TIMEOUT_MS = Math.max(120_000, KILLS * 4000);

function startDaemon(home: string): ChildProcess {
  return spawn(process.execPath, [CLI, '--home', home, 'watch'], {
    env: { ...process.env, FACTFLOW_STABILITY_MS: '50', FACTFLOW_SWEEP_INTERVAL_MS: '200' },
    stdio: 'ignore',
  });
}

const exited = (child: ChildProcess) => new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));

/** Drops a flow as a well-behaved sender does: write elsewhere, then rename into the inbox. */
function drop(home: string, name: string, content: string): void {
  const tmp = path.join(home, `${name}.upload`);
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, path.join(home, 'inbox', name));
}

test(`${KILLS} random SIGKILLs while processing ${FLOWS} flows lose and duplicate nothing (seed ${SEED})`, async () => {
  const home = tempDir('factflow-crash-');
  expect(cli(['directory', 'import', '--structures', fixture('directory', 'structures.csv'), '--services', fixture('directory', 'services.csv')], { home }).code).toBe(0);
  const rand = prng(SEED);
  const flows = Array.from({ length: FLOWS }, (_, i) => mixedFlow({ seed: SEED + i, flowTag: `K${i}`, invoices: INVOICES_PER_FLOW, pdfBytes: 4096 }));
  // Two flows wait at the first start; then one more arrives before each restart, so the daemon
  // has work when the kill comes: start-up takes ~0.3 s here, a flow of 300 invoices ~0.3 s more.
  let next = 0;
  let interrupted = 0;
  while (next < 2) drop(home, `flow-${next}.xml`, flows[next++]!);
  for (let k = 0; k < KILLS; k++) {
    if (next < FLOWS) drop(home, `flow-${next}.xml`, flows[next++]!);
    const child = startDaemon(home);
    await new Promise((r) => setTimeout(r, 250 + Math.floor(rand() * 700)));
    child.kill('SIGKILL');
    await exited(child);
    // Did this kill interrupt work? Then something is left in the spool for the next start.
    if (fs.readdirSync(path.join(home, 'var', 'spool')).length) interrupted++;
  }
  while (next < FLOWS) drop(home, `flow-${next}.xml`, flows[next++]!);

  // A last, undisturbed run finishes everything.
  const child = startDaemon(home);
  const reportsDir = path.join(home, 'outbox', 'reports');
  const until = Date.now() + 90_000;
  while (listFiles(reportsDir).filter((f) => f.endsWith('.json')).length < FLOWS || listFiles(path.join(home, 'inbox')).length) {
    if (Date.now() > until) throw new Error(`seed ${SEED}: not finished in time`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 300));
  child.kill('SIGTERM');
  await exited(child);

  const failures: string[] = [];
  const delivered = deliveredInvoices(home);
  if (delivered.size !== FLOWS * INVOICES_PER_FLOW) failures.push(`${delivered.size} distinct invoices delivered, expected ${FLOWS * INVOICES_PER_FLOW}`);
  for (const [key, n] of delivered) if (n !== 1) failures.push(`${key} delivered ${n} times`);

  const reports = listFiles(reportsDir).filter((f) => f.endsWith('.json')).map((f) => readJson(path.join(reportsDir, f)));
  if (reports.length !== FLOWS) failures.push(`${reports.length} reports for ${FLOWS} flows`);
  const files = reports.map((r) => r.file).sort();
  if (new Set(files).size !== files.length) failures.push(`a flow has several reports: ${files.join(', ')}`);
  for (const r of reports) if (r.state !== 'IN_INTEGRE') failures.push(`${r.file}: ${r.state} ${JSON.stringify(r.errors)}`);

  if (listFiles(path.join(home, 'inbox')).length) failures.push(`inbox not empty: ${listFiles(path.join(home, 'inbox')).join(', ')}`);
  if (listFiles(path.join(home, 'var', 'spool')).length) failures.push('spool not empty');
  const tmpLeft = listFiles(path.join(home, 'outbox')).filter((f) => f.endsWith('.tmp'));
  if (tmpLeft.length) failures.push(`temp files left: ${tmpLeft.join(', ')}`);

  console.log(`seed ${SEED}: ${KILLS} kills, ${interrupted} of them left a flow unfinished in the spool`);
  const stages = ledgerSql(home, 'SELECT stage, count(*) n FROM flows GROUP BY stage');
  if (JSON.stringify(stages) !== JSON.stringify([{ stage: 'DONE', n: FLOWS }])) failures.push(`ledger stages ${JSON.stringify(stages)}`);
  const events = ledgerSql(home, "SELECT invoice_id, group_concat(status, ',') s FROM (SELECT * FROM invoice_events ORDER BY id) GROUP BY invoice_id HAVING s <> '01,03'");
  if (events.length) failures.push(`${events.length} invoices with events other than 01,03`);
  const integrity = ledgerSql<{ integrity_check: string }>(home, 'PRAGMA integrity_check').map((r) => r.integrity_check).join('; ');
  if (integrity !== 'ok') failures.push(`integrity_check: ${integrity}`);
  // Each supplier status (01 and 03) of each invoice appears exactly once across the status files.
  const statusDir = path.join(home, 'outbox', 'suppliers');
  const statuses = listFiles(statusDir).flatMap((f) =>
    [...fs.readFileSync(path.join(statusDir, f), 'utf8').matchAll(/<IdStatut>(\d+)<\/IdStatut>[\s\S]*?<IdFacture>([^<]+)<\/IdFacture>/g)].map((m) => `${m[2]}:${m[1]}`),
  );
  if (statuses.length !== 2 * FLOWS * INVOICES_PER_FLOW || new Set(statuses).size !== statuses.length) failures.push(`${statuses.length} supplier statuses, ${new Set(statuses).size} distinct`);

  expect({ seed: SEED, failures }).toEqual({ seed: SEED, failures: [] });
}, TIMEOUT_MS);
