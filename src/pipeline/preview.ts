/**
 * `factflow validate`: the report processing would produce, computed by the same stages
 * (detect, parse, schema, map, rules, routing, duplicates) without writing anything: no
 * ledger row, no output, the file left where it is.
 */
import fs from 'node:fs';
import crypto from 'node:crypto';
import path from 'node:path';
import { flowError } from '../errors/catalog.js';
import { flowStateOf, invoiceLineReport, STATUS_OF_STATE, type IntegrationReport } from '../emit/report.js';
import type { Hub } from '../hub.js';
import { earlierSameContent } from '../ledger/flows.js';
import { judgeStatusFlow, statusLineReport } from '../lifecycle/inbound.js';
import { judgeInvoices, localDate } from './decide.js';
import { readFlowFile, type ReadResult } from './read.js';

export function previewReport(hub: Hub, file: string): IntegrationReport {
  const bytes = fs.readFileSync(file);
  const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
  const now = new Date().toISOString();
  const earlier = earlierSameContent(hub.db, sha256);
  const read: ReadResult = earlier
    ? { invoices: [], errors: [flowError('FLOW_DUPLICATE', { sha256, earlierFlowId: earlier.id })] }
    : readFlowFile(file, hub.settings);
  const decisions = judgeInvoices(hub, read, localDate(now));
  const lines = read.kind === 'statut' && read.root && !read.errors.length ? judgeStatusFlow(hub.db, read.root).lines : [];
  const state = flowStateOf(read.errors, [...decisions, ...lines].map((d) => ({ status: d.errors.length ? 'REJECTED' : 'ACCEPTED' })));
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
    invoices: decisions.map(({ invoice: i, errors }) =>
      invoiceLineReport({ label: i.label, number: i.number, supplier: i.supplier.id, recipient: i.recipient.siret, serviceCode: i.recipient.serviceCode, engagement: i.engagementNumber, errors }),
    ),
    ...(lines.length ? { statusUpdates: lines.map(statusLineReport) } : {}),
  };
}
