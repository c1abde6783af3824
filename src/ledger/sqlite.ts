/**
 * The ledger's stores on the SQLite file of one home (the default backend). better-sqlite3 is
 * synchronous; the stores answer promises so that callers are written for any backend.
 * Transactions of one connection are queued in memory (one at a time, across awaits), and the
 * threads of one process queue for the write lock before SQLite's own (see writeLock).
 */
import fs from 'node:fs';
import type Database from 'better-sqlite3';
import { openDb, SCHEMA_VERSION, type Db } from './db.js';
import { WriteLock } from './writeLock.js';
import type { Partner } from '../route/partners.js';
import type { ImportedStructure, Service } from '../route/directory.js';
import type {
  DirectoryStore, EarlierDeposit, EventStore, FlowRow, FlowStore, InvoiceRow, InvoiceStore, Ledger, ListedFlow, PartnerStore,
  StatusUpdateRow, StatusUpdateStore, Stores, Tx, InvoiceEventRow, EventRow, ReplayRow, FlowFilter, InvoiceFilter, Stage,
} from './stores.js';

type Statement = Database.Statement<unknown[]>;
const statements = new WeakMap<Db, Map<string, Statement>>();

/** Prepared once per connection and SQL text. */
function sql(db: Db, text: string): Statement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let s = cache.get(text);
  if (!s) cache.set(text, (s = db.prepare<unknown[]>(text)));
  return s;
}

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(',');

/** Runs `fn` over `items` in slices that stay under SQLite's bound-parameter limit. */
function inSlices<T, R>(items: T[], size: number, fn: (slice: T[]) => R[]): R[] {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...fn(items.slice(i, i + size)));
  return out;
}

function flowStore(db: Db): FlowStore {
  return {
    async get(id) {
      return sql(db, 'SELECT * FROM flows WHERE id = ?').get(id) as FlowRow | undefined;
    },
    async inStage(stage) {
      return sql(db, 'SELECT * FROM flows WHERE stage = ? ORDER BY received_at, id').all(stage) as FlowRow[];
    },
    async insertClaims(flows) {
      const insert = sql(db, "INSERT INTO flows (id, file_name, partner, channel, size, stage, received_at, spool_path, owner_pid) VALUES (?, ?, ?, ?, 0, 'CLAIMING', ?, ?, ?)");
      for (const f of flows) insert.run(f.id, f.fileName, f.partner, f.channel, f.receivedAt, f.spoolPath, f.ownerPid);
    },
    async dropClaim(id) {
      sql(db, "DELETE FROM flows WHERE id = ? AND stage = 'CLAIMING'").run(id);
    },
    async finishClaim(id, sha256, size) {
      sql(db, "UPDATE flows SET stage = 'CLAIMED', sha256 = ?, size = ? WHERE id = ?").run(sha256, size, id);
    },
    async setOwner(id, pid) {
      sql(db, 'UPDATE flows SET owner_pid = ? WHERE id = ?').run(pid, id);
    },
    async earlierSameContent(sha256, id) {
      return sql(db, `SELECT id FROM flows WHERE sha256 = @sha256 AND duplicate_of IS NULL AND stage <> 'CLAIMING'
          AND (@id IS NULL OR (id <> @id AND (received_at, id) < (SELECT received_at, id FROM flows WHERE id = @id))) ORDER BY received_at, id LIMIT 1`)
        .get({ sha256, id: id ?? null }) as { id: string } | undefined;
    },
    async recordDecision(id, fromStage, d, ownerPid) {
      const changed = sql(db, `UPDATE flows SET stage = 'DECIDED', kind = ?, state = ?, status_code = ?, duplicate_of = ?, errors = ?, decided_at = ?, final_path = ?,
          replays = coalesce(?, replays), owner_pid = ?, last_error = NULL WHERE id = ? AND stage = ?`)
        .run(d.kind, d.state, d.statusCode, d.duplicateOf, JSON.stringify(d.errors), d.decidedAt, d.finalPath, d.replay?.attempt ?? null, ownerPid, id, fromStage).changes;
      if (changed && d.replay) {
        sql(db, 'INSERT INTO replays (flow_id, attempt, started_at, accepted, still_rejected) VALUES (?, ?, ?, ?, ?)').run(id, d.replay.attempt, d.decidedAt, d.replay.accepted, d.replay.stillRejected);
      }
      return changed > 0;
    },
    async recordFault(id, fault) {
      sql(db, 'UPDATE flows SET attempts = attempts + 1, last_error = ? WHERE id = ?').run(fault, id);
    },
    async markDone(id, at) {
      // A fault met on the way is history once the flow is done.
      sql(db, "UPDATE flows SET stage = 'DONE', done_at = ?, last_error = NULL WHERE id = ?").run(at, id);
    },
    async recordOutput(id, kind, path) {
      sql(db, 'INSERT OR IGNORE INTO outputs (flow_id, kind, path) VALUES (?, ?, ?)').run(id, kind, path);
    },
    async outputs(id) {
      return sql(db, 'SELECT kind, path FROM outputs WHERE flow_id = ? ORDER BY kind, path').all(id) as { kind: string; path: string }[];
    },
    async replays(id) {
      return sql(db, 'SELECT attempt, started_at, accepted, still_rejected FROM replays WHERE flow_id = ? ORDER BY attempt').all(id) as ReplayRow[];
    },
    async acknowledgments(id) {
      return sql(db, "SELECT s.status, s.flow_id AS byFlow, f.received_at AS at FROM status_updates s JOIN flows f ON f.id = s.flow_id WHERE s.number = ? AND s.accepted = 1 AND s.status IN ('92', '94')")
        .all(id) as { status: string; byFlow: string; at: string }[];
    },
    async deliveredRecipients(flowIds) {
      const rows = inSlices(flowIds, 500, (ids) =>
        sql(db, `SELECT DISTINCT flow_id, recipient_siret FROM invoices WHERE pivot_path IS NOT NULL AND flow_id IN (${placeholders(ids.length)})`).all(...ids) as { flow_id: string; recipient_siret: string }[]);
      const out = new Map<string, string[]>();
      for (const r of rows) out.set(r.flow_id, [...(out.get(r.flow_id) ?? []), r.recipient_siret]);
      return out;
    },
    async list(f) {
      const q = flowListQuery(f);
      return sql(db, q.text).all(q.params) as ListedFlow[];
    },
    async replayable(since) {
      return sql(db, `SELECT * FROM flows WHERE stage = 'DONE' AND duplicate_of IS NULL AND channel = 'edi' AND coalesce(kind, '') <> 'statut'
          AND state IN ('IN_REJETE', 'IN_INTEGRE_PARTIEL', 'QP_IRRECEVABLE') AND (@since IS NULL OR received_at >= @since) ORDER BY received_at, id`)
        .all({ since: since ?? null }) as FlowRow[];
    },
    async purgeable(cutoff) {
      const candidates = new Map((sql(db, "SELECT * FROM flows WHERE stage = 'DONE' AND done_at < ?").all(cutoff) as FlowRow[]).map((f) => [f.id, f]));
      // Flows linked by an event (a status one flow set on another's invoice), a recycling or a
      // completion, or a duplicate pointing to its original, go together or not at all.
      const links = sql(db, `SELECT i.flow_id AS a, e.source_flow AS b FROM invoice_events e JOIN invoices i ON i.id = e.invoice_id
          UNION SELECT o.flow_id, n.flow_id FROM invoices n JOIN invoices o ON o.id = n.origin_invoice_id
          UNION SELECT s.flow_id, i.flow_id FROM status_updates s JOIN invoices i ON i.id = s.invoice_id
          UNION SELECT id, duplicate_of FROM flows WHERE duplicate_of IS NOT NULL`).all() as { a: string; b: string }[];
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
        sql(db, 'DELETE FROM invoice_events WHERE source_flow = ? OR invoice_id IN (SELECT id FROM invoices WHERE flow_id = ?)').run(id, id);
        for (const table of ['status_updates', 'outputs', 'replays']) sql(db, `DELETE FROM ${table} WHERE flow_id = ?`).run(id);
        sql(db, 'UPDATE status_updates SET invoice_id = NULL WHERE invoice_id IN (SELECT id FROM invoices WHERE flow_id = ?)').run(id);
        sql(db, 'UPDATE invoices SET origin_invoice_id = NULL WHERE origin_invoice_id IN (SELECT id FROM invoices WHERE flow_id = ?)').run(id);
        sql(db, 'DELETE FROM invoices WHERE flow_id = ?').run(id);
        sql(db, 'UPDATE flows SET duplicate_of = NULL WHERE duplicate_of = ?').run(id);
        sql(db, 'DELETE FROM flows WHERE id = ?').run(id);
      }
    },
    async stats(since) {
      const p = { since: since ?? null };
      const flows = sql(db, "SELECT coalesce(state, stage) AS state, count(*) AS n FROM flows WHERE channel = 'edi' AND (@since IS NULL OR received_at >= @since) GROUP BY 1 ORDER BY 2 DESC").all(p) as { state: string; n: number }[];
      const invoices = sql(db, "SELECT CASE WHEN i.accepted THEN i.status ELSE 'REJECTED' END AS status, count(*) AS n FROM invoices i JOIN flows f ON f.id = i.flow_id WHERE i.role = 'invoice' AND (@since IS NULL OR f.received_at >= @since) GROUP BY 1 ORDER BY 2 DESC").all(p) as { status: string; n: number }[];
      const rejectionCodes = sql(db, `SELECT code, count(*) AS n FROM (
          SELECT json_extract(e.value, '$.code') AS code FROM flows f, json_each(f.errors) e WHERE (@since IS NULL OR f.received_at >= @since)
          UNION ALL SELECT json_extract(e.value, '$.code') FROM invoices i JOIN flows f ON f.id = i.flow_id, json_each(i.errors) e WHERE (@since IS NULL OR f.received_at >= @since)
          UNION ALL SELECT json_extract(e.value, '$.code') FROM status_updates s JOIN flows f ON f.id = s.flow_id, json_each(s.errors) e WHERE (@since IS NULL OR f.received_at >= @since)
        ) GROUP BY code ORDER BY n DESC, code`).all(p) as { code: string; n: number }[];
      return { flows, invoices, rejectionCodes };
    },
    async counts() {
      const unfinished = (sql(db, "SELECT count(*) n FROM flows WHERE stage <> 'DONE'").get() as { n: number }).n;
      const faulty = (sql(db, "SELECT count(*) n FROM flows WHERE stage <> 'DONE' AND last_error IS NOT NULL").get() as { n: number }).n;
      const spoolNames = (sql(db, "SELECT spool_path FROM flows WHERE stage <> 'DONE'").all() as { spool_path: string }[]).map((r) => r.spool_path);
      return { unfinished, faulty, spoolNames };
    },
  };
}

function invoiceStore(db: Db): InvoiceStore {
  const accepted = "SELECT * FROM invoices WHERE accepted = 1 AND role = 'invoice'";
  return {
    async get(id) {
      return sql(db, 'SELECT * FROM invoices WHERE id = ?').get(id) as InvoiceRow | undefined;
    },
    async ofFlow(flowId) {
      return sql(db, 'SELECT * FROM invoices WHERE flow_id = ? ORDER BY position').all(flowId) as InvoiceRow[];
    },
    async record(flowId, r) {
      const row = sql(db, `INSERT INTO invoices (flow_id, position, label, number, supplier_type, supplier_id, supplier_name, supplier_country,
          recipient_siret, recipient_name, service_code, engagement, issue_date, type, amount_gross, currency, accepted, errors, role, renvoi, origin_invoice_id, warnings)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (flow_id, position) DO UPDATE SET label = excluded.label, number = excluded.number, supplier_type = excluded.supplier_type,
            supplier_id = excluded.supplier_id, supplier_name = excluded.supplier_name, supplier_country = excluded.supplier_country,
            recipient_siret = excluded.recipient_siret, recipient_name = excluded.recipient_name, service_code = excluded.service_code,
            engagement = excluded.engagement, issue_date = excluded.issue_date, type = excluded.type, amount_gross = excluded.amount_gross,
            currency = excluded.currency, accepted = excluded.accepted, errors = excluded.errors, role = excluded.role, renvoi = excluded.renvoi,
            origin_invoice_id = excluded.origin_invoice_id, warnings = excluded.warnings
          RETURNING id`).get(
        flowId, r.position, r.label, r.number, r.supplierType, r.supplierId, r.supplierName, r.supplierCountry, r.recipientSiret, r.recipientName ?? null,
        r.serviceCode ?? null, r.engagement ?? null, r.issueDate, r.type, r.amountGross, r.currency, r.errors.length ? 0 : 1, JSON.stringify(r.errors),
        r.role, r.renvoi, r.originId ?? null, JSON.stringify(r.warnings),
      ) as { id: number };
      return row.id;
    },
    async setPivot(id, path) {
      sql(db, 'UPDATE invoices SET pivot_path = ? WHERE id = ?').run(path, id);
    },
    async earlierDeposits(keys) {
      const out = new Map<string, EarlierDeposit>();
      const find = sql(db, "SELECT id, flow_id, status FROM invoices WHERE supplier_id = ? AND number = ? AND substr(issue_date, 1, 4) = ? AND accepted = 1 AND role = 'invoice' ORDER BY id DESC LIMIT 1");
      for (const key of new Set(keys)) {
        const [supplier, number, year] = key.split('\u0000');
        const row = find.get(supplier, number, year) as EarlierDeposit | undefined;
        if (row) out.set(key, row);
      }
      return out;
    },
    async bySupplierNumber(supplierId, number) {
      return sql(db, `${accepted} AND supplier_id = ? AND number = ? ORDER BY id DESC`).all(supplierId, number) as InvoiceRow[];
    },
    async byNumber(number) {
      return sql(db, `${accepted} AND number = ? ORDER BY id DESC`).all(number) as InvoiceRow[];
    },
    async recycledInto(id) {
      return sql(db, `${accepted} AND origin_invoice_id = ?`).get(id) as InvoiceRow | undefined;
    },
    async search(f) {
      const q = invoiceSearchQuery(f);
      return sql(db, q.text).all(q.params) as InvoiceRow[];
    },
  };
}

const STAGES = new Set<string>(['CLAIMING', 'CLAIMED', 'DECIDED', 'DONE'] satisfies Stage[]);

interface Query {
  text: string;
  params: Record<string, unknown>;
}

/**
 * `flows list`: only the filters given become conditions, so that each can use its index; a
 * supplier is looked up in the invoices' index, then its flows.
 */
export function flowListQuery(f: FlowFilter): Query {
  const where = ["f.channel = 'edi'"];
  const params: Record<string, unknown> = { limit: f.limit ?? -1, offset: f.offset ?? 0 };
  // A stage (CLAIMED…) or a state (IN_INTEGRE…): the two never share a value, so one column is asked.
  if (f.state) (where.push(STAGES.has(f.state) ? 'f.stage = @state' : 'f.state = @state'), (params.state = f.state));
  if (f.since) (where.push('f.received_at >= @since'), (params.since = f.since));
  if (f.until) (where.push('f.received_at <= @until'), (params.until = f.until));
  if (f.supplier) (where.push('f.id IN (SELECT flow_id FROM invoices WHERE supplier_id = @supplier)'), (params.supplier = f.supplier));
  // Recipients are few and each has many flows: the newest flows are walked and the first hits kept
  // (looking all of a recipient's flows up, then sorting them, took seconds at a million invoices).
  if (f.recipient) (where.push('@recipient IN (SELECT i.recipient_siret FROM invoices i WHERE i.flow_id = f.id)'), (params.recipient = f.recipient));
  return {
    text: `SELECT f.*, (SELECT count(*) FROM invoices i WHERE i.flow_id = f.id) AS invoices,
          coalesce((SELECT sum(i.accepted) FROM invoices i WHERE i.flow_id = f.id), 0) AS accepted
          FROM flows f WHERE ${where.join(' AND ')} ORDER BY f.received_at DESC, f.id DESC LIMIT @limit OFFSET @offset`,
    params,
  };
}

/** `invoices search`: the newest first; each filter given has an index that yields them in that order. */
export function invoiceSearchQuery(f: InvoiceFilter): Query {
  const where = ["role = 'invoice'"];
  const params: Record<string, unknown> = { limit: f.limit };
  if (f.number) (where.push(/[%_]/.test(f.number) ? 'number LIKE @number' : 'number = @number'), (params.number = f.number));
  if (f.supplier) (where.push('supplier_id = @supplier'), (params.supplier = f.supplier));
  if (f.recipient) (where.push('recipient_siret = @recipient'), (params.recipient = f.recipient));
  if (f.status === 'REJECTED') where.push('accepted = 0');
  else if (f.status) (where.push('status = @status'), (params.status = f.status));
  if (f.from) (where.push('issue_date >= @from'), (params.from = f.from));
  if (f.to) (where.push('issue_date <= @to'), (params.to = f.to));
  return { text: `SELECT * FROM invoices WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT @limit`, params };
}

function eventStore(db: Db): EventStore {
  return {
    async add(e) {
      sql(db, 'INSERT INTO invoice_events (invoice_id, status, at, producer, motif, comment, produced_at, mandate, source_flow, attempt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(e.invoiceId, e.status, e.at, e.producer, e.motif ?? null, e.comment ?? null, e.producedAt ?? null, e.mandate ?? null, e.sourceFlow, e.attempt);
      sql(db, 'UPDATE invoices SET status = ? WHERE id = ?').run(e.status, e.invoiceId);
    },
    async ofAttempt(flowId, attempt) {
      return sql(db, `SELECT e.*, i.number, i.issue_date, i.supplier_type, i.supplier_id, i.supplier_name, i.supplier_country, i.recipient_siret, i.recipient_name, i.service_code
          FROM invoice_events e JOIN invoices i ON i.id = e.invoice_id WHERE e.source_flow = ? AND e.attempt = ? ORDER BY i.supplier_id, i.position, e.id`).all(flowId, attempt) as InvoiceEventRow[];
    },
    async ofInvoices(ids) {
      return inSlices(ids, 500, (slice) =>
        sql(db, `SELECT e.*, f.file_name AS source_file, i.number AS invoice_number FROM invoice_events e JOIN flows f ON f.id = e.source_flow JOIN invoices i ON i.id = e.invoice_id
            WHERE e.invoice_id IN (${placeholders(slice.length)}) ORDER BY e.at, e.id`).all(...slice) as (EventRow & { source_file: string; invoice_number: string })[]);
    },
  };
}

function statusUpdateStore(db: Db): StatusUpdateStore {
  return {
    async add(u) {
      sql(db, 'INSERT INTO status_updates (flow_id, position, number, supplier_id, recipient_siret, status, invoice_id, accepted, errors) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(u.flow_id, u.position, u.number, u.supplier_id, u.recipient_siret, u.status, u.invoice_id, u.accepted, u.errors);
    },
    async ofFlow(flowId) {
      return sql(db, 'SELECT * FROM status_updates WHERE flow_id = ? ORDER BY position').all(flowId) as StatusUpdateRow[];
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
});
const serviceOf = (r: ServiceRow): Service => ({ siret: r.siret, code: r.code, name: r.name, active: !!r.active, requiresEngagement: !!r.requires_engagement });

function directoryStore(db: Db, write: <T>(fn: () => T) => T): DirectoryStore {
  return {
    async structures(sirets) {
      const find = sql(db, 'SELECT * FROM structures WHERE siret = ?');
      const out = new Map<string, ImportedStructure>();
      for (const siret of new Set(sirets)) {
        const r = find.get(siret) as StructureRow | undefined;
        if (r) out.set(siret, structureOf(r));
      }
      return out;
    },
    async services(keys) {
      const find = sql(db, 'SELECT * FROM services WHERE siret = ? AND code = ?');
      const out = new Map<string, Service>();
      for (const key of new Set(keys)) {
        const [siret, code] = key.split('\u0000');
        const r = find.get(siret, code) as ServiceRow | undefined;
        if (r) out.set(key, serviceOf(r));
      }
      return out;
    },
    async servicesOf(siret, code) {
      return (sql(db, 'SELECT * FROM services WHERE siret = @siret AND (@code IS NULL OR code = @code) ORDER BY code').all({ siret, code: code ?? null }) as ServiceRow[]).map(serviceOf);
    },
    async replace(structures, services, source, onRow) {
      write(() => {
        db.exec('DELETE FROM services; DELETE FROM structures;');
        const insertStructure = sql(db, 'INSERT INTO structures (siret, id_type, name, active, requires_engagement, requires_service, requires_service_engagement, edi_receiver) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
        const insertService = sql(db, 'INSERT INTO services (siret, code, name, active, requires_engagement) VALUES (?, ?, ?, ?, ?)');
        const total = structures.length + services.length;
        let done = 0;
        const tick = () => (++done % 5000 === 0 || done === total) && onRow?.(done, total);
        for (const x of structures) {
          insertStructure.run(x.siret, x.idType, x.name, +x.active, +x.requiresEngagement, +x.requiresService, +x.requiresServiceAndEngagement, +x.ediReceiver);
          tick();
        }
        for (const x of services) {
          insertService.run(x.siret, x.code, x.name, +x.active, +x.requiresEngagement);
          tick();
        }
        sql(db, 'INSERT INTO directory_imports (at, structures_file, services_file, structures, services) VALUES (?, ?, ?, ?, ?)')
          .run(new Date().toISOString(), source.structuresFile, source.servicesFile ?? null, structures.length, services.length);
      });
    },
    async all() {
      const structures = (sql(db, 'SELECT * FROM structures ORDER BY siret').all() as StructureRow[]).map(structureOf);
      const services = (sql(db, 'SELECT * FROM services ORDER BY siret, code').all() as ServiceRow[]).map(serviceOf);
      return { structures, services };
    },
    async summary() {
      const structures = (sql(db, 'SELECT count(*) n FROM structures').get() as { n: number }).n;
      const last = sql(db, 'SELECT at FROM directory_imports ORDER BY id DESC LIMIT 1').get() as { at: string } | undefined;
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
}

const partnerOf = (r: PartnerRow): Partner => ({
  code: r.code, name: r.name, suppliers: JSON.parse(r.suppliers), recipients: JSON.parse(r.recipients),
  ...(r.pivot_grouping ? { pivotGrouping: r.pivot_grouping } : {}),
});

function partnerStore(db: Db): PartnerStore {
  return {
    async get(code) {
      const row = sql(db, 'SELECT * FROM partners WHERE code = ?').get(code) as PartnerRow | undefined;
      return row && partnerOf(row);
    },
    async list() {
      return (sql(db, 'SELECT * FROM partners ORDER BY code').all() as PartnerRow[]).map(partnerOf);
    },
    async save(p) {
      sql(db, `INSERT INTO partners (code, name, suppliers, recipients, pivot_grouping, created_at) VALUES (@code, @name, @suppliers, @recipients, @grouping, @at)
          ON CONFLICT (code) DO UPDATE SET name = excluded.name, suppliers = excluded.suppliers, recipients = excluded.recipients, pivot_grouping = excluded.pivot_grouping`)
        .run({ code: p.code, name: p.name, suppliers: JSON.stringify(p.suppliers), recipients: JSON.stringify(p.recipients), grouping: p.pivotGrouping ?? null, at: new Date().toISOString() });
    },
    async remove(code) {
      return sql(db, 'DELETE FROM partners WHERE code = ?').run(code).changes > 0;
    },
  };
}

export interface SqliteOptions {
  /** The write lock shared by the threads of this process (the daemon and its workers). */
  writeLock?: SharedArrayBuffer;
}

export class SqliteLedger implements Ledger {
  readonly flows: FlowStore;
  readonly invoices: InvoiceStore;
  readonly events: EventStore;
  readonly statusUpdates: StatusUpdateStore;
  readonly directory: DirectoryStore;
  readonly partners: PartnerStore;
  readonly lock: WriteLock;
  private readonly db: Db;
  /** Transactions of this connection, one at a time. */
  private tail: Promise<unknown> = Promise.resolve();
  private savepoints = 0;

  readonly fileIdentity: { dev: number; ino: number };

  constructor(private readonly file: string, opts: SqliteOptions = {}) {
    this.db = openDb(file);
    const st = fs.statSync(file);
    this.fileIdentity = { dev: st.dev, ino: st.ino };
    this.lock = new WriteLock(opts.writeLock);
    const stores = this.storesOf(this.db);
    this.flows = stores.flows;
    this.invoices = stores.invoices;
    this.events = stores.events;
    this.statusUpdates = stores.statusUpdates;
    this.directory = stores.directory;
    this.partners = stores.partners;
  }

  private storesOf(db: Db): Stores {
    return {
      flows: flowStore(db),
      invoices: invoiceStore(db),
      events: eventStore(db),
      statusUpdates: statusUpdateStore(db),
      // A directory import is its own transaction when it is not inside one.
      directory: directoryStore(db, (fn) => (db.inTransaction ? fn() : this.writeSync(fn))),
      partners: partnerStore(db),
    };
  }

  private writeSync<T>(fn: () => T): T {
    this.lock.acquire();
    try {
      return this.db.transaction(fn).immediate();
    } finally {
      this.lock.release();
    }
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const previous = this.tail;
    let done!: () => void;
    this.tail = new Promise<void>((r) => (done = r));
    await previous;
    this.lock.acquire();
    try {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.tx());
        this.db.exec('COMMIT');
        return result;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    } finally {
      this.lock.release();
      done();
    }
  }

  private tx(): Tx {
    const tx: Tx = {
      flows: this.flows,
      invoices: this.invoices,
      events: this.events,
      statusUpdates: this.statusUpdates,
      directory: this.directory,
      partners: this.partners,
      savepoint: async (fn) => {
        const name = `sp${++this.savepoints}`;
        this.db.exec(`SAVEPOINT ${name}`);
        try {
          const result = await fn(tx);
          this.db.exec(`RELEASE ${name}`);
          return result;
        } catch (e) {
          if (this.db.inTransaction) this.db.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
          throw e;
        }
      },
    };
    return tx;
  }

  async health() {
    return {
      integrity: String(this.db.pragma('integrity_check', { simple: true })),
      schemaVersion: this.db.pragma('user_version', { simple: true }) as number,
      expectedVersion: SCHEMA_VERSION,
      journal: `${String(this.db.pragma('journal_mode', { simple: true }))}, synchronous=${String(this.db.pragma('synchronous', { simple: true }))} (2 = FULL)`,
    };
  }

  fileProblem(): string | undefined {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.file);
    } catch (e) {
      return `${this.file} was deleted while open (${(e as NodeJS.ErrnoException).code ?? 'gone'}): what is written now would be lost`;
    }
    if (st.dev !== this.fileIdentity.dev || st.ino !== this.fileIdentity.ino) return `${this.file} was replaced by another file while open: this process's ledger is no longer the one at that path`;
    return undefined;
  }

  /** SQLite's plan for a query (EXPLAIN QUERY PLAN), one line per step: what tests check indexes with. */
  queryPlan(q: Query): string[] {
    return (this.db.prepare(`EXPLAIN QUERY PLAN ${q.text}`).all(q.params) as { detail: string }[]).map((r) => r.detail);
  }

  async close() {
    await this.tail;
    this.db.close();
  }
}
