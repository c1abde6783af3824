/**
 * Prometheus metrics, computed at scrape time from the ledger and the folders, so that any
 * process on the home (the daemon, `serve`, `factflow metrics`) answers the same. What a
 * scrape costs: one read of the small `metric_counts` table (a row per metric and label,
 * bumped in the transactions that do the work), two index probes (unfinished flows by stage,
 * pending and failed deliveries by state), and one directory listing each of inbox/ (and its
 * partner folders) and var/spool/. Nothing scans the flows or invoices.
 * Its own registry, built for each scrape: nothing global, nothing kept between scrapes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Hub } from '../hub.js';
import { isIgnoredName } from '../ingest/inboxScan.js';
import type { CounterDelta } from '../ledger/stores.js';
import { STATUS_NAMES } from '../lifecycle/statuses.js';
import { METRIC, SECONDS_BUCKETS } from './counters.js';

/** A histogram whose buckets come from stored counts (prom-client's own only counts observations made in this process). */
class StoredHistogram extends Histogram<string> {
  constructor(private readonly metricName: string, private readonly helpText: string, private readonly counts: CounterDelta[]) {
    super({ name: metricName, help: helpText, buckets: [...SECONDS_BUCKETS], registers: [] });
  }

  private snapshot() {
    const name = this.metricName;
    const byLabel = new Map(this.counts.map((c) => [c.label, c.n]));
    let cumulative = 0;
    const values = [...SECONDS_BUCKETS.map(String), '+Inf'].map((le) => {
      cumulative += byLabel.get(`le:${le}`) ?? 0;
      return { labels: { le }, value: cumulative, metricName: `${name}_bucket` };
    });
    values.push({ labels: {} as { le: string }, value: (byLabel.get('sum_ms') ?? 0) / 1000, metricName: `${name}_sum` });
    values.push({ labels: {} as { le: string }, value: byLabel.get('count') ?? 0, metricName: `${name}_count` });
    return { name, help: this.helpText, type: 'histogram' as const, values, aggregator: 'sum' as const };
  }

  override async get() {
    return this.snapshot() as unknown as Awaited<ReturnType<Histogram<string>['get']>>;
  }

  async getForPromString() {
    return this.snapshot();
  }
}

/** Regular files waiting in a folder (and, for the inbox, in its partner folders), temp names left out. */
function filesIn(dir: string, depth: number): number {
  let n = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    if (isIgnoredName(e.name)) continue;
    if (e.isFile()) n++;
    else if (e.isDirectory() && depth > 0) n += filesIn(path.join(dir, e.name), depth - 1);
  }
  return n;
}

export async function metricsText(hub: Hub): Promise<{ contentType: string; body: string }> {
  const registry = new Registry();
  const registers = [registry];
  const counts = await hub.ledger.counters.all();
  const of = (metric: string) => counts.filter((c) => c.metric === metric);
  const counter = (name: string, help: string, labelNames: string[], rows: { labels: Record<string, string>; n: number }[]) => {
    const c = new Counter({ name, help, labelNames, registers });
    for (const r of rows) c.inc(r.labels, r.n);
  };
  const gauge = (name: string, help: string, value: number, labelNames: string[] = [], labels: Record<string, string> = {}) => {
    const existing = registry.getSingleMetric(name) as Gauge<string> | undefined;
    (existing ?? new Gauge({ name, help, labelNames, registers })).set(labels, value);
  };
  const split = (label: string) => {
    const i = label.indexOf(':');
    return [label.slice(0, i), label.slice(i + 1)] as const;
  };

  counter('factflow_flows_total', 'Partner flows finished (each attempt, replays included), by final state.', ['state'], of(METRIC.flows).map((c) => ({ labels: { state: c.label }, n: c.n })));
  counter('factflow_invoices_total', 'Invoices judged at deposit, by outcome (accepted, rejected).', ['outcome'], of(METRIC.invoices).map((c) => ({ labels: { outcome: c.label }, n: c.n })));
  counter('factflow_rejections_total', 'Errors that refused a flow, an invoice or a status update, by code.', ['code'], of(METRIC.rejections).map((c) => ({ labels: { code: c.label }, n: c.n })));
  counter('factflow_invoice_status_changes_total', 'Invoice status changes, by status.', ['status', 'name'], of(METRIC.statuses).map((c) => ({ labels: { status: c.label, name: STATUS_NAMES[c.label] ?? c.label }, n: c.n })));
  registry.registerMetric(new StoredHistogram('factflow_flow_processing_seconds', 'Time from reception to done, for flows done at their first attempt.', of(METRIC.doneSeconds)));
  registry.registerMetric(new StoredHistogram('factflow_flow_decision_seconds', 'Time from reception to decision, for flows done at their first attempt.', of(METRIC.decidedSeconds)));
  counter('factflow_notify_attempts_total', 'Webhook calls and e-mails attempted, by channel and outcome (ok, error).', ['channel', 'outcome'], of(METRIC.attempts).map((c) => {
    const [channel, outcome] = split(c.label);
    return { labels: { channel, outcome }, n: c.n };
  }));
  counter('factflow_notify_deliveries_total', 'Deliveries finished, by channel and outcome (delivered, failed: given up after notifyMaxAttempts).', ['channel', 'outcome'], of(METRIC.deliveries).map((c) => {
    const [channel, outcome] = split(c.label);
    return { labels: { channel, outcome }, n: c.n };
  }));

  const states = new Map((await hub.ledger.notify.deliveryStates()).map((s) => [s.state, s.n]));
  for (const state of ['pending', 'failed']) gauge('factflow_notify_deliveries', 'Deliveries waiting (pending) or given up (failed).', states.get(state) ?? 0, ['state'], { state });
  const unfinished = await hub.ledger.flows.unfinished();
  gauge('factflow_flows_unfinished', 'Flows claimed and not yet done (in the spool).', unfinished.n);
  gauge('factflow_oldest_unfinished_flow_age_seconds', 'Age of the oldest flow not yet done (0 when none).', unfinished.oldestReceivedAt ? Math.max(0, (Date.now() - Date.parse(unfinished.oldestReceivedAt)) / 1000) : 0);
  gauge('factflow_inbox_files', 'Files waiting in inbox/ and its partner folders.', filesIn(hub.layout.inbox, 1));
  gauge('factflow_spool_files', 'Files in var/spool/ (flows being processed or waiting for a retry).', filesIn(hub.layout.spool, 0));
  return { contentType: registry.contentType, body: await registry.metrics() };
}
