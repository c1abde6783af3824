/**
 * Factur-X / ZUGFeRD: from a PDF's bytes to its embedded invoice XML, the profile its XMP
 * declares, and the structural PDF/A-3 findings a JavaScript hub can make — or coded errors.
 * Pure (no I/O); every decoded stream and walked structure is capped (see pdf.ts).
 *
 * Structural findings are warnings, never refusals: full PDF/A-3 conformance needs a dedicated
 * validator (veraPDF), and a hub that refused on a subset of it would refuse for the wrong
 * reasons. What does refuse: an unreadable, encrypted or over-complex PDF, no invoice inside,
 * several with none designated.
 */
import type { PDFDict, PDFRawStream, PDFContext } from 'pdf-lib';
import { pdfLib } from './pdfLib.js';
import { flowError, type FlowError } from '../errors/catalog.js';
import { child, parseXml, type XNode } from '../xml/parse.js';
import { profileOfXmpLevel, type FacturxProfile } from './facturxProfiles.js';
import { dictOf, PDF_LIMITS, pdfHeaderAt, readPdf, resolve, streamBytes, textOf, type PdfFile, type PdfLimits, type PdfProblem } from './pdf.js';

export interface FacturxLimits extends PdfLimits {
  /** Inflated size of the XMP metadata stream. */
  maxXmpBytes: number;
  /** Depth of the embedded-files name tree. */
  maxNameTreeDepth: number;
}

export const FACTURX_LIMITS: FacturxLimits = { ...PDF_LIMITS, maxXmpBytes: 1024 * 1024, maxNameTreeDepth: 16 };

/** The embedded file names that hold the invoice (Factur-X, ZUGFeRD 2, XRechnung in a PDF). */
export const INVOICE_FILE_NAMES = ['factur-x.xml', 'zugferd-invoice.xml', 'ZUGFeRD-invoice.xml', 'xrechnung.xml'];
const isInvoiceName = (n: string) => INVOICE_FILE_NAMES.some((k) => k.toLowerCase() === n.toLowerCase());

export type StructuralCheck = 'header' | 'damaged-objects' | 'xmp' | 'pdfa-part' | 'fx-schema' | 'conformance-level' | 'af' | 'af-relationship';

/** A structural PDF/A-3 or Factur-X metadata departure (a warning). */
export interface StructuralFinding {
  check: StructuralCheck;
  detail: string;
}

export interface XmpFacts {
  pdfaPart?: string;
  conformanceLevel?: string;
  documentFileName?: string;
  /** Whether a pdfaExtension schema describes the fx: (or ZUGFeRD) namespace. */
  fxSchema: boolean;
}

export interface FacturxExtraction {
  ok: true;
  xml: Buffer;
  fileName: string;
  /** The profile the XMP declares, when it names one the hub knows. */
  xmpProfile?: FacturxProfile;
  xmp?: XmpFacts;
  /** Every embedded file's name, the invoice's included. */
  embedded: string[];
  structural: StructuralFinding[];
}

export type FacturxResult = FacturxExtraction | { ok: false; errors: FlowError[] };

const fail = (error: FlowError): FacturxResult => ({ ok: false, errors: [error] });

function problemError(p: PdfProblem): FlowError {
  if (p.problem === 'encrypted') return flowError('PDF_ENCRYPTED');
  if (p.problem === 'too-complex') return flowError('PDF_TOO_COMPLEX', { detail: p.detail });
  return flowError('PDF_UNREADABLE', { detail: p.detail });
}

export function extractFacturx(bytes: Uint8Array, limits: FacturxLimits = FACTURX_LIMITS): FacturxResult {
  const read = readPdf(bytes, limits);
  if (!read.ok) return fail(problemError(read));
  const pdf = read.pdf;
  if (pdf.encrypted) return fail(flowError('PDF_ENCRYPTED'));
  if (!pdf.catalog) return fail(flowError('PDF_UNREADABLE', { detail: 'no document catalog' }));
  const structural: StructuralFinding[] = [];
  if (pdfHeaderAt(bytes) !== 0) structural.push({ check: 'header', detail: 'the %PDF- header is not at the first byte' });
  if (pdf.damagedObjects) structural.push({ check: 'damaged-objects', detail: `${pdf.damagedObjects} object(s) could not be parsed and were skipped` });

  const files = embeddedFiles(pdf, limits);
  if ('error' in files) return fail(files.error);
  const xmpRead = readXmp(pdf, limits, structural);
  if ('error' in xmpRead) return fail(xmpRead.error);
  const xmp = xmpRead.xmp;

  const names = files.list.map((f) => f.name);
  const invoices = files.list.filter((f) => isInvoiceName(f.name));
  const designated = xmp?.documentFileName ? files.list.find((f) => f.name === xmp.documentFileName) : undefined;
  let chosen = designated;
  if (!chosen) {
    if (invoices.length === 0) return fail(flowError('FACTURX_NO_INVOICE', { files: names.length ? names.join(', ') : 'none' }));
    if (new Set(invoices.map((f) => f.name)).size > 1) return fail(flowError('FACTURX_AMBIGUOUS', { files: invoices.map((f) => f.name).join(', '), designated: xmp?.documentFileName ?? 'none' }));
    chosen = invoices[invoices.length - 1]!;
    if (xmp?.documentFileName) structural.push({ check: 'xmp', detail: `XMP fx:DocumentFileName "${xmp.documentFileName}" names no embedded file` });
  }
  if (!chosen.stream) return fail(flowError('FACTURX_NO_INVOICE', { files: `${chosen.name} (a file specification without embedded data)` }));
  const content = streamBytes(pdf, chosen.stream, limits.maxStreamBytes);
  if (!content.ok) return fail(problemError(content));

  checkAssociatedFile(pdf, chosen.spec, structural);
  let xmpProfile: FacturxProfile | undefined;
  if (xmp) {
    if (xmp.pdfaPart !== '3') structural.push({ check: 'pdfa-part', detail: xmp.pdfaPart ? `XMP pdfaid:part is ${xmp.pdfaPart}, not 3` : 'XMP has no pdfaid:part' });
    if (!xmp.fxSchema) structural.push({ check: 'fx-schema', detail: 'XMP has no PDF/A extension schema for the fx: namespace' });
    if (!xmp.conformanceLevel) structural.push({ check: 'conformance-level', detail: 'XMP has no fx:ConformanceLevel' });
    else if (!(xmpProfile = profileOfXmpLevel(xmp.conformanceLevel))) structural.push({ check: 'conformance-level', detail: `XMP fx:ConformanceLevel "${xmp.conformanceLevel}" is not a profile the hub knows` });
  }
  return { ok: true, xml: content.bytes, fileName: chosen.name, xmpProfile, xmp, embedded: names, structural };
}

/* ----------------------------------------------------------------- embedded files */

interface Embedded {
  name: string;
  spec: PDFDict;
  stream?: PDFRawStream;
}

/** Files of the /EmbeddedFiles name tree and of the catalog's /AF array, each once. */
function embeddedFiles(pdf: PdfFile, limits: FacturxLimits): { list: Embedded[] } | { error: FlowError } {
  const ctx = pdf.context;
  const specs: { key?: string; spec: PDFDict }[] = [];
  const seenNodes = new Set<PDFDict>();
  const tooDeep = () => ({ error: flowError('PDF_TOO_COMPLEX', { detail: `the embedded-files name tree is deeper than ${limits.maxNameTreeDepth} or loops` }) });
  // Name trees are walked with a visited set and a depth cap: a Kids entry may point back up.
  const walk = (node: PDFDict | undefined, depth: number): boolean => {
    if (!node) return true;
    if (depth > limits.maxNameTreeDepth || seenNodes.has(node)) return false;
    seenNodes.add(node);
    const names = resolve(ctx, node.get(pdfLib().PDFName.of('Names')));
    if (names instanceof pdfLib().PDFArray) {
      const items = names.asArray();
      for (let i = 0; i + 1 < items.length; i += 2) {
        const spec = dictOf(ctx, items[i + 1]);
        if (spec) specs.push({ key: textOf(ctx, items[i]), spec });
        if (specs.length > limits.maxObjects) return false;
      }
    }
    const kids = resolve(ctx, node.get(pdfLib().PDFName.of('Kids')));
    if (kids instanceof pdfLib().PDFArray) for (const kid of kids.asArray()) if (!walk(dictOf(ctx, kid), depth + 1)) return false;
    return true;
  };
  const namesDict = dictOf(ctx, pdf.catalog!.get(pdfLib().PDFName.of('Names')));
  if (!walk(dictOf(ctx, namesDict?.get(pdfLib().PDFName.of('EmbeddedFiles'))), 0)) return tooDeep();
  const af = resolve(ctx, pdf.catalog!.get(pdfLib().PDFName.of('AF')));
  if (af instanceof pdfLib().PDFArray) for (const o of af.asArray()) {
    const spec = dictOf(ctx, o);
    if (spec) specs.push({ spec });
  }
  const unique = new Map<PDFDict, Embedded>();
  for (const { key, spec } of specs) {
    if (unique.has(spec)) continue;
    const name = textOf(ctx, spec.get(pdfLib().PDFName.of('UF'))) ?? textOf(ctx, spec.get(pdfLib().PDFName.of('F'))) ?? key ?? '';
    const ef = dictOf(ctx, spec.get(pdfLib().PDFName.of('EF')));
    const stream = resolve(ctx, ef?.get(pdfLib().PDFName.of('UF')) ?? ef?.get(pdfLib().PDFName.of('F')));
    unique.set(spec, { name, spec, stream: stream instanceof pdfLib().PDFRawStream ? stream : undefined });
  }
  return { list: [...unique.values()] };
}

/** PDF/A-3 wants the invoice among the catalog's associated files, with its relationship. */
function checkAssociatedFile(pdf: PdfFile, spec: PDFDict, structural: StructuralFinding[]): void {
  const ctx = pdf.context;
  const af = resolve(ctx, pdf.catalog!.get(pdfLib().PDFName.of('AF')));
  const listed = af instanceof pdfLib().PDFArray && af.asArray().some((o) => dictOf(ctx, o) === spec);
  if (!listed) structural.push({ check: 'af', detail: af instanceof pdfLib().PDFArray ? 'the invoice file is not in the catalog /AF array' : 'the catalog has no /AF array' });
  const relationship = textOf(ctx, spec.get(pdfLib().PDFName.of('AFRelationship')));
  if (!relationship) structural.push({ check: 'af-relationship', detail: 'the invoice file specification has no /AFRelationship' });
  else if (!['Data', 'Source', 'Alternative'].includes(relationship)) structural.push({ check: 'af-relationship', detail: `/AFRelationship is /${relationship}, not Data, Source or Alternative` });
}

/* ------------------------------------------------------------------------- XMP */

const XMP_FIELDS = { part: 'pdfaPart', ConformanceLevel: 'conformanceLevel', DocumentFileName: 'documentFileName' } as const;

/** The catalog's XMP packet: the facts the hub checks, read as element text or attributes. */
function readXmp(pdf: PdfFile, limits: FacturxLimits, structural: StructuralFinding[]): { xmp?: XmpFacts } | { error: FlowError } {
  const ctx: PDFContext = pdf.context;
  const stream = resolve(ctx, pdf.catalog!.get(pdfLib().PDFName.of('Metadata')));
  if (!(stream instanceof pdfLib().PDFRawStream)) {
    structural.push({ check: 'xmp', detail: 'the catalog has no XMP metadata stream' });
    return {};
  }
  const bytes = streamBytes(pdf, stream, limits.maxXmpBytes);
  if (!bytes.ok) {
    if (bytes.problem === 'too-complex') return { error: problemError(bytes) };
    structural.push({ check: 'xmp', detail: 'the XMP metadata stream cannot be decoded' });
    return {};
  }
  const parsed = parseXml(bytes.bytes, undefined, (root) => {
    const facts: XmpFacts = { fxSchema: false };
    const visit = (n: XNode, depth: number) => {
      if (depth > 64) return;
      for (const [attr, value] of Object.entries(n.attrs)) setFact(facts, attr, value);
      if (n.children.length === 0) setFact(facts, n.name, n.text.trim());
      // pdfaSchema:namespaceURI names the namespace an extension schema describes.
      const uri = n.name === 'namespaceURI' ? n.text : n.attrs.namespaceURI;
      if (uri && /CrossIndustryDocument/.test(uri)) facts.fxSchema = true;
      for (const c of n.children) visit(c, depth + 1);
    };
    visit(root, 0);
    return facts;
  });
  if (!parsed.ok) {
    structural.push({ check: 'xmp', detail: `the XMP metadata is not well-formed XML (${parsed.errors[0]!.message})` });
    return {};
  }
  return { xmp: parsed.value };
}

function setFact(facts: XmpFacts, name: string, value: string): void {
  const field = XMP_FIELDS[name as keyof typeof XMP_FIELDS];
  if (field && value && facts[field] === undefined) facts[field] = value;
}

/** The element holding BT-24 in a parsed CII tree. */
export const guidelineNode = (root: XNode): XNode | undefined =>
  child(child(child(root, 'ExchangedDocumentContext'), 'GuidelineSpecifiedDocumentContextParameter'), 'ID');
