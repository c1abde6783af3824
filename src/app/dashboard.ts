/** What the console's dashboard shows: figures from the ledger and the depth of inbox and spool. */
import fs from 'node:fs';
import type { Hub } from '../hub.js';
import { scanInbox } from '../ingest/inboxScan.js';

export interface Dashboard {
  since: string;
  perHour: { hour: string; flows: number; invoices: number }[];
  flowsByState: { state: string; n: number }[];
  invoicesByStatus: { status: string; n: number }[];
  rejectionCodes: { code: string; n: number }[];
  oldestUnfinished?: { id: string; receivedAt: string; stage: string; lastError: string | null };
  inboxDepth: number;
  spoolDepth: number;
  faulty: number;
}

/** The last `hours` hours, every hour present (zero when nothing came in). */
export async function dashboard(hub: Hub, hours = 24, now = new Date()): Promise<Dashboard> {
  const start = new Date(now.getTime() - (hours - 1) * 3_600_000);
  start.setUTCMinutes(0, 0, 0);
  const since = start.toISOString();
  const counted = new Map((await hub.ledger.flows.perHour(since)).map((h) => [h.hour, h]));
  const perHour = Array.from({ length: hours }, (_, i) => {
    const hour = new Date(start.getTime() + i * 3_600_000).toISOString().slice(0, 13);
    return counted.get(hour) ?? { hour, flows: 0, invoices: 0 };
  });
  const stats = await hub.ledger.flows.stats(since);
  const counts = await hub.ledger.flows.counts();
  const oldest = await hub.ledger.flows.oldestUnfinished();
  let spoolDepth = 0;
  try {
    spoolDepth = fs.readdirSync(hub.layout.spool).filter((n) => !n.startsWith('.')).length;
  } catch {
    // no spool yet
  }
  return {
    since,
    perHour,
    flowsByState: stats.flows,
    invoicesByStatus: stats.invoices,
    rejectionCodes: stats.rejectionCodes,
    ...(oldest ? { oldestUnfinished: { id: oldest.id, receivedAt: oldest.received_at, stage: oldest.stage, lastError: oldest.last_error } } : {}),
    inboxDepth: scanInbox(hub.layout.inbox).files.length,
    spoolDepth,
    faulty: counts.faulty,
  };
}
