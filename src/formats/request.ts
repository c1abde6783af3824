/**
 * Operators' requests: what `factflow invoice status` and `factflow invoice complete` ask for,
 * written as a small JSON file that is claimed and run like any flow (operator channel only),
 * so that the same judge and plan decide it and a crash resumes it like any other flow.
 * A status request carries the updates; a completion request carries the invoice as it was
 * deposited with the new documents added (byte arrays as base64).
 */
import { flowError } from '../errors/catalog.js';
import type { Producer } from '../lifecycle/statuses.js';
import type { Invoice } from '../model/invoice.js';
import type { ReadResult } from '../pipeline/readResult.js';
import type { StatusUpdate } from './statut.js';

export type OperatorRequest =
  | { factflowRequest: 1; action: 'status'; producer: Producer; updates: Omit<StatusUpdate, 'where'>[] }
  | { factflowRequest: 1; action: 'completion'; invoice: Invoice; comment?: string };

const BYTES = '$base64';

export function requestBytes(request: OperatorRequest): Buffer {
  return Buffer.from(JSON.stringify(request, (_, v: unknown) => (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data) ? { [BYTES]: Buffer.from((v as { data: number[] }).data).toString('base64') } : v)));
}

export function readRequest(bytes: Buffer): ReadResult {
  let request: OperatorRequest;
  try {
    request = JSON.parse(bytes.toString('utf8'), (_, v: unknown) => (v && typeof v === 'object' && BYTES in v ? Buffer.from((v as Record<string, string>)[BYTES]!, 'base64') : v)) as OperatorRequest;
  } catch (e) {
    return { kind: 'request', invoices: [], errors: [flowError('FLOW_UNKNOWN_FORMAT', { found: `an unreadable request (${(e as Error).message})` })] };
  }
  if (request.action === 'status') {
    return { kind: 'request', invoices: [], errors: [], statuses: { producer: request.producer, updates: request.updates.map((u) => ({ ...u, where: {} })), acks: [] } };
  }
  return { kind: 'request', invoices: [request.invoice], errors: [], completionComment: request.comment };
}
