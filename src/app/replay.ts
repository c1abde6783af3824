/**
 * Replaying a flow after its cause was fixed (a directory import, a raised limit, a partner's
 * permission): the source is read again from archive/ or failed/, the invoices an earlier
 * attempt refused are judged again by the same judge as any flow (partner and all), inside the
 * ledger's write lock, and those now accepted are delivered in a new attempt
 * (`CPPFacturePivot_<flow>_r<n>.xml`, `CPPStatut_<flow>_r<n>.xml`). Invoices integrated
 * before are never emitted again. The flow goes DONE → DECIDED in the decision's transaction,
 * so a concurrent replay, resume or daemon finds it taken; a crash resumes it like any flow.
 */
import type { FlowError } from '../errors/catalog.js';
import { judgeFlow, type Decision } from '../engine/judge.js';
import type { Hub } from '../hub.js';
import type { FlowRow } from '../ledger/stores.js';
import { keepsInvoices } from '../pipeline/flowInvoices.js';
import { readFlowFile, type ReadResult } from '../pipeline/read.js';
import { gatherContext, judgeAndApply, logDecision } from './decide.js';
import { deliverFlows, sourceOf, type Delivery } from './deliver.js';

const REPLAYABLE_STATES = ['IN_REJETE', 'IN_INTEGRE_PARTIEL', 'QP_IRRECEVABLE'];

export interface ReplayPlan {
  flowId: string;
  file: string;
  state: string | null;
  /** Why the flow is not replayed, when it is not. */
  skipped?: string;
  retried: number;
  wouldAccept: number;
  stillRejected: { label: string; number: string; codes: string[] }[];
  flowErrors: FlowError[];
}

/** Why a flow cannot be replayed, if it cannot (pure). */
export function replaySkipReason(flow: FlowRow): string | undefined {
  if (flow.stage !== 'DONE') return `not finished (stage ${flow.stage}); the daemon resumes it`;
  if (flow.duplicate_of) return `a duplicate of ${flow.duplicate_of}; replay that flow instead`;
  if (flow.channel !== 'edi' || flow.kind === 'statut' || flow.kind === 'cdar') return 'not an invoice flow';
  if (!REPLAYABLE_STATES.includes(flow.state ?? '')) return `already ${flow.state}`;
  return undefined;
}

const planOf = (flow: FlowRow, decision?: Decision, skipped?: string): ReplayPlan => ({
  flowId: flow.id,
  file: flow.file_name,
  state: flow.state,
  ...(skipped ? { skipped } : {}),
  retried: decision?.invoices.length ?? 0,
  wouldAccept: decision?.invoices.filter((d) => !d.errors.length).length ?? 0,
  stillRejected: (decision?.invoices ?? []).filter((d) => d.errors.length).map((d) => ({ label: d.invoice.label, number: d.invoice.number, codes: d.errors.map((e) => e.code) })),
  flowErrors: decision?.flowErrors ?? [],
});

async function prepare(hub: Hub, flow: FlowRow): Promise<{ read: ReadResult; acceptedBefore: Set<number> } | { skipped: string }> {
  const reason = replaySkipReason(flow);
  if (reason) return { skipped: reason };
  const source = sourceOf(hub, flow);
  if (!source) return { skipped: 'its source file is no longer in archive/ or failed/ (purged?)' };
  const read = readFlowFile(source, hub.settings, flow.channel);
  const acceptedBefore = new Set((await hub.ledger.invoices.ofFlow(flow.id)).filter((r) => r.accepted).map((r) => r.position));
  return { read, acceptedBefore };
}

/** What a replay would do now, without doing it (the same judge, on the ledger as it stands). */
export async function planReplay(hub: Hub, flow: FlowRow): Promise<ReplayPlan> {
  const prepared = await prepare(hub, flow);
  if ('skipped' in prepared) return planOf(flow, undefined, prepared.skipped);
  const ctx = await gatherContext(hub, hub.ledger, flow, prepared.read, { acceptedBefore: prepared.acceptedBefore });
  return planOf(flow, judgeFlow(prepared.read, ctx));
}

/** Replays one flow; returns what was retried and decided, and the flow afterwards. */
export async function replayFlow(hub: Hub, flowId: string): Promise<{ plan: ReplayPlan; flow: FlowRow }> {
  const decided = await decideReplay(hub, flowId);
  if (!('delivery' in decided)) return decided;
  const { plan, takenOver, delivery } = decided;
  const [fault] = await deliverFlows(hub, [delivery]);
  if (fault === 'taken-over') return { plan: takenOver, flow: (await hub.ledger.flows.get(flowId))! };
  if (fault) {
    await hub.ledger.transaction((tx) => tx.flows.recordFault(flowId, fault.message));
    throw fault;
  }
  return { plan, flow: (await hub.ledger.flows.get(flowId))! };
}

/**
 * A replay's decision, and what its delivery needs: the flow's invoices, unless it is a large
 * flow that lets them go (keepsInvoices), so that nothing else of the reading outlives this call.
 */
async function decideReplay(hub: Hub, flowId: string): Promise<{ plan: ReplayPlan; flow: FlowRow } | { plan: ReplayPlan; takenOver: ReplayPlan; delivery: Delivery }> {
  const flow = await hub.ledger.flows.get(flowId);
  if (!flow) throw new Error(`no flow ${flowId}`);
  const prepared = await prepare(hub, flow);
  if ('skipped' in prepared) return { plan: planOf(flow, undefined, prepared.skipped), flow };
  const at = new Date().toISOString();
  const decided = await hub.ledger.transaction((tx) => judgeAndApply(hub, tx, flowId, prepared.read, at, { acceptedBefore: prepared.acceptedBefore }));
  if ('skipped' in decided) return { plan: planOf(flow, undefined, decided.skipped), flow: (await hub.ledger.flows.get(flowId))! };
  logDecision(hub, flow, decided);
  const plan = planOf(flow, decided.decision);
  hub.log.info(`replay ${decided.plan.flow.replay!.attempt}: ${plan.wouldAccept} of ${plan.retried} retried invoice(s) accepted`, { flowId });
  return {
    plan,
    takenOver: planOf(flow, decided.decision, 'taken over by another process, which finishes it'),
    delivery: { flow: (await hub.ledger.flows.get(flowId))!, models: keepsInvoices(prepared.read) ? prepared.read.invoices : undefined },
  };
}

/** Flows a `replay --failed` takes: finished, not duplicates, with something refused. */
export const failedFlows = (hub: Hub, since?: string): Promise<FlowRow[]> => hub.ledger.flows.replayable(since);
