/**
 * The counters behind the metrics, as data: what a decision, a finished flow, a status change
 * or a delivery attempt adds. The application bumps them in the transaction that does the
 * work, so that a scrape reads a few rows (any process, any time) instead of counting flows.
 */
import type { CounterDelta, FlowRow } from '../ledger/stores.js';
import type { DecisionPlan } from '../engine/plan.js';

/** Upper bounds (seconds) of the processing time histograms. */
export const SECONDS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600] as const;

export const METRIC = {
  flows: 'flows',
  invoices: 'invoices',
  rejections: 'rejections',
  statuses: 'invoice_statuses',
  /** Histograms: label `le:<bound>` per bucket (not cumulative), `sum_ms`, `count`. */
  doneSeconds: 'flow_done_seconds',
  decidedSeconds: 'flow_decided_seconds',
  deliveries: 'notify_deliveries',
  attempts: 'notify_attempts',
} as const;

const one = (metric: string, label: string, n = 1): CounterDelta => ({ metric, label, n });

/** Invoices decided (accepted or rejected) and every code that refused something. */
export function decisionCounts(plan: DecisionPlan): CounterDelta[] {
  const out: CounterDelta[] = [];
  const accepted = plan.invoices.filter((i) => !i.record.errors.length).length;
  if (accepted) out.push(one(METRIC.invoices, 'accepted', accepted));
  if (plan.invoices.length - accepted) out.push(one(METRIC.invoices, 'rejected', plan.invoices.length - accepted));
  const codes = [
    ...plan.flow.errors.map((e) => e.code),
    ...plan.invoices.flatMap((i) => i.record.errors.map((e) => e.code)),
    ...plan.statusUpdates.flatMap((u) => (JSON.parse(u.errors) as { code: string }[]).map((e) => e.code)),
  ];
  const byCode = new Map<string, number>();
  for (const c of codes) byCode.set(c, (byCode.get(c) ?? 0) + 1);
  for (const [code, n] of byCode) out.push(one(METRIC.rejections, code, n));
  return out;
}

function observe(metric: string, seconds: number): CounterDelta[] {
  const s = Math.max(0, seconds);
  const bound = SECONDS_BUCKETS.find((b) => s <= b);
  return [one(metric, bound === undefined ? 'le:+Inf' : `le:${bound}`), one(metric, 'sum_ms', Math.round(s * 1000)), one(metric, 'count')];
}

/** A partner's flow finished an attempt: its state, and how long reception → decision → done took. */
export function doneCounts(flow: Pick<FlowRow, 'state' | 'received_at' | 'decided_at' | 'replays'>, doneAt: string): CounterDelta[] {
  const received = Date.parse(flow.received_at);
  // A replay runs long after the reception: its times say nothing about processing.
  if (flow.replays) return [one(METRIC.flows, flow.state ?? 'UNKNOWN')];
  return [
    one(METRIC.flows, flow.state ?? 'UNKNOWN'),
    ...observe(METRIC.doneSeconds, (Date.parse(doneAt) - received) / 1000),
    ...(flow.decided_at ? observe(METRIC.decidedSeconds, (Date.parse(flow.decided_at) - received) / 1000) : []),
  ];
}

export const statusCounts = (status: string): CounterDelta[] => [one(METRIC.statuses, status)];

/** A delivery attempt: its channel and outcome (delivered, retry, failed = given up). */
export const attemptCounts = (channel: string, outcome: 'delivered' | 'retry' | 'failed'): CounterDelta[] => [
  one(METRIC.attempts, `${channel}:${outcome === 'delivered' ? 'ok' : 'error'}`),
  ...(outcome === 'retry' ? [] : [one(METRIC.deliveries, `${channel}:${outcome}`)]),
];
