/**
 * What the hub tells the outside, written in the transaction of the change that causes it:
 * every status change goes through `recordStatusChange` (the lifecycle event, its outbox event
 * and its counter together), a finished flow through `recordFlowDone`.
 */
import type { IntegrationReport } from '../emit/report.js';
import type { DecisionPlan } from '../engine/plan.js';
import type { EventRecord, FlowRow, Tx } from '../ledger/stores.js';
import { decisionCounts, doneCounts, statusCounts } from '../metrics/counters.js';
import { flowEvents, statusEvent } from '../notify/events.js';

/** Records a lifecycle event (the invoice moves to its status) and tells it. */
export async function recordStatusChange(tx: Tx, e: EventRecord): Promise<void> {
  await tx.events.add(e);
  const invoice = await tx.invoices.get(e.invoiceId);
  if (invoice) await tx.notify.add(statusEvent(invoice, e));
  await tx.counters.add(statusCounts(e.status));
}

/** Counts what a decision judged (invoices by outcome, refusal codes). */
export const recordDecisionCounts = (tx: Tx, plan: DecisionPlan): Promise<void> => tx.counters.add(decisionCounts(plan));

/** A flow is done: a partner's flow tells it (flow.done, flow.refused) and is counted; an operator's request tells only its status changes. */
export async function recordFlowDone(tx: Tx, flow: FlowRow, report: IntegrationReport | undefined, doneAt: string): Promise<void> {
  if (flow.channel !== 'edi' || !report) return;
  for (const e of flowEvents(flow, report, doneAt)) await tx.notify.add(e);
  await tx.counters.add(doneCounts(flow, doneAt));
}
