/** Ledger reads and writes for flows, invoices, their events and outputs. */
import type { FlowError } from '../errors/catalog.js';
import type Database from 'better-sqlite3';
import type { Db } from './db.js';

export type Stage = 'CLAIMING' | 'CLAIMED' | 'DECIDED' | 'DONE';

export interface FlowRow {
  id: string;
  file_name: string;
  partner: string | null;
  size: number;
  sha256: string;
  kind: string | null;
  stage: Stage;
  state: string | null;
  status_code: string | null;
  duplicate_of: string | null;
  errors: string;
  received_at: string;
  decided_at: string | null;
  done_at: string | null;
  spool_path: string;
  final_path: string | null;
  attempts: number;
  last_error: string | null;
  replays: number;
  owner_pid: number | null;
}

export interface InvoiceRow {
  id: number;
  flow_id: string;
  position: number;
  label: string;
  number: string;
  supplier_type: string;
  supplier_id: string;
  supplier_name: string;
  supplier_country: string;
  recipient_siret: string;
  recipient_name: string | null;
  service_code: string | null;
  engagement: string | null;
  issue_date: string;
  type: string;
  amount_gross: string;
  currency: string;
  accepted: number;
  status: string | null;
  errors: string;
  pivot_path: string | null;
  renvoi: string;
  origin_invoice_id: number | null;
  role: 'invoice' | 'completion';
}

export interface EventRow {
  id: number;
  attempt: number;
  invoice_id: number;
  status: string;
  at: string;
  producer: string;
  motif: string | null;
  mandate: string | null;
  source_flow: string;
}

type Statement = Database.Statement<unknown[]>;
const statements = new WeakMap<Db, Map<string, Statement>>();

/** Prepared once per connection and SQL text. */
export function sql(db: Db, text: string): Statement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let s = cache.get(text);
  if (!s) cache.set(text, (s = db.prepare<unknown[]>(text)));
  return s;
}

export const getFlow = (db: Db, id: string) => sql(db, 'SELECT * FROM flows WHERE id = ?').get(id) as FlowRow | undefined;

export const flowsInStage = (db: Db, stage: Stage) =>
  sql(db, 'SELECT * FROM flows WHERE stage = ? ORDER BY received_at, id').all(stage) as FlowRow[];

export const invoicesOfFlow = (db: Db, flowId: string) =>
  sql(db, 'SELECT * FROM invoices WHERE flow_id = ? ORDER BY position').all(flowId) as InvoiceRow[];

/** An event with the invoice it concerns, as status files need it. */
export type InvoiceEventRow = EventRow & Pick<InvoiceRow, 'number' | 'issue_date' | 'supplier_type' | 'supplier_id' | 'supplier_name' | 'supplier_country' | 'recipient_siret' | 'recipient_name' | 'service_code'>;

/** The events one attempt of a flow produced (attempt 0: its first processing), with their invoices. */
export const eventsFromFlow = (db: Db, flowId: string, attempt = 0) =>
  sql(db, `SELECT e.*, i.number, i.issue_date, i.supplier_type, i.supplier_id, i.supplier_name, i.supplier_country, i.recipient_siret, i.recipient_name, i.service_code
      FROM invoice_events e JOIN invoices i ON i.id = e.invoice_id WHERE e.source_flow = ? AND e.attempt = ? ORDER BY i.supplier_id, i.position, e.id`).all(flowId, attempt) as InvoiceEventRow[];

/**
 * The earliest flow with the same bytes (a duplicate flow points to it): received before flow
 * `id`, or, without an id (a validation), any.
 */
export const earlierSameContent = (db: Db, sha256: string, id: string | null = null) =>
  sql(db, `SELECT id FROM flows WHERE sha256 = @sha256 AND duplicate_of IS NULL AND stage <> 'CLAIMING'
      AND (@id IS NULL OR (id <> @id AND (received_at, id) < (SELECT received_at, id FROM flows WHERE id = @id))) ORDER BY received_at, id LIMIT 1`)
    .get({ sha256, id }) as { id: string } | undefined;

export function recordOutput(db: Db, flowId: string, kind: string, path: string): void {
  sql(db, 'INSERT OR IGNORE INTO outputs (flow_id, kind, path) VALUES (?, ?, ?)').run(flowId, kind, path);
}

export const outputsOfFlow = (db: Db, flowId: string) =>
  sql(db, 'SELECT kind, path FROM outputs WHERE flow_id = ? ORDER BY kind, path').all(flowId) as { kind: string; path: string }[];

export interface EventSource {
  flowId: string;
  attempt?: number;
}

export function addEvent(db: Db, invoiceId: number, status: string, at: string, producer: string, source: string | EventSource, motif?: string, mandate?: string): void {
  const { flowId, attempt = 0 } = typeof source === 'string' ? { flowId: source } : source;
  sql(db, 'INSERT INTO invoice_events (invoice_id, status, at, producer, motif, mandate, source_flow, attempt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    .run(invoiceId, status, at, producer, motif ?? null, mandate ?? null, flowId, attempt);
  sql(db, 'UPDATE invoices SET status = ? WHERE id = ?').run(status, invoiceId);
}

export const parseErrors = (json: string): FlowError[] => JSON.parse(json) as FlowError[];
