/**
 * Lifecycle changes asked for at the command line: a recipient without EDI sets a status, a
 * supplier completes a suspended invoice. Each is written as an operator's request file,
 * claimed and run like any flow (operator channel: no report, not listed as a partner's
 * flow), so the same judge and plan decide it, the supplier receives its status file, and the
 * invoice's history says where every status came from.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { flowError, type FlowError } from '../errors/catalog.js';
import { writeFileAtomic } from '../emit/atomic.js';
import { requestBytes, type OperatorRequest } from '../formats/request.js';
import type { Hub } from '../hub.js';
import { parseErrors, type FlowRow, type InvoiceRow } from '../ledger/stores.js';
import type { Producer } from '../lifecycle/statuses.js';
import { CIRCUITS, validatorAt, type CircuitLevel } from '../lifecycle/circuits.js';
import type { Attachment } from '../model/invoice.js';
import { readFlowFile } from '../pipeline/read.js';
import { sourceOf } from './deliver.js';
import { processFile } from './run.js';

export interface RequestOutcome {
  flow?: FlowRow;
  errors: FlowError[];
}

/** Writes a request where only the hub writes; claiming it (a rename) is the caller's. */
export function writeRequest(hub: Hub, request: OperatorRequest): string {
  const file = path.join(hub.layout.var, 'requests', `${crypto.randomUUID()}.json`);
  writeFileAtomic(file, [requestBytes(request)]);
  return file;
}

/** Writes the request, claims it and runs it. */
async function runRequest(hub: Hub, request: OperatorRequest, label: string): Promise<RequestOutcome> {
  const file = writeRequest(hub, request);
  const flow = (await processFile(hub, file, { channel: 'operator', name: label }))!;
  const refused = [
    ...parseErrors(flow.errors),
    ...(await hub.ledger.invoices.ofFlow(flow.id)).flatMap((r) => parseErrors(r.errors)),
    ...(await hub.ledger.statusUpdates.ofFlow(flow.id)).flatMap((u) => parseErrors(u.errors)),
  ];
  if (refused.length) hub.log.warn(`${label}: refused: ${refused.map((e) => e.code).join(', ')}`, { flowId: flow.id, code: refused[0]!.code });
  else hub.log.info(`${label}: done`, { flowId: flow.id });
  return { flow, errors: refused };
}

/** Every circuit's level 1 and level 2 use the same statuses. */
const LEVELS: CircuitLevel[] = [CIRCUITS.flatMap((c) => c.levels).find((l) => l.level === 1)!, CIRCUITS.flatMap((c) => c.levels).find((l) => l.level === 2)!];
/** The level an invoice awaits (18: level 2; anything else is judged as level 1, and refused if not 13). */
const circuitLevelOf = (status: string | null): CircuitLevel => (status === LEVELS[1]!.pending ? LEVELS[1]! : LEVELS[0]!);

export interface StatusChange {
  status: string;
  motif?: string;
  comment?: string;
  mandate?: string;
  producer: Producer;
}

export function setStatus(hub: Hub, invoice: InvoiceRow, change: StatusChange): Promise<RequestOutcome> {
  const update = {
    position: 1,
    supplierId: invoice.supplier_id,
    recipientSiret: invoice.recipient_siret,
    number: invoice.number,
    invoiceDate: invoice.issue_date,
    status: change.status,
    complement: change.motif,
    comment: change.comment,
    motif: change.motif ?? change.comment,
    mandate: change.mandate,
  };
  return runRequest(hub, { factflowRequest: 1, action: 'status', producer: change.producer, updates: [update] }, `invoice status ${invoice.number} ${change.status}`);
}

const updateOf = (invoice: Pick<InvoiceRow, 'supplier_id' | 'recipient_siret' | 'number' | 'issue_date'>, status: string, position = 1) => ({
  position, supplierId: invoice.supplier_id, recipientSiret: invoice.recipient_siret, number: invoice.number, invoiceDate: invoice.issue_date, status,
});

export interface ValidationDecision {
  approve: boolean;
  /** The motif of a refusal (required: the supplier receives it). */
  reason?: string;
  comment?: string;
  /** The validator says the supplier named the wrong validator (ERREUR_…_SUR_VALIDEUR) rather than refusing. */
  wrongValidator?: boolean;
  /** Who acts; by default the validator the invoice awaits. */
  validator?: string;
}

/**
 * A validator approves or refuses a held invoice at the level it awaits, as a status request:
 * the judge checks the validator and the transition like a validator's status file.
 */
export async function decideValidation(hub: Hub, invoice: InvoiceRow, d: ValidationDecision): Promise<RequestOutcome> {
  const level = circuitLevelOf(invoice.status);
  const hold = (await hub.ledger.circuits.ofInvoices([invoice.id])).get(invoice.id);
  const status = d.approve ? level.validated : d.wrongValidator ? level.wrongValidator : level.refused;
  const producerId = d.validator ?? (hold && validatorAt(hold, level.level));
  const update = { ...updateOf(invoice, status), complement: d.reason, comment: d.comment, motif: d.reason ?? d.comment, producerId };
  const what = d.approve ? 'validate' : 'refuse';
  return runRequest(hub, { factflowRequest: 1, action: 'status', producer: 'validator', updates: [update] }, `invoice ${what} ${invoice.number}`);
}

/** The platform's declaration that held invoices' deadlines passed (ABSENCE_VALIDATION_n_HORS_DELAI). */
export function lapsedRequest(due: { level: number; supplier_id: string; recipient_siret: string; number: string; issue_date: string }[]): OperatorRequest {
  return { factflowRequest: 1, action: 'status', producer: 'platform', updates: due.map((h, i) => updateOf(h, (h.level === 2 ? LEVELS[1] : LEVELS[0])!.lapsed, i + 1)) };
}

/** Deadlines passed now, applied in this process (`factflow resume`, and tests); the daemon runs its own check. */
export async function applyDeadlines(hub: Hub, now = new Date().toISOString()): Promise<RequestOutcome | undefined> {
  const due = await hub.ledger.circuits.due(now, DEADLINE_BATCH);
  return due.length ? runRequest(hub, lapsedRequest(due), `validation deadline passed for ${due.length} invoice(s)`) : undefined;
}

/** Held invoices declared past their deadline per request (the rest wait for the next check). */
export const DEADLINE_BATCH = 500;

const MIME_OF_EXTENSION: Record<string, string> = { pdf: 'application/pdf', xml: 'application/xml', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', csv: 'text/csv', txt: 'text/plain', zip: 'application/zip' };

/**
 * The supplier completes a suspended invoice with new documents: the invoice as it was
 * deposited, with the new documents added, is judged like any resent invoice (the attachment
 * rules apply to the new documents) and, accepted, becomes 12, is delivered again
 * (Renvoi=Complétée), then 03.
 */
export async function completeInvoice(hub: Hub, invoice: InvoiceRow, files: string[], comment?: string): Promise<RequestOutcome> {
  const added: Attachment[] = [];
  for (const f of files) {
    let content: Buffer;
    try {
      content = fs.readFileSync(f);
    } catch (e) {
      return { errors: [flowError('INPUT_NOT_FOUND', { file: f, detail: (e as NodeJS.ErrnoException).code ?? String(e) })] };
    }
    const ext = path.extname(f).slice(1).toLowerCase();
    added.push({ type: '02', name: path.basename(f), mimeType: MIME_OF_EXTENSION[ext] ?? 'application/octet-stream', content });
  }
  const deposited = (await hub.ledger.flows.get(invoice.flow_id))!;
  const file = sourceOf(hub, deposited);
  if (!file) return { errors: [flowError('SYS_SOURCE_MISSING', { flowId: deposited.id })] };
  const original = readFlowFile(file, hub.settings, deposited.channel).invoices.find((i) => i.position === invoice.position);
  if (!original) return { errors: [flowError('SYS_SOURCE_MISSING', { flowId: deposited.id })] };
  const model = { ...original, position: 1, label: 'completion', attachments: [...original.attachments, ...added] };
  return runRequest(hub, { factflowRequest: 1, action: 'completion', invoice: model, comment }, `invoice complete ${invoice.number}: ${files.map((f) => path.basename(f)).join(', ')}`);
}
