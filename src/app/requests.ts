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
import type { Attachment } from '../model/invoice.js';
import { readFlowFile } from '../pipeline/read.js';
import { sourceOf } from './deliver.js';
import { processFile } from './run.js';

export interface RequestOutcome {
  flow?: FlowRow;
  errors: FlowError[];
}

/** Writes the request where only the hub writes, claims it (a rename) and runs it. */
async function runRequest(hub: Hub, request: OperatorRequest, label: string): Promise<RequestOutcome> {
  const file = path.join(hub.layout.var, 'requests', `${crypto.randomUUID()}.json`);
  writeFileAtomic(file, [requestBytes(request)]);
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
