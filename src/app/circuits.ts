/**
 * The application's side of the validation circuits: the deadlines from the settings, the
 * releases a delivery must plan (gathered from the ledger and the deposit flows' sources), and
 * the deadline check, which asks the ledger for held invoices by due time (an index, never the
 * history) and runs the platform's ABSENCE_VALIDATION_n_HORS_DELAI through an operator's
 * request, so that the same judge, plan and delivery (resumable, idempotent) apply it.
 */
import { flowError, SystemFault } from '../errors/catalog.js';
import { RELEASING_STATUSES, type Release } from '../engine/circuitPlan.js';
import type { Settings } from '../config.js';
import type { Hub } from '../hub.js';
import type { InvoiceEventRow, InvoiceRow } from '../ledger/stores.js';
import { circuitOf, type Deadlines } from '../lifecycle/circuits.js';
import { flowInvoices } from '../pipeline/flowInvoices.js';
import { sourceOf } from './deliver.js';

export const deadlinesOf = (s: Pick<Settings, 'validationDeadlineDays' | 'validation2DeadlineDays'>): Deadlines => ({ 1: s.validationDeadlineDays, 2: s.validation2DeadlineDays });

/**
 * Held invoices this attempt's events approved (or declared past their deadline) and that have
 * not moved on yet: a resumed delivery finds those it released already at their next status.
 */
export async function gatherReleases(hub: Hub, events: InvoiceEventRow[]): Promise<Release[]> {
  const ids = [...new Set(events.filter((e) => RELEASING_STATUSES.has(e.status)).map((e) => e.invoice_id))];
  if (!ids.length) return [];
  const holds = await hub.ledger.circuits.ofInvoices(ids);
  const rows: InvoiceRow[] = [];
  for (const id of ids) {
    const row = await hub.ledger.invoices.get(id);
    if (row && holds.has(id) && RELEASING_STATUSES.has(row.status ?? '') && circuitOf(holds.get(id)!.cadre)) rows.push(row);
  }
  const history = await hub.ledger.events.ofInvoices(rows.map((r) => r.id));
  const releases: Release[] = [];
  // One read of each deposit flow's source for all its invoices released here.
  for (const flowId of new Set(rows.map((r) => r.flow_id))) {
    const deposit = (await hub.ledger.flows.get(flowId))!;
    const file = sourceOf(hub, deposit);
    if (!file) throw new SystemFault(flowError('SYS_SOURCE_MISSING', { flowId }));
    const invoices = flowInvoices(file, hub.settings, deposit.channel);
    try {
      for (const row of rows.filter((r) => r.flow_id === flowId)) {
        const model = invoices.at(row.position);
        if (!model) throw new SystemFault(flowError('SYS_SOURCE_MISSING', { flowId }));
        releases.push({ row, model, hold: holds.get(row.id)!, depositedAt: deposit.received_at, history: history.filter((e) => e.invoice_id === row.id) });
      }
    } finally {
      invoices.close();
    }
  }
  return releases;
}
