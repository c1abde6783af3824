/**
 * The readable PDF a structured invoice travels with. Recipients' platforms take "the invoice
 * PDF" from PJ 01 when it is a PDF, otherwise from a PJ 02 whose name starts with `PJ00`; a
 * UBL or CII invoice has its XML as PJ 01, so unless the supplier already sent a `PJ00….pdf`
 * the hub renders one. A supplier's other PDFs (a delivery note, an annex) are not the invoice
 * and do not count.
 */
import type { Attachment, Invoice } from '../model/invoice.js';
import { renderInvoicePdf } from '../render/invoicePdf.js';

/** The pivot's limit on NomPJ. */
const MAX_NAME = 50;
const isXml = (a: Attachment) => /xml/i.test(a.mimeType) || /\.xml$/i.test(a.name);
const isPdf = (a: Attachment) => a.mimeType.toLowerCase() === 'application/pdf' || /\.pdf$/i.test(a.name);

/** The name of the PDF the hub adds to this invoice, or undefined when it needs none. */
export function renderedPdfName(inv: Invoice): string | undefined {
  const main = inv.attachments.find((a) => a.type === '01');
  // Structured invoices only: their PJ 01 is the XML (a mixed flow's is the supplier's PDF).
  if (!main || !isXml(main)) return undefined;
  if (inv.attachments.some((a) => a.type === '02' && /^PJ00/i.test(a.name) && isPdf(a))) return undefined;
  // Letters, digits, '-' and '_' only: safe in every platform's file store.
  const stem = inv.number.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '');
  return `PJ00${(stem || String(inv.position)).slice(0, MAX_NAME - 'PJ00'.length - '.pdf'.length)}.pdf`;
}

/** The rendered PDF as a PJ 02, or undefined when the invoice needs none. */
export function renderedPdf(inv: Invoice): Attachment | undefined {
  const name = renderedPdfName(inv);
  return name ? { type: '02', name, mimeType: 'application/pdf', content: renderInvoicePdf(inv) } : undefined;
}
