/**
 * Crash test: the real daemon (`factflow watch` in a child process) is killed with SIGKILL at
 * seeded random moments while it works, and restarted each time. Afterwards every invoice must
 * have been delivered exactly once, every flow must have exactly one report, the inbox and the
 * spool must be empty and the ledger consistent.
 *   CRASH_KILLS (default 6 under `npm test`, 200 under `npm run test:crash`), CRASH_SEED.
 * With several nodes over one PostgreSQL ledger (`npm run test:crash -- --nodes 3 --ledger
 * postgres`: CRASH_NODES, CRASH_LEDGER; FACTFLOW_TEST_PG names the server), random nodes are
 * killed at random moments, restarted at once or left dead for a while (the others then finish
 * their flows after the lease), and some flows are resent with other bytes: their invoices must
 * all be refused as double invoicing, never accepted twice. `npm test` runs a short version
 * (3 nodes, 6 kills) when FACTFLOW_TEST_PG is set, else reports it skipped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { mixedFlow, prng } from '../src/devtools/synth.js';
import pg from 'pg';
import { CLI, cli, deliveredInvoices, fixture, freshPgDatabase, ledgerSql, listFiles, readJson, TEST_PG, tempDir } from './helpers.js';

const KILLS = Number(process.env.CRASH_KILLS ?? 6);
const SEED = Number(process.env.CRASH_SEED ?? 20261123);
const FLOWS = Number(process.env.CRASH_FLOWS ?? Math.max(12, KILLS + 2));
const INVOICES_PER_FLOW = Number(process.env.CRASH_INVOICES ?? 300);

const TIMEOUT_MS = Math.max(120_000, KILLS * 4000);
const NODES = Number(process.env.CRASH_NODES ?? 3);
const NODE_KILLS = Number(process.env.CRASH_NODE_KILLS ?? process.env.CRASH_KILLS ?? 6);
/** The single-node test runs unless the multi-node one alone was asked for (`--nodes N`). */
const ONLY_NODES = !!process.env.CRASH_NODES && NODES > 1;

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

(ONLY_NODES ? test.skip : test)(`${KILLS} random SIGKILLs while processing ${FLOWS} flows lose and duplicate nothing (seed ${SEED})`, async () => {
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


/** Rows from the test's PostgreSQL ledger. */
async function pgRows<T>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

const NODE_FLOWS = Number(process.env.CRASH_FLOWS ?? Math.max(6, Math.ceil(NODE_KILLS / 2) + 4));
// Small flows: on PostgreSQL each statement is a round trip under the serialized write lock, and
// what is tested here is who finishes which flow, not how fast (see BENCHMARKS, NODES).
const NODE_INVOICES = Number(process.env.CRASH_INVOICES ?? (NODE_KILLS > 20 ? 20 : 50));
/** Every RESEND_EVERY-th flow is sent again with other bytes: double invoicing, one of the two refused. */
const RESEND_EVERY = 4;

(TEST_PG && (process.env.CRASH_LEDGER ?? 'postgres') === 'postgres' ? test : test.skip)(
  `${NODES} nodes over one PostgreSQL: ${NODE_KILLS} random SIGKILLs of random nodes lose and duplicate nothing (seed ${SEED})`, async () => {
    const url = await freshPgDatabase();
    const home = tempDir('factflow-crash-nodes-');
    const env = { FACTFLOW_LEDGER: url, FACTFLOW_STABILITY_MS: '50', FACTFLOW_SWEEP_INTERVAL_MS: '200', FACTFLOW_LEASE_MS: '3000', FACTFLOW_WORKERS: '1' };
    expect(cli(['directory', 'import', '--structures', fixture('directory', 'structures.csv'), '--services', fixture('directory', 'services.csv')], { home, env }).code).toBe(0);
    const rand = prng(SEED);
    const originals = Array.from({ length: NODE_FLOWS }, (_, i) => mixedFlow({ seed: SEED + i, flowTag: `N${i}`, invoices: NODE_INVOICES, pdfBytes: 2048 }));
    const resends = originals.flatMap((xml, i) => (i % RESEND_EVERY === 1 ? [{ name: `resend-${i}.xml`, xml: `${xml}\n<!-- sent again -->\n`, after: i }] : []));
    const names = [...originals.map((_, i) => `flow-${i}.xml`)];
    const nodes: (ChildProcess | undefined)[] = Array.from({ length: NODES }, () => undefined);
    let leaseLost = 0;
    const start = (n: number) => {
      const child = spawn(process.execPath, [CLI, '--home', home, 'watch'], { env: { ...process.env, ...env, FACTFLOW_NODE: `node${n}` }, stdio: 'ignore' });
      nodes[n] = child;
      // A node that stopped itself after losing its lease (exit 75) is started again, as its supervisor would.
      child.once('exit', (code) => {
        if (code === 75 && nodes[n] === child) (leaseLost++, start(n));
      });
    };
    let next = 0;
    let resent = 0;
    const dropNext = () => {
      if (next < NODE_FLOWS) drop(home, names[next]!, originals[next++]!);
      // A resend arrives once its original had time to be accepted (a flow later).
      while (resent < resends.length && resends[resent]!.after < next - 1) drop(home, resends[resent]!.name, resends[resent++]!.xml), names.push(resends[resent - 1]!.name);
    };
    const reportsDir = path.join(home, 'outbox', 'reports');
    const total = NODE_FLOWS + resends.length;
    const spoolRoot = path.join(home, 'var', 'spool');
    let killed = 0;
    let leftDead = 0;
    let interrupted = 0;
    for (let n = 0; n < NODES; n++) start(n);
    try {
    dropNext();
    dropNext();
    for (let k = 0; k < NODE_KILLS; k++) {
      if (k % 2 === 0) dropNext();
      // Half the kills wait for a node that has started working (its first heartbeat is in the
      // ledger); the others strike wherever the nodes are, start-up and recovery included.
      await new Promise((r) => setTimeout(r, 200 + Math.floor(rand() * 1000)));
      let alive = nodes.flatMap((c, i) => (c ? [i] : []));
      if (rand() < 0.5) {
        for (let waited = 0; waited < 30_000; waited += 100) {
          const beating = new Set((await pgRows<{ pid: number }>(url, "SELECT pid FROM nodes WHERE state = 'running'")).map((r) => Number(r.pid)));
          const working = nodes.flatMap((c, i) => (c && beating.has(c.pid!) ? [i] : []));
          if (working.length) {
            alive = working;
            break;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const victim = alive[Math.floor(rand() * alive.length)] ?? nodes.findIndex((c) => c);
      nodes[victim]!.kill('SIGKILL');
      await exited(nodes[victim]!);
      nodes[victim] = undefined;
      killed++;
      // Did it die with work in hand? Then another node (or itself, restarted) must finish it.
      const held = await pgRows<{ n: number }>(url, `SELECT count(*)::int AS n FROM flows WHERE owner_node = 'node${victim}' AND stage <> 'DONE'`);
      if (held[0]!.n) interrupted++;
      // Restarted at once, or left dead (its flows go to the others after the lease) while another runs.
      if (rand() < 0.5 || alive.length === 1) start(victim);
      else leftDead++;
      // Dead nodes come back now and then.
      for (let n = 0; n < NODES; n++) if (!nodes[n] && rand() < 0.3) start(n);
    }
    while (next < NODE_FLOWS || resent < resends.length) dropNext();
    for (let n = 0; n < NODES; n++) if (!nodes[n]) start(n);

    const until = Date.now() + Math.max(180_000, NODE_FLOWS * 3000);
    while (listFiles(reportsDir).filter((f) => f.endsWith('.json')).length < total || listFiles(path.join(home, 'inbox')).length || listFiles(spoolRoot).length) {
      if (Date.now() > until) throw new Error(`seed ${SEED}: not finished in time (${listFiles(reportsDir).length / 2}/${total} reports, spool ${listFiles(spoolRoot).join(', ')})`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 300));
    } finally {
      // Whatever happened, no node outlives the test.
      const last = [...nodes];
      nodes.fill(undefined);
      for (const c of last) c?.kill('SIGTERM');
      await Promise.all(last.map((c) => c && exited(c)));
    }

    const failures: string[] = [];
    const delivered = deliveredInvoices(home);
    if (delivered.size !== NODE_FLOWS * NODE_INVOICES) failures.push(`${delivered.size} distinct invoices delivered, expected ${NODE_FLOWS * NODE_INVOICES}`);
    for (const [key, n] of delivered) if (n !== 1) failures.push(`${key} delivered ${n} times`);
    const reports = listFiles(reportsDir).filter((f) => f.endsWith('.json')).map((f) => readJson(path.join(reportsDir, f)));
    if (reports.length !== total) failures.push(`${reports.length} reports for ${total} flows`);
    const files = reports.map((r) => r.file).sort();
    if (new Set(files).size !== files.length) failures.push('a flow has several reports');
    // A flow and its resend carry the same invoices: whichever a node finished first is integrated,
    // the other refused (a resend can overtake an original held by a node that died with it).
    const stateOf = new Map(reports.map((r) => [r.file as string, r.state as string]));
    for (const [file, state] of stateOf) {
      const twin = file.startsWith('resend-') ? file.replace('resend-', 'flow-') : file.replace('flow-', 'resend-');
      const pair = stateOf.has(twin) ? [state, stateOf.get(twin)].sort().join('+') : state;
      const want = stateOf.has(twin) ? 'IN_INTEGRE+IN_REJETE' : 'IN_INTEGRE';
      if (pair !== want) failures.push(`${file}${stateOf.has(twin) ? ` and ${twin}` : ''}: ${pair}, expected ${want}`);
    }
    if (listFiles(path.join(home, 'inbox')).length) failures.push(`inbox not empty: ${listFiles(path.join(home, 'inbox')).join(', ')}`);
    if (listFiles(spoolRoot).length) failures.push(`spool not empty: ${listFiles(spoolRoot).join(', ')}`);
    const tmpLeft = listFiles(path.join(home, 'outbox')).filter((f) => f.endsWith('.tmp'));
    if (tmpLeft.length) failures.push(`temp files left: ${tmpLeft.join(', ')}`);

    const stages = await pgRows<{ stage: string; n: number }>(url, 'SELECT stage, count(*)::int AS n FROM flows GROUP BY stage');
    if (JSON.stringify(stages) !== JSON.stringify([{ stage: 'DONE', n: total }])) failures.push(`ledger stages ${JSON.stringify(stages)}`);
    const twice = await pgRows(url, "SELECT supplier_id, number FROM invoices WHERE accepted = 1 AND role = 'invoice' GROUP BY supplier_id, number HAVING count(*) > 1");
    if (twice.length) failures.push(`${twice.length} invoices accepted twice`);
    const events = await pgRows(url, "SELECT invoice_id FROM invoice_events GROUP BY invoice_id HAVING string_agg(status, ',' ORDER BY id) <> '01,03'");
    if (events.length) failures.push(`${events.length} invoices with events other than 01,03`);
    const refusedCodes = await pgRows<{ n: number }>(url, "SELECT count(*)::int AS n FROM invoices WHERE accepted = 0 AND errors LIKE '%DOUBLE%'");
    if (refusedCodes[0]!.n !== resends.length * NODE_INVOICES) failures.push(`${refusedCodes[0]!.n} invoices refused as double invoicing, expected ${resends.length * NODE_INVOICES}`);
    const owners = await pgRows<{ owner_node: string; n: number }>(url, 'SELECT owner_node, count(*)::int AS n FROM flows GROUP BY owner_node ORDER BY owner_node');
    const statusDir = path.join(home, 'outbox', 'suppliers');
    const statuses = listFiles(statusDir).flatMap((f) =>
      [...fs.readFileSync(path.join(statusDir, f), 'utf8').matchAll(/<IdStatut>(\d+)<\/IdStatut>[\s\S]*?<IdFacture>([^<]+)<\/IdFacture>/g)].map((m) => `${m[2]}:${m[1]}`),
    );
    if (new Set(statuses).size !== statuses.length) failures.push(`${statuses.length} supplier statuses, ${new Set(statuses).size} distinct`);
    console.log(`seed ${SEED}: ${NODES} nodes, ${killed} kills (${interrupted} with flows in hand; ${leftDead} nodes left dead for a while; ${leaseLost} stops after a lost lease), ${total} flows (${resends.length} resent), ${NODE_FLOWS * NODE_INVOICES} invoices; flows finished by ${owners.map((o) => `${o.owner_node} ${o.n}`).join(', ')}`);
    expect({ seed: SEED, failures }).toEqual({ seed: SEED, failures: [] });
  }, Math.max(240_000, NODE_KILLS * 3000 + NODE_FLOWS * 3000 + 60_000));
