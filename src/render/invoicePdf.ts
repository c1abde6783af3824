/**
 * A readable PDF of a structured invoice, for recipients whose platforms and approval steps
 * need one: parties, references, lines, VAT breakdown, totals, payment details and notes, in
 * French, on A4 pages, with the text in embedded fonts (searchable and copyable). Pure: the
 * same invoice gives the same bytes (no dates, no random ids). The structured invoice remains
 * the original; the footer of every page says so.
 */
import Big from 'big.js';
import type { Invoice, InvoiceLine, PostalAddress } from '../model/invoice.js';
import { pivotPaymentCode } from '../model/paymentMeans.js';
import { A4, BLACK, Canvas, type Rgb } from './canvas.js';
import { CADRE_LABELS, frenchAmount, frenchDate, frenchNumber, frenchRate, PAYMENT_LABELS, TYPE_LABELS } from './french.js';
import { pdfLib } from './libs.js';
import { writePdf } from './pdfWriter.js';

const M = 42; // page margin
const RIGHT = A4.width - M;
const CONTENT = RIGHT - M;
const FOOTER_TOP = A4.height - 40;
const BOTTOM = FOOTER_TOP - 16; // content stops here
const GREY: Rgb = [0.42, 0.44, 0.48];
const RULE: Rgb = [0.8, 0.82, 0.85];
const ACCENT: Rgb = [0.11, 0.25, 0.45];
const BAND: Rgb = [0.93, 0.95, 0.97];

const FOOTER =
  'Représentation lisible produite par la plateforme factflow à partir de la facture structurée déposée par le fournisseur, qui seule fait foi.';

/** Columns of the line table: label, width, alignment. */
const COLUMNS = [
  { label: 'Référence', w: 76, align: 'left' },
  { label: 'Désignation', w: 178, align: 'left' },
  { label: 'Quantité', w: 54, align: 'right' },
  { label: 'Prix unitaire HT', w: 84, align: 'right' },
  { label: 'Montant HT', w: 76, align: 'right' },
  { label: 'TVA', w: CONTENT - 76 - 178 - 54 - 84 - 76, align: 'right' },
] as const;

export function renderInvoicePdf(inv: Invoice): Buffer {
  const c = new Canvas();
  const layout = new Layout(c, inv);
  layout.header();
  layout.lines();
  layout.summary();
  layout.payment();
  layout.notes();
  layout.footers();
  const context = pdfLib().PDFContext.create();
  const kind = TYPE_LABELS[inv.type] ?? 'Facture';
  const { root, info } = c.finish(context, { title: `${kind} ${inv.number}`, subject: `${kind} ${inv.number} de ${inv.supplier.name} à ${inv.recipient.name ?? inv.recipient.siret}` });
  return writePdf(context, root, info);
}

class Layout {
  private y = M;
  private readonly currency: string;

  constructor(private readonly c: Canvas, private readonly inv: Invoice) {
    this.currency = inv.currency;
    c.newPage();
  }

  /** Room for `h` points, on a new page when the current one is full. */
  private need(h: number): void {
    if (this.y + h <= BOTTOM) return;
    this.c.newPage();
    this.y = M;
  }

  private heading(title: string): void {
    this.need(40);
    this.y += 14;
    this.c.text(title.toUpperCase(), M, this.y, 8.5, { style: 'bold', color: ACCENT });
    this.y += 13;
    this.c.rule(M, this.y, RIGHT, ACCENT, 0.8);
    this.y += 6;
  }

  header(): void {
    const { c, inv } = this;
    const kind = TYPE_LABELS[inv.type] ?? (inv.type ? `Facture (type ${inv.type})` : 'Facture');
    // Left: the supplier, as on its letterhead.
    let left = this.y;
    for (const line of c.wrap(inv.supplier.name, CONTENT - 190, 15, 'bold').slice(0, 3)) {
      c.text(line, M, left, 15, { style: 'bold' });
      left += 18;
    }
    left += 4;
    for (const line of addressLines(inv.supplier.address)) {
      c.text(c.fit(line, 280, 9), M, left, 9, { color: GREY });
      left += 12;
    }
    left += 2;
    for (const [label, value] of partyIds(inv.supplier.idType, inv.supplier.id, inv.supplier.vatNumber)) {
      c.text(`${label} : ${value}`, M, left, 9);
      left += 12;
    }
    // Right: what the document is.
    c.text(kind.toUpperCase(), RIGHT, this.y, 20, { style: 'bold', color: ACCENT, align: 'right' });
    let right = this.y + 28;
    const facts: [string, string | undefined][] = [
      ['N°', inv.number],
      ['Date d’émission', frenchDate(inv.issueDate)],
      ['Date de livraison', inv.deliveryDate && frenchDate(inv.deliveryDate)],
      ['Échéance', inv.dueDate && frenchDate(inv.dueDate)],
      ['Devise', inv.currency],
    ];
    for (const [label, value] of facts) {
      if (!value) continue;
      const style = label === 'N°' ? 'bold' : 'regular';
      c.text(c.fit(value, 150, 9.5, style), RIGHT, right, 9.5, { style, align: 'right' });
      c.text(label, RIGHT - 120, right, 9.5, { color: GREY, align: 'right' });
      right += 13;
    }
    this.y = Math.max(left, right) + 14;

    // The recipient, in a box on the right like an envelope window.
    const boxX = M + CONTENT / 2 + 10;
    const boxW = RIGHT - boxX;
    const name = c.wrap(inv.recipient.name ?? '', boxW - 20, 9.5, 'bold').slice(0, 3);
    const rows: { text: string; bold?: boolean; grey?: boolean }[] = [
      ...name.map((text) => ({ text, bold: true })),
      ...addressLines(inv.recipient.address).map((text) => ({ text, grey: true })),
      { text: `SIRET : ${inv.recipient.siret}` },
    ];
    if (inv.recipient.serviceName) rows.push({ text: `Service : ${inv.recipient.serviceName}` });
    const boxH = 22 + rows.filter((r) => r.text).length * 12 + 6;
    c.rect(boxX, this.y, boxW, boxH, BAND);
    c.text('DESTINATAIRE', boxX + 10, this.y + 7, 7.5, { style: 'bold', color: ACCENT });
    let ry = this.y + 21;
    for (const r of rows) {
      if (!r.text) continue;
      c.text(c.fit(r.text, boxW - 20, 9.5, r.bold ? 'bold' : 'regular'), boxX + 10, ry, 9.5, { style: r.bold ? 'bold' : 'regular', color: r.grey ? GREY : BLACK });
      ry += 12;
    }
    // Left of the box: the references the recipient routes and checks the invoice by.
    const refs: [string, string | undefined][] = [
      ['Code service', inv.recipient.serviceCode],
      ['N° d’engagement', inv.engagementNumber],
      ['N° de marché', inv.contractNumber],
      ['Cadre de facturation', inv.cadre],
    ];
    c.text('RÉFÉRENCES', M, this.y + 7, 7.5, { style: 'bold', color: ACCENT });
    let ly = this.y + 21;
    const refW = boxX - M - 20;
    for (const [label, value] of refs) {
      if (!value) continue;
      c.text(label, M, ly, 9, { color: GREY });
      c.text(c.fit(value, refW - 105, 9), M + 105, ly, 9);
      ly += 12;
    }
    const cadre = CADRE_LABELS[inv.cadre];
    if (cadre) {
      for (const line of c.wrap(cadre, refW - 105, 7.5)) {
        c.text(line, M + 105, ly, 7.5, { color: GREY });
        ly += 9.5;
      }
    }
    this.y = Math.max(this.y + boxH, ly) + 6;
  }

  private tableHeader(): void {
    const { c } = this;
    c.rect(M, this.y, CONTENT, 18, BAND);
    let x = M;
    for (const col of COLUMNS) {
      c.text(col.label, col.align === 'right' ? x + col.w - 4 : x + 4, this.y + 5.5, 8, { style: 'bold', color: ACCENT, align: col.align });
      x += col.w;
    }
    this.y += 22;
  }

  lines(): void {
    this.heading(this.inv.lines.length > 1 ? `Lignes (${this.inv.lines.length})` : 'Ligne');
    this.tableHeader();
    for (const line of this.inv.lines) this.line(line);
  }

  private line(l: InvoiceLine): void {
    const { c } = this;
    const size = 8.5;
    const ref = l.productRef && l.productRef !== l.name ? l.productRef : '';
    const designation = [l.name ?? (ref ? '' : l.productRef), l.description].filter(Boolean).join(' – ');
    const wrapped = c.wrap(designation || '—', COLUMNS[1].w - 8, size).slice(0, 4);
    const h = wrapped.length * 11 + 5;
    if (this.y + h > BOTTOM) {
      this.c.newPage();
      this.y = M;
      this.tableHeader();
    }
    const cells = [ref, '', frenchNumber(l.quantity), frenchNumber(l.unitPrice, 2), frenchNumber(l.netAmount, 2), frenchRate(l.vatRate)];
    let x = M;
    for (const [i, col] of COLUMNS.entries()) {
      if (i === 1) wrapped.forEach((w, k) => c.text(w, x + 4, this.y + k * 11, size));
      else c.text(c.fit(cells[i]!, col.w - 8, size), col.align === 'right' ? x + col.w - 4 : x + 4, this.y, size, { align: col.align });
      x += col.w;
    }
    this.y += h;
    c.rule(M, this.y - 3, RIGHT, RULE, 0.4);
  }

  /** VAT breakdown on the left, totals on the right. */
  summary(): void {
    const { c, inv } = this;
    const vatRows = inv.vat.length;
    const totals = this.totals();
    this.need(Math.max(vatRows * 13 + 30, totals.length * 15 + 20) + 30);
    this.y += 14;
    const top = this.y;
    // VAT breakdown.
    const cols = [M, M + 60, M + 150, M + 240];
    c.text('TVA', M, top, 8.5, { style: 'bold', color: ACCENT });
    c.rect(M, top + 14, 240, 16, BAND);
    c.text('Taux', cols[0]! + 4, top + 18.5, 8, { style: 'bold', color: ACCENT });
    c.text('Base HT', cols[2]! - 4, top + 18.5, 8, { style: 'bold', color: ACCENT, align: 'right' });
    c.text('Montant TVA', cols[3]! - 4, top + 18.5, 8, { style: 'bold', color: ACCENT, align: 'right' });
    let y = top + 35;
    for (const t of inv.vat) {
      c.text(frenchRate(t.rate), cols[0]! + 4, y, 8.5);
      c.text(frenchAmount(t.base, this.currency), cols[2]! - 4, y, 8.5, { align: 'right' });
      c.text(frenchAmount(t.amount, this.currency), cols[3]! - 4, y, 8.5, { align: 'right' });
      y += 13;
    }
    if (!vatRows) {
      c.text('Aucune TVA', cols[0]! + 4, y, 8.5, { color: GREY });
      y += 13;
    }
    // Totals.
    const tx = M + CONTENT / 2 + 30;
    let ty = top;
    for (const [label, value, strong] of totals) {
      if (strong) {
        c.rect(tx - 8, ty - 5, RIGHT - tx + 8, 22, ACCENT);
        c.text(label, tx, ty, 10.5, { style: 'bold', color: [1, 1, 1] });
        c.text(value, RIGHT - 8, ty, 10.5, { style: 'bold', color: [1, 1, 1], align: 'right' });
        ty += 24;
      } else {
        c.text(label, tx, ty, 9.5, { color: GREY });
        c.text(value, RIGHT - 8, ty, 9.5, { align: 'right', style: label === 'Total TTC' ? 'bold' : 'regular' });
        ty += 15;
        c.rule(tx - 8, ty - 3.5, RIGHT, RULE, 0.4);
      }
    }
    this.y = Math.max(y, ty) + 4;
  }

  private totals(): [string, string, boolean][] {
    const { inv } = this;
    const rows: [string, string, boolean][] = [
      ['Total HT', frenchAmount(inv.totals.net, this.currency), false],
      ['Total TVA', frenchAmount(vatTotal(inv), this.currency), false],
      ['Total TTC', frenchAmount(inv.totals.gross, this.currency), false],
    ];
    if (inv.totals.prepaid && inv.totals.prepaid.trim() !== '' && !isZero(inv.totals.prepaid)) rows.push(['Déjà payé', frenchAmount(inv.totals.prepaid, this.currency), false]);
    rows.push(['Net à payer', frenchAmount(inv.totals.payable, this.currency), true]);
    return rows;
  }

  payment(): void {
    const { c, inv } = this;
    const code = pivotPaymentCode(inv.paymentMeans.code) ?? inv.paymentMeans.code;
    const label = PAYMENT_LABELS[code];
    const bank = inv.supplier.bankAccount;
    const rows: [string, string | undefined][] = [
      ['Mode de paiement', [label, inv.paymentMeans.label && inv.paymentMeans.label !== label ? inv.paymentMeans.label : undefined, code && `code ${code}`].filter(Boolean).join(' – ') || undefined],
      ['Échéance', inv.dueDate && frenchDate(inv.dueDate)],
      [bank?.type === 'RIB' ? 'RIB' : 'IBAN', bank?.account && (bank.type === 'IBAN' ? groupIban(bank.account) : bank.account)],
      ['Établissement', bank?.institution],
      ['Titulaire du compte', bank?.holder],
    ];
    if (!rows.some(([, v]) => v)) return;
    this.heading('Paiement');
    for (const [k, v] of rows) {
      if (!v) continue;
      this.need(13);
      c.text(k, M, this.y, 9, { color: GREY });
      c.text(c.fit(v, CONTENT - 130, 9), M + 130, this.y, 9);
      this.y += 12.5;
    }
  }

  notes(): void {
    const notes = this.inv.notes ?? [];
    if (!notes.length) return;
    this.heading('Notes');
    for (const note of notes) {
      for (const line of this.c.wrap(note, CONTENT, 9)) {
        this.need(12);
        this.c.text(line, M, this.y, 9);
        this.y += 12;
      }
      this.y += 4;
    }
  }

  /** The footer of every page, once the page count is known. */
  footers(): void {
    const { c, inv } = this;
    const count = c.pageCount;
    const kind = TYPE_LABELS[inv.type] ?? 'Facture';
    const lines = c.wrap(FOOTER, CONTENT - 165, 7);
    for (let page = 0; page < count; page++) {
      c.rule(M, FOOTER_TOP - 4, RIGHT, RULE, 0.4, page);
      lines.forEach((line, i) => c.text(line, M, FOOTER_TOP + i * 9, 7, { color: GREY, page }));
      c.text(c.fit(`${kind} ${inv.number}`, 100, 7) + ` – page ${page + 1}/${count}`, RIGHT, FOOTER_TOP, 7, { color: GREY, align: 'right', page });
    }
  }
}

const ID_LABELS: Record<string, string> = { '1': 'SIRET', '2': 'N° TVA intracommunautaire', '3': 'Identifiant hors UE', '4': 'RIDET', '5': 'N° TAHITI' };
const idLabel = (idType: string) => ID_LABELS[idType] ?? 'Identifiant';

function partyIds(idType: string, id: string, vat: string | undefined): [string, string][] {
  const ids: [string, string][] = [[idLabel(idType), id]];
  if (vat && vat !== id) ids.push(['TVA', vat]);
  return ids;
}

function addressLines(a: PostalAddress | undefined): string[] {
  if (!a) return [];
  const city = [a.postcode, a.city].filter(Boolean).join(' ');
  return [...a.lines, city && a.countryCode && a.countryCode !== 'FR' ? `${city} (${a.countryCode})` : city].filter(Boolean);
}

/** An IBAN in groups of four, as printed on bank details. */
const groupIban = (iban: string) => iban.replace(/\s+/g, '').replace(/(.{4})(?=.)/g, '$1 ');

const isDecimal = (s: string) => /^[+-]?(\d+\.?\d*|\.\d+)$/.test(s.trim());
const isZero = (s: string) => isDecimal(s) && new Big(s.trim()).eq(0);

/** The VAT total: the breakdown's sum, or TTC − HT when there is no breakdown; exact decimals. */
function vatTotal(inv: Invoice): string | undefined {
  if (inv.vat.length && inv.vat.every((t) => isDecimal(t.amount))) return inv.vat.reduce((sum, t) => sum.plus(t.amount.trim()), new Big(0)).toFixed();
  if (isDecimal(inv.totals.gross) && isDecimal(inv.totals.net)) return new Big(inv.totals.gross.trim()).minus(inv.totals.net.trim()).toFixed();
  return undefined;
}
