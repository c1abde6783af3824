/**
 * What the hub tells the outside, written in the transaction of the change that causes it:
 * every status change goes through `recordStatusChanges` (the lifecycle event, its outbox event
 * and its counter together), a finished flow through `recordFlowDone`.
 */
import type { IntegrationReport } from '../emit/report.js';
import type { DecisionPlan } from '../engine/plan.js';
import { ROWS_PER_STATEMENT, type EventRecord, type FlowRow, type InvoiceRow, type NotifyEventRecord, type Tx } from '../ledger/stores.js';
import { decisionCounts, doneCounts, statusCounts } from '../metrics/counters.js';
import { flowEvents, statusEvent } from '../notify/events.js';

/**
 * Records lifecycle events (each invoice moves to its status) and tells them, counted in one
 * statement. The rows in `known` spare reading invoices back: an event tells only what a status
 * change leaves as it was (number, parties, amount, deposit flow), so a row read before serves.
 */
export async function recordStatusChanges(tx: Tx, events: EventRecord[], known?: ReadonlyMap<number, InvoiceRow>): Promise<void> {
  const told: NotifyEventRecord[] = [];
  for (const e of events) {
    await tx.events.add(e);
    const invoice = known?.get(e.invoiceId) ?? (await tx.invoices.get(e.invoiceId));
    if (invoice) told.push(statusEvent(invoice, e));
    // Told a few at a time: a flow's worth of events is not held at once.
    if (told.length === ROWS_PER_STATEMENT) await tx.notify.add(told.splice(0));
  }
  if (!events.length) return;
  await tx.notify.add(told);
  await tx.counters.add(events.flatMap((e) => statusCounts(e.status)));
}

/** Counts what a decision judged (invoices by outcome, refusal codes). */
export const recordDecisionCounts = (tx: Tx, plan: DecisionPlan): Promise<void> => tx.counters.add(decisionCounts(plan));

/** A flow is done: a partner's flow tells it (flow.done, flow.refused) and is counted; an operator's request tells only its status changes. */
export async function recordFlowDone(tx: Tx, flow: FlowRow, report: IntegrationReport | undefined, doneAt: string): Promise<void> {
  if (flow.channel !== 'edi' || !report) return;
  await tx.notify.add([...flowEvents(flow, report, doneAt)]);
  await tx.counters.add(doneCounts(flow, doneAt));
}
