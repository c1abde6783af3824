/**
 * `factflow validate`: the report processing would produce, computed by the same stages
 * (detect, parse, schema, map, rules, routing, duplicates) without writing anything: no
 * ledger row, no output, the file left where it is.
 */
import fs from 'node:fs';
import crypto from 'node:crypto';
import path from 'node:path';
import { flowError } from '../errors/catalog.js';
import { flowStateOf, STATUS_OF_STATE, type IntegrationReport } from '../emit/report.js';
import { holdsInvoiceStatuses, readStatusUpdates } from '../formats/statut.js';
import type { Hub } from '../hub.js';
import { sql } from '../ledger/flows.js';
import { judgeStatusUpdates } from '../lifecycle/inbound.js';
import { judgeInvoices, localDate } from './decide.js';
import { readFlow, type ReadResult } from './read.js';

export function previewReport(hub: Hub, file: string): IntegrationReport {
  const bytes = fs.readFileSync(file);
  const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
  const now = new Date().toISOString();
  const earlier = sql(hub.db, "SELECT id FROM flows WHERE sha256 = ? AND duplicate_of IS NULL AND stage <> 'CLAIMING' ORDER BY received_at LIMIT 1").get(sha256) as { id: string } | undefined;
  let read: ReadResult = earlier
    ? { invoices: [], errors: [flowError('FLOW_DUPLICATE', { sha256, earlierFlowId: earlier.id })] }
    : bytes.length > hub.settings.maxFlowBytes
      ? { invoices: [], errors: [flowError('FLOW_TOO_LARGE', { size: bytes.length, limit: hub.settings.maxFlowBytes })] }
      : readFlow(bytes, hub.settings);
  if (read.kind === 'statut' && read.root && !holdsInvoiceStatuses(read.root)) {
    read = { ...read, errors: [flowError('FLOW_UNSUPPORTED_FORMAT', { kind: 'CPPStatut/CPPFluxStatuts (flow statuses are sent by the hub, not received)' })] };
  }
  const decisions = judgeInvoices(hub, read, '', localDate(now));
  const updates = read.kind === 'statut' && read.root && !read.errors.length ? judgeStatusUpdates(hub.db, readStatusUpdates(read.root), 'recipient') : [];
  const state = flowStateOf(read.errors, [...decisions, ...updates].map((d) => ({ status: d.errors.length ? 'REJECTED' : 'ACCEPTED' })));
  return {
    flowId: '(validation only)',
    file: path.basename(file),
    sha256,
    kind: read.kind,
    receivedAt: now,
    state,
    statusCode: STATUS_OF_STATE[state],
    ...(earlier ? { duplicateOf: earlier.id } : {}),
    errors: read.errors,
    invoices: decisions.map(({ invoice: i, errors }) => ({
      label: i.label,
      number: i.number,
      supplier: i.supplier.id,
      recipient: i.recipient.siret,
      ...(i.recipient.serviceCode ? { serviceCode: i.recipient.serviceCode } : {}),
      ...(i.engagementNumber ? { engagement: i.engagementNumber } : {}),
      status: errors.length ? 'REJECTED' : 'ACCEPTED',
      errors,
    })),
    ...(updates.length
      ? {
          statusUpdates: updates.map(({ update: u, errors }) => ({
            label: `NumOrdre ${u.position}`,
            number: u.number,
            supplier: u.supplierId,
            recipient: u.recipientSiret,
            requestedStatus: u.status,
            status: errors.length ? ('REJECTED' as const) : ('ACCEPTED' as const),
            errors,
          })),
        }
      : {}),
  };
}
