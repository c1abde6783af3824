/**
 * The ledger's stores, written once over a LedgerDb (./driver): the SQLite file of one home
 * (./sqlite) or a PostgreSQL database shared by several nodes (./postgres) run the same SQL.
 * Adding a store method: write it here with `await db.get/all/run(sql, params)` in portable SQL
 * (see the header of ./driver); only a statement that truly differs branches on `db.dialect`.
 */
import { jsonField, jsonList } from './dialect.js';
import type { LedgerDb, Params } from './driver.js';
import type { Partner } from '../route/partners.js';
import type { ImportedStructure, Service } from '../route/directory.js';
import type {
  DirectoryStore, EarlierDeposit, EventStore, FlowRow, FlowStore, InvoiceRow, InvoiceStore, ListedFlow, NodeRow, NodeStore, PartnerStore,
  StatusUpdateRow, StatusUpdateStore, Stores, InvoiceEventRow, EventRow, ReplayRow,
  FlowFilter, InvoiceFilter, Stage, CircuitStore, HoldRow, TokenStore, TokenRow, DepositStore, DepositRow, Visibility, NotifyStore, NotifyEventRow, DueDelivery, DeliveryRow, AttemptRow, WebhookStore, Webhook, CounterStore, CounterDelta,
} from './stores.js';
import { ROWS_PER_STATEMENT } from './stores.js';

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(',');

/** `column IN (@prefix0, …)` with its parameters; false (`1 = 0`) for an empty list. */
function inList(column: string, prefix: string, values: string[], params: Record<string, unknown>): string {
  if (!values.length) return '1 = 0';
  values.forEach((v, i) => (params[`${prefix}${i}`] = v));
  return `${column} IN (${values.map((_, i) => `@${prefix}${i}`).join(', ')})`;
}

/** What a partner may see of a flow: deposited by it, or holding an invoice of one of its suppliers or recipients. */
function visibleFlow(v: Visibility, params: Record<string, unknown>): string {
  params.vpartner = v.partner;
  return `(f.partner = @vpartner OR EXISTS (SELECT 1 FROM invoices vi WHERE vi.flow_id = f.id AND (${inList('vi.supplier_id', 'vs', v.suppliers, params)} OR ${inList('vi.recipient_siret', 'vr', v.recipients, params)})))`;
}

/** Runs `fn` over `items` in slices that stay under SQLite's bound-parameter limit. */
async function inSlices<T, R>(items: T[], size: number, fn: (slice: T[]) => Promise<R[]>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await fn(items.slice(i, i + size))));
  return out;
}

/** Whether more than `max` invoices match `condition`: how both searches choose a plan, reading at most max + 1 index entries. */
async function invoicesExceed(db: LedgerDb, condition: string, params: Params, max: number): Promise<boolean> {
  const row = await db.get<{ n: number }>(`SELECT count(*) AS n FROM (SELECT 1 FROM invoices WHERE ${condition} LIMIT ${max + 1}) AS c`, params);
  return Number(row?.n ?? 0) > max;
}

/** No LIMIT given: a bound both backends take (SQLite's -1 is refused by PostgreSQL). */
const NO_LIMIT = Number.MAX_SAFE_INTEGER;
/** Keys looked up per statement by earlierDeposits (two parameters each). */
export const EARLIER_DEPOSITS_PER_STATEMENT = 200;

const STAGES = new Set<string>(['CLAIMING', 'CLAIMED', 'DECIDED', 'DONE'] satisfies Stage[]);

export interface Query {
  text: string;
  params: Record<string, unknown>;
}

/**
 * How flows of one party (a supplier, a recipient) are found. `walk`: the newest flows are walked
 * and each one's invoices checked through the flow_id index, the first hits kept: fast for a party
 * in many flows, but a party in few flows (or none: a mistyped SIRET) has the whole table walked.
 * `lookup`: the party's invoices are looked up in its index, then their flows sorted: fast for a
 * party of few invoices, seconds for one of hundreds of thousands. The store counts the party's
 * invoices first, up to its limit below, and picks. A supplier's invoices come a flow at a time
 * (an EDI partner deposits a supplier's batch), a recipient's are spread one per flow, so a
 * recipient's lookup reads a flow per invoice: from the 10-million bench, a walk and a lookup
 * should cost about the same near 20,000 invoices for a supplier and 2,000 for a recipient (BENCHMARKS.md).
 */
export type PartyPlan = 'walk' | 'lookup';
export const PARTY_LOOKUP_MAX = { supplier_id: 20_000, recipient_siret: 2_000 } as const;

/**
 * `flows list` (and the API's search): only the filters given become conditions, so that each
 * can use its index.
 */
export function flowListQuery(f: FlowFilter, plans: { supplier?: PartyPlan; recipient?: PartyPlan } = {}): Query {
  const where = ["f.channel = 'edi'"];
  const params: Record<string, unknown> = { limit: f.limit ?? NO_LIMIT, offset: f.offset ?? 0 };
  // A stage (CLAIMED…) or a state (IN_INTEGRE…): the two never share a value, so one column is asked.
  if (f.state) (where.push(STAGES.has(f.state) ? 'f.stage = @state' : 'f.state = @state'), (params.state = f.state));
  if (f.since) (where.push('f.received_at >= @since'), (params.since = f.since));
  if (f.until) (where.push('f.received_at <= @until'), (params.until = f.until));
  const party = (column: string, name: 'supplier' | 'recipient', plan: PartyPlan) =>
    where.push(plan === 'lookup' ? `f.id IN (SELECT flow_id FROM invoices WHERE ${column} = @${name})` : `@${name} IN (SELECT i.${column} FROM invoices i WHERE i.flow_id = f.id)`);
  if (f.supplier) (party('supplier_id', 'supplier', plans.supplier ?? 'lookup'), (params.supplier = f.supplier));
  if (f.recipient) (party('recipient_siret', 'recipient', plans.recipient ?? 'walk'), (params.recipient = f.recipient));
  if (f.states) where.push(`(${inList('f.state', 'st', f.states, params)} OR ${inList('f.stage', 'sg', f.states, params)})`);
  if (f.unfinished) where.push("f.stage <> 'DONE'");
  if (f.updatedAfter) (where.push('coalesce(f.done_at, f.decided_at, f.received_at) > @updatedAfter'), (params.updatedAfter = f.updatedAfter));
  if (f.updatedBefore) (where.push('coalesce(f.done_at, f.decided_at, f.received_at) <= @updatedBefore'), (params.updatedBefore = f.updatedBefore));
  if (f.trackingId) (where.push('EXISTS (SELECT 1 FROM api_deposits d WHERE d.flow_id = f.id AND d.tracking_id = @trackingId)'), (params.trackingId = f.trackingId));
  if (f.visibleTo) where.push(visibleFlow(f.visibleTo, params));
  return {
    text: `SELECT f.*, (SELECT count(*) FROM invoices i WHERE i.flow_id = f.id) AS invoices,
          CAST(coalesce((SELECT sum(i.accepted) FROM invoices i WHERE i.flow_id = f.id), 0) AS INTEGER) AS accepted
          FROM flows f WHERE ${where.join(' AND ')} ORDER BY f.received_at DESC, f.id DESC LIMIT @limit OFFSET @offset`,
    params,
  };
}

/**
 * How `invoices search` finds its rows when an issue-date range comes with another filter.
 * `walk`: the other filter's index yields the newest first and each row's date is checked: fast
 * when the range holds much of them, slow when it is narrow and far back (every newer invoice of
 * that party is read first: 524 ms for one day of a large recipient at 10 million invoices).
 * `range`: the issue-date index yields the range, the other filters are checked on each row
 * (their indexes set aside) and the matches sorted: fast for a range of few invoices. The store
 * counts the range's invoices first, up to DATE_RANGE_MAX, and picks.
 */
export type DatePlan = 'walk' | 'range';
export const DATE_RANGE_MAX = 20_000;

/** Whether a search has a date range and another filter whose index could be walked instead. */
const dateChoice = (f: InvoiceFilter): boolean => !!(f.from || f.to) && !f.number && !!(f.supplier || f.recipient || f.status);

/** `invoices search`: the newest first; each filter given has an index that yields them in that order. */
export function invoiceSearchQuery(f: InvoiceFilter, plan: DatePlan = 'walk'): Query {
  const where = ["role = 'invoice'"];
  const params: Record<string, unknown> = { limit: f.limit };
  const range = plan === 'range' && dateChoice(f);
  // On the range plan, `column || ''` keeps the planner from walking that column's index.
  const col = (name: string) => (range ? `${name} || ''` : name);
  if (f.number) (where.push(/[%_]/.test(f.number) ? 'number LIKE @number' : 'number = @number'), (params.number = f.number));
  if (f.supplier) (where.push(`${col('supplier_id')} = @supplier`), (params.supplier = f.supplier));
  if (f.recipient) (where.push(`${col('recipient_siret')} = @recipient`), (params.recipient = f.recipient));
  if (f.status === 'REJECTED') where.push(range ? 'accepted + 0 = 0' : 'accepted = 0');
  else if (f.status) (where.push(`${col('status')} = @status`), (params.status = f.status));
  if (f.from) (where.push('issue_date >= @from'), (params.from = f.from));
  if (f.to) (where.push('issue_date <= @to'), (params.to = f.to));
  if (f.visibleTo) {
    params.vpartner = f.visibleTo.partner;
    where.push(`(${inList('supplier_id', 'vs', f.visibleTo.suppliers, params)} OR ${inList('recipient_siret', 'vr', f.visibleTo.recipients, params)} OR flow_id IN (SELECT id FROM flows WHERE partner = @vpartner))`);
  }
  // On the range plan, `+id` keeps the planner from walking the table in id order instead of the range.
  return { text: `SELECT * FROM invoices WHERE ${where.join(' AND ')} ORDER BY ${range ? '+id' : 'id'} DESC LIMIT @limit`, params };
}

function flowStore(db: LedgerDb): FlowStore {
  return {
    async get(id) {
      return db.get<FlowRow>('SELECT * FROM flows WHERE id = ?', [id]);
    },
    async inStage(stage) {
      return db.all<FlowRow>('SELECT * FROM flows WHERE stage = ? ORDER BY received_at, id', [stage]);
    },
    async insertClaims(flows) {
      for (const f of flows) {
        await db.run("INSERT INTO flows (id, file_name, partner, channel, size, stage, received_at, spool_path, owner_pid, owner_node) VALUES (?, ?, ?, ?, 0, 'CLAIMING', ?, ?, ?, ?)",
          [f.id, f.fileName, f.partner, f.channel, f.receivedAt, f.spoolPath, f.ownerPid, f.ownerNode]);
      }
    },
    async dropClaim(id) {
      await db.run("DELETE FROM flows WHERE id = ? AND stage = 'CLAIMING'", [id]);
    },
    async finishClaim(id, sha256, size) {
      // Only from CLAIMING: a node recovering a claim it took for abandoned must not send back to
      // CLAIMED a flow its owner (only slow) has decided or finished meanwhile.
      return (await db.run("UPDATE flows SET stage = 'CLAIMED', sha256 = ?, size = ? WHERE id = ? AND stage = 'CLAIMING'", [sha256, size, id])).changes > 0;
    },
    async takeOver(id, from, to) {
      return (await db.run('UPDATE flows SET owner_pid = ?, owner_node = ? WHERE id = ? AND owner_pid IS NOT DISTINCT FROM ? AND owner_node IS NOT DISTINCT FROM ?',
        [to.pid, to.node, id, from.pid, from.node])).changes > 0;
    },
    async earlierSameContent(sha256, id) {
      return db.get<{ id: string }>(`SELECT id FROM flows WHERE sha256 = @sha256 AND duplicate_of IS NULL AND stage <> 'CLAIMING'
          AND (CAST(@id AS TEXT) IS NULL OR (id <> @id AND (received_at, id) < (SELECT received_at, id FROM flows WHERE id = @id))) ORDER BY received_at, id LIMIT 1`,
      { sha256, id: id ?? null });
    },
    async recordDecision(id, fromStage, d, owner) {
      const changed = (await db.run(`UPDATE flows SET stage = 'DECIDED', kind = ?, state = ?, status_code = ?, duplicate_of = ?, errors = ?, decided_at = ?, final_path = ?,
          replays = coalesce(?, replays), owner_pid = ?, owner_node = ?, last_error = NULL WHERE id = ? AND stage = ?`,
      [d.kind, d.state, d.statusCode, d.duplicateOf, JSON.stringify(d.errors), d.decidedAt, d.finalPath, d.replay?.attempt ?? null, owner.pid, owner.node, id, fromStage])).changes;
      if (changed && d.replay) {
        await db.run('INSERT INTO replays (flow_id, attempt, started_at, accepted, still_rejected) VALUES (?, ?, ?, ?, ?)', [id, d.replay.attempt, d.decidedAt, d.replay.accepted, d.replay.stillRejected]);
      }
      return changed > 0;
    },
    async recordFault(id, fault) {
      await db.run('UPDATE flows SET attempts = attempts + 1, last_error = ? WHERE id = ?', [fault, id]);
    },
    async markDone(id, at) {
      // A fault met on the way is history once the flow is done.
      await db.run("UPDATE flows SET stage = 'DONE', done_at = ?, last_error = NULL WHERE id = ?", [at, id]);
    },
    async recordOutput(id, kind, path) {
      await db.run('INSERT INTO outputs (flow_id, kind, path) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [id, kind, path]);
    },
    async outputs(id) {
      return db.all<{ kind: string; path: string }>('SELECT kind, path FROM outputs WHERE flow_id = ? ORDER BY kind, path', [id]);
    },
    async replays(id) {
      return db.all<ReplayRow>('SELECT attempt, started_at, accepted, still_rejected FROM replays WHERE flow_id = ? ORDER BY attempt', [id]);
    },
    async acknowledgments(id) {
      return db.all<{ status: string; byFlow: string; at: string }>(`SELECT s.status, s.flow_id AS "byFlow", f.received_at AS at FROM status_updates s JOIN flows f ON f.id = s.flow_id
          WHERE s.number = ? AND s.accepted = 1 AND s.status IN ('92', '94')`, [id]);
    },
    async deliveredRecipients(flowIds) {
      const rows = await inSlices(flowIds, 500, (ids) =>
        db.all<{ flow_id: string; recipient_siret: string }>(`SELECT DISTINCT flow_id, recipient_siret FROM invoices WHERE pivot_path IS NOT NULL AND flow_id IN (${placeholders(ids.length)})`, ids));
      const out = new Map<string, string[]>();
      for (const r of rows) out.set(r.flow_id, [...(out.get(r.flow_id) ?? []), r.recipient_siret]);
      return out;
    },
    async list(f) {
      const plan = async (column: keyof typeof PARTY_LOOKUP_MAX, value: string | undefined): Promise<PartyPlan | undefined> =>
        value ? ((await invoicesExceed(db, `${column} = ?`, [value], PARTY_LOOKUP_MAX[column])) ? 'walk' : 'lookup') : undefined;
      const q = flowListQuery(f, { supplier: await plan('supplier_id', f.supplier), recipient: await plan('recipient_siret', f.recipient) });
      return db.all<ListedFlow>(q.text, q.params);
    },
    async replayable(since) {
      return db.all<FlowRow>(`SELECT * FROM flows WHERE stage = 'DONE' AND duplicate_of IS NULL AND channel = 'edi' AND coalesce(kind, '') NOT IN ('statut', 'cdar')
          AND state IN ('IN_REJETE', 'IN_INTEGRE_PARTIEL', 'QP_IRRECEVABLE') AND (CAST(@since AS TEXT) IS NULL OR received_at >= @since) ORDER BY received_at, id`, { since: since ?? null });
    },
    async purgeable(cutoff) {
      const candidates = new Map((await db.all<FlowRow>("SELECT * FROM flows WHERE stage = 'DONE' AND done_at < ?", [cutoff])).map((f) => [f.id, f]));
      // Flows linked by an event (a status one flow set on another's invoice), a recycling or a
      // completion, or a duplicate pointing to its original, go together or not at all.
      const links = await db.all<{ a: string; b: string }>(`SELECT i.flow_id AS a, e.source_flow AS b FROM invoice_events e JOIN invoices i ON i.id = e.invoice_id
          UNION SELECT o.flow_id, n.flow_id FROM invoices n JOIN invoices o ON o.id = n.origin_invoice_id
          UNION SELECT s.flow_id, i.flow_id FROM status_updates s JOIN invoices i ON i.id = s.invoice_id
          UNION SELECT id, duplicate_of FROM flows WHERE duplicate_of IS NOT NULL`);
      for (let changed = true; changed; ) {
        changed = false;
        for (const { a, b } of links) {
          if (candidates.has(a) !== candidates.has(b)) changed = candidates.delete(a) || candidates.delete(b) || changed;
        }
      }
      return [...candidates.values()];
    },
    async purge(ids) {
      for (const id of ids) {
        await db.run('DELETE FROM invoice_events WHERE source_flow = ? OR invoice_id IN (SELECT id FROM invoices WHERE flow_id = ?)', [id, id]);
        for (const table of ['status_updates', 'outputs', 'replays']) await db.run(`DELETE FROM ${table} WHERE flow_id = ?`, [id]);
        await db.run('UPDATE status_updates SET invoice_id = NULL WHERE invoice_id IN (SELECT id FROM invoices WHERE flow_id = ?)', [id]);
        await db.run('UPDATE invoices SET origin_invoice_id = NULL WHERE origin_invoice_id IN (SELECT id FROM invoices WHERE flow_id = ?)', [id]);
        await db.run('DELETE FROM circuit_holds WHERE invoice_id IN (SELECT id FROM invoices WHERE flow_id = ?)', [id]);
        await db.run('DELETE FROM invoices WHERE flow_id = ?', [id]);
        await db.run('UPDATE flows SET duplicate_of = NULL WHERE duplicate_of = ?', [id]);
        await db.run('DELETE FROM flows WHERE id = ?', [id]);
      }
    },
    async stats(since) {
      const p = { since: since ?? null };
      const flows = await db.all<{ state: string; n: number }>("SELECT coalesce(state, stage) AS state, count(*) AS n FROM flows WHERE channel = 'edi' AND (CAST(@since AS TEXT) IS NULL OR received_at >= @since) GROUP BY 1 ORDER BY 2 DESC", p);
      const invoices = await db.all<{ status: string; n: number }>("SELECT CASE WHEN i.accepted = 1 THEN i.status ELSE 'REJECTED' END AS status, count(*) AS n FROM invoices i JOIN flows f ON f.id = i.flow_id WHERE i.role = 'invoice' AND (CAST(@since AS TEXT) IS NULL OR f.received_at >= @since) GROUP BY 1 ORDER BY 2 DESC", p);
      const code = jsonField(db.dialect, 'code');
      const rejectionCodes = await db.all<{ code: string; n: number }>(`SELECT code, count(*) AS n FROM (
          SELECT ${code} AS code FROM flows f, ${jsonList(db.dialect, 'f.errors')} WHERE (CAST(@since AS TEXT) IS NULL OR f.received_at >= @since)
          UNION ALL SELECT ${code} FROM invoices i JOIN flows f ON f.id = i.flow_id, ${jsonList(db.dialect, 'i.errors')} WHERE (CAST(@since AS TEXT) IS NULL OR f.received_at >= @since)
          UNION ALL SELECT ${code} FROM status_updates s JOIN flows f ON f.id = s.flow_id, ${jsonList(db.dialect, 's.errors')} WHERE (CAST(@since AS TEXT) IS NULL OR f.received_at >= @since)
        ) AS c GROUP BY code ORDER BY n DESC, code`, p);
      return { flows, invoices, rejectionCodes };
    },
    async counts() {
      const unfinished = (await db.get<{ n: number }>("SELECT count(*) AS n FROM flows WHERE stage <> 'DONE'"))!.n;
      const faulty = (await db.get<{ n: number }>("SELECT count(*) AS n FROM flows WHERE stage <> 'DONE' AND last_error IS NOT NULL"))!.n;
      const spoolNames = (await db.all<{ spool_path: string }>("SELECT spool_path FROM flows WHERE stage <> 'DONE'")).map((r) => r.spool_path);
      return { unfinished, faulty, spoolNames };
    },
    async unfinished() {
      // Three equality probes of the stage index, not a scan of the done flows.
      const r = (await db.get<{ n: number; oldest: string | null }>("SELECT count(*) AS n, min(received_at) AS oldest FROM flows WHERE stage IN ('CLAIMING', 'CLAIMED', 'DECIDED')"))!;
      return { n: r.n, ...(r.oldest ? { oldestReceivedAt: r.oldest } : {}) };
    },
    async perHour(since) {
      const flows = await db.all<{ hour: string; n: number }>("SELECT substr(received_at, 1, 13) AS hour, count(*) AS n FROM flows WHERE channel = 'edi' AND received_at >= ? GROUP BY substr(received_at, 1, 13)", [since]);
      const invoices = await db.all<{ hour: string; n: number }>("SELECT substr(f.received_at, 1, 13) AS hour, count(*) AS n FROM invoices i JOIN flows f ON f.id = i.flow_id WHERE i.role = 'invoice' AND f.received_at >= ? GROUP BY substr(f.received_at, 1, 13)", [since]);
      const byHour = new Map(flows.map((r) => [r.hour, { hour: r.hour, flows: r.n, invoices: 0 }]));
      for (const r of invoices) byHour.set(r.hour, { hour: r.hour, flows: byHour.get(r.hour)?.flows ?? 0, invoices: r.n });
      return [...byHour.values()].sort((a, b) => (a.hour < b.hour ? -1 : 1));
    },
    async oldestUnfinished() {
      return db.get<FlowRow>("SELECT * FROM flows WHERE stage <> 'DONE' ORDER BY received_at, id LIMIT 1");
    },
  };
}

function invoiceStore(db: LedgerDb): InvoiceStore {
  const accepted = "SELECT * FROM invoices WHERE accepted = 1 AND role = 'invoice'";
  return {
    async get(id) {
      return db.get<InvoiceRow>('SELECT * FROM invoices WHERE id = ?', [id]);
    },
    async ofFlow(flowId) {
      return db.all<InvoiceRow>('SELECT * FROM invoices WHERE flow_id = ? ORDER BY position', [flowId]);
    },
    async record(flowId, r) {
      const row = await db.get<InvoiceRow>(`INSERT INTO invoices (flow_id, position, label, number, supplier_type, supplier_id, supplier_name, supplier_country,
          recipient_siret, recipient_name, service_code, engagement, issue_date, type, amount_gross, currency, accepted, errors, role, renvoi, origin_invoice_id, warnings)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (flow_id, position) DO UPDATE SET label = excluded.label, number = excluded.number, supplier_type = excluded.supplier_type,
            supplier_id = excluded.supplier_id, supplier_name = excluded.supplier_name, supplier_country = excluded.supplier_country,
            recipient_siret = excluded.recipient_siret, recipient_name = excluded.recipient_name, service_code = excluded.service_code,
            engagement = excluded.engagement, issue_date = excluded.issue_date, type = excluded.type, amount_gross = excluded.amount_gross,
            currency = excluded.currency, accepted = excluded.accepted, errors = excluded.errors, role = excluded.role, renvoi = excluded.renvoi,
            origin_invoice_id = excluded.origin_invoice_id, warnings = excluded.warnings
          RETURNING *`, [
        flowId, r.position, r.label, r.number, r.supplierType, r.supplierId, r.supplierName, r.supplierCountry, r.recipientSiret, r.recipientName ?? null,
        r.serviceCode ?? null, r.engagement ?? null, r.issueDate, r.type, r.amountGross, r.currency, r.errors.length ? 0 : 1, JSON.stringify(r.errors),
        r.role, r.renvoi, r.originId ?? null, JSON.stringify(r.warnings),
      ]);
      return row!;
    },
    async setPivot(id, path) {
      await db.run('UPDATE invoices SET pivot_path = ? WHERE id = ?', [path, id]);
    },
    async earlierDeposits(keys) {
      // Many keys per statement (a flow of thousands of invoices was as many round trips, inside
      // the write lock); the newest accepted row of each (supplier, number) of the right year wins.
      const wanted = new Set(keys);
      const pairs = [...wanted].map((key) => key.split('\u0000').slice(0, 2));
      const rows = await inSlices(pairs, EARLIER_DEPOSITS_PER_STATEMENT, (batch) =>
        db.all<EarlierDeposit & { supplier_id: string; number: string; year: string }>(
          `SELECT id, flow_id, status, supplier_id, number, substr(issue_date, 1, 4) AS year FROM invoices
           WHERE (supplier_id, number) IN (VALUES ${batch.map(() => '(?, ?)').join(', ')}) AND accepted = 1 AND role = 'invoice' ORDER BY id DESC`,
          batch.flat()));
      const out = new Map<string, EarlierDeposit>();
      for (const r of rows) {
        const key = `${r.supplier_id}\u0000${r.number}\u0000${r.year}`;
        if (wanted.has(key) && !out.has(key)) out.set(key, { id: r.id, flow_id: r.flow_id, status: r.status });
      }
      return out;
    },
    async bySupplierNumber(supplierId, number) {
      return db.all<InvoiceRow>(`${accepted} AND supplier_id = ? AND number = ? ORDER BY id DESC`, [supplierId, number]);
    },
    async byNumber(number) {
      return db.all<InvoiceRow>(`${accepted} AND number = ? ORDER BY id DESC`, [number]);
    },
    async recycledInto(id) {
      return db.get<InvoiceRow>(`${accepted} AND origin_invoice_id = ?`, [id]);
    },
    async search(f) {
      let plan: DatePlan = 'walk';
      if (dateChoice(f)) {
        const bounds = [...(f.from ? ['issue_date >= @from'] : []), ...(f.to ? ['issue_date <= @to'] : [])];
        plan = (await invoicesExceed(db, bounds.join(' AND '), { ...(f.from ? { from: f.from } : {}), ...(f.to ? { to: f.to } : {}) }, DATE_RANGE_MAX)) ? 'walk' : 'range';
      }
      const q = invoiceSearchQuery(f, plan);
      return db.all<InvoiceRow>(q.text, q.params);
    },
  };
}

function eventStore(db: LedgerDb): EventStore {
  return {
    async add(e) {
      await db.run('INSERT INTO invoice_events (invoice_id, status, at, producer, motif, comment, produced_at, mandate, source_flow, attempt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [e.invoiceId, e.status, e.at, e.producer, e.motif ?? null, e.comment ?? null, e.producedAt ?? null, e.mandate ?? null, e.sourceFlow, e.attempt]);
      await db.run('UPDATE invoices SET status = ? WHERE id = ?', [e.status, e.invoiceId]);
    },
    async ofAttempt(flowId, attempt) {
      return db.all<InvoiceEventRow>(`SELECT e.*, i.number, i.issue_date, i.supplier_type, i.supplier_id, i.supplier_name, i.supplier_country, i.recipient_siret, i.recipient_name, i.service_code
          FROM invoice_events e JOIN invoices i ON i.id = e.invoice_id WHERE e.source_flow = ? AND e.attempt = ? ORDER BY i.supplier_id, i.position, e.id`, [flowId, attempt]);
    },
    async ofInvoices(ids) {
      return inSlices(ids, 500, (slice) =>
        db.all<EventRow & { source_file: string; invoice_number: string }>(`SELECT e.*, f.file_name AS source_file, i.number AS invoice_number FROM invoice_events e JOIN flows f ON f.id = e.source_flow
            JOIN invoices i ON i.id = e.invoice_id WHERE e.invoice_id IN (${placeholders(slice.length)}) ORDER BY e.at, e.id`, slice));
    },
  };
}

function statusUpdateStore(db: LedgerDb): StatusUpdateStore {
  return {
    async add(u) {
      await db.run('INSERT INTO status_updates (flow_id, position, number, supplier_id, recipient_siret, status, invoice_id, accepted, errors) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [u.flow_id, u.position, u.number, u.supplier_id, u.recipient_siret, u.status, u.invoice_id, u.accepted, u.errors]);
    },
    async ofFlow(flowId) {
      return db.all<StatusUpdateRow>('SELECT * FROM status_updates WHERE flow_id = ? ORDER BY position', [flowId]);
    },
  };
}

interface StructureRow {
  siret: string;
  id_type: string;
  edi_receiver: number;
  name: string;
  active: number;
  requires_engagement: number;
  requires_service: number;
  requires_service_engagement: number;
  is_moa: number | null;
  moa_only: number;
}

interface ServiceRow {
  siret: string;
  code: string;
  name: string;
  active: number;
  requires_engagement: number;
}

const structureOf = (r: StructureRow): ImportedStructure => ({
  siret: r.siret,
  idType: r.id_type,
  name: r.name,
  active: !!r.active,
  requiresEngagement: !!r.requires_engagement,
  requiresService: !!r.requires_service,
  requiresServiceAndEngagement: !!r.requires_service_engagement,
  ediReceiver: !!r.edi_receiver,
  ...(r.is_moa === null || r.is_moa === undefined ? {} : { moa: !!r.is_moa }),
  moaOnly: !!r.moa_only,
});
const serviceOf = (r: ServiceRow): Service => ({ siret: r.siret, code: r.code, name: r.name, active: !!r.active, requiresEngagement: !!r.requires_engagement });

function directoryStore(db: LedgerDb): DirectoryStore {
  return {
    async structures(sirets) {
      const out = new Map<string, ImportedStructure>();
      for (const siret of new Set(sirets)) {
        const r = await db.get<StructureRow>('SELECT * FROM structures WHERE siret = ?', [siret]);
        if (r) out.set(siret, structureOf(r));
      }
      return out;
    },
    async services(keys) {
      const out = new Map<string, Service>();
      for (const key of new Set(keys)) {
        const [siret, code] = key.split('\u0000');
        const r = await db.get<ServiceRow>('SELECT * FROM services WHERE siret = ? AND code = ?', [siret, code]);
        if (r) out.set(key, serviceOf(r));
      }
      return out;
    },
    async servicesOf(siret, code) {
      return (await db.all<ServiceRow>('SELECT * FROM services WHERE siret = @siret AND (CAST(@code AS TEXT) IS NULL OR code = @code) ORDER BY code', { siret, code: code ?? null })).map(serviceOf);
    },
    async replace(structures, services, source, onRow) {
      // A directory import is its own transaction when it is not inside one.
      await db.write(async (w) => {
        await w.exec('DELETE FROM services; DELETE FROM structures;');
        const total = structures.length + services.length;
        let done = 0;
        const tick = () => (++done % 5000 === 0 || done === total) && onRow?.(done, total);
        for (const x of structures) {
          await w.run('INSERT INTO structures (siret, id_type, name, active, requires_engagement, requires_service, requires_service_engagement, edi_receiver, is_moa, moa_only) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
            [x.siret, x.idType, x.name, +x.active, +x.requiresEngagement, +x.requiresService, +x.requiresServiceAndEngagement, +x.ediReceiver, x.moa === undefined ? null : +x.moa, +!!x.moaOnly]);
          tick();
        }
        for (const x of services) {
          await w.run('INSERT INTO services (siret, code, name, active, requires_engagement) VALUES (?, ?, ?, ?, ?)', [x.siret, x.code, x.name, +x.active, +x.requiresEngagement]);
          tick();
        }
        await w.run('INSERT INTO directory_imports (at, structures_file, services_file, structures, services) VALUES (?, ?, ?, ?, ?)',
          [new Date().toISOString(), source.structuresFile, source.servicesFile ?? null, structures.length, services.length]);
      });
    },
    async all() {
      const structures = (await db.all<StructureRow>('SELECT * FROM structures ORDER BY siret')).map(structureOf);
      const services = (await db.all<ServiceRow>('SELECT * FROM services ORDER BY siret, code')).map(serviceOf);
      return { structures, services };
    },
    async summary() {
      const structures = (await db.get<{ n: number }>('SELECT count(*) AS n FROM structures'))!.n;
      const last = await db.get<{ at: string }>('SELECT at FROM directory_imports ORDER BY id DESC LIMIT 1');
      return { structures, lastImport: last?.at };
    },
  };
}

interface PartnerRow {
  code: string;
  name: string;
  suppliers: string;
  recipients: string;
  pivot_grouping: Partner['pivotGrouping'] | null;
  email: string | null;
  status_format: Partner['statusFormat'] | null;
  validators: string;
}

const partnerOf = (r: PartnerRow): Partner => ({
  code: r.code, name: r.name, suppliers: JSON.parse(r.suppliers), recipients: JSON.parse(r.recipients),
  ...(r.validators && r.validators !== '[]' ? { validators: JSON.parse(r.validators) as string[] } : {}),
  ...(r.pivot_grouping ? { pivotGrouping: r.pivot_grouping } : {}),
  ...(r.email ? { email: r.email } : {}),
  ...(r.status_format ? { statusFormat: r.status_format } : {}),
});

function partnerStore(db: LedgerDb): PartnerStore {
  return {
    async get(code) {
      const row = await db.get<PartnerRow>('SELECT * FROM partners WHERE code = ?', [code]);
      return row && partnerOf(row);
    },
    async list() {
      return (await db.all<PartnerRow>('SELECT * FROM partners ORDER BY code')).map(partnerOf);
    },
    async save(p) {
      await db.run(`INSERT INTO partners (code, name, suppliers, recipients, validators, pivot_grouping, email, status_format, created_at) VALUES (@code, @name, @suppliers, @recipients, @validators, @grouping, @email, @format, @at)
          ON CONFLICT (code) DO UPDATE SET name = excluded.name, suppliers = excluded.suppliers, recipients = excluded.recipients, validators = excluded.validators, pivot_grouping = excluded.pivot_grouping, email = excluded.email, status_format = excluded.status_format`,
      { code: p.code, name: p.name, suppliers: JSON.stringify(p.suppliers), recipients: JSON.stringify(p.recipients), validators: JSON.stringify(p.validators ?? []), grouping: p.pivotGrouping ?? null, email: p.email ?? null, format: p.statusFormat ?? null, at: new Date().toISOString() });
    },
    async remove(code) {
      return (await db.run('DELETE FROM partners WHERE code = ?', [code])).changes > 0;
    },
  };
}

function nodeStore(db: LedgerDb): NodeStore {
  return {
    async beat(n) {
      await db.run(`INSERT INTO nodes (name, host, pid, started_at, heartbeat_at, lease_ms, state, doing) VALUES (@name, @host, @pid, @startedAt, @at, @leaseMs, @state, @doing)
          ON CONFLICT (name) DO UPDATE SET host = excluded.host, pid = excluded.pid, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at,
            lease_ms = excluded.lease_ms, state = excluded.state, doing = excluded.doing`, { ...n });
    },
    async list() {
      return db.all<NodeRow>("SELECT n.*, (SELECT count(*) FROM flows f WHERE f.owner_node = n.name AND f.stage <> 'DONE') AS unfinished FROM nodes n ORDER BY n.name");
    },
    async remove(name) {
      return (await db.run('DELETE FROM nodes WHERE name = ?', [name])).changes > 0;
    },
  };
}

function notifyStore(db: LedgerDb): NotifyStore {
  return {
    async add(events) {
      // Several rows per statement: a handful of statement texts, a fraction of the round trips.
      for (let i = 0; i < events.length; i += ROWS_PER_STATEMENT) {
        const slice = events.slice(i, i + ROWS_PER_STATEMENT);
        await db.run(`INSERT INTO notify_events (id, type, at, seq, flow_id, invoice_id, partner, suppliers, recipients, payload) VALUES ${slice.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
          slice.flatMap((e) => [e.id, e.type, e.at, e.seq, e.flowId, e.invoiceId, e.partner, JSON.stringify(e.suppliers), JSON.stringify(e.recipients), JSON.stringify(e.payload)]));
      }
    },
    async unfanned(limit) {
      return db.all<NotifyEventRow>('SELECT id, type, at, seq, flow_id, invoice_id, partner, suppliers, recipients, payload FROM notify_events WHERE fanned = 0 ORDER BY seq, id LIMIT ?', [limit]);
    },
    async fanOut(eventId, deliveries) {
      for (const d of deliveries) {
        await db.run(`INSERT INTO notify_deliveries (id, event_id, channel, target, address, state, attempts, next_at, created_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)
            ON CONFLICT (id) DO NOTHING`, [d.id, d.eventId, d.channel, d.target, d.address, d.nextAt, d.createdAt]);
      }
      await db.run('UPDATE notify_events SET fanned = 1 WHERE id = ?', [eventId]);
    },
    async due(nowMs, limit) {
      return db.all<DueDelivery>(`SELECT d.*, e.type AS event_type, e.at AS event_at, e.payload FROM notify_deliveries d JOIN notify_events e ON e.id = d.event_id
          WHERE d.state = 'pending' AND d.next_at <= ? ORDER BY d.next_at, d.id LIMIT ?`, [nowMs, limit]);
    },
    async nextDue() {
      const r = await db.get<{ at: number | null }>("SELECT min(next_at) AS at FROM notify_deliveries WHERE state = 'pending'");
      return r?.at ?? undefined;
    },
    async recordAttempt(a) {
      await db.run('INSERT INTO notify_attempts (delivery_id, attempt, at, ok, status, error, next_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (delivery_id, attempt) DO NOTHING',
        [a.deliveryId, a.attempt, a.at, a.ok ? 1 : 0, a.status ?? null, a.error ?? null, a.nextAt ?? null]);
      await db.run('UPDATE notify_deliveries SET attempts = ?, state = ?, next_at = coalesce(CAST(? AS BIGINT), next_at), last_status = ?, last_error = ?, done_at = ? WHERE id = ?',
        [a.attempt, a.state, a.nextAt ?? null, a.status ?? null, a.error ?? null, a.state === 'pending' ? null : a.at, a.deliveryId]);
    },
    async deliveries(f) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (f.failed) where.push("(state = 'failed' OR (state = 'pending' AND last_error IS NOT NULL))");
      if (f.state) (where.push('state = ?'), params.push(f.state));
      if (f.channel) (where.push('channel = ?'), params.push(f.channel));
      if (f.eventId) (where.push('event_id = ?'), params.push(f.eventId));
      if (f.targets) (where.push(`target IN (${placeholders(f.targets.length) || "''"})`), params.push(...f.targets));
      params.push(f.limit ?? 100);
      return db.all<DeliveryRow>(`SELECT * FROM notify_deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?`, params);
    },
    async attempts(deliveryId) {
      return db.all<AttemptRow>('SELECT * FROM notify_attempts WHERE delivery_id = ? ORDER BY attempt', [deliveryId]);
    },
    async purge(cutoff) {
      const old = `SELECT e.id FROM notify_events e WHERE e.at < ? AND e.fanned = 1
          AND NOT EXISTS (SELECT 1 FROM notify_deliveries p WHERE p.event_id = e.id AND p.state = 'pending')`;
      await db.run(`DELETE FROM notify_attempts WHERE delivery_id IN (SELECT d.id FROM notify_deliveries d WHERE d.event_id IN (${old}))`, [cutoff]);
      await db.run(`DELETE FROM notify_deliveries WHERE event_id IN (${old})`, [cutoff]);
      return (await db.run('DELETE FROM notify_events WHERE at < ? AND fanned = 1 AND NOT EXISTS (SELECT 1 FROM notify_deliveries p WHERE p.event_id = notify_events.id)', [cutoff])).changes;
    },
    async deliveryStates() {
      // Range probes of the state index: delivered ones, the many, are counted by the counters instead.
      return db.all<{ state: string; n: number }>("SELECT state, count(*) AS n FROM notify_deliveries WHERE state IN ('pending', 'failed') GROUP BY state");
    },
  };
}

interface WebhookRow {
  id: string;
  url: string;
  events: string;
  owner: string | null;
  secret: string;
  created_at: string;
}

const webhookOf = (r: WebhookRow): Webhook => ({ id: r.id, url: r.url, events: JSON.parse(r.events), owner: r.owner, createdAt: r.created_at });

function webhookStore(db: LedgerDb): WebhookStore {
  return {
    async add(h) {
      await db.run('INSERT INTO webhooks (id, url, events, owner, secret, created_at) VALUES (?, ?, ?, ?, ?, ?)', [h.id, h.url, JSON.stringify(h.events), h.owner, h.secret, h.createdAt]);
    },
    async get(id) {
      const r = await db.get<WebhookRow>('SELECT * FROM webhooks WHERE id = ?', [id]);
      return r && { ...webhookOf(r), secret: r.secret };
    },
    async list(owner) {
      return (await db.all<WebhookRow>('SELECT * FROM webhooks WHERE (CAST(@owner AS TEXT) IS NULL OR owner = @owner) ORDER BY created_at, id', { owner: owner ?? null })).map(webhookOf);
    },
    async remove(id, owner) {
      const gone = (await db.run('DELETE FROM webhooks WHERE id = @id AND (CAST(@owner AS TEXT) IS NULL OR owner = @owner)', { id, owner: owner ?? null })).changes > 0;
      if (gone) await db.run("UPDATE notify_deliveries SET state = 'cancelled', done_at = ? WHERE channel = 'webhook' AND target = ? AND state = 'pending'", [new Date().toISOString(), id]);
      return gone;
    },
  };
}

function counterStore(db: LedgerDb): CounterStore {
  return {
    async add(deltas) {
      // One statement for all of them (a round trip each on PostgreSQL); a key appears once in it,
      // as PostgreSQL refuses to update the same row twice in one upsert.
      const summed = new Map<string, CounterDelta>();
      for (const d of deltas) {
        const key = JSON.stringify([d.metric, d.label]);
        const seen = summed.get(key);
        summed.set(key, seen ? { ...seen, n: seen.n + d.n } : d);
      }
      const rows = [...summed.values()];
      if (!rows.length) return;
      await db.run(
        `INSERT INTO metric_counts (metric, label, n) VALUES ${rows.map(() => '(?, ?, ?)').join(', ')} ON CONFLICT (metric, label) DO UPDATE SET n = metric_counts.n + excluded.n`,
        rows.flatMap((d) => [d.metric, d.label, d.n]),
      );
    },
    async all() {
      return db.all<CounterDelta>('SELECT metric, label, n FROM metric_counts ORDER BY metric, label');
    },
  };
}

/** The circuit statuses that await a level: only these invoices have a deadline running. */
const PENDING = ['13', '18'];

function circuitStore(db: LedgerDb): CircuitStore {
  return {
    async hold(h) {
      await db.run(`INSERT INTO circuit_holds (invoice_id, cadre, validator_1, validator_2, level, due_at) VALUES (?, ?, ?, ?, ?, ?)
          ON CONFLICT (invoice_id) DO UPDATE SET cadre = excluded.cadre, validator_1 = excluded.validator_1, validator_2 = excluded.validator_2, level = excluded.level, due_at = excluded.due_at`,
      [h.invoice_id, h.cadre, h.validator_1, h.validator_2, h.level, h.due_at]);
    },
    async setLevel(invoiceId, level, dueAt) {
      await db.run('UPDATE circuit_holds SET level = ?, due_at = ? WHERE invoice_id = ?', [level, dueAt, invoiceId]);
    },
    async ofInvoices(ids) {
      const rows = await inSlices([...new Set(ids)], 500, (slice) => db.all<HoldRow>(`SELECT * FROM circuit_holds WHERE invoice_id IN (${placeholders(slice.length)})`, slice));
      return new Map(rows.map((r) => [r.invoice_id, r]));
    },
    async due(now, limit) {
      return db.all<Awaited<ReturnType<CircuitStore['due']>>[number]>(`SELECT h.*, i.number, i.issue_date, i.supplier_id, i.recipient_siret, i.status FROM circuit_holds h JOIN invoices i ON i.id = h.invoice_id
          WHERE h.due_at IS NOT NULL AND h.due_at <= ? AND i.status IN (${placeholders(PENDING.length)}) ORDER BY h.due_at LIMIT ?`, [now, ...PENDING, limit]);
    },
  };
}

function tokenStore(db: LedgerDb): TokenStore {
  return {
    async add(t) {
      await db.run('INSERT INTO api_tokens (hash, kind, subject, created_at) VALUES (?, ?, ?, ?)', [t.hash, t.kind, t.subject, t.created_at]);
    },
    async get(hash) {
      return db.get<TokenRow>('SELECT * FROM api_tokens WHERE hash = ?', [hash]);
    },
    async revoke(kind, subject, at) {
      return (await db.run('UPDATE api_tokens SET revoked_at = ? WHERE kind = ? AND subject = ? AND revoked_at IS NULL', [at, kind, subject])).changes;
    },
    async list(kind) {
      return db.all<TokenRow>('SELECT * FROM api_tokens WHERE kind = ? ORDER BY subject, created_at', [kind]);
    },
  };
}

function depositStore(db: LedgerDb): DepositStore {
  return {
    async reserve(d) {
      await db.run(`INSERT INTO api_deposits (partner, deposit_key, flow_id, tracking_id, at) VALUES (@partner, @deposit_key, @flow_id, @tracking_id, @at)
          ON CONFLICT (partner, deposit_key) DO NOTHING`, { ...d });
      return (await db.get<DepositRow>('SELECT * FROM api_deposits WHERE partner = ? AND deposit_key = ?', [d.partner, d.deposit_key]))!;
    },
    async ofFlow(flowId) {
      return db.get<DepositRow>('SELECT * FROM api_deposits WHERE flow_id = ? ORDER BY at LIMIT 1', [flowId]);
    },
  };
}

export function storesOf(db: LedgerDb): Stores {
  return {
    flows: flowStore(db),
    invoices: invoiceStore(db),
    events: eventStore(db),
    statusUpdates: statusUpdateStore(db),
    directory: directoryStore(db),
    partners: partnerStore(db),
    nodes: nodeStore(db),
    notify: notifyStore(db),
    webhooks: webhookStore(db),
    counters: counterStore(db),
    circuits: circuitStore(db),
    tokens: tokenStore(db),
    deposits: depositStore(db),
  };
}
