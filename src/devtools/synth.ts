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

export interface StructuredSpec {
  seed: number;
  number: string;
  recipient?: SynthRecipient;
  lines?: number;
  issueDate?: string;
  /** Bytes of an embedded PDF (AdditionalDocumentReference / AdditionalReferencedDocument). */
  attachmentBytes?: number;
  /** Pads the document with line notes up to about this size (benchmarks: ~20 KB invoices). */
  targetBytes?: number;
}

/** The notes the French rules require (BR-FR-05): recovery costs, late payment penalties, early payment discount. */
const FRENCH_NOTES: [string, string][] = [
  ['PMT', 'Indemnité forfaitaire pour frais de recouvrement : 40 EUR'],
  ['PMD', 'Pénalités de retard : trois fois le taux d’intérêt légal'],
  ['AAB', 'Pas d’escompte pour paiement anticipé'],
];

/** A UBL 2.1 invoice (or credit note) that satisfies the deposit rules and the hub schema. */
export function ublInvoice(spec: StructuredSpec & { creditNote?: boolean }): string {
  const rand = prng(spec.seed);
  const r = spec.recipient ?? FIXTURE_RECIPIENTS[0]!;
  const a = amounts(rand, spec.lines ?? 3);
  const root = spec.creditNote ? 'CreditNote' : 'Invoice';
  const lineTag = spec.creditNote ? 'CreditNoteLine' : 'InvoiceLine';
  const qty = spec.creditNote ? 'CreditedQuantity' : 'InvoicedQuantity';
  const pad = spec.targetBytes ? Math.max(0, Math.floor((spec.targetBytes - 3000) / a.lineCents.length) - 400) : 0;
  const attachment = spec.attachmentBytes
    ? `<cac:AdditionalDocumentReference><cbc:ID>BL-${escapeXml(spec.number)}</cbc:ID><cbc:DocumentDescription>BON_LIVRAISON</cbc:DocumentDescription><cac:Attachment><cbc:EmbeddedDocumentBinaryObject mimeCode="application/pdf" filename="bon-livraison.pdf">${fakePdf(spec.attachmentBytes, rand).toString('base64')}</cbc:EmbeddedDocumentBinaryObject></cac:Attachment></cac:AdditionalDocumentReference>`
    : '';
  return `<?xml version="1.0" encoding="UTF-8"?>
<${root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:${root}-2" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
<cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID><cbc:ProfileID>S1</cbc:ProfileID>
<cbc:ID>${escapeXml(spec.number)}</cbc:ID>
<cbc:IssueDate>${spec.issueDate ?? '2026-11-02'}</cbc:IssueDate>
${spec.creditNote ? '<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>' : '<cbc:DueDate>2026-12-02</cbc:DueDate>\n<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>'}
<cbc:Note>Factflow synthetic invoice</cbc:Note>${FRENCH_NOTES.map(([code, text]) => `<cbc:Note>#${code}#${text}</cbc:Note>`).join('')}
<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
${r.service ? `<cbc:BuyerReference>${r.service}</cbc:BuyerReference>` : ''}
${r.engagement ? `<cac:OrderReference><cbc:ID>EJ-${escapeXml(spec.number)}</cbc:ID></cac:OrderReference>` : ''}
${spec.creditNote ? `<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>AV-${escapeXml(spec.number)}</cbc:ID><cbc:IssueDate>2026-10-01</cbc:IssueDate></cac:InvoiceDocumentReference></cac:BillingReference>` : ''}
<cac:ContractDocumentReference><cbc:ID>MARCHE-2026-7</cbc:ID></cac:ContractDocumentReference>
${attachment}
<cac:AccountingSupplierParty><cac:Party><cbc:EndpointID schemeID="0009">${SYNTH_SUPPLIER.siret}</cbc:EndpointID>
<cac:PartyIdentification><cbc:ID schemeID="0009">${SYNTH_SUPPLIER.siret}</cbc:ID></cac:PartyIdentification>
<cac:PostalAddress><cbc:StreetName>12 rue des Fournisseurs</cbc:StreetName><cbc:CityName>Lyon</cbc:CityName><cbc:PostalZone>69001</cbc:PostalZone><cac:Country><cbc:IdentificationCode>FR</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
<cac:PartyTaxScheme><cbc:CompanyID>FR32812345678</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
<cac:PartyLegalEntity><cbc:RegistrationName>${SYNTH_SUPPLIER.name}</cbc:RegistrationName><cbc:CompanyID schemeID="0002">812345678</cbc:CompanyID></cac:PartyLegalEntity>
</cac:Party></cac:AccountingSupplierParty>
<cac:AccountingCustomerParty><cac:Party><cbc:EndpointID schemeID="0009">${r.siret}</cbc:EndpointID>
<cac:PartyIdentification><cbc:ID schemeID="0009">${r.siret}</cbc:ID></cac:PartyIdentification>
<cac:PostalAddress><cbc:CityName>Saint-Exemple</cbc:CityName><cac:Country><cbc:IdentificationCode>FR</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
<cac:PartyLegalEntity><cbc:RegistrationName>${escapeXml(r.name)}</cbc:RegistrationName><cbc:CompanyID schemeID="0002">${r.siret.slice(0, 9)}</cbc:CompanyID></cac:PartyLegalEntity>
</cac:Party></cac:AccountingCustomerParty>
<cac:PaymentMeans><cbc:PaymentMeansCode>58</cbc:PaymentMeansCode><cac:PayeeFinancialAccount><cbc:ID>FR7630006000011234567890189</cbc:ID></cac:PayeeFinancialAccount></cac:PaymentMeans>
<cac:TaxTotal><cbc:TaxAmount currencyID="EUR">${money(a.vat)}</cbc:TaxAmount>
<cac:TaxSubtotal><cbc:TaxableAmount currencyID="EUR">${money(a.ht)}</cbc:TaxableAmount><cbc:TaxAmount currencyID="EUR">${money(a.vat)}</cbc:TaxAmount><cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>20</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal>
</cac:TaxTotal>
<cac:LegalMonetaryTotal><cbc:LineExtensionAmount currencyID="EUR">${money(a.ht)}</cbc:LineExtensionAmount><cbc:TaxExclusiveAmount currencyID="EUR">${money(a.ht)}</cbc:TaxExclusiveAmount><cbc:TaxInclusiveAmount currencyID="EUR">${money(a.ttc)}</cbc:TaxInclusiveAmount><cbc:PayableAmount currencyID="EUR">${money(a.ttc)}</cbc:PayableAmount></cac:LegalMonetaryTotal>
${a.lineCents.map((c, i) => `<cac:${lineTag}><cbc:ID>${i + 1}</cbc:ID>${pad ? `<cbc:Note>${'Prestation détaillée. '.repeat(Math.ceil(pad / 22)).slice(0, pad)}</cbc:Note>` : ''}<cbc:${qty} unitCode="C62">1</cbc:${qty}><cbc:LineExtensionAmount currencyID="EUR">${money(c)}</cbc:LineExtensionAmount><cac:Item><cbc:Name>Article ${i + 1}</cbc:Name><cac:SellersItemIdentification><cbc:ID>REF-${i + 1}</cbc:ID></cac:SellersItemIdentification><cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>20</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item><cac:Price><cbc:PriceAmount currencyID="EUR">${money(c)}</cbc:PriceAmount></cac:Price></cac:${lineTag}>`).join('\n')}
</${root}>
`;
}

/** A CII D16B invoice that satisfies the deposit rules and the hub schema. */
export function ciiInvoice(spec: StructuredSpec): string {
  const rand = prng(spec.seed);
  const r = spec.recipient ?? FIXTURE_RECIPIENTS[0]!;
  const a = amounts(rand, spec.lines ?? 3);
  const date = (spec.issueDate ?? '2026-11-02').replace(/-/g, '');
  const attachment = spec.attachmentBytes
    ? `<ram:AdditionalReferencedDocument><ram:IssuerAssignedID>ANNEXE-1</ram:IssuerAssignedID><ram:TypeCode>916</ram:TypeCode><ram:Name>DOCUMENT_ANNEXE</ram:Name><ram:AttachmentBinaryObject mimeCode="application/pdf" filename="annexe.pdf">${fakePdf(spec.attachmentBytes, rand).toString('base64')}</ram:AttachmentBinaryObject></ram:AdditionalReferencedDocument>`
    : '';
  return `<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100" xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
<rsm:ExchangedDocumentContext><ram:BusinessProcessSpecifiedDocumentContextParameter><ram:ID>S1</ram:ID></ram:BusinessProcessSpecifiedDocumentContextParameter><ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>urn:cen.eu:en16931:2017</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter></rsm:ExchangedDocumentContext>
<rsm:ExchangedDocument><ram:ID>${escapeXml(spec.number)}</ram:ID><ram:TypeCode>380</ram:TypeCode><ram:IssueDateTime><udt:DateTimeString format="102">${date}</udt:DateTimeString></ram:IssueDateTime>${FRENCH_NOTES.map(([code, text]) => `<ram:IncludedNote><ram:Content>${text}</ram:Content><ram:SubjectCode>${code}</ram:SubjectCode></ram:IncludedNote>`).join('')}</rsm:ExchangedDocument>
<rsm:SupplyChainTradeTransaction>
${a.lineCents.map((c, i) => `<ram:IncludedSupplyChainTradeLineItem><ram:AssociatedDocumentLineDocument><ram:LineID>${i + 1}</ram:LineID></ram:AssociatedDocumentLineDocument><ram:SpecifiedTradeProduct><ram:SellerAssignedID>REF-${i + 1}</ram:SellerAssignedID><ram:Name>Article ${i + 1}</ram:Name></ram:SpecifiedTradeProduct><ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice><ram:ChargeAmount>${money(c)}</ram:ChargeAmount></ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement><ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="C62">1</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery><ram:SpecifiedLineTradeSettlement><ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode><ram:RateApplicablePercent>20</ram:RateApplicablePercent></ram:ApplicableTradeTax><ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>${money(c)}</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation></ram:SpecifiedLineTradeSettlement></ram:IncludedSupplyChainTradeLineItem>`).join('\n')}
<ram:ApplicableHeaderTradeAgreement>
${r.service ? `<ram:BuyerReference>${r.service}</ram:BuyerReference>` : ''}
<ram:SellerTradeParty><ram:GlobalID schemeID="0009">${SYNTH_SUPPLIER.siret}</ram:GlobalID><ram:Name>${SYNTH_SUPPLIER.name}</ram:Name><ram:SpecifiedLegalOrganization><ram:ID schemeID="0002">${SYNTH_SUPPLIER.siret.slice(0, 9)}</ram:ID></ram:SpecifiedLegalOrganization><ram:PostalTradeAddress><ram:PostcodeCode>69001</ram:PostcodeCode><ram:CityName>Lyon</ram:CityName><ram:CountryID>FR</ram:CountryID></ram:PostalTradeAddress><ram:URIUniversalCommunication><ram:URIID schemeID="0009">${SYNTH_SUPPLIER.siret}</ram:URIID></ram:URIUniversalCommunication><ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">FR32812345678</ram:ID></ram:SpecifiedTaxRegistration></ram:SellerTradeParty>
<ram:BuyerTradeParty><ram:Name>${escapeXml(r.name)}</ram:Name><ram:SpecifiedLegalOrganization><ram:ID schemeID="0009">${r.siret}</ram:ID></ram:SpecifiedLegalOrganization><ram:PostalTradeAddress><ram:CountryID>FR</ram:CountryID></ram:PostalTradeAddress><ram:URIUniversalCommunication><ram:URIID schemeID="0009">${r.siret}</ram:URIID></ram:URIUniversalCommunication></ram:BuyerTradeParty>
${r.engagement ? `<ram:BuyerOrderReferencedDocument><ram:IssuerAssignedID>EJ-${escapeXml(spec.number)}</ram:IssuerAssignedID></ram:BuyerOrderReferencedDocument>` : ''}
<ram:ContractReferencedDocument><ram:IssuerAssignedID>MARCHE-2026-7</ram:IssuerAssignedID></ram:ContractReferencedDocument>
${attachment}
</ram:ApplicableHeaderTradeAgreement>
<ram:ApplicableHeaderTradeDelivery/>
<ram:ApplicableHeaderTradeSettlement>
<ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
<ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>30</ram:TypeCode><ram:PayeePartyCreditorFinancialAccount><ram:IBANID>FR7630006000011234567890189</ram:IBANID></ram:PayeePartyCreditorFinancialAccount></ram:SpecifiedTradeSettlementPaymentMeans>
<ram:ApplicableTradeTax><ram:CalculatedAmount>${money(a.vat)}</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode><ram:BasisAmount>${money(a.ht)}</ram:BasisAmount><ram:CategoryCode>S</ram:CategoryCode><ram:RateApplicablePercent>20</ram:RateApplicablePercent></ram:ApplicableTradeTax>
<ram:SpecifiedTradeSettlementHeaderMonetarySummation><ram:LineTotalAmount>${money(a.ht)}</ram:LineTotalAmount><ram:TaxBasisTotalAmount>${money(a.ht)}</ram:TaxBasisTotalAmount><ram:TaxTotalAmount currencyID="EUR">${money(a.vat)}</ram:TaxTotalAmount><ram:GrandTotalAmount>${money(a.ttc)}</ram:GrandTotalAmount><ram:DuePayableAmount>${money(a.ttc)}</ram:DuePayableAmount></ram:SpecifiedTradeSettlementHeaderMonetarySummation>
</ram:ApplicableHeaderTradeSettlement>
</rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>
`;
}
