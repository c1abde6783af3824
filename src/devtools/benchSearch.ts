/**
 * The search bench: `invoices search` and `flows list` on a generated ledger of many invoices
 * (10 million with `npm run bench -- --search`; BENCH_SEARCH_INVOICES sets the size). Rows go in
 * through the ledger's own stores, 50,000 invoices per transaction, into a temp SQLite file;
 * each query is then timed in-process (the store call, best of 5 after a first run).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { flowError } from '../errors/catalog.js';
import { SqliteLedger } from '../ledger/sqlite.js';
import type { FlowFilter, InvoiceFilter } from '../ledger/stores.js';
import { FIXTURE_RECIPIENTS, prng } from './synth.js';

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
}

const SUPPLIERS = 1000;
const PER_FLOW = 10;
const BATCH = 50_000;

const supplierOf = (n: number) => String(81_000_000_000_000 + n);
const dayOf = (i: number, total: number) => new Date(Date.UTC(2025, 0, 1) + Math.floor((i / total) * 700) * 86_400_000).toISOString();

async function generate(ledger: SqliteLedger, total: number): Promise<number> {
  const rand = prng(20);
  let flows = 0;
  for (let start = 0; start < total; start += BATCH) {
    await ledger.transaction(async (tx) => {
      for (let i = start; i < Math.min(total, start + BATCH); i += PER_FLOW) {
        const id = `FLX-${String(flows++).padStart(9, '0')}`;
        const at = dayOf(i, total);
        await tx.flows.insertClaims([{ id, fileName: `${id}.xml`, partner: null, channel: 'edi', receivedAt: at, spoolPath: `/spool/${id}`, ownerPid: 0, ownerNode: 'bench' }]);
        await tx.flows.finishClaim(id, id, 1000);
        const supplier = supplierOf(Math.floor(rand() * SUPPLIERS));
        let refused = 0;
        for (let p = 1; p <= PER_FLOW && i + p - 1 < total; p++) {
          const bad = rand() < 0.02;
          refused += bad ? 1 : 0;
          const recipient = FIXTURE_RECIPIENTS[Math.floor(rand() * FIXTURE_RECIPIENTS.length)]!;
          const invoiceId = await tx.invoices.record(id, {
            position: p, label: `NumOrdre ${p}`, number: `FA-${i + p}`, supplierType: '1', supplierId: supplier, supplierName: 'SUPPLIER', supplierCountry: 'FR',
            recipientSiret: recipient.siret, issueDate: at.slice(0, 10), type: '380', amountGross: '120.00', currency: 'EUR',
            errors: bad ? [flowError('FLOW_EMPTY')] : [], warnings: [], role: 'invoice', renvoi: 'Non',
          });
          if (!bad) await tx.events.add({ invoiceId, status: rand() < 0.5 ? '03' : '10', at, producer: 'platform', sourceFlow: id, attempt: 0 });
        }
        const state = refused === 0 ? 'IN_INTEGRE' : refused === PER_FLOW ? 'IN_REJETE' : 'IN_INTEGRE_PARTIEL';
        await tx.flows.recordDecision(id, 'CLAIMED', { kind: 'mixed', state, statusCode: '90', duplicateOf: null, errors: [], decidedAt: at, finalPath: `/archive/${id}` }, { node: 'bench', pid: 0 });
        await tx.flows.markDone(id, at);
      }
    });
    if (start % 1_000_000 === 0 && start) process.stderr.write(`  ${start.toLocaleString('en-US')} invoices generated\n`);
  }
  return flows;
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
    const ledger = new SqliteLedger(file);
    const started = process.hrtime.bigint();
    const flows = await generate(ledger, invoices);
    const generateSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const mid = dayOf(invoices / 2, invoices).slice(0, 10);
    const s = (f: Omit<InvoiceFilter, 'limit'>) => () => ledger.invoices.search({ ...f, limit: 50 });
    const l = (f: FlowFilter) => () => ledger.flows.list({ limit: 50, ...f });
    const queries: [string, () => Promise<unknown[]>][] = [
      ['invoices search (no filter)', s({})],
      ['invoices search --number', s({ number: `FA-${Math.floor(invoices / 3)}` })],
      ['invoices search --supplier', s({ supplier: supplierOf(7) })],
      ['invoices search --recipient', s({ recipient: FIXTURE_RECIPIENTS[1]!.siret })],
      ['invoices search --status 10', s({ status: '10' })],
      ['invoices search --status REJECTED', s({ status: 'REJECTED' })],
      ['invoices search --supplier --status 03', s({ supplier: supplierOf(7), status: '03' })],
      [`invoices search --from ${mid}`, s({ from: mid })],
      [`invoices search --from/--to (one day)`, s({ from: mid, to: mid })],
      ['flows list (no filter)', l({})],
      ['flows list --state IN_REJETE', l({ state: 'IN_REJETE' })],
      ['flows list --state DONE', l({ state: 'DONE' })],
      [`flows list --since ${mid}`, l({ since: mid })],
      ['flows list --supplier', l({ supplier: supplierOf(7) })],
      ['flows list --recipient', l({ recipient: FIXTURE_RECIPIENTS[2]!.siret })],
    ];
    const timings: SearchTiming[] = [];
    for (const [what, run] of queries) timings.push(await time(what, run));
    await ledger.close();
    const fileMb = fs.statSync(file).size / 1024 / 1024;
    const targetMs = 50;
    return { invoices, flows, generateSeconds, fileMb, timings, targetMs, met: timings.every((t) => t.ms <= targetMs) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
