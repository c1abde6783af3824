/**
 * The CII variants beside D16B, as edits of the D16B content models in hubSchemas.ts:
 * D22B (same namespaces, elements inserted, a few cardinalities widened) and the Factur-X 1.09
 * profiles (D22B restricted to the elements each profile allows). Element names, order and
 * cardinality are facts of the published schemas, transcribed here; the schema text is generated.
 */

/**
 * D22B edits per type: `Anchor>Name?:Lax` inserts a particle after Anchor (or after earlier
 * insertions at the same anchor), `Name=*` changes a particle's cardinality.
 */
export const D22B_EDITS: Record<string, string> = {
  ExchangedDocument: 'CategoryCode>RequestedResponseTypeCode*:Lax CategoryCode>CreationDateTime?:Lax CategoryCode>FirstVersionIssueDateTime?:Lax CategoryCode>SubtypeCode?:Lax IncludedNote>ReferenceReferencedDocument*:Lax IncludedNote>SignatoryDocumentAuthentication?:Lax IssuerTradeParty>AttachedSpecifiedBinaryFile*:Lax',
  HeaderTradeAgreement: 'UltimateCustomerOrderReferencedDocument>PricingBaseApplicableLogisticsLocation?:Lax',
  TradeParty: 'GlobalID>TypeCode*:Lax Description>RegisteredID*:Lax Description>Role*:Lax URIUniversalCommunication>SpecifiedLogisticsLocation*:Lax',
  TradeAddress: 'AdditionalStreetName>CityID?:Lax AdditionalStreetName>TypeCode*:Lax',
  ReferencedDocument: 'Name>ReceiptDateTime?:Lax Information>CategoryCode?:Lax FormattedIssueDateTime>PageID?:Lax FormattedIssueDateTime>SubordinateLineID?:Lax FormattedIssueDateTime>SubtypeCode*:Lax AttachedSpecifiedBinaryFile>IncludedNote*:Lax',
  SupplyChainEvent: 'EarliestOccurrenceDateTime>TimeOccurrenceDateTime?:Lax',
  HeaderTradeSettlement: 'InvoiceReferencedDocument=*',
  PaymentMeans: 'PayeePartyCreditorFinancialAccount=*',
  TradeTax: 'RateApplicablePercent>GrandTotalAmount*:Lax RateApplicablePercent>CalculationMethodCode?:Lax',
  HeaderSummation: 'NetIncludingTaxesLineTotalAmount>InsuranceChargeTotalAmount*:Lax NetIncludingTaxesLineTotalAmount>IncludingTaxesLineTotalAmount*:Lax',
  LineItem: 'SpecifiedTradeProduct>AdditionalInformationNote*:Lax AssociatedDocumentLineDocument=?',
  LineDocument: 'LineStatusReasonCode>CategoryCode?:Lax LineStatusReasonCode>ResponseReasonCode?:Lax IncludedNote>ReferenceReferencedDocument*:Lax',
  TradeProduct: 'ManufacturerAssignedID>IndustryAssignedID?:Lax ManufacturerAssignedID>ModelID?:Lax GrossWeightMeasure>StatusCode?:Lax ProductGroupID>NetVolumeMeasure?:Lax ProductGroupID>GrossVolumeMeasure?:Lax EndItemName>CustomerAssignedID*:Lax EndItemName>BatchID*:Lax UseDescription>ConciseDescription*:Lax UseDescription>AdditionalDescription*:Lax VariableMeasureIndicator>ConfigurableIndicator?:Lax ColourDescription>RecyclingTypeCode?:Lax ColourDescription>UnitTypeCode*:Lax ColourDescription>ContentUnitQuantity?:Lax ColourDescription>CommonName?:Lax ColourDescription>ModelName?:Lax FormattedLatestProductDataChangeDateTime>ExportIndicator?:Lax FormattedLatestProductDataChangeDateTime>UltimateCustomerAssignedExtensionID*:Lax FormattedLatestProductDataChangeDateTime>SizeCode?:Lax InformationNote>BuyerSuppliedPartsReferenceReferencedDocument*:Lax Description=* LinearSpatialDimension=*',
  TradePrice: 'OrderUnitConversionFactorNumeric>Type*:Lax OrderUnitConversionFactorNumeric>BasisDateTime?:Lax',
  LineTradeSettlement: 'DiscountIndicator>InvoiceDateTime?:Lax InvoiceReferencedDocument=*',
  LineSummation: 'ProductWeightLossInformationAmount>IncludingTaxesLineTotalAmount*:Lax',
};

/** Applies `D22B_EDITS`-style edits to space-separated `Name?:Type` particles. */
export function applyEdits(model: string, edits: string | undefined): string {
  if (!edits) return model;
  const particles = model.split(' ');
  const nameOf = (p: string) => p.split(':')[0]!.replace(/[?*+]$/, '');
  const lastAt = new Map<string, number>();
  for (const edit of edits.split(' ')) {
    const insert = /^(\w+|\^)>(.+)$/.exec(edit);
    if (insert) {
      const anchor = insert[1]!;
      const at = lastAt.get(anchor) ?? (anchor === '^' ? -1 : particles.findIndex((p) => nameOf(p) === anchor));
      if (anchor !== '^' && at < 0) throw new Error(`edit ${edit}: no particle ${anchor}`);
      particles.splice(at + 1, 0, insert[2]!);
      for (const [k, v] of lastAt) if (v > at) lastAt.set(k, v + 1);
      lastAt.set(anchor, at + 1);
      continue;
    }
    const card = /^(\w+)=([?*+]?)$/.exec(edit);
    if (!card) throw new Error(`bad edit ${edit}`);
    const i = particles.findIndex((p) => nameOf(p) === card[1]);
    if (i < 0) throw new Error(`edit ${edit}: no particle ${card[1]}`);
    particles[i] = particles[i]!.replace(/^(\w+)[?*+]?:/, `$1${card[2]}:`);
  }
  return particles.join(' ');
}

/** The profiles' context (BT-23, BT-24): strict, since the hub reads the guideline id. */
export const PROFILE_CONTEXT = {
  ExchangedDocumentContext: 'TestIndicator?:Lax BusinessProcessSpecifiedDocumentContextParameter?:ContextParameter GuidelineSpecifiedDocumentContextParameter:ContextParameter',
  ContextParameter: 'ID:Text',
};

export type ProfileName = 'MINIMUM' | 'BASICWL' | 'BASIC' | 'EN16931' | 'EXTENDED';

/** BASIC WL: the header of an invoice, without lines. */
const BASIC_WL: Record<string, string> = {
  ExchangedDocumentContext: 'BusinessProcessSpecifiedDocumentContextParameter GuidelineSpecifiedDocumentContextParameter',
  ContextParameter: 'ID',
  ExchangedDocument: 'ID TypeCode IssueDateTime IncludedNote',
  SupplyChainTradeTransaction: 'ApplicableHeaderTradeAgreement ApplicableHeaderTradeDelivery ApplicableHeaderTradeSettlement',
  HeaderTradeAgreement: 'BuyerReference SellerTradeParty BuyerTradeParty SellerTaxRepresentativeTradeParty BuyerOrderReferencedDocument ContractReferencedDocument',
  TradeParty: 'ID GlobalID Name SpecifiedLegalOrganization PostalTradeAddress URIUniversalCommunication SpecifiedTaxRegistration',
  LegalOrganization: 'ID TradingBusinessName',
  TradeAddress: 'PostcodeCode LineOne LineTwo LineThree CityName CountryID CountrySubDivisionName',
  ReferencedDocument: 'IssuerAssignedID FormattedIssueDateTime',
  HeaderTradeDelivery: 'ShipToTradeParty ActualDeliverySupplyChainEvent DespatchAdviceReferencedDocument',
  SupplyChainEvent: 'OccurrenceDateTime',
  HeaderTradeSettlement: 'CreditorReferenceID PaymentReference TaxCurrencyCode InvoiceCurrencyCode PayeeTradeParty SpecifiedTradeSettlementPaymentMeans ApplicableTradeTax BillingSpecifiedPeriod SpecifiedTradeAllowanceCharge SpecifiedTradePaymentTerms SpecifiedTradeSettlementHeaderMonetarySummation InvoiceReferencedDocument ReceivableSpecifiedTradeAccountingAccount',
  PaymentMeans: 'TypeCode PayerPartyDebtorFinancialAccount PayeePartyCreditorFinancialAccount',
  CreditorAccount: 'IBANID ProprietaryID',
  TradeTax: 'CalculatedAmount TypeCode ExemptionReason BasisAmount CategoryCode ExemptionReasonCode DueDateTypeCode RateApplicablePercent',
  HeaderSummation: 'LineTotalAmount ChargeTotalAmount AllowanceTotalAmount TaxBasisTotalAmount TaxTotalAmount GrandTotalAmount TotalPrepaidAmount DuePayableAmount',
};

/** Per Factur-X 1.09 profile, the elements each hub type may hold (a type absent here is not reachable). */
export const PROFILE_ELEMENTS: Record<ProfileName, Record<string, string>> = {
  MINIMUM: {
    ExchangedDocumentContext: 'BusinessProcessSpecifiedDocumentContextParameter GuidelineSpecifiedDocumentContextParameter',
    ContextParameter: 'ID',
    ExchangedDocument: 'ID TypeCode IssueDateTime',
    SupplyChainTradeTransaction: 'ApplicableHeaderTradeAgreement ApplicableHeaderTradeDelivery ApplicableHeaderTradeSettlement',
    HeaderTradeAgreement: 'BuyerReference SellerTradeParty BuyerTradeParty BuyerOrderReferencedDocument',
    TradeParty: 'Name SpecifiedLegalOrganization PostalTradeAddress SpecifiedTaxRegistration',
    LegalOrganization: 'ID',
    TradeAddress: 'CountryID',
    ReferencedDocument: 'IssuerAssignedID',
    HeaderTradeSettlement: 'InvoiceCurrencyCode SpecifiedTradeSettlementHeaderMonetarySummation',
    HeaderSummation: 'TaxBasisTotalAmount TaxTotalAmount GrandTotalAmount DuePayableAmount',
  },
  BASICWL: BASIC_WL,
  // BASIC is BASIC WL with the invoice lines.
  BASIC: {
    ...BASIC_WL,
    SupplyChainTradeTransaction: 'IncludedSupplyChainTradeLineItem ApplicableHeaderTradeAgreement ApplicableHeaderTradeDelivery ApplicableHeaderTradeSettlement',
    LineItem: 'AssociatedDocumentLineDocument SpecifiedTradeProduct SpecifiedLineTradeAgreement SpecifiedLineTradeDelivery SpecifiedLineTradeSettlement',
    LineDocument: 'LineID IncludedNote',
    TradeProduct: 'GlobalID Name',
    LineTradeAgreement: 'GrossPriceProductTradePrice NetPriceProductTradePrice',
    TradePrice: 'ChargeAmount BasisQuantity AppliedTradeAllowanceCharge',
    LineTradeDelivery: 'BilledQuantity',
    LineTradeSettlement: 'ApplicableTradeTax BillingSpecifiedPeriod SpecifiedTradeAllowanceCharge SpecifiedTradeSettlementLineMonetarySummation',
    LineSummation: 'LineTotalAmount',
  },
  EN16931: {
    ExchangedDocumentContext: 'BusinessProcessSpecifiedDocumentContextParameter GuidelineSpecifiedDocumentContextParameter',
    ContextParameter: 'ID',
    ExchangedDocument: 'ID TypeCode IssueDateTime IncludedNote',
    SupplyChainTradeTransaction: 'IncludedSupplyChainTradeLineItem ApplicableHeaderTradeAgreement ApplicableHeaderTradeDelivery ApplicableHeaderTradeSettlement',
    HeaderTradeAgreement: 'BuyerReference SellerTradeParty BuyerTradeParty SellerTaxRepresentativeTradeParty SellerOrderReferencedDocument BuyerOrderReferencedDocument ContractReferencedDocument AdditionalReferencedDocument SpecifiedProcuringProject',
    TradeParty: 'ID GlobalID Name Description SpecifiedLegalOrganization DefinedTradeContact PostalTradeAddress URIUniversalCommunication SpecifiedTaxRegistration',
    LegalOrganization: 'ID TradingBusinessName',
    TradeAddress: 'PostcodeCode LineOne LineTwo LineThree CityName CountryID CountrySubDivisionName',
    ReferencedDocument: 'IssuerAssignedID URIID LineID TypeCode Name AttachmentBinaryObject ReferenceTypeCode FormattedIssueDateTime',
    HeaderTradeDelivery: 'ShipToTradeParty ActualDeliverySupplyChainEvent DespatchAdviceReferencedDocument ReceivingAdviceReferencedDocument',
    SupplyChainEvent: 'OccurrenceDateTime',
    HeaderTradeSettlement: 'CreditorReferenceID PaymentReference TaxCurrencyCode InvoiceCurrencyCode PayeeTradeParty SpecifiedTradeSettlementPaymentMeans ApplicableTradeTax BillingSpecifiedPeriod SpecifiedTradeAllowanceCharge SpecifiedTradePaymentTerms SpecifiedTradeSettlementHeaderMonetarySummation InvoiceReferencedDocument ReceivableSpecifiedTradeAccountingAccount',
    PaymentMeans: 'TypeCode Information ApplicableTradeSettlementFinancialCard PayerPartyDebtorFinancialAccount PayeePartyCreditorFinancialAccount PayeeSpecifiedCreditorFinancialInstitution',
    CreditorAccount: 'IBANID AccountName ProprietaryID',
    TradeTax: 'CalculatedAmount TypeCode ExemptionReason BasisAmount CategoryCode ExemptionReasonCode TaxPointDate DueDateTypeCode RateApplicablePercent',
    HeaderSummation: 'LineTotalAmount ChargeTotalAmount AllowanceTotalAmount TaxBasisTotalAmount TaxTotalAmount RoundingAmount GrandTotalAmount TotalPrepaidAmount DuePayableAmount',
    LineItem: 'AssociatedDocumentLineDocument SpecifiedTradeProduct SpecifiedLineTradeAgreement SpecifiedLineTradeDelivery SpecifiedLineTradeSettlement',
    LineDocument: 'LineID IncludedNote',
    TradeProduct: 'GlobalID SellerAssignedID BuyerAssignedID Name Description ApplicableProductCharacteristic DesignatedProductClassification OriginTradeCountry',
    LineTradeAgreement: 'BuyerOrderReferencedDocument GrossPriceProductTradePrice NetPriceProductTradePrice',
    TradePrice: 'ChargeAmount BasisQuantity AppliedTradeAllowanceCharge',
    LineTradeDelivery: 'BilledQuantity',
    LineTradeSettlement: 'ApplicableTradeTax BillingSpecifiedPeriod SpecifiedTradeAllowanceCharge SpecifiedTradeSettlementLineMonetarySummation AdditionalReferencedDocument ReceivableSpecifiedTradeAccountingAccount',
    LineSummation: 'LineTotalAmount',
  },
  EXTENDED: {
    ExchangedDocumentContext: 'TestIndicator BusinessProcessSpecifiedDocumentContextParameter GuidelineSpecifiedDocumentContextParameter',
    ContextParameter: 'ID',
    ExchangedDocument: 'ID Name TypeCode IssueDateTime CopyIndicator LanguageID IncludedNote EffectiveSpecifiedPeriod',
    SupplyChainTradeTransaction: 'IncludedSupplyChainTradeLineItem ApplicableHeaderTradeAgreement ApplicableHeaderTradeDelivery ApplicableHeaderTradeSettlement',
    HeaderTradeAgreement: 'BuyerReference SellerTradeParty BuyerTradeParty SalesAgentTradeParty BuyerTaxRepresentativeTradeParty SellerTaxRepresentativeTradeParty ProductEndUserTradeParty ApplicableTradeDeliveryTerms SellerOrderReferencedDocument BuyerOrderReferencedDocument QuotationReferencedDocument ContractReferencedDocument AdditionalReferencedDocument BuyerAgentTradeParty SpecifiedProcuringProject UltimateCustomerOrderReferencedDocument',
    TradeParty: 'ID GlobalID Name RoleCode Description SpecifiedLegalOrganization DefinedTradeContact PostalTradeAddress URIUniversalCommunication SpecifiedTaxRegistration',
    LegalOrganization: 'ID TradingBusinessName PostalTradeAddress',
    TradeAddress: 'PostcodeCode LineOne LineTwo LineThree CityName CountryID CountrySubDivisionName',
    ReferencedDocument: 'IssuerAssignedID URIID LineID TypeCode Name AttachmentBinaryObject ReferenceTypeCode FormattedIssueDateTime',
    HeaderTradeDelivery: 'RelatedSupplyChainConsignment ShipToTradeParty UltimateShipToTradeParty ShipFromTradeParty ActualDeliverySupplyChainEvent DespatchAdviceReferencedDocument ReceivingAdviceReferencedDocument DeliveryNoteReferencedDocument',
    SupplyChainEvent: 'OccurrenceDateTime',
    HeaderTradeSettlement: 'CreditorReferenceID PaymentReference TaxCurrencyCode InvoiceCurrencyCode InvoiceIssuerReference InvoicerTradeParty InvoiceeTradeParty PayeeTradeParty PayerTradeParty TaxApplicableTradeCurrencyExchange SpecifiedTradeSettlementPaymentMeans ApplicableTradeTax BillingSpecifiedPeriod SpecifiedTradeAllowanceCharge SpecifiedLogisticsServiceCharge SpecifiedTradePaymentTerms SpecifiedTradeSettlementHeaderMonetarySummation SpecifiedFinancialAdjustment InvoiceReferencedDocument ReceivableSpecifiedTradeAccountingAccount SpecifiedAdvancePayment',
    PaymentMeans: 'TypeCode Information ApplicableTradeSettlementFinancialCard PayerPartyDebtorFinancialAccount PayeePartyCreditorFinancialAccount PayerSpecifiedDebtorFinancialInstitution PayeeSpecifiedCreditorFinancialInstitution',
    CreditorAccount: 'IBANID AccountName ProprietaryID',
    TradeTax: 'CalculatedAmount TypeCode ExemptionReason BasisAmount LineTotalBasisAmount AllowanceChargeBasisAmount CategoryCode ExemptionReasonCode TaxPointDate DueDateTypeCode RateApplicablePercent',
    HeaderSummation: 'LineTotalAmount ChargeTotalAmount AllowanceTotalAmount TaxBasisTotalAmount TaxTotalAmount RoundingAmount GrandTotalAmount TotalPrepaidAmount DuePayableAmount',
    LineItem: 'AssociatedDocumentLineDocument SpecifiedTradeProduct SpecifiedLineTradeAgreement SpecifiedLineTradeDelivery SpecifiedLineTradeSettlement',
    LineDocument: 'LineID ParentLineID LineStatusCode LineStatusReasonCode IncludedNote',
    TradeProduct: 'ID GlobalID SellerAssignedID BuyerAssignedID IndustryAssignedID ModelID Name Description BatchID BrandName ModelName ApplicableProductCharacteristic DesignatedProductClassification IndividualTradeProductInstance OriginTradeCountry ManufacturerTradeParty IncludedReferencedProduct',
    LineTradeAgreement: 'ApplicableTradeDeliveryTerms SellerOrderReferencedDocument BuyerOrderReferencedDocument QuotationReferencedDocument ContractReferencedDocument AdditionalReferencedDocument GrossPriceProductTradePrice NetPriceProductTradePrice ItemSellerTradeParty UltimateCustomerOrderReferencedDocument',
    TradePrice: 'ChargeAmount BasisQuantity AppliedTradeAllowanceCharge IncludedTradeTax',
    LineTradeDelivery: 'BilledQuantity ChargeFreeQuantity PackageQuantity PerPackageUnitQuantity ShipToTradeParty UltimateShipToTradeParty ActualDeliverySupplyChainEvent DespatchAdviceReferencedDocument ReceivingAdviceReferencedDocument DeliveryNoteReferencedDocument',
    LineTradeSettlement: 'ApplicableTradeTax BillingSpecifiedPeriod SpecifiedTradeAllowanceCharge SpecifiedTradeSettlementLineMonetarySummation InvoiceReferencedDocument AdditionalReferencedDocument ReceivableSpecifiedTradeAccountingAccount',
    LineSummation: 'LineTotalAmount ChargeTotalAmount AllowanceTotalAmount TaxTotalAmount GrandTotalAmount TotalAllowanceChargeAmount',
  },
};
