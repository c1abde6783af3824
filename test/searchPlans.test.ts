/** Searches use an index for every filter given (EXPLAIN QUERY PLAN on a real ledger file). */
import path from 'node:path';
import { bulkRecipient, bulkSupplier, generateBulkLedger } from '../src/ledger/bulkSqlite.js';
import { flowListQuery, invoiceSearchQuery, SqliteLedger } from '../src/ledger/sqlite.js';
import { FIXTURE_RECIPIENTS } from '../src/devtools/synth.js';
import type { FlowFilter, InvoiceFilter } from '../src/ledger/stores.js';
import { tempDir } from './helpers.js';

let ledger: SqliteLedger;
beforeAll(() => (ledger = new SqliteLedger(path.join(tempDir(), 'ledger.sqlite'))));
afterAll(() => ledger.close());

/** Steps that read a whole table (a SCAN not through an index) or sort every match. */
const fullScans = (plan: string[], table: string) => plan.filter((d) => new RegExp(`^SCAN ${table}\\b(?! USING (COVERING )?INDEX)`).test(d));

/** Each filter combination the CLI accepts, with the index that must serve it (the most selective one). */
const invoiceFilters: [Omit<InvoiceFilter, 'limit'>, RegExp][] = [
  [{ number: 'FA-2026-0001' }, /INDEX invoices_number /],
  [{ supplier: '81234567800013' }, /INDEX invoices_supplier(_status)? /],
  [{ recipient: '21450001200015' }, /INDEX invoices_recipient /],
  [{ status: '01' }, /INDEX invoices_status /],
  [{ status: 'REJECTED' }, /INDEX invoices_refused\b/],
  // Not the status index filtered on the supplier (84 ms at a million invoices before migration 15).
  [{ supplier: '81234567800013', status: '03' }, /INDEX invoices_supplier_status \(supplier_id=\? AND status=\?\)/],
  [{ supplier: '81234567800013', status: 'REJECTED' }, /INDEX invoices_supplier(_status)? /],
  [{ supplier: '81234567800013', recipient: '21450001200015' }, /INDEX invoices_supplier_recipient \(supplier_id=\? AND recipient_siret=\?\)/],
  [{ number: 'FA-2026-0001', supplier: '81234567800013' }, /INDEX invoices_(number|supplier_number) /],
  [{ recipient: '21450001200015', status: '04' }, /INDEX invoices_recipient_status \(recipient_siret=\? AND status=\?\)/],
  [{ supplier: '81234567800013', recipient: '21450001200015', status: '04' }, /INDEX invoices_(supplier_status|supplier_recipient|recipient_status) \(\w+=\? AND \w+=\?\)/],
  [{ recipient: '21450001200015', from: '2026-01-01', to: '2026-03-31' }, /INDEX invoices_recipient /],
];

test.each(invoiceFilters)('invoices search %j: an index, newest first without sorting every match', (f, index) => {
  const plan = ledger.queryPlan(invoiceSearchQuery({ ...f, limit: 50 }));
  expect(fullScans(plan, 'invoices')).toEqual([]);
  expect(plan.join('\n')).toMatch(index);
  expect(plan.join('\n')).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
});

test.each([
  [{ recipient: '21450001200015', from: '2026-01-01', to: '2026-01-01' }],
  [{ status: '04', from: '2026-01-01', to: '2026-01-31' }],
  [{ supplier: '81234567800013', status: 'REJECTED', to: '2025-01-01' }],
] as [Omit<InvoiceFilter, 'limit'>][])('invoices search %j, date range plan: the issue-date index, the other filters checked on its rows', (f) => {
  const plan = ledger.queryPlan(invoiceSearchQuery({ ...f, limit: 50 }, 'range'));
  expect(fullScans(plan, 'invoices')).toEqual([]);
  expect(plan.join('\n')).toMatch(/SEARCH invoices USING INDEX invoices_issue_date \(issue_date[<>]/);
});

test('both date plans give the same invoices, in the same order, and so does the plan the store picks (a bulk ledger of 30,000 invoices)', async () => {
  const file = path.join(tempDir(), 'bulk-dates.sqlite');
  generateBulkLedger(file, { invoices: 30_000, perFlow: 10, bigRecipients: FIXTURE_RECIPIENTS, refusedErrors: '[]' });
  const bulk = new SqliteLedger(file);
  try {
    const [{ d }] = bulk.queryRows<{ d: string }>({ text: 'SELECT max(issue_date) AS d FROM invoices', params: {} });
    const filters: Omit<InvoiceFilter, 'limit'>[] = [
      { recipient: FIXTURE_RECIPIENTS[0]!.siret, from: d, to: d }, { recipient: FIXTURE_RECIPIENTS[0]!.siret, from: '2000-01-01' },
      { supplier: bulkSupplier(0), to: d }, { status: '03', from: d }, { status: 'REJECTED', from: '2000-01-01', to: d }, { supplier: bulkSupplier(3), recipient: bulkRecipient(7), to: d },
    ];
    let found = 0;
    for (const f of filters) {
      const walk = bulk.queryRows<{ id: number }>(invoiceSearchQuery({ ...f, limit: 30 }, 'walk'));
      const range = bulk.queryRows<{ id: number }>(invoiceSearchQuery({ ...f, limit: 30 }, 'range'));
      expect(range.map((r) => r.id)).toEqual(walk.map((r) => r.id));
      expect((await bulk.invoices.search({ ...f, limit: 30 })).map((r) => r.id)).toEqual(walk.map((r) => r.id));
      found += walk.length;
    }
    expect(found).toBeGreaterThan(0);
  } finally {
    await bulk.close();
  }
});

const flowFilters: FlowFilter[] = [{}, { state: 'IN_INTEGRE' }, { state: 'DECIDED' }, { since: '2026-01-01' }, { supplier: '81234567800013' }, { recipient: '21450001200015' }, { state: 'IN_REJETE', since: '2026-11-01' }];

test.each(flowFilters)('flows list %j: flows through an index, their invoices counted through the flow_id index', (f) => {
  const plan = ledger.queryPlan(flowListQuery({ ...f, limit: 50 }));
  expect(fullScans(plan, 'f')).toEqual([]);
  expect(fullScans(plan, 'i')).toEqual([]);
  expect(fullScans(plan, 'invoices')).toEqual([]);
  // The per-flow counts look invoices up by their flow, never by a low-selectivity column.
  expect(plan.filter((d) => /^SEARCH i /.test(d)).every((d) => /sqlite_autoindex_invoices_1 \(flow_id=\?\)/.test(d))).toBe(true);
});

test.each([
  [{ supplier: '81234567800013' }, 'walk'],
  [{ recipient: '21450001200015' }, 'lookup'],
  [{ supplier: '81234567800013', recipient: '21450001200015', state: 'IN_REJETE' }, 'lookup'],
] as const)('flows list %j, party plan %s: through the flow_id index or the party\'s own index, never a scan', (f, plan) => {
  const q = flowListQuery({ ...f, limit: 50 }, { supplier: plan, recipient: plan });
  const steps = ledger.queryPlan(q);
  expect(fullScans(steps, 'f')).toEqual([]);
  expect(fullScans(steps, 'i')).toEqual([]);
  expect(fullScans(steps, 'invoices')).toEqual([]);
  if (plan === 'walk') expect(q.text).toMatch(/IN \(SELECT i\.\w+ FROM invoices i WHERE i\.flow_id = f\.id\)/);
  else expect(steps.join('\n')).toMatch(/SEARCH invoices USING (COVERING )?INDEX invoices_(supplier|recipient)\w* \((supplier_id|recipient_siret)=\?\)/);
});

test('both party plans give the same flows, in the same order (a bulk ledger of 30,000 invoices)', async () => {
  const file = path.join(tempDir(), 'bulk.sqlite');
  generateBulkLedger(file, { invoices: 30_000, perFlow: 10, bigRecipients: FIXTURE_RECIPIENTS, refusedErrors: '[]' });
  const bulk = new SqliteLedger(file);
  try {
    const ids = (rows: { id: string }[]) => rows.map((r) => r.id);
    const filters: FlowFilter[] = [{ supplier: bulkSupplier(0) }, { supplier: bulkSupplier(900) }, { recipient: FIXTURE_RECIPIENTS[0]!.siret }, { recipient: bulkRecipient(7) },
      { recipient: '00000000000000' }, { supplier: bulkSupplier(3), recipient: FIXTURE_RECIPIENTS[1]!.siret, state: 'IN_INTEGRE' }];
    for (const f of filters) {
      const walk = flowListQuery({ ...f, limit: 20 }, { supplier: 'walk', recipient: 'walk' });
      const lookup = flowListQuery({ ...f, limit: 20 }, { supplier: 'lookup', recipient: 'lookup' });
      const [a, b] = [bulk.queryRows<{ id: string }>(walk), bulk.queryRows<{ id: string }>(lookup)];
      expect(ids(a)).toEqual(ids(b));
      expect(ids(await bulk.flows.list({ ...f, limit: 20 }))).toEqual(ids(a));
      if (f.recipient !== '00000000000000') expect(a.length).toBeGreaterThan(0);
    }
  } finally {
    await bulk.close();
  }
});

test('the state filter asks one column: a stage name the stage, anything else the state', () => {
  expect(flowListQuery({ state: 'DONE' }).text).toContain('f.stage = @state');
  expect(flowListQuery({ state: 'IN_INTEGRE_PARTIEL' }).text).toContain('f.state = @state');
});
