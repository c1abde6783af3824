/**
 * The files of a flow, as the API and the console hand them out: its original, its integration
 * report, its pivots (one per recipient, or per invoice), and an invoice's readable PDF (the
 * supplier's own PDF when it sent one, else the one the hub renders).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Hub } from '../hub.js';
import type { FlowRow, InvoiceRow } from '../ledger/stores.js';
import type { Invoice } from '../model/invoice.js';
import { flowInvoices } from '../pipeline/flowInvoices.js';
import { storedBytesReader } from '../pipeline/storedBytes.js';
import { renderedPdf } from '../emit/renderedPdf.js';
import { sourceOf } from './deliver.js';

export interface Document {
  name: string;
  contentType: string;
  bytes: Buffer;
}

const typeOf = (name: string): string =>
  /\.xml$/i.test(name) ? 'application/xml' : /\.pdf$/i.test(name) ? 'application/pdf' : /\.json$/i.test(name) ? 'application/json' : /\.zip$/i.test(name) ? 'application/zip' : /\.(tar\.gz|tgz)$/i.test(name) ? 'application/gzip' : 'application/octet-stream';

const fileDocument = (file: string, name = path.basename(file)): Document | undefined =>
  fs.existsSync(file) ? { name, contentType: typeOf(name), bytes: fs.readFileSync(file) } : undefined;

/** The file as it came in (from the spool, archive/ or failed/). */
export function originalOf(hub: Hub, flow: FlowRow): Document | undefined {
  const source = sourceOf(hub, flow);
  return source ? fileDocument(source, flow.file_name) : undefined;
}

/** The integration report as written to outbox/reports/ (XML or JSON). */
export async function reportFileOf(hub: Hub, flow: FlowRow, format: 'xml' | 'json'): Promise<Document | undefined> {
  const out = (await hub.ledger.flows.outputs(flow.id)).find((o) => o.kind === 'report' && o.path.endsWith(`.${format}`));
  return out ? fileDocument(out.path) : undefined;
}

/** The pivot files of a flow, each with the recipient it went to, in invoice order. */
export function pivotsOf(invoices: InvoiceRow[]): { path: string; recipient: string; name: string }[] {
  const seen = new Map<string, { path: string; recipient: string; name: string }>();
  for (const i of invoices) if (i.pivot_path && !seen.has(i.pivot_path)) seen.set(i.pivot_path, { path: i.pivot_path, recipient: i.recipient_siret, name: path.basename(i.pivot_path) });
  return [...seen.values()];
}

export const pivotDocument = (pivot: { path: string }): Document | undefined => fileDocument(pivot.path);

/** An invoice's readable PDF: its own PDF (a mixed flow's PJ 01, a supplier's PJ00…pdf), else rendered. */
export function readableOf(hub: Hub, flow: FlowRow, invoice: InvoiceRow): Document | undefined {
  const source = sourceOf(hub, flow);
  if (!source) return undefined;
  const invoices = flowInvoices(source, hub.settings, flow.channel);
  let inv: Invoice | undefined;
  try {
    inv = invoices.at(invoice.position);
  } finally {
    invoices.close();
  }
  if (!inv) return undefined;
  const own = inv.attachments.find((a) => (a.type === '01' || /^PJ00/i.test(a.name)) && (a.mimeType.toLowerCase() === 'application/pdf' || /\.pdf$/i.test(a.name)));
  const pdf = own ?? renderedPdf(inv);
  if (!pdf) return undefined;
  const stored = storedBytesReader();
  try {
    return { name: /\.pdf$/i.test(pdf.name) ? pdf.name : `${pdf.name}.pdf`, contentType: 'application/pdf', bytes: stored.bytesOf(pdf) };
  } finally {
    stored.close();
  }
}
