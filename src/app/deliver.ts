/**
 * Delivering decided flows (DECIDED → DONE): gather what the delivery plan needs, then apply
 * it. Every output file is fsynced before its rename; the folders they land in are fsynced
 * once each, however many files landed there; the pivots' statuses 03 are one commit and the
 * flows' completion another. A fault stops its own flow only (a fault of a shared step stops
 * all of them), and each stopped flow resumes later from DECIDED, rewriting the same files:
 * output names and contents are deterministic, so nothing is delivered twice.
 */
import fs from 'node:fs';
import { flowError, SystemFault, systemFault } from '../errors/catalog.js';
import { moveDurably, PendingDirs, writeFilesAtomic } from '../emit/atomic.js';
import { deliverableRows, planDelivery, type DeliveryPlan, type Grouping } from '../engine/plan.js';
import type { Hub } from '../hub.js';
import { exists, isMine } from '../ingest/claim.js';
import type { FlowRow, InvoiceRow, Tx } from '../ledger/stores.js';
import type { Attachment, Invoice } from '../model/invoice.js';
import { flowInvoices, type FlowInvoices } from '../pipeline/flowInvoices.js';
import { storedBytesReader } from '../pipeline/storedBytes.js';
import { groupingFor, PARTNER_CODE, statusFormatFor } from '../route/partners.js';
import { recordFlowDone, recordStatusChanges } from './outbox.js';
import { deadlinesOf, gatherReleases } from './circuits.js';

export interface Delivery {
  flow: FlowRow;
  /** The flow's invoices when the caller just read them (otherwise read again from its file). */
  models?: Invoice[];
}

/** Where a flow's source file is now: the spool while it is processed, else where it was put. */
export const sourceOf = (hub: Hub, flow: FlowRow): string | undefined => hub.places.sourceCandidates(flow).find(exists);

/** A flow's source file, and its invoices opened on first use (a missing source is a fault then). */
interface FlowSource {
  file?: string;
  invoices(): FlowInvoices;
  close(): void;
}

function flowSource(hub: Hub, flow: FlowRow): FlowSource {
  const file = sourceOf(hub, flow);
  let opened: FlowInvoices | undefined;
  return {
    file,
    invoices() {
      if (!file) throw new SystemFault(flowError('SYS_SOURCE_MISSING', { flowId: flow.id }));
      return (opened ??= flowInvoices(file, hub.settings, flow.channel));
    },
    close: () => opened?.close(),
  };
}

/**
 * Gathers a flow's delivery inputs from the ledger and its source, and plans it. Invoices the
 * caller did not hold are read from `source` as the pivots are written (opened by the caller).
 */
async function planFor(hub: Hub, { flow, models }: Delivery, source: FlowSource, bytesOf: (a: Attachment) => Buffer): Promise<DeliveryPlan> {
  const { ledger, places } = hub;
  const rows = await ledger.invoices.ofFlow(flow.id);
  const origins = new Map<number, InvoiceRow>();
  for (const r of rows) {
    if (r.role === 'completion' && r.origin_invoice_id) origins.set(r.origin_invoice_id, (await ledger.invoices.get(r.origin_invoice_id))!);
  }
  const events = await ledger.events.ofAttempt(flow.id, flow.replays);
  const releases = await gatherReleases(hub, events);
  const grouping = await groupingOf(hub, [...rows, ...releases.map((r) => r.row)], events);
  const deliver = deliverableRows(flow, rows, origins, places, grouping);
  const held = models && new Map(models.map((m) => [m.position, m]));
  const modelAt = held ? (position: number) => held.get(position) : (position: number) => source.invoices().at(position);
  const structures = await ledger.directory.structures([...new Set([...deliver, ...releases.map((r) => r.row)].map((r) => r.recipient_siret))]);
  const registered = flow.partner && PARTNER_CODE.test(flow.partner) ? await ledger.partners.get(flow.partner) : undefined;
  const partner = registered ? flow.partner! : undefined;
  const statusUpdates = await ledger.statusUpdates.ofFlow(flow.id);
  const lineInvoices = new Map<number, InvoiceRow>();
  for (const u of statusUpdates) {
    const named = !u.accepted && u.invoice_id !== null ? await ledger.invoices.get(u.invoice_id) : undefined;
    if (named) lineInvoices.set(named.id, named);
  }
  return planDelivery({
    flow,
    rows,
    origins,
    deliver,
    modelAt,
    holds: await ledger.circuits.ofInvoices(deliver.map((r) => r.id)),
    events,
    grouping,
    statusUpdates,
    lineInvoices,
    senderFormat: registered?.statusFormat ?? hub.settings.statusFormat,
    structureNames: new Map([...structures].map(([siret, s]) => [siret, s.name])),
    partner,
    source: source.file,
    platform: { id: hub.settings.platformPartnerId, label: 'factflow' },
    defaultPartnerId: hub.settings.defaultPartnerId,
    renderPdf: hub.settings.renderPdf,
    bytesOf,
    places,
    now: new Date().toISOString(),
    releases,
    deadlines: deadlinesOf(hub.settings),
  });
}

/**
 * The grouping of each recipient this flow delivers to and each supplier it writes statuses
 * for: the override of the partner serving it, else the pivotGrouping setting.
 */
async function groupingOf(hub: Hub, rows: InvoiceRow[], events: { supplier_id: string }[]): Promise<Grouping> {
  const setting = hub.settings.pivotGrouping;
  const partners = await hub.ledger.partners.list();
  const recipients = new Map(rows.map((r) => [r.recipient_siret, groupingFor(partners, 'recipients', r.recipient_siret, setting)]));
  const suppliers = new Map([...rows, ...events].map((r) => [r.supplier_id, groupingFor(partners, 'suppliers', r.supplier_id, setting)]));
  const formats = new Map([...rows, ...events].map((r) => [r.supplier_id, statusFormatFor(partners, r.supplier_id, hub.settings.statusFormat)]));
  return { recipients, suppliers, formats };
}

interface InProgress extends Delivery {
  plan?: DeliveryPlan;
  fault?: Error;
  /** Another process took the flow over meanwhile (this node's lease had expired): it finishes it. */
  takenOver?: boolean;
}

/** What stopped a flow's delivery: a system fault, or the flow taken over by another process. */
export type DeliveryOutcome = Error | 'taken-over' | undefined;

/**
 * The fence of every delivery commit: the flow is still DECIDED and still ours. A node whose
 * lease expired may still be delivering when another one takes the flow over; whichever commits
 * first wins (write transactions are serialized), the other records nothing more of it.
 */
async function stillOurs(hub: Hub, tx: Tx, flowId: string): Promise<boolean> {
  const now = await tx.flows.get(flowId);
  return !!now && now.stage === 'DECIDED' && isMine(hub, now);
}

/** DECIDED → DONE for flows delivered together; returns, per flow, the system fault that stopped it. */
export async function deliverFlows(hub: Hub, deliveries: Delivery[]): Promise<DeliveryOutcome[]> {
  const flows: InProgress[] = deliveries.map((d) => ({ ...d }));
  const pending = new PendingDirs();
  const each = async (step: (f: InProgress & { plan: DeliveryPlan }) => unknown) => {
    for (const f of flows) {
      if (f.fault || f.takenOver) continue;
      try {
        await step(f as InProgress & { plan: DeliveryPlan });
      } catch (e) {
        f.fault = systemFault(e);
      }
    }
  };
  const shared = async (step: () => unknown) => {
    try {
      await step();
    } catch (e) {
      for (const f of flows) f.fault ??= systemFault(e);
    }
  };
  /** Inside a shared commit, each flow's writes are a savepoint: a fault undoes its own only. */
  const commitEach = (step: (f: InProgress & { plan: DeliveryPlan }, tx: Tx) => Promise<void>) =>
    shared(() => hub.ledger.transaction(async (tx) => {
      for (const f of flows) {
        if (f.fault || f.takenOver) continue;
        try {
          if (!(await stillOurs(hub, tx, f.flow.id))) {
            f.takenOver = true;
            hub.log.warn('flow taken over by another process before this one could finish delivering it: left to it', { flowId: f.flow.id });
            continue;
          }
          await tx.savepoint((sp) => step(f as InProgress & { plan: DeliveryPlan }, sp));
        } catch (e) {
          f.fault = systemFault(e);
        }
      }
    }));

  await each(async (f) => {
    // Invoices, and attachments set aside at reading, are read back from their sources as the pivots are written.
    const source = flowSource(hub, f.flow);
    const stored = storedBytesReader();
    try {
      f.plan = await planFor(hub, f, source, stored.bytesOf);
      writeFilesAtomic(f.plan.pivots.map((p) => ({ path: p.path, chunks: p.chunks() })), pending);
    } finally {
      stored.close();
      source.close();
    }
    for (const p of f.plan.pivots) {
      hub.log.info(p.kind === 'validator' ? `held for validation: ${p.rows[0]!.number} (${p.path})` : `pivot for ${p.rows[0]!.recipient_siret}: ${p.rows.length} invoice(s)`, { flowId: f.flow.id });
    }
  });
  await commitEach(async ({ flow, plan }, tx) => {
    for (const p of plan.pivots) {
      // A validator's copy is not the delivery: the invoice's pivot is the one its recipient gets.
      if (p.kind === 'pivot') for (const r of p.rows) await tx.invoices.setPivot(r.id, p.path);
      await tx.flows.recordOutput(flow.id, p.kind, p.path);
    }
    await recordStatusChanges(tx, plan.madeAvailable, plan.invoices);
    for (const l of plan.levels) await tx.circuits.setLevel(l.invoiceId, l.level, l.dueAt);
  });
  await each(({ plan }) => {
    writeFilesAtomic(plan.notices.map((n) => ({ path: n.path, chunks: n.chunks() })), pending);
    if (plan.source) {
      moveDurably(plan.source.from, plan.source.to, pending);
      for (const f of plan.source.removeBeside) fs.rmSync(f, { force: true });
    }
  });
  await shared(() => pending.sync());
  const doneAt = new Date().toISOString();
  await commitEach(async ({ flow, plan }, tx) => {
    for (const n of plan.notices) if (n.kind !== 'report-beside') await tx.flows.recordOutput(flow.id, n.kind, n.path);
    await tx.flows.markDone(flow.id, doneAt);
    await recordFlowDone(tx, flow, plan.report, doneAt);
  });
  for (const f of flows) {
    if (f.fault || f.takenOver || !f.plan) continue;
    const what = f.plan.unit === 'updates' ? 'updates applied' : 'invoices integrated';
    hub.log.info(`done: ${f.flow.state} (${f.plan.accepted}/${f.plan.total} ${what})`, { flowId: f.flow.id, file: f.flow.file_name, state: f.flow.state });
  }
  return flows.map((f) => f.fault ?? (f.takenOver ? 'taken-over' : undefined));
}
