/**
 * Stages emit → lifecycle: DECIDED → DONE. Every step is idempotent so that a flow resumed
 * after a crash rewrites the same files under the same names and never emits an invoice
 * twice: pivots per recipient, then status 03 for their invoices, then the supplier's
 * status files, the integration report, and last the source file moves out of the spool.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Hub } from '../hub.js';
import { asError } from '../errors/catalog.js';
import { moveDurably, PendingDirs, writeFileAtomic } from '../emit/atomic.js';
import { pivotChunks, type PivotInvoice, type Renvoi } from '../emit/pivot.js';
import { invoiceLineReport, reportXml, type FlowState, type IntegrationReport } from '../emit/report.js';
import { invoiceStatusesXml, type StatusEntry } from '../emit/statuses.js';
import { addEvent, eventsFromFlow, getFlow, invoicesOfFlow, parseErrors, recordOutput, sql, type FlowRow, type InvoiceRow } from '../ledger/flows.js';
import type { Invoice } from '../model/invoice.js';
import { STATUS_NAMES } from '../lifecycle/statuses.js';
import { statusLineReport } from '../lifecycle/inbound.js';
import { safeName } from '../util/paths.js';
import { exists } from '../ingest/claim.js';
import { PARTNER_CODE, partnerOf } from '../route/partners.js';
import { localDate } from './decide.js';
import { readFlowFile } from './read.js';

/** Output names are deterministic: a resumed attempt rewrites its own files, a replay writes new ones. */
const attemptSuffix = (attempt: number) => (attempt ? `_r${attempt}` : '');

export function pivotPath(hub: Hub, siret: string, flowId: string, attempt = 0): string {
  return path.join(hub.layout.outbox, 'recipients', safeName(siret), `CPPFacturePivot_${flowId}${attemptSuffix(attempt)}.xml`);
}

export function supplierStatusPath(hub: Hub, supplierId: string, flowId: string, attempt = 0): string {
  return path.join(hub.layout.outbox, 'suppliers', safeName(supplierId), `CPPStatut_${flowId}${attemptSuffix(attempt)}.xml`);
}

/** Where a flow's source file is now: the spool while it is processed, else where it was put. */
export function sourceOf(hub: Hub, flow: FlowRow): string | undefined {
  const stored = `${flow.id}__${safeName(flow.file_name)}`;
  const candidates = [flow.spool_path, flow.final_path, path.join(hub.layout.failed, stored), path.join(hub.layout.archive, ...localDate(flow.received_at).split('-'), stored)];
  return candidates.find((p) => p && exists(p)) ?? undefined;
}

/** Reports go to the partner's own folder when the flow came from a registered partner. */
export function reportPaths(hub: Hub, flow: FlowRow) {
  const dir = flow.partner && partnerOf(hub.db, flow.partner).partner ? path.join(hub.layout.outbox, 'partners', flow.partner) : path.join(hub.layout.outbox, 'reports');
  return { xml: path.join(dir, `${flow.id}.xml`), json: path.join(dir, `${flow.id}.json`) };
}

const platform = (hub: Hub) => ({ id: hub.settings.platformPartnerId, label: 'factflow' });
/** The partner id a report is addressed to (the envelope's Recepteur). */
const reportReceiver = (hub: Hub, flow: FlowRow) => ({ id: flow.partner && PARTNER_CODE.test(flow.partner) ? flow.partner : hub.settings.defaultPartnerId });

/** The invoice whose lifecycle a row moves: itself, or for a completion the suspended original. */
const lifecycleInvoice = (hub: Hub, row: InvoiceRow): InvoiceRow =>
  row.role === 'completion' ? (sql(hub.db, 'SELECT * FROM invoices WHERE id = ?').get(row.origin_invoice_id) as InvoiceRow) : row;

/**
 * Rows this attempt delivers: accepted and not yet delivered, or delivered by this very attempt
 * before a crash (their pivot is rewritten identically). Never a row an earlier attempt delivered.
 */
function deliverable(hub: Hub, row: InvoiceRow, flow: FlowRow): boolean {
  if (!row.accepted) return false;
  if (row.pivot_path) return row.pivot_path === pivotPath(hub, row.recipient_siret, flow.id, flow.replays);
  return lifecycleInvoice(hub, row).status === (row.role === 'completion' ? '12' : '01');
}

/** DECIDED → DONE for one flow. `models` are its invoices when the caller just parsed them. */
export function deliver(hub: Hub, flow: FlowRow, models?: Invoice[]): void {
  const [fault] = deliverTogether(hub, [{ flow, models }]);
  if (fault) throw fault;
}

export interface Delivery {
  flow: FlowRow;
  /** The flow's invoices when the caller just parsed them (otherwise read again from its file). */
  models?: Invoice[];
}

interface InProgress extends Delivery {
  rows: InvoiceRow[];
  pivots: [string, InvoiceRow[]][];
  outputs: Output[];
  fault?: Error;
}

/**
 * DECIDED → DONE for flows delivered together (the daemon's worker takes the flows waiting for
 * it at once). Every output file is fsynced before its rename; the folders they land in are
 * fsynced once each, however many files landed there; the pivots' statuses 03 are one commit
 * and the flows' completion another. Returns, per flow, the system fault that stopped it: a
 * flow's fault stops that flow only (a fault of a shared step stops all of them), and each
 * stopped flow resumes later from DECIDED, rewriting the same files.
 */
export function deliverTogether(hub: Hub, deliveries: Delivery[]): (Error | undefined)[] {
  const flows: InProgress[] = deliveries.map((d) => ({ ...d, rows: [], pivots: [], outputs: [] }));
  const pending = new PendingDirs();
  const each = (step: (f: InProgress) => void) => {
    for (const f of flows) {
      if (f.fault) continue;
      try {
        step(f);
      } catch (e) {
        f.fault = asError(e);
      }
    }
  };
  const shared = (step: () => void) => {
    try {
      step();
    } catch (e) {
      for (const f of flows) f.fault ??= asError(e);
    }
  };
  each((f) => {
    f.rows = invoicesOfFlow(hub.db, f.flow.id);
    f.pivots = writePivots(hub, f, pending);
  });
  // Inside the shared commits, each flow's writes are a savepoint: a fault undoes its own only.
  const own = (step: (f: InProgress) => void) => each((f) => hub.db.transaction(() => step(f))());
  shared(() => hub.write(() => own((f) => recordPivots(hub, f.flow, f.pivots))));
  each((f) => {
    f.outputs = [...emitSupplierStatuses(hub, f.flow, pending), ...emitReport(hub, f.flow, pending)];
    moveSourceOut(hub, f.flow, pending);
  });
  shared(() => pending.sync());
  shared(() =>
    hub.write(() =>
      own((f) => {
        for (const o of f.outputs) recordOutput(hub.db, f.flow.id, o.kind, o.path);
        sql(hub.db, "UPDATE flows SET stage = 'DONE', done_at = ? WHERE id = ?").run(new Date().toISOString(), f.flow.id);
      }),
    ),
  );
  for (const f of flows) {
    if (!f.fault) hub.log.info(`done: ${f.flow.state} (${f.rows.filter((r) => r.accepted).length}/${f.rows.length} invoices integrated)`, { flowId: f.flow.id });
  }
  return flows.map((f) => f.fault);
}

/** One pivot per recipient for the flow's invoices not delivered yet; returns the files written and their rows. */
function writePivots(hub: Hub, { flow, models, rows }: InProgress, pending: PendingDirs): [string, InvoiceRow[]][] {
  const toDeliver = rows.filter((r) => deliverable(hub, r, flow));
  if (!toDeliver.length) return [];
  const source = sourceOf(hub, flow);
  if (!models && !source) throw new Error(`the source file of flow ${flow.id} is missing`);
  const byPosition = new Map((models ?? readFlowFile(source!, hub.settings).invoices).map((m) => [m.position, m]));
  const written: [string, InvoiceRow[]][] = [];
  for (const [siret, group] of groupBy(toDeliver, (r) => r.recipient_siret)) {
    const file = pivotPath(hub, siret, flow.id, flow.replays);
    const invoices: PivotInvoice[] = group.map((r) => {
      const invoice = byPosition.get(r.position);
      if (!invoice) throw new Error(`invoice at position ${r.position} of flow ${flow.id} is missing from its source file`);
      return { invoice, hubId: lifecycleInvoice(hub, r).id, renvoi: r.renvoi as Renvoi };
    });
    const name = structureName(hub, siret);
    writeFileAtomic(file, pivotChunks({ flowId: flow.id, depositDate: localDate(flow.received_at), recipient: { id: hub.settings.defaultPartnerId, label: name }, platform: platform(hub), renderPdf: hub.settings.renderPdf }, invoices), pending);
    written.push([file, group]);
    hub.log.info(`pivot for ${siret}: ${group.length} invoice(s)`, { flowId: flow.id });
  }
  return written;
}

/**
 * Status 03 for the invoices of the pivots written. Should a crash come before the pivots'
 * folders are synced, the resumed attempt rewrites the same pivots: their rows name this
 * attempt's files.
 */
function recordPivots(hub: Hub, flow: FlowRow, pivots: [string, InvoiceRow[]][]): void {
  const at = new Date().toISOString();
  for (const [file, group] of pivots) {
    for (const r of group) {
      const target = lifecycleInvoice(hub, r);
      if (target.status === '01' || target.status === '12') addEvent(hub.db, target.id, '03', at, 'platform', { flowId: flow.id, attempt: flow.replays });
      sql(hub.db, 'UPDATE invoices SET pivot_path = ? WHERE id = ?').run(file, r.id);
    }
    recordOutput(hub.db, flow.id, 'pivot', file);
  }
}

/** The source file leaves the spool for archive/ or failed/ (a replayed flow takes its report with it). */
function moveSourceOut(hub: Hub, flow: FlowRow, pending: PendingDirs): void {
  const source = sourceOf(hub, flow);
  if (!source || !flow.final_path || source === flow.final_path) return;
  moveDurably(source, flow.final_path, pending);
  // The current report is in outbox/reports; the one that stood beside the file in failed/ goes.
  for (const ext of ['.report.json', '.report.xml']) fs.rmSync(`${source}${ext}`, { force: true });
}

const structureName = (hub: Hub, siret: string) => hub.directory.structure(siret)?.name;

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

interface Output {
  kind: string;
  path: string;
}

/** One status file per supplier of the flow, holding every status this attempt produced. */
function emitSupplierStatuses(hub: Hub, flow: FlowRow, pending: PendingDirs): Output[] {
  const events = eventsFromFlow(hub.db, flow.id, flow.replays);
  const written: Output[] = [];
  for (const [supplierId, group] of groupBy(events, (e) => e.supplier_id)) {
    const entries: StatusEntry[] = group.map((e) => ({
      supplier: { idType: e.supplier_type, id: e.supplier_id, name: e.supplier_name, countryCode: e.supplier_country },
      recipient: { siret: e.recipient_siret, name: e.recipient_name ?? undefined, serviceCode: e.service_code ?? undefined },
      status: e.status,
      complement: e.motif ?? STATUS_NAMES[e.status],
      at: e.at,
      invoiceNumber: e.number,
      invoiceDate: e.issue_date,
      mandate: e.mandate ?? undefined,
    }));
    const file = supplierStatusPath(hub, supplierId, flow.id, flow.replays);
    writeFileAtomic(file, [invoiceStatusesXml(flow.id, localDate(flow.received_at), { id: hub.settings.defaultPartnerId, label: entries[0]!.supplier.name }, platform(hub), entries)], pending);
    written.push({ kind: 'supplier-status', path: file });
  }
  return written;
}

interface StatusUpdateRow {
  position: number;
  number: string;
  supplier_id: string;
  recipient_siret: string;
  status: string;
  errors: string;
}

export function buildReport(hub: Hub, flowId: string): IntegrationReport {
  const flow = getFlow(hub.db, flowId)!;
  const rows = invoicesOfFlow(hub.db, flowId);
  const updates = sql(hub.db, 'SELECT * FROM status_updates WHERE flow_id = ? ORDER BY position').all(flowId) as StatusUpdateRow[];
  return {
    flowId,
    file: flow.file_name,
    sha256: flow.sha256,
    kind: flow.kind ?? undefined,
    receivedAt: flow.received_at,
    state: flow.state as FlowState,
    statusCode: flow.status_code!,
    ...(flow.duplicate_of ? { duplicateOf: flow.duplicate_of } : {}),
    errors: parseErrors(flow.errors),
    invoices: rows.map((r) =>
      invoiceLineReport({ label: r.label, number: r.number, supplier: r.supplier_id, recipient: r.recipient_siret, serviceCode: r.service_code, engagement: r.engagement, errors: parseErrors(r.errors) }),
    ),
    ...(updates.length
      ? { statusUpdates: updates.map((u) => statusLineReport({ position: u.position, number: u.number, supplier: u.supplier_id, recipient: u.recipient_siret, status: u.status, errors: parseErrors(u.errors) })) }
      : {}),
  };
}

function emitReport(hub: Hub, flow: FlowRow, pending: PendingDirs): Output[] {
  const report = buildReport(hub, flow.id);
  const xml = reportXml(report, flow.decided_at!, reportReceiver(hub, flow), platform(hub));
  const json = JSON.stringify(report, null, 2) + '\n';
  const { xml: xmlPath, json: jsonPath } = reportPaths(hub, flow);
  writeFileAtomic(xmlPath, [xml], pending);
  writeFileAtomic(jsonPath, [json], pending);
  const written = [{ kind: 'report', path: xmlPath }, { kind: 'report', path: jsonPath }];
  if (flow.final_path && path.dirname(flow.final_path) === hub.layout.failed) {
    // A refused flow keeps its report beside it, for the operator looking at failed/.
    writeFileAtomic(`${flow.final_path}.report.json`, [json], pending);
    writeFileAtomic(`${flow.final_path}.report.xml`, [xml], pending);
  }
  return written;
}
