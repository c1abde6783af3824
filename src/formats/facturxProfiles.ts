/**
 * Factur-X / ZUGFeRD profiles: how the XML names one (BT-24, the guideline id), how the PDF's
 * XMP names it (fx:ConformanceLevel), which hub schema checks it, and which profiles the hub
 * accepts on a given deposit date (the `facturxProfiles` setting).
 */

export type FacturxProfile = 'MINIMUM' | 'BASICWL' | 'BASIC' | 'EN16931' | 'EXTENDED' | 'XRECHNUNG';

export const PROFILES: readonly FacturxProfile[] = ['MINIMUM', 'BASICWL', 'BASIC', 'EN16931', 'EXTENDED', 'XRECHNUNG'];

/** Guideline ids (BT-24), exact. The colon spellings are Factur-X 1.0's, still found in old PDFs. */
const GUIDELINES: Record<string, FacturxProfile> = {
  'urn:factur-x.eu:1p0:minimum': 'MINIMUM',
  'urn:factur-x.eu:1p0:basicwl': 'BASICWL',
  'urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic': 'BASIC',
  'urn:cen.eu:en16931:2017:compliant:factur-x.eu:1p0:basic': 'BASIC',
  'urn:cen.eu:en16931:2017': 'EN16931',
  'urn:cen.eu:en16931:2017:compliant:factur-x.eu:1p0:en16931': 'EN16931',
  'urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended': 'EXTENDED',
  'urn:cen.eu:en16931:2017:compliant:factur-x.eu:1p0:extended': 'EXTENDED',
  // The French CTC extension of EXTENDED (reform.md): an EXTENDED Factur-X.
  'urn:cen.eu:en16931:2017#conformant#urn.cpro.gouv.fr:1p0:extended-ctc-fr': 'EXTENDED',
};

/** XRechnung's ids carry its version: matched by prefix. */
const XRECHNUNG = /^urn:cen\.eu:en16931:2017#compliant#urn:(xoev-de:kosit:standard:xrechnung|xeinkauf\.de:kosit:xrechnung)_/;

export function profileOfGuideline(id: string): FacturxProfile | undefined {
  return GUIDELINES[id.trim()] ?? (XRECHNUNG.test(id.trim()) ? 'XRECHNUNG' : undefined);
}

/** fx:ConformanceLevel values: "BASIC WL", "EN 16931", ZUGFeRD 2.0's "COMFORT" (= EN 16931). */
export function profileOfXmpLevel(level: string): FacturxProfile | undefined {
  const key = level.toUpperCase().replace(/[\s_-]/g, '');
  if (key === 'COMFORT') return 'EN16931';
  return (PROFILES as readonly string[]).includes(key) ? (key as FacturxProfile) : undefined;
}

/** The hub schema of each profile; XRechnung is an EN 16931 CIUS and uses that one. */
export const PROFILE_SCHEMA = {
  MINIMUM: 'facturx-minimum',
  BASICWL: 'facturx-basicwl',
  BASIC: 'facturx-basic',
  EN16931: 'facturx-en16931',
  EXTENDED: 'facturx-extended',
  XRECHNUNG: 'facturx-en16931',
} as const satisfies Record<FacturxProfile, string>;

/* ---------------------------------------------------------------- accepted profiles */

/** One accepted profile, optionally only for deposits strictly before `until` (YYYY-MM-DD). */
export interface ProfileRule {
  profile: FacturxProfile;
  until?: string;
}

/**
 * The 2026 rules: MINIMUM is not an invoice (absent); BASIC WL only for deposits before
 * 1 September 2027 (FNFE note V1.4.0 §2.1); XRechnung is German, not accepted.
 */
export const DEFAULT_FACTURX_PROFILES = 'BASIC,EN16931,EXTENDED,BASICWL<2027-09-01';

/** Parses the setting: comma-separated profiles, each optionally `<YYYY-MM-DD`. Throws on a bad entry. */
export function parseProfileRules(setting: string): ProfileRule[] {
  return setting.split(',').map((s) => s.trim()).filter(Boolean).map((entry) => {
    const m = /^([A-Za-z0-9 ]+?)\s*(?:<\s*(\d{4}-\d{2}-\d{2}))?$/.exec(entry);
    const profile = m && profileOfXmpLevel(m[1]!);
    if (!m || !profile) throw new Error(`facturxProfiles: "${entry}" is not PROFILE or PROFILE<YYYY-MM-DD (profiles: ${PROFILES.join(', ')}).`);
    return m[2] ? { profile, until: m[2] } : { profile };
  });
}

export type Acceptance = { accepted: true } | { accepted: false; why: string };

/** Whether a profile is accepted for a deposit on `depositDate` (YYYY-MM-DD). */
export function profileAccepted(profile: FacturxProfile, depositDate: string, rules: ProfileRule[]): Acceptance {
  const rule = rules.find((r) => r.profile === profile);
  if (!rule) return { accepted: false, why: `accepted profiles: ${rules.map((r) => (r.until ? `${r.profile} (before ${r.until})` : r.profile)).join(', ') || 'none'}` };
  if (rule.until && depositDate >= rule.until) return { accepted: false, why: `it was accepted for deposits before ${rule.until}; this one is dated ${depositDate}` };
  return { accepted: true };
}
