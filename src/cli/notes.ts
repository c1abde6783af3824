/** The NOTE column of flows list: why a flow was refused, as error codes, or its fault or replays. */
import type { Hub } from '../hub.js';
import { parseErrors, type FlowRow } from '../ledger/stores.js';

const SHOWN = 3;

/** The distinct codes that refused the flow or some of its invoices, flow errors first. */

export async function refusalCodes(hub: Hub, flow: FlowRow): Promise<string[]> {
  const codes = parseErrors(flow.errors).map((e) => e.code);
  // Only flows that refused invoices are read further: an integrated flow costs no query.
  if (flow.state === 'IN_REJETE' || flow.state === 'IN_INTEGRE_PARTIEL') {
    for (const i of await hub.ledger.invoices.ofFlow(flow.id)) if (!i.accepted) codes.push(...parseErrors(i.errors).map((e) => e.code));
  }
  return [...new Set(codes)];
}

export function flowNote(flow: FlowRow, codes: string[]): string {
  if (flow.last_error) return `fault: ${flow.last_error}`;
  const parts: string[] = [];
  if (codes.length) parts.push(codes.slice(0, SHOWN).join(', ') + (codes.length > SHOWN ? ` +${codes.length - SHOWN} more` : ''));
  if (flow.replays) parts.push(`replayed ${flow.replays}x`);
  return parts.join('; ');
}
