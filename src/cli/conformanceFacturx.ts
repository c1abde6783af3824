/**
 * The Factur-X part of `npm run conformance`: every corpus PDF through the hub's Factur-X reader,
 * beside what MANIFEST.tsv says it embeds (poppler's pdfdetach) and its profile (the spec id).
 *   manifest "no embedded invoice XML" or only a ZUGFeRD 1.0 CrossIndustryDocument → the hub must refuse it;
 *   manifest "<file>(CrossIndustryInvoice)"  → the hub must extract that file with that profile,
 *   or refuse it for a documented stricter reason (a damaged cross-reference table, an XMP
 *   level that contradicts the XML): counted apart, not as disagreements.
 * Schema verdicts are the profile's hub schema; the Schematron columns are shown, not judged.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ErrorCode } from '../errors/catalog.js';
import { readFacturx } from '../formats/facturxDocument.js';
import { DEFAULT_FACTURX_PROFILES, parseProfileRules, profileAccepted, profileOfGuideline } from '../formats/facturxProfiles.js';

export type FacturxAgreement = 'agree' | 'stricter' | 'DISAGREE';

export interface FacturxRow {
  file: string;
  manifestEmbedded: string;
  manifestProfile: string;
  manifestEn16931: string;
  hub: string;
  structuralWarnings: number;
  /** Whether the default accepted profiles take it on `depositDate`. */
  acceptedOn: 'yes' | 'no' | '-';
  agreement: FacturxAgreement;
}

/** Refusals stricter than pdfdetach's extraction, by design (see formats/pdf.ts and facturxDocument.ts). */
const STRICTER: readonly ErrorCode[] = ['PDF_UNREADABLE', 'FACTURX_PROFILE_MISMATCH'];

export function facturxConformance(corpusDir: string, depositDate = new Date().toISOString().slice(0, 10)): FacturxRow[] {
  const rules = parseProfileRules(DEFAULT_FACTURX_PROFILES);
  const manifest = fs.readFileSync(path.join(corpusDir, 'MANIFEST.tsv'), 'utf8').split('\n').filter((l) => l.startsWith('facturx-pdf/'));
  return manifest.map((line) => {
    const [file = '', embedded = '', specId = '', , en16931 = ''] = line.split('\t');
    const pdf = fs.readFileSync(path.join(corpusDir, 'examples', file));
    const read = readFacturx(pdf, 1, file, Number.MAX_SAFE_INTEGER);
    const expectedFile = /([\w-]+\.xml)\(CrossIndustryInvoice\)/.exec(embedded)?.[1];
    const expectedProfile = profileOfGuideline(specId.split(' | ').pop() ?? '');
    const code = read.ok ? undefined : read.errors[0]!.code;
    const extracted = read.extraction?.fileName;
    let agreement: FacturxAgreement;
    if (!expectedFile) agreement = code && ['PDF_UNREADABLE', 'FACTURX_NO_INVOICE', 'FACTURX_PROFILE_UNKNOWN'].includes(code) ? 'agree' : 'DISAGREE';
    else if (extracted === expectedFile && read.profile === expectedProfile) agreement = 'agree';
    else agreement = code && STRICTER.includes(code) ? 'stricter' : 'DISAGREE';
    const hub = read.ok ? `${extracted} ${read.profile}: schema ok` : `${extracted ? `${extracted} ${read.profile ?? '?'}: ` : ''}${code}`;
    return {
      file: file.slice('facturx-pdf/'.length),
      manifestEmbedded: embedded.replace(/^PDF: /, ''),
      manifestProfile: expectedProfile ?? (specId ? 'not Factur-X' : '-'),
      manifestEn16931: en16931.replace(/^EN16931-CII:/, '').split(' ')[0] || '-',
      hub,
      structuralWarnings: read.extraction?.structural.length ?? 0,
      acceptedOn: read.ok ? (profileAccepted(read.profile, depositDate, rules).accepted ? 'yes' : 'no') : '-',
      agreement,
    };
  });
}
