/**
 * The readable PDF the hub renders for structured invoices: real text (extracted back with
 * pdf.js), fonts embedded, A4, deterministic, paginated; and carried in the pivot as PJ 02
 * `PJ00….pdf` unless `renderPdf` is off.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PDFDict, PDFDocument, PDFName, PDFArray, PDFRef } from 'pdf-lib';
import { DEFAULTS, loadConfig } from '../src/config.js';
import { renderedPdfName } from '../src/emit/renderedPdf.js';
import type { Invoice } from '../src/model/invoice.js';
import { processFile } from '../src/app/run.js';
import { readFlowFile } from '../src/pipeline/read.js';
import { frenchAmount, frenchNumber } from '../src/render/french.js';
import { renderInvoicePdf } from '../src/render/invoicePdf.js';
import { unzipOne } from '../src/util/zip.js';
import { AIFE, closeHubs, fixture, hasShared, schemaErrors, tempDir, trackedHub } from './helpers.js';

afterEach(closeHubs);

const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');

/** The text of every page, one string per page (items joined by line breaks). */
async function pagesText(pdf: Buffer): Promise<string[]> {
  const doc = await pdfjs.getDocument({ data: new Uint8Array(pdf), disableFontFace: true, isEvalSupported: false, verbosity: 0 }).promise;
  try {
    const pages: string[] = [];
    for (let p = 1; p <= doc.numPages; p++) {
      const content = await (await doc.getPage(p)).getTextContent();
      pages.push(content.items.map((i) => ('str' in i ? i.str : '')).join('\n'));
    }
    return pages;
  } finally {
    await doc.destroy();
  }
}

const only = (file: string): Invoice => {
  const r = readFlowFile(file, DEFAULTS);
  expect(r.errors).toEqual([]);
  expect(r.invoices).toHaveLength(1);
  return r.invoices[0]!;
};

// Expected as a reader sees them, written by hand (not by the formatter under test).
const FIXTURES: [string, { number: string; supplier: string; recipient: string; totals: string[]; kind: string }][] = [
  [fixture('ubl', 'invoice-commune.xml'), { number: 'UBL-2026-001', supplier: '81234567800013', recipient: '21450001200015', totals: ['1 160,24 €', '232,05 €', '1 392,29 €'], kind: 'FACTURE' }],
  [fixture('ubl', 'creditnote-hospital.xml'), { number: 'AV-2026-001', supplier: '81234567800013', recipient: '26750000100016', totals: ['1 347,53 €', '269,51 €', '1 617,04 €'], kind: 'AVOIR' }],
  [fixture('cii', 'invoice-etat.xml'), { number: 'CII-2026-001', supplier: '81234567800013', recipient: '11000201100044', totals: ['1 218,07 €', '243,61 €', '1 461,68 €'], kind: 'FACTURE' }],
];

test.each(FIXTURES)('the PDF of %s holds its number, both parties’ identifiers and its totals as searchable text', async (file, want) => {
  const inv = only(file);
  const text = (await pagesText(renderInvoicePdf(inv))).join('\n');
  expect(text).toContain(want.kind);
  expect(text).toContain(want.number);
  expect(text).toContain(`SIRET : ${want.supplier}`);
  expect(text).toContain(`SIRET : ${want.recipient}`);
  for (const total of want.totals) expect(text).toContain(total);
  expect(text).toContain('Net à payer');
  expect(text).toContain('TVA : FR32812345678');
  expect(text).toContain('MARCHE-2026-7');
  expect(text).toContain('FR76 3000 6000 0112 3456 7890 189');
  expect(text).toContain('qui seule fait foi');
});

test('the UBL invoice shows its lines, references, payment and notes with French labels and accents', async () => {
  const text = (await pagesText(renderInvoicePdf(only(fixture('ubl', 'invoice-commune.xml'))))).join('\n');
  for (const s of ['REF-1', 'Article 2', '628,07', '20 %', 'Date d’émission', '02/11/2026', 'Échéance', '02/12/2026', 'N° de marché', 'Virement – code 30', 'Factflow synthetic invoice', '12 rue des Fournisseurs', '69001 Lyon']) {
    expect(text).toContain(s);
  }
});

test('the same invoice renders to the same bytes; A4 pages; no creation date', async () => {
  const inv = only(fixture('cii', 'invoice-etat.xml'));
  const a = renderInvoicePdf(inv);
  // Another invoice in between, with characters outside the base glyphs (its own font subsets).
  renderInvoicePdf({ ...inv, notes: ['Œuvre, Ÿ, ä, ß, ñ'] });
  const b = renderInvoicePdf(structuredClone(inv));
  expect(a.equals(b)).toBe(true);
  expect(a.subarray(0, 5).toString()).toBe('%PDF-');
  const doc = await PDFDocument.load(a, { updateMetadata: false });
  expect(doc.getPages().map((p) => [p.getWidth(), p.getHeight()])).toEqual([[595.28, 841.89]]);
  expect(doc.getCreationDate()).toBeUndefined();
  expect(doc.getTitle()).toBe('Facture CII-2026-001');
});

test('every font is embedded (FontFile2) and maps back to Unicode', async () => {
  const doc = await PDFDocument.load(renderInvoicePdf(only(fixture('ubl', 'invoice-commune.xml'))), { updateMetadata: false });
  const ctx = doc.context;
  const fonts = doc.getPages().flatMap((page) => {
    const dict = page.node.Resources()!.lookup(PDFName.of('Font'), PDFDict);
    return dict.entries().map(([, ref]) => ctx.lookup(ref as PDFRef, PDFDict));
  });
  expect(fonts.length).toBe(2);
  for (const font of fonts) {
    expect(font.get(PDFName.of('Subtype'))).toBe(PDFName.of('Type0'));
    expect(font.has(PDFName.of('ToUnicode'))).toBe(true);
    const cid = ctx.lookup(font.lookup(PDFName.of('DescendantFonts'), PDFArray).get(0), PDFDict);
    const descriptor = cid.lookup(PDFName.of('FontDescriptor'), PDFDict);
    expect(descriptor.has(PDFName.of('FontFile2')) || descriptor.has(PDFName.of('FontFile3'))).toBe(true);
    expect(String(descriptor.get(PDFName.of('FontName')))).toMatch(/^\/[A-Z]{6}\+DejaVuSans/);
  }
});

test('a 300-line invoice paginates: every line once, the table header on each page, the totals on the last page', async () => {
  const inv = only(fixture('ubl', 'invoice-commune.xml'));
  const lines = Array.from({ length: 300 }, (_, i) => ({ productRef: `L${i + 1}`, name: `Prestation n° ${i + 1}`, unitPrice: '2.00', quantity: '1', netAmount: '2.00', vatRate: '20' }));
  const big: Invoice = { ...inv, lines, totals: { net: '600.00', gross: '720.00', payable: '720.00' }, vat: [{ rate: '20', base: '600.00', amount: '120.00' }] };
  const pages = await pagesText(renderInvoicePdf(big));
  expect(pages.length).toBeGreaterThan(1);
  const all = pages.join('\n').split('\n');
  for (const n of [1, 150, 300]) expect(all.filter((s) => s === `L${n}`)).toHaveLength(1);
  for (const page of pages.filter((p) => /^L\d+$/m.test(p))) expect(page).toContain('Prix unitaire HT');
  expect(pages.at(-1)).toContain('720,00 €');
  expect(pages.at(-1)).toContain(`page ${pages.length}/${pages.length}`);
});

test('odd values do not break the rendering: empty fields, long words, characters the font lacks, control characters', async () => {
  const inv = only(fixture('ubl', 'invoice-commune.xml'));
  const empty: Invoice = { ...inv, number: '', type: '', lines: [], vat: [], notes: [], totals: { net: '', gross: '', payable: '' }, supplier: { idType: '', id: '', name: '', countryCode: '' }, recipient: { siret: '' }, paymentMeans: { code: '' } };
  expect((await pagesText(renderInvoicePdf(empty))).join('\n')).toContain('FACTURE');
  const odd: Invoice = { ...inv, supplier: { ...inv.supplier, name: 'Société\u0007 株式会社' }, notes: ['y'.repeat(2000)] };
  const text = (await pagesText(renderInvoicePdf(odd))).join('');
  expect(text).toContain('Société');
  // A word longer than a line is split across lines, not cut.
  const ys = (t: string) => t.replace(/[^y]/g, '').length;
  const without = (await pagesText(renderInvoicePdf({ ...odd, notes: [] }))).join('');
  expect(ys(text) - ys(without)).toBe(2000);
});

test('amounts are formatted from their decimal text, exactly', () => {
  expect(frenchAmount('1234567.891', 'EUR')).toBe('1 234 567,891 €');
  expect(frenchAmount('0.1', 'EUR')).toBe('0,10 €');
  expect(frenchAmount('-1200', 'EUR')).toBe('-1 200,00 €');
  expect(frenchAmount('9007199254740993.07', 'EUR')).toBe('9 007 199 254 740 993,07 €');
  expect(frenchAmount('12.5', 'USD')).toBe('12,50 $');
  expect(frenchNumber('0012.250')).toBe('12,250');
  expect(frenchNumber('abc')).toBe('abc');
});

test('the rendered PDF is named PJ00<number>.pdf within the pivot’s limits, and only for structured invoices without one', () => {
  const inv = only(fixture('ubl', 'creditnote-hospital.xml'));
  expect(renderedPdfName(inv)).toBe('PJ00AV-2026-001.pdf');
  expect(renderedPdfName({ ...inv, number: 'FA/2026:é 01' })).toBe('PJ00FA_2026_e_01.pdf');
  const long = renderedPdfName({ ...inv, number: 'X'.repeat(80) })!;
  expect(long.length).toBe(50);
  expect(renderedPdfName({ ...inv, number: '///' })).toBe(`PJ00${inv.position}.pdf`);
  const pdf = (name: string) => ({ type: '02' as const, name, mimeType: 'application/pdf', content: Buffer.from('%PDF-') });
  // A delivery note is not the invoice's PDF; a PJ00 PDF from the supplier is.
  expect(renderedPdfName({ ...inv, attachments: [...inv.attachments, pdf('bon-livraison.pdf')] })).toBe('PJ00AV-2026-001.pdf');
  expect(renderedPdfName({ ...inv, attachments: [...inv.attachments, pdf('PJ00facture.pdf')] })).toBeUndefined();
  // A mixed flow's PJ 01 is the supplier's PDF already.
  expect(renderedPdfName({ ...inv, attachments: [{ ...pdf('FA-1.pdf'), type: '01' }] })).toBeUndefined();
});

/** The attachments of a pivot: name, type, MIME type and the unzipped content. */
function attachments(pivotFile: string) {
  const xml = fs.readFileSync(pivotFile, 'utf8');
  return [...xml.matchAll(/<PJ NumOrdre="(\d+)">\s*<Contenu>([^<]*)<\/Contenu>\s*<NomPJ>([^<]*)<\/NomPJ>\s*<TypePJ>(\d+)<\/TypePJ>\s*<MimeTypePJ>([^<]*)<\/MimeTypePJ>/g)].map((m) => ({
    numOrdre: m[1],
    name: m[3],
    type: m[4],
    mime: m[5],
    content: unzipOne(Buffer.from(m[2]!, 'base64'), 1e8)!.content,
  }));
}

const pivotOf = (home: string, siret: string, flowId: string) => path.join(home, 'outbox', 'recipients', siret, `CPPFacturePivot_${flowId}.xml`);

test('end to end: a UBL credit note reaches its recipient with its rendered PDF as PJ 02; the pivot stays valid', async () => {
  const hub = await trackedHub();
  const flow = (await processFile(hub, fixture('ubl', 'creditnote-hospital.xml'), { copy: true }))!;
  expect(flow.state).toBe('IN_INTEGRE');
  const pivot = pivotOf(hub.layout.home, '26750000100016', flow.id);
  const pjs = attachments(pivot);
  expect(pjs.map((p) => [p.numOrdre, p.name, p.type, p.mime])).toEqual([
    ['1', 'AV-2026-001.xml', '01', 'application/xml'],
    ['2', 'PJ00AV-2026-001.pdf', '02', 'application/pdf'],
  ]);
  const rendered = pjs[1]!.content;
  expect(rendered.subarray(0, 4).toString()).toBe('%PDF');
  expect((await pagesText(rendered)).join('\n')).toContain('AV-2026-001');
  if (hasShared) expect(schemaErrors(path.join(AIFE, 'CPPFacturePivot_V2_02.xsd'), pivot)).toEqual([]);
});

test('with renderPdf=false the pivot carries the supplier’s documents only', async () => {
  const hub = await trackedHub({ renderPdf: false });
  const flow = (await processFile(hub, fixture('ubl', 'creditnote-hospital.xml'), { copy: true }))!;
  expect(flow.state).toBe('IN_INTEGRE');
  expect(attachments(pivotOf(hub.layout.home, '26750000100016', flow.id)).map((p) => p.name)).toEqual(['AV-2026-001.xml']);
});

test('renderPdf is on by default and read from FACTFLOW_RENDER_PDF or the config file', () => {
  const home = tempDir();
  expect(loadConfig(home, {}, {}).settings.renderPdf).toBe(true);
  expect(loadConfig(home, {}, { FACTFLOW_RENDER_PDF: 'false' }).settings.renderPdf).toBe(false);
  expect(loadConfig(home, {}, { FACTFLOW_RENDER_PDF: '0' }).origins.renderPdf).toBe('env');
  expect(() => loadConfig(home, {}, { FACTFLOW_RENDER_PDF: 'maybe' })).toThrow(/renderPdf from environment variable FACTFLOW_RENDER_PDF must be true or false/);
  fs.writeFileSync(path.join(home, 'factflow.config.json'), JSON.stringify({ renderPdf: false }));
  expect(loadConfig(home, {}, {}).settings.renderPdf).toBe(false);
});
