/**
 * Replaying a flow after its cause was fixed (a directory import, a raised limit): the source
 * is read again from archive/ or failed/, only its rejected invoices are judged again, and
 * those now accepted are delivered in a new attempt (pivot `CPPFacturePivot_<flow>_r<n>.xml`,
 * statuses `CPPStatut_<flow>_r<n>.xml`). Invoices integrated before are never emitted again.
 * The re-decision is one transaction and delivery is the usual idempotent stage, so a crash
 * during a replay resumes like any flow.
 */
import type { FlowError } from '../errors/catalog.js';
import { flowStateOf, STATUS_OF_STATE } from '../emit/report.js';
import type { Hub } from '../hub.js';
import { getFlow, invoicesOfFlow, sql, type FlowRow } from '../ledger/flows.js';
import { finalPathOf, judgeInvoices, localDate, recordDecision, type InvoiceDecision } from './decide.js';
import { deliver, sourceOf } from './deliver.js';
import { readFlowFile, type ReadResult } from './read.js';

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

interface Judged {
  plan: ReplayPlan;
  read?: ReadResult;
  decisions: InvoiceDecision[];
}

function judge(hub: Hub, flow: FlowRow): Judged {
  const base = { flowId: flow.id, file: flow.file_name, state: flow.state, retried: 0, wouldAccept: 0, stillRejected: [], flowErrors: [] };
  const skip = (skipped: string): Judged => ({ plan: { ...base, skipped }, decisions: [] });
  if (flow.stage !== 'DONE') return skip(`not finished (stage ${flow.stage}); the daemon resumes it`);
  if (flow.duplicate_of) return skip(`a duplicate of ${flow.duplicate_of}; replay that flow instead`);
  if (flow.kind === 'cli' || flow.kind === 'statut') return skip('not an invoice flow');
  if (!REPLAYABLE_STATES.includes(flow.state ?? '')) return skip(`already ${flow.state}`);
  const source = sourceOf(hub, flow);
  if (!source) return skip('its source file is no longer in archive/ or failed/ (purged?)');
  const read = readFlowFile(source, hub.settings);
  const accepted = new Set(invoicesOfFlow(hub.db, flow.id).filter((r) => r.accepted).map((r) => r.position));
  const retry = { ...read, invoices: read.invoices.filter((i) => !accepted.has(i.position)) };
  const decisions = judgeInvoices(hub, retry, localDate(flow.received_at));
  return {
    plan: {
      ...base,
      retried: decisions.length,
      wouldAccept: decisions.filter((d) => !d.errors.length).length,
      stillRejected: decisions.filter((d) => d.errors.length).map((d) => ({ label: d.invoice.label, number: d.invoice.number, codes: d.errors.map((e) => e.code) })),
      flowErrors: read.errors,
    },
    read,
    decisions,
  };
}

/** What a replay would do, without doing it. */
export const planReplay = (hub: Hub, flow: FlowRow): ReplayPlan => judge(hub, flow).plan;

/** Replays one flow; returns its plan (what was retried and decided) and the flow afterwards. */
export function replayFlow(hub: Hub, flowId: string): { plan: ReplayPlan; flow: FlowRow } {
  const flow = getFlow(hub.db, flowId);
  if (!flow) throw new Error(`no flow ${flowId}`);
  const { plan, read, decisions } = judge(hub, flow);
  if (plan.skipped || !read) return { plan, flow };
  const attempt = flow.replays + 1;
  const at = new Date().toISOString();
  hub.write(() => {
    for (const d of decisions) recordDecision(hub, flow.id, d, { flowId: flow.id, attempt }, at);
    const rows = invoicesOfFlow(hub.db, flow.id);
    const state = flowStateOf(read.errors, rows.map((r) => ({ status: r.accepted ? 'ACCEPTED' : 'REJECTED' })));
    sql(hub.db, "UPDATE flows SET stage = 'DECIDED', replays = ?, state = ?, status_code = ?, errors = ?, final_path = ?, last_error = NULL WHERE id = ?")
      .run(attempt, state, STATUS_OF_STATE[state], JSON.stringify(read.errors), finalPathOf(hub, flow, state), flow.id);
    sql(hub.db, 'INSERT INTO replays (flow_id, attempt, started_at, accepted, still_rejected) VALUES (?, ?, ?, ?, ?)')
      .run(flow.id, attempt, at, plan.wouldAccept, plan.stillRejected.length);
  });
  hub.log.info(`replay ${attempt}: ${plan.wouldAccept} of ${plan.retried} retried invoice(s) accepted`, { flowId: flow.id });
  deliver(hub, getFlow(hub.db, flow.id)!, read.invoices);
  return { plan, flow: getFlow(hub.db, flow.id)! };
}

/** Flows a `replay --failed` takes: finished, not duplicates, with something refused. */
export function failedFlows(hub: Hub, since?: string): FlowRow[] {
  return sql(hub.db, `SELECT * FROM flows WHERE stage = 'DONE' AND duplicate_of IS NULL AND coalesce(kind, '') NOT IN ('cli', 'statut')
      AND state IN ('IN_REJETE', 'IN_INTEGRE_PARTIEL', 'QP_IRRECEVABLE') AND (@since IS NULL OR received_at >= @since) ORDER BY received_at, id`)
    .all({ since: since ?? null }) as FlowRow[];
}
