/**
 * Deterministic synthetic flows for the crash test and the benchmarks: the same seed always
 * gives the same bytes. Invoices are addressed to the recipients of fixtures/directory.
 */
import { escapeXml } from '../xml/write.js';

/** mulberry32: a small seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SynthRecipient {
  siret: string;
  name: string;
  service?: string;
  engagement?: boolean;
}

/** Recipients of the fixture directory, with what each requires. */
export const FIXTURE_RECIPIENTS: SynthRecipient[] = [
  { siret: '21450001200015', name: 'COMMUNE DE SAINT-EXEMPLE' },
  { siret: '26750000100016', name: 'CENTRE HOSPITALIER DE DEMONSTRATION', service: 'TECHNIQUE' },
  { siret: '11000201100044', name: 'ETAT', service: 'SGAMI-SUD', engagement: true },
];

export const SYNTH_SUPPLIER = { siret: '81234567800013', name: 'ACME FOURNITURES SAS' };

export interface MixedFlowSpec {
  seed: number;
  /** Distinguishes flows: goes into every invoice number. */
  flowTag: string;
  invoices: number;
  linesPerInvoice?: number;
  pdfBytes?: number;
  recipients?: SynthRecipient[];
  issueDate?: string;
}

/** Pseudo-PDF bytes of the given size (random but reproducible, so it does not compress away). */
export function fakePdf(size: number, rand: () => number): Buffer {
  const head = Buffer.from('%PDF-1.4\n');
  const tail = Buffer.from('\n%%EOF\n');
  const body = Buffer.alloc(Math.max(0, size - head.length - tail.length));
  for (let i = 0; i < body.length; i++) body[i] = 32 + Math.floor(rand() * 90);
  return Buffer.concat([head, body, tail]);
}

const money = (cents: number) => (cents / 100).toFixed(2);

/** Amounts that satisfy the deposit rules: lines add up to HT, VAT = HT x 20 %. */
function amounts(rand: () => number, lines: number) {
  const lineCents = Array.from({ length: lines }, () => 100 + Math.floor(rand() * 100_000));
  const ht = lineCents.reduce((a, b) => a + b, 0);
  const vat = Math.round(ht * 0.2);
  return { lineCents, ht, vat, ttc: ht + vat };
}

export function* mixedFlowChunks(spec: MixedFlowSpec): Generator<string> {
  const rand = prng(spec.seed);
  const recipients = spec.recipients ?? FIXTURE_RECIPIENTS;
  const lines = spec.linesPerInvoice ?? 3;
  const pdf = fakePdf(spec.pdfBytes ?? 2048, rand).toString('base64');
  yield `<?xml version="1.0" encoding="UTF-8"?>
<CPPFactureMixte>
<Enveloppe><EnveloppeUnitaire NumOrdre="1"><Parametres>
<ParametreIndiv NumOrdre="0001"><Code>DtPrd</Code><Valeurparametre>2026-11-03</Valeurparametre></ParametreIndiv>
<ParametreIndiv NumOrdre="0002"><Code>IdFlx</Code><Valeurparametre>${escapeXml(spec.flowTag)}</Valeurparametre></ParametreIndiv>
</Parametres><Partenaires><Recepteur><Id>FFL001</Id></Recepteur><Emetteur><Id>ACM001</Id></Emetteur></Partenaires></EnveloppeUnitaire></Enveloppe>
<CPPFactures Compteur="${spec.invoices}">
`;
  for (let n = 1; n <= spec.invoices; n++) {
    const r = recipients[Math.floor(rand() * recipients.length)]!;
    const a = amounts(rand, lines);
    const number = `${spec.flowTag}-${n}`.slice(-20);
    yield `<CPPFactureMixteUnitaire NumOrdre="${n}">
<Fournisseur><TypeIdentifiant>1</TypeIdentifiant><Identifiant>${SYNTH_SUPPLIER.siret}</Identifiant><RaisonSociale>${SYNTH_SUPPLIER.name}</RaisonSociale><CodePays>FR</CodePays></Fournisseur>
<Debiteur><TypeIdentifiant>1</TypeIdentifiant><Identifiant>${r.siret}</Identifiant><Nom>${r.name}</Nom>${r.service ? `<CodeService>${r.service}</CodeService>` : ''}</Debiteur>
<DonneesFacture><Id>${escapeXml(number)}</Id><Type>380</Type><Cadre>A1</Cadre><DateEmissionFacture>${spec.issueDate ?? '2026-11-02'}</DateEmissionFacture>
<ModePaiement><Code>30</Code></ModePaiement><Devise>EUR</Devise>
<Montants><MontantHT>${money(a.ht)}</MontantHT><MontantTTC>${money(a.ttc)}</MontantTTC><MontantNetAPayer>${money(a.ttc)}</MontantNetAPayer></Montants>
<TVAS><TVA><Taux>20</Taux><BaseHt>${money(a.ht)}</BaseHt><MontantTVA>${money(a.vat)}</MontantTVA></TVA></TVAS>
${r.engagement ? `<Engagement><NumeroEngagement>EJ${n}</NumeroEngagement></Engagement>` : ''}
<Lignes>${a.lineCents.map((c, i) => `<Ligne NumOrdre="${i + 1}"><ReferenceProduit>P${i + 1}</ReferenceProduit><PrixUnitaire>${money(c)}</PrixUnitaire><Quantite>1</Quantite><MontantHT>${money(c)}</MontantHT><TauxTVA>20</TauxTVA></Ligne>`).join('')}</Lignes>
</DonneesFacture>
<PJ NumOrdre="1"><Contenu>${pdf}</Contenu><NomPJ>${escapeXml(number)}.pdf</NomPJ><TypePJ>01</TypePJ><MimeTypePJ>application/pdf</MimeTypePJ></PJ>
</CPPFactureMixteUnitaire>
`;
  }
  yield '</CPPFactures>\n</CPPFactureMixte>\n';
}

export const mixedFlow = (spec: MixedFlowSpec): string => [...mixedFlowChunks(spec)].join('');
