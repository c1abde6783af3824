/**
 * A Factur-X PDF as one invoice: extract the embedded XML (facturx.ts), take its profile from
 * its guideline id (BT-24), check the XMP declares the same one, validate the XML against that
 * profile's hub schema, map it as CII, and make the PDF itself the invoice's type-01 attachment.
 */
import { officialFindings, type OfficialRules } from '../rules/official.js';
import type { Settings } from '../config.js';
import { flowError, type FlowError } from '../errors/catalog.js';
import type { Invoice } from '../model/invoice.js';
import { safeName } from '../util/paths.js';
import { parseXml } from '../xml/parse.js';
import { schema } from '../xml/schemas.js';
import { readCii } from './cii.js';
import { extractFacturx, FACTURX_LIMITS, guidelineNode, type FacturxExtraction, type FacturxLimits } from './facturx.js';
import { PROFILE_SCHEMA, profileOfGuideline, type FacturxProfile } from './facturxProfiles.js';

/** The caps of the settings, as extraction limits. */
export const facturxLimitsOf = (s: Pick<Settings, 'pdfMaxObjects' | 'pdfMaxDepth' | 'pdfMaxXmlBytes' | 'pdfMaxXmpBytes'>): FacturxLimits => ({
  ...FACTURX_LIMITS,
  maxObjects: s.pdfMaxObjects,
  maxDepth: s.pdfMaxDepth,
  maxStreamBytes: s.pdfMaxXmlBytes,
  maxXmpBytes: s.pdfMaxXmpBytes,
});

const CII_NS = 'urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100';

/** BT-24 read from the bytes, to pick the schema before parsing; checked against the tree after. */
const GUIDELINE = /<(?:[\w.-]+:)?GuidelineSpecifiedDocumentContextParameter\b[^>]*>\s*<(?:[\w.-]+:)?ID\b[^>]*>([^<]*)</;

export type FacturxRead = { ok: true; invoice: Invoice; extraction: FacturxExtraction; profile: FacturxProfile } | { ok: false; errors: FlowError[]; extraction?: FacturxExtraction; profile?: FacturxProfile };

export function readFacturx(pdf: Buffer, position: number, label: string, maxAttachmentBytes: number, limits: FacturxLimits = FACTURX_LIMITS, rules?: OfficialRules): FacturxRead {
  // The PDF is the invoice's attachment: past that size it would be refused anyway, so it is not parsed.
  if (pdf.length > maxAttachmentBytes) return { ok: false, errors: [flowError('PDF_TOO_COMPLEX', { detail: `it is ${pdf.length} bytes, over the ${maxAttachmentBytes}-byte limit of an invoice document` })] };
  const extraction = extractFacturx(pdf, limits);
  if (!extraction.ok) return extraction;
  const id = GUIDELINE.exec(extraction.xml.subarray(0, 64 * 1024).toString('utf8'))?.[1]?.trim() ?? '';
  const profile = profileOfGuideline(id);
  const refuse = (errors: FlowError[]): FacturxRead => ({ ok: false, errors, extraction, profile });
  if (!profile) return refuse([flowError('FACTURX_PROFILE_UNKNOWN', { id: id || '(none)' })]);
  // A level the XMP states but the hub cannot name is a mismatch too; an absent one is only a warning.
  const level = extraction.xmp?.conformanceLevel;
  if (level && extraction.xmpProfile !== profile) {
    return refuse([flowError('FACTURX_PROFILE_MISMATCH', { xmp: extraction.xmpProfile ?? 'unknown', level, id, profile })]);
  }
  const parsed = parseXml(extraction.xml, (root, ns) => {
    if (root !== 'CrossIndustryInvoice' || ns !== CII_NS) {
      return [flowError('FLOW_UNKNOWN_FORMAT', { found: `a PDF whose ${extraction.fileName} has root element ${ns ? `{${ns}}` : ''}${root}, not a CII CrossIndustryInvoice` })];
    }
    return schema(PROFILE_SCHEMA[profile]);
  }, (root) => {
    // The regex read what the schema was chosen by; the tree says what the document declares.
    const declared = guidelineNode(root)?.text.trim() ?? '';
    if (declared !== id) return flowError('FACTURX_PROFILE_UNKNOWN', { id: declared || '(none)' });
    const invoice = readCii(root, extraction.xml, position, label, maxAttachmentBytes);
    invoice.attachments[0] = { type: '01', name: `${safeName(invoice.number || 'facture', 46)}.pdf`, mimeType: 'application/pdf', content: pdf };
    invoice.facturx = { profile, structural: extraction.structural };
    if (rules) invoice.official = officialFindings(root, 'CII', `FX-${profile}`, rules);
    return invoice;
  });
  if (!parsed.ok) return refuse(parsed.errors);
  if ('code' in parsed.value) return refuse([parsed.value]);
  return { ok: true, invoice: parsed.value, extraction, profile };
}
