/**
 * The search bench: `invoices search` and `flows list` on a generated ledger of many invoices
 * (10 million with `npm run bench -- --search`; BENCH_SEARCH_INVOICES sets the size). Rows go in
 * in bulk (src/ledger/bulkSqlite.ts: the migrations' tables and indexes, rows made by SQL) into a temp SQLite file;
 * each query is then timed in-process (the store call, best of 5 after a first run).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { flowError } from '../errors/catalog.js';
import { bulkDay, bulkInvoiceNumber, bulkRecipient, bulkSupplier, generateBulkLedger } from '../ledger/bulkSqlite.js';
import { SqliteLedger } from '../ledger/sqlite.js';
import type { FlowFilter, InvoiceFilter } from '../ledger/stores.js';
import { FIXTURE_RECIPIENTS } from './synth.js';

export interface SearchTiming {
  what: string;
  ms: number;
  rows: number;
}

export interface SearchBench {
  invoices: number;
  flows: number;
  generateSeconds: number;
  fileMb: number;
  timings: SearchTiming[];
  /** Every query under this many milliseconds. */
  targetMs: number;
  met: boolean;
  /** The machine's 1-minute load average when generation started and when the queries ended (a shared machine). */
  loadAverage: [number, number];
  events: number;
  /** Where it ran (a partial bench run keeps the other scenarios' figures, measured elsewhere). */
  machine: string;
}

const PER_FLOW = 10;

async function generate(file: string, total: number): Promise<{ flows: number; events: number }> {
  const r = generateBulkLedger(file, { invoices: total, perFlow: PER_FLOW, bigRecipients: FIXTURE_RECIPIENTS, refusedErrors: JSON.stringify([flowError('RULE_INVOICE_NUMBER_MISSING')]) },
    (done) => done % 1_000_000 === 0 && process.stderr.write(`  ${done.toLocaleString('en-US')} invoices generated\n`));
  process.stderr.write(`  rows in ${r.seconds.rows.toFixed(0)} s (${r.events.toLocaleString('en-US')} events), indexes in ${r.seconds.indexes.toFixed(0)} s\n`);
  return { flows: r.flows, events: r.events };
}


async function time(what: string, run: () => Promise<unknown[]>): Promise<SearchTiming> {
  let rows = (await run()).length;
  let best = Infinity;
  for (let k = 0; k < 5; k++) {
    const t = process.hrtime.bigint();
    rows = (await run()).length;
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6);
  }
  return { what, ms: best, rows };
}

export async function searchBench(invoices: number, workDir = os.tmpdir()): Promise<SearchBench> {
  const dir = fs.mkdtempSync(path.join(workDir, 'factflow-search-'));
  const file = path.join(dir, 'ledger.sqlite');
  try {
    const loadBefore = os.loadavg()[0]!;
    const started = process.hrtime.bigint();
    const { flows, events } = await generate(file, invoices);
    const generateSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const ledger = new SqliteLedger(file);
    const mid = bulkDay(0.5);
    const s = (f: Omit<InvoiceFilter, 'limit'>) => () => ledger.invoices.search({ ...f, limit: 50 });
    const l = (f: FlowFilter) => () => ledger.flows.list({ limit: 50, ...f });
    const big = FIXTURE_RECIPIENTS[1]!.siret;
    const small = bulkRecipient(1234);
    // Supplier 0 has about 3 % of the flows, supplier 7 about 0.6 %, supplier 900 about 0.1 %.
    const heavy = bulkSupplier(7);
    const light = bulkSupplier(900);
    const queries: [string, () => Promise<unknown[]>][] = [
      ['invoices search (no filter)', s({})],
      ['invoices search --number', s({ number: bulkInvoiceNumber(Math.floor(invoices / 3)) })],
      ['invoices search --supplier (large)', s({ supplier: heavy })],
      ['invoices search --supplier (small)', s({ supplier: light })],
      ['invoices search --recipient (large)', s({ recipient: big })],
      ['invoices search --recipient (small)', s({ recipient: small })],
      ['invoices search --status 10', s({ status: '10' })],
      ['invoices search --status 04', s({ status: '04' })],
      ['invoices search --status REJECTED', s({ status: 'REJECTED' })],
      ['invoices search --supplier --status 03', s({ supplier: heavy, status: '03' })],
      ['invoices search --supplier --status 04', s({ supplier: light, status: '04' })],
      ['invoices search --supplier --status REJECTED', s({ supplier: light, status: 'REJECTED' })],
      ['invoices search --recipient (small) --status 04', s({ recipient: small, status: '04' })],
      ['invoices search --recipient (large) --status REJECTED', s({ recipient: big, status: 'REJECTED' })],
      ['invoices search --recipient (small) --status REJECTED', s({ recipient: small, status: 'REJECTED' })],
      ['invoices search --supplier (small) --recipient (large)', s({ supplier: light, recipient: big })],
      ['invoices search --supplier --recipient (small)', s({ supplier: heavy, recipient: small })],
      [`invoices search --from ${mid}`, s({ from: mid })],
      ['invoices search --from/--to (one day)', s({ from: mid, to: mid })],
      ['invoices search --supplier --from/--to (one day)', s({ supplier: heavy, from: mid, to: mid })],
      ['invoices search --recipient (large) --from/--to (one day)', s({ recipient: big, from: mid, to: mid })],
      ['invoices search --status 04 --from/--to (one day)', s({ status: '04', from: mid, to: mid })],
      ['flows list (no filter)', l({})],
      ['flows list --state IN_REJETE', l({ state: 'IN_REJETE' })],
      ['flows list --state DONE', l({ state: 'DONE' })],
      [`flows list --since ${mid}`, l({ since: mid })],
      ['flows list --state IN_REJETE --since', l({ state: 'IN_REJETE', since: mid })],
      ['flows list --supplier (largest, 3 % of the flows)', l({ supplier: bulkSupplier(0) })],
      ['flows list --supplier (large)', l({ supplier: heavy })],
      ['flows list --supplier (small)', l({ supplier: light })],
      ['flows list --recipient (large)', l({ recipient: big })],
      ['flows list --recipient (small)', l({ recipient: small })],
      ['flows list --recipient (in no flow)', l({ recipient: '29999999999999' })],
      ['flows list --supplier --recipient (large)', l({ supplier: heavy, recipient: big })],
      ['invoices search --recipient (in no flow)', s({ recipient: '29999999999999' })],
    ];
    const timings: SearchTiming[] = [];
    for (const [what, run] of queries) timings.push(await time(what, run));
    await ledger.close();
    const fileMb = fs.statSync(file).size / 1024 / 1024;
    const targetMs = 50;
    return { invoices, flows, generateSeconds, fileMb, timings, targetMs, met: timings.every((t) => t.ms <= targetMs), loadAverage: [loadBefore, os.loadavg()[0]!], events,
      machine: `${os.cpus()[0]?.model ?? '?'}, ${os.cpus().length} cores, ${new Date().toISOString().slice(0, 10)}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
