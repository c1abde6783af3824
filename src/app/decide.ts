/**
 * Deciding flows: read (outside the ledger's write lock), then, inside one write transaction,
 * gather the context, judge, plan and apply, so that two processes deciding at once (the
 * daemon, a `factflow process`, a replay) cannot both accept the same file or invoice. Flows
 * decided together (a worker's group) are judged in order, each in its own savepoint: a later
 * flow sees what an earlier one accepted, a fault undoes its own flow only, and the group
 * costs one commit.
 */
import { systemFault } from '../errors/catalog.js';
import { parseProfileRules } from '../formats/facturxProfiles.js';
import { needsOf, statusTargetKey, type JudgeContext } from '../engine/context.js';
import { judgeFlow, type Decision } from '../engine/judge.js';
import { planDecision, type DecisionPlan } from '../engine/plan.js';
import { localDate } from '../engine/places.js';
import type { Hub } from '../hub.js';
import { ROWS_PER_STATEMENT, type EventRecord, type FlowRow, type InvoiceRow, type Owner, type Stores, type Tx } from '../ledger/stores.js';
import { me } from '../ingest/claim.js';
import { readFlowFile, type ReadResult } from '../pipeline/read.js';
import { PARTNER_CODE } from '../route/partners.js';
import { recordDecisionCounts, recordStatusChanges } from './outbox.js';
import { deadlinesOf } from './circuits.js';

export interface Decided {
  read: ReadResult;
  decision: Decision;
  plan: DecisionPlan;
}

/** Another process took the flow first: its decision stands. */
export interface Skipped {
  skipped: string;
}

export interface GatherOptions {
  /** A replay: the positions an earlier attempt accepted are not judged again. */
  acceptedBefore?: Set<number>;
  /** A validation has no flow row: it is compared with every earlier flow. */
  flowId?: string;
}

/** Everything judging `read` may look at, from the ledger (inside the decision's transaction when there is one). */
export async function gatherContext(hub: Hub, stores: Stores, flow: Pick<FlowRow, 'channel' | 'partner' | 'received_at' | 'sha256'>, read: ReadResult, opts: GatherOptions = {}): Promise<JudgeContext> {
  const acceptedBefore = opts.acceptedBefore ?? new Set<number>();
  const needs = needsOf(read, acceptedBefore);
  const code = flow.partner;
  const partner = code && PARTNER_CODE.test(code) ? await stores.partners.get(code) : undefined;
  const statusTargets = new Map<string, InvoiceRow[]>();
  for (const [supplier, number] of needs.statusTargets) statusTargets.set(statusTargetKey(supplier, number), await stores.invoices.bySupplierNumber(supplier, number));
  const holds = await stores.circuits.ofInvoices([...statusTargets.values()].flat().map((r) => r.id));
  const duplicate = opts.acceptedBefore ? undefined : await stores.flows.earlierSameContent(flow.sha256, opts.flowId);
  return {
    channel: flow.channel,
    sha256: flow.sha256,
    depositDate: localDate(flow.received_at),
    duplicateOf: duplicate?.id,
    partner: !code ? { kind: 'none' } : partner ? { kind: 'registered', partner } : { kind: 'unknown', code },
    structures: await stores.directory.structures(needs.sirets),
    services: await stores.directory.services(needs.serviceKeys),
    earlier: await stores.invoices.earlierDeposits(needs.invoiceKeys),
    acceptedBefore,
    statusTargets,
    receivedAt: flow.received_at,
    holds,
    deliveredRecipients: await stores.flows.deliveredRecipients(needs.ackFlows),
    limits: { maxAttachmentBytes: hub.settings.maxAttachmentBytes, maxInvoiceTotalBytes: hub.settings.maxInvoiceTotalBytes, facturxProfiles: parseProfileRules(hub.settings.facturxProfiles) },
  };
}

/** Records a decision plan: the flow's new stage and state first (it guards against a concurrent decider), then its rows and events. */
export async function applyDecision(tx: Tx, flowId: string, plan: DecisionPlan, owner: Owner): Promise<boolean> {
  if (!(await tx.flows.recordDecision(flowId, plan.fromStage, plan.flow, owner))) return false;
  // The acceptances, a batch at a time, told from the rows just written.
  const accepted: EventRecord[] = [];
  const recorded = new Map<number, InvoiceRow>();
  const tell = async () => {
    await recordStatusChanges(tx, accepted.splice(0), recorded);
    recorded.clear();
  };
  for (const { record, event, hold } of plan.invoices) {
    const row = await tx.invoices.record(flowId, record);
    if (hold) await tx.circuits.hold({ ...hold, invoice_id: row.id });
    if (!event) continue;
    // A completion's event is about the invoice it completes, read back when it is told.
    if (event.invoiceId === 'self') recorded.set(row.id, row);
    accepted.push({ ...event, invoiceId: event.invoiceId === 'self' ? row.id : event.invoiceId });
    if (accepted.length === ROWS_PER_STATEMENT) await tell();
  }
  await tell();
  for (const u of plan.statusUpdates) await tx.statusUpdates.add({ ...u, flow_id: flowId });
  await recordStatusChanges(tx, plan.events);
  for (const l of plan.levels) await tx.circuits.setLevel(l.invoiceId, l.level, l.dueAt);
  await recordDecisionCounts(tx, plan);
  return true;
}

/** Inside the write transaction: judges a flow read earlier and records its decision. */
export async function judgeAndApply(hub: Hub, tx: Tx, flowId: string, read: ReadResult | undefined, at: string, replay?: { acceptedBefore: Set<number> }): Promise<Decided | Skipped> {
  const flow = await tx.flows.get(flowId);
  const fromStage = replay ? 'DONE' : 'CLAIMED';
  if (!flow || flow.stage !== fromStage) return { skipped: `already being worked on (stage ${flow?.stage ?? 'gone'})` };
  const ctx = await gatherContext(hub, tx, flow, read ?? { invoices: [], errors: [] }, { flowId, acceptedBefore: replay?.acceptedBefore });
  // Read ahead as a duplicate but no longer one (its original was purged meanwhile): read it now.
  const source = read ?? (ctx.duplicateOf ? { invoices: [], errors: [] } : readFlowFile(flow.spool_path, hub.settings, flow.channel));
  const decision = judgeFlow(source, ctx);
  const plan = planDecision({ flow, decision, replay: !!replay, completionComment: source.completionComment, at, places: hub.places, deadlines: deadlinesOf(hub.settings) });
  if (!(await applyDecision(tx, flowId, plan, me(hub)))) return { skipped: 'decided meanwhile by another process' };
  return { read: source, decision, plan };
}

/** CLAIMED → DECIDED for flows decided together; returns each one's decision or the system fault that stopped it. */
export async function decideFlows(hub: Hub, flows: FlowRow[]): Promise<(Decided | Skipped | Error)[]> {
  const at = new Date().toISOString();
  const results: (Decided | Skipped | Error | undefined)[] = flows.map(() => undefined);
  const reads: (ReadResult | undefined)[] = [];
  for (const [i, flow] of flows.entries()) {
    try {
      // A duplicate is not read at all (it is refused as such).
      reads[i] = (await hub.ledger.flows.earlierSameContent(flow.sha256, flow.id)) ? undefined : readFlowFile(flow.spool_path, hub.settings, flow.channel);
      if (reads[i]?.readByHelpers) hub.log.debug(`${reads[i]!.readByHelpers} of ${reads[i]!.invoices.length} archive entries read on helper threads`, { flowId: flow.id });
    } catch (e) {
      results[i] = systemFault(e);
    }
  }
  try {
    await hub.ledger.transaction(async (tx) => {
      for (const [i, flow] of flows.entries()) {
        if (results[i]) continue;
        try {
          results[i] = await tx.savepoint((sp) => judgeAndApply(hub, sp, flow.id, reads[i], at));
        } catch (e) {
          results[i] = systemFault(e);
        }
      }
    });
  } catch (e) {
    // The commit itself failed: none of them is decided.
    flows.forEach((_, i) => !(results[i] instanceof Error) && (results[i] = systemFault(e)));
  }
  flows.forEach((flow, i) => logDecision(hub, flow, results[i]!));
  return results as (Decided | Skipped | Error)[];
}

/** Refusals at warn, with their codes as fields, so that an operator can filter on them. */
export function logDecision(hub: Hub, flow: Pick<FlowRow, 'id' | 'file_name'>, result: Decided | Skipped | Error): void {
  if (result instanceof Error || 'skipped' in result) return;
  const { decision } = result;
  const fields = { flowId: flow.id, file: flow.file_name };
  for (const { invoice, errors } of decision.invoices) {
    if (errors.length) hub.log.warn(`invoice refused: ${errors.map((e) => e.code).join(', ')}`, { ...fields, invoice: invoice.number || invoice.label, code: errors[0]!.code, codes: errors.map((e) => e.code) });
    else hub.log.debug('invoice accepted', { ...fields, invoice: invoice.number });
  }
  for (const line of decision.statusLines) {
    if (line.errors.length) hub.log.warn(`status update refused: ${line.errors.map((e) => e.code).join(', ')}`, { ...fields, invoice: line.number, code: line.errors[0]!.code });
    else hub.log.info(`status ${line.status} applied`, { ...fields, invoice: line.number });
  }
  if (decision.flowErrors.length) hub.log.warn(`flow refused: ${decision.flowErrors.map((e) => e.code).join(', ')}`, { ...fields, code: decision.flowErrors[0]!.code, codes: decision.flowErrors.map((e) => e.code) });
}
