/**
 * Writes factflow's "hub" schemas for structured invoices (`npm run schemas`): UBL 2.1
 * Invoice/CreditNote, UN/CEFACT CII D16B and D22B, and the Factur-X profiles (ciiVariants.ts). They are strict (element order, cardinality,
 * types) on every aggregate the hub reads, and lax (any content) on everything else, so that a
 * real invoice is never refused for a part the hub ignores.
 *
 * The content models below are transcribed from the published standards (element names,
 * order and cardinality are facts of the standards); the schema text is generated here.
 * Suffixes: `?` optional, `*` any number, `+` at least one, none: exactly one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyEdits, D22B_EDITS, PROFILE_CONTEXT, PROFILE_ELEMENTS, type ProfileName } from './ciiVariants.js';

const NS = {
  inv: 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2',
  cn: 'urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2',
  cac: 'urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2',
  cbc: 'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2',
  ext: 'urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2',
  rsm: 'urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100',
  ram: 'urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100',
  udt: 'urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100',
};

/* ------------------------------------------------------------------ UBL 2.1 */

const UBL_DOCUMENTS = {
  Invoice:
    'ext:UBLExtensions? cbc:UBLVersionID? cbc:CustomizationID? cbc:ProfileID? cbc:ProfileExecutionID? cbc:ID cbc:CopyIndicator? cbc:UUID? cbc:IssueDate cbc:IssueTime? cbc:DueDate? cbc:InvoiceTypeCode? cbc:Note* cbc:TaxPointDate? cbc:DocumentCurrencyCode? cbc:TaxCurrencyCode? cbc:PricingCurrencyCode? cbc:PaymentCurrencyCode? cbc:PaymentAlternativeCurrencyCode? cbc:AccountingCostCode? cbc:AccountingCost? cbc:LineCountNumeric? cbc:BuyerReference? cac:InvoicePeriod* cac:OrderReference? cac:BillingReference* cac:DespatchDocumentReference* cac:ReceiptDocumentReference* cac:StatementDocumentReference* cac:OriginatorDocumentReference* cac:ContractDocumentReference* cac:AdditionalDocumentReference* cac:ProjectReference* cac:Signature* cac:AccountingSupplierParty cac:AccountingCustomerParty cac:PayeeParty? cac:BuyerCustomerParty? cac:SellerSupplierParty? cac:TaxRepresentativeParty? cac:Delivery* cac:DeliveryTerms? cac:PaymentMeans* cac:PaymentTerms* cac:PrepaidPayment* cac:AllowanceCharge* cac:TaxExchangeRate? cac:PricingExchangeRate? cac:PaymentExchangeRate? cac:PaymentAlternativeExchangeRate? cac:TaxTotal* cac:WithholdingTaxTotal* cac:LegalMonetaryTotal cac:InvoiceLine+',
  CreditNote:
    'ext:UBLExtensions? cbc:UBLVersionID? cbc:CustomizationID? cbc:ProfileID? cbc:ProfileExecutionID? cbc:ID cbc:CopyIndicator? cbc:UUID? cbc:IssueDate cbc:IssueTime? cbc:TaxPointDate? cbc:CreditNoteTypeCode? cbc:Note* cbc:DocumentCurrencyCode? cbc:TaxCurrencyCode? cbc:PricingCurrencyCode? cbc:PaymentCurrencyCode? cbc:PaymentAlternativeCurrencyCode? cbc:AccountingCostCode? cbc:AccountingCost? cbc:LineCountNumeric? cbc:BuyerReference? cac:InvoicePeriod* cac:DiscrepancyResponse* cac:OrderReference? cac:BillingReference* cac:DespatchDocumentReference* cac:ReceiptDocumentReference* cac:ContractDocumentReference* cac:AdditionalDocumentReference* cac:StatementDocumentReference* cac:OriginatorDocumentReference* cac:Signature* cac:AccountingSupplierParty cac:AccountingCustomerParty cac:PayeeParty? cac:BuyerCustomerParty? cac:SellerSupplierParty? cac:TaxRepresentativeParty? cac:Delivery* cac:DeliveryTerms* cac:PaymentMeans* cac:PaymentTerms* cac:TaxExchangeRate? cac:PricingExchangeRate? cac:PaymentExchangeRate? cac:PaymentAlternativeExchangeRate? cac:AllowanceCharge* cac:TaxTotal* cac:LegalMonetaryTotal cac:CreditNoteLine+',
};

/** UBL aggregate types the hub reads, by type name. */
const UBL_TYPES: Record<string, string> = {
  SupplierParty: 'cbc:CustomerAssignedAccountID? cbc:AdditionalAccountID* cbc:DataSendingCapability? cac:Party? cac:DespatchContact? cac:AccountingContact? cac:SellerContact?',
  CustomerParty: 'cbc:CustomerAssignedAccountID? cbc:SupplierAssignedAccountID? cbc:AdditionalAccountID* cac:Party? cac:DeliveryContact? cac:AccountingContact? cac:BuyerContact?',
  Party: 'cbc:MarkCareIndicator? cbc:MarkAttentionIndicator? cbc:WebsiteURI? cbc:LogoReferenceID? cbc:EndpointID? cbc:IndustryClassificationCode? cac:PartyIdentification* cac:PartyName* cac:Language? cac:PostalAddress? cac:PhysicalLocation? cac:PartyTaxScheme* cac:PartyLegalEntity* cac:Contact? cac:Person* cac:AgentParty? cac:ServiceProviderParty* cac:PowerOfAttorney* cac:FinancialAccount?',
  PartyIdentification: 'cbc:ID',
  PartyName: 'cbc:Name',
  PartyLegalEntity: 'cbc:RegistrationName? cbc:CompanyID? cbc:RegistrationDate? cbc:RegistrationExpirationDate? cbc:CompanyLegalFormCode? cbc:CompanyLegalForm? cbc:SoleProprietorshipIndicator? cbc:CompanyLiquidationStatusCode? cbc:CorporateStockAmount? cbc:FullyPaidSharesIndicator? cac:RegistrationAddress? cac:CorporateRegistrationScheme? cac:HeadOfficeParty? cac:ShareholderParty*',
  Address: 'cbc:ID? cbc:AddressTypeCode? cbc:AddressFormatCode? cbc:Postbox? cbc:Floor? cbc:Room? cbc:StreetName? cbc:AdditionalStreetName? cbc:BlockName? cbc:BuildingName? cbc:BuildingNumber? cbc:InhouseMail? cbc:Department? cbc:MarkAttention? cbc:MarkCare? cbc:PlotIdentification? cbc:CitySubdivisionName? cbc:CityName? cbc:PostalZone? cbc:CountrySubentity? cbc:CountrySubentityCode? cbc:Region? cbc:District? cbc:TimezoneOffset? cac:AddressLine* cac:Country? cac:LocationCoordinate*',
  Country: 'cbc:IdentificationCode? cbc:Name?',
  OrderReference: 'cbc:ID cbc:SalesOrderID? cbc:CopyIndicator? cbc:UUID? cbc:IssueDate? cbc:IssueTime? cbc:CustomerReference? cbc:OrderTypeCode? cac:DocumentReference?',
  DocumentReference: 'cbc:ID cbc:CopyIndicator? cbc:UUID? cbc:IssueDate? cbc:IssueTime? cbc:DocumentTypeCode? cbc:DocumentType? cbc:XPath* cbc:LanguageID? cbc:LocaleCode? cbc:VersionID? cbc:DocumentStatusCode? cbc:DocumentDescription* cac:Attachment? cac:ValidityPeriod? cac:IssuerParty? cac:ResultOfVerification?',
  Attachment: 'cbc:EmbeddedDocumentBinaryObject? cac:ExternalReference?',
  PaymentMeans: 'cbc:ID? cbc:PaymentMeansCode cbc:PaymentDueDate? cbc:PaymentChannelCode? cbc:InstructionID? cbc:InstructionNote* cbc:PaymentID* cac:CardAccount? cac:PayerFinancialAccount? cac:PayeeFinancialAccount? cac:CreditAccount? cac:PaymentMandate? cac:TradeFinancing?',
  FinancialAccount: 'cbc:ID? cbc:Name? cbc:AliasName? cbc:AccountTypeCode? cbc:AccountFormatCode? cbc:CurrencyCode? cbc:PaymentNote* cac:FinancialInstitutionBranch? cac:Country?',
  TaxTotal: 'cbc:TaxAmount cbc:RoundingAmount? cbc:TaxEvidenceIndicator? cbc:TaxIncludedIndicator? cac:TaxSubtotal*',
  TaxSubtotal: 'cbc:TaxableAmount? cbc:TaxAmount cbc:CalculationSequenceNumeric? cbc:TransactionCurrencyTaxAmount? cbc:Percent? cbc:BaseUnitMeasure? cbc:PerUnitAmount? cbc:TierRange? cbc:TierRatePercent? cac:TaxCategory',
  TaxCategory: 'cbc:ID? cbc:Name? cbc:Percent? cbc:BaseUnitMeasure? cbc:PerUnitAmount? cbc:TaxExemptionReasonCode? cbc:TaxExemptionReason* cbc:TierRange? cbc:TierRatePercent? cac:TaxScheme',
  MonetaryTotal: 'cbc:LineExtensionAmount? cbc:TaxExclusiveAmount? cbc:TaxInclusiveAmount? cbc:AllowanceTotalAmount? cbc:ChargeTotalAmount? cbc:PrepaidAmount? cbc:PayableRoundingAmount? cbc:PayableAmount cbc:PayableAlternativeAmount?',
  InvoiceLine: 'cbc:ID cbc:UUID? cbc:Note* cbc:InvoicedQuantity? cbc:LineExtensionAmount cbc:TaxPointDate? cbc:AccountingCostCode? cbc:AccountingCost? cbc:PaymentPurposeCode? cbc:FreeOfChargeIndicator? cac:InvoicePeriod* cac:OrderLineReference* cac:DespatchLineReference* cac:ReceiptLineReference* cac:BillingReference* cac:DocumentReference* cac:PricingReference? cac:OriginatorParty? cac:Delivery* cac:PaymentTerms* cac:AllowanceCharge* cac:TaxTotal* cac:WithholdingTaxTotal* cac:Item cac:Price? cac:DeliveryTerms? cac:SubInvoiceLine* cac:ItemPriceExtension?',
  CreditNoteLine: 'cbc:ID cbc:UUID? cbc:Note* cbc:CreditedQuantity? cbc:LineExtensionAmount? cbc:TaxPointDate? cbc:AccountingCostCode? cbc:AccountingCost? cbc:PaymentPurposeCode? cbc:FreeOfChargeIndicator? cac:InvoicePeriod* cac:OrderLineReference* cac:DiscrepancyResponse* cac:DespatchLineReference* cac:ReceiptLineReference* cac:BillingReference* cac:DocumentReference* cac:PricingReference? cac:OriginatorParty? cac:Delivery* cac:PaymentTerms* cac:TaxTotal* cac:AllowanceCharge* cac:Item? cac:Price? cac:DeliveryTerms* cac:SubCreditNoteLine* cac:ItemPriceExtension?',
  Item: 'cbc:Description* cbc:PackQuantity? cbc:PackSizeNumeric? cbc:CatalogueIndicator? cbc:Name? cbc:HazardousRiskIndicator? cbc:AdditionalInformation* cbc:Keyword* cbc:BrandName* cbc:ModelName* cac:BuyersItemIdentification? cac:SellersItemIdentification? cac:ManufacturersItemIdentification* cac:StandardItemIdentification? cac:CatalogueItemIdentification? cac:AdditionalItemIdentification* cac:CatalogueDocumentReference? cac:ItemSpecificationDocumentReference* cac:OriginCountry? cac:CommodityClassification* cac:TransactionConditions* cac:HazardousItem* cac:ClassifiedTaxCategory* cac:AdditionalItemProperty* cac:ManufacturerParty* cac:InformationContentProviderParty? cac:OriginAddress* cac:ItemInstance* cac:Certificate* cac:Dimension*',
  ItemIdentification: 'cbc:ID cbc:ExtendedID? cbc:BarcodeSymbologyID? cac:PhysicalAttribute* cac:MeasurementDimension* cac:IssuerParty?',
  Price: 'cbc:PriceAmount cbc:BaseQuantity? cbc:PriceChangeReason* cbc:PriceTypeCode? cbc:PriceType? cbc:OrderableUnitFactorRate? cac:ValidityPeriod* cac:PriceList? cac:AllowanceCharge* cac:PricingExchangeRate?',
  Delivery: 'cbc:ID? cbc:Quantity? cbc:MinimumQuantity? cbc:MaximumQuantity? cbc:ActualDeliveryDate? cbc:ActualDeliveryTime? cbc:LatestDeliveryDate? cbc:LatestDeliveryTime? cbc:ReleaseID? cbc:TrackingID? cac:DeliveryAddress? cac:DeliveryLocation? cac:AlternativeDeliveryLocation? cac:RequestedDeliveryPeriod? cac:PromisedDeliveryPeriod? cac:EstimatedDeliveryPeriod? cac:CarrierParty? cac:DeliveryParty? cac:NotifyParty* cac:Despatch? cac:DeliveryTerms* cac:MinimumDeliveryUnit? cac:MaximumDeliveryUnit? cac:Shipment?',
};

/** UBL aggregate elements the hub reads, with their type. Every other cac element is lax. */
const UBL_AGGREGATES: Record<string, string> = {
  AccountingSupplierParty: 'SupplierParty', AccountingCustomerParty: 'CustomerParty', Party: 'Party',
  PartyIdentification: 'PartyIdentification', PartyName: 'PartyName', PartyLegalEntity: 'PartyLegalEntity',
  PostalAddress: 'Address', Country: 'Country', OrderReference: 'OrderReference',
  ContractDocumentReference: 'DocumentReference', AdditionalDocumentReference: 'DocumentReference', Attachment: 'Attachment',
  PaymentMeans: 'PaymentMeans', PayeeFinancialAccount: 'FinancialAccount', TaxTotal: 'TaxTotal', TaxSubtotal: 'TaxSubtotal',
  TaxCategory: 'TaxCategory', ClassifiedTaxCategory: 'TaxCategory', LegalMonetaryTotal: 'MonetaryTotal',
  InvoiceLine: 'InvoiceLine', CreditNoteLine: 'CreditNoteLine', Item: 'Item', SellersItemIdentification: 'ItemIdentification',
  Price: 'Price', Delivery: 'Delivery',
};

/** Basic components the hub reads, by leaf type. Every other cbc element is text with any attributes. */
const UBL_LEAVES: Record<string, string[]> = {
  Date: ['IssueDate', 'DueDate', 'TaxPointDate', 'ActualDeliveryDate', 'PaymentDueDate'],
  Amount: ['LineExtensionAmount', 'TaxExclusiveAmount', 'TaxInclusiveAmount', 'AllowanceTotalAmount', 'ChargeTotalAmount', 'PrepaidAmount', 'PayableRoundingAmount', 'PayableAmount', 'TaxAmount', 'TaxableAmount', 'RoundingAmount', 'PriceAmount'],
  Quantity: ['InvoicedQuantity', 'CreditedQuantity', 'BaseQuantity'],
  Decimal: ['Percent'],
  Binary: ['EmbeddedDocumentBinaryObject'],
};

/* ------------------------------------------------------------------ CII D16B */

/** CII types the hub reads (children are declared locally, as in the standard). */
const CII_TYPES: Record<string, string> = {
  CrossIndustryInvoice: 'ExchangedDocumentContext:Lax ExchangedDocument:ExchangedDocument SupplyChainTradeTransaction:SupplyChainTradeTransaction ValuationBreakdownStatement?:Lax',
  ExchangedDocument: 'ID:Text Name*:Text TypeCode?:Text IssueDateTime:DateTime CopyIndicator?:Lax Purpose?:Text ControlRequirementIndicator?:Lax LanguageID*:Text PurposeCode?:Text RevisionDateTime?:Lax VersionID?:Text GlobalID?:Text RevisionID?:Text PreviousRevisionID?:Text CategoryCode?:Text IncludedNote*:Lax EffectiveSpecifiedPeriod?:Lax IssuerTradeParty?:Lax',
  SupplyChainTradeTransaction: 'IncludedSupplyChainTradeLineItem*:LineItem ApplicableHeaderTradeAgreement:HeaderTradeAgreement ApplicableHeaderTradeDelivery:HeaderTradeDelivery ApplicableHeaderTradeSettlement:HeaderTradeSettlement',
  HeaderTradeAgreement: 'Reference*:Text BuyerReference?:Text SellerTradeParty?:TradeParty BuyerTradeParty?:TradeParty SalesAgentTradeParty?:Lax BuyerRequisitionerTradeParty*:Lax BuyerAssignedAccountantTradeParty?:Lax SellerAssignedAccountantTradeParty?:Lax BuyerTaxRepresentativeTradeParty?:Lax SellerTaxRepresentativeTradeParty?:Lax ProductEndUserTradeParty?:Lax ApplicableTradeDeliveryTerms?:Lax SellerOrderReferencedDocument?:Lax BuyerOrderReferencedDocument?:ReferencedDocument QuotationReferencedDocument?:Lax OrderResponseReferencedDocument?:Lax ContractReferencedDocument?:ReferencedDocument DemandForecastReferencedDocument?:Lax SupplyInstructionReferencedDocument?:Lax PromotionalDealReferencedDocument?:Lax PriceListReferencedDocument?:Lax AdditionalReferencedDocument*:ReferencedDocument RequisitionerReferencedDocument*:Lax BuyerAgentTradeParty?:Lax PurchaseConditionsReferencedDocument*:Lax SpecifiedProcuringProject?:Lax UltimateCustomerOrderReferencedDocument*:Lax',
  TradeParty: 'ID*:Text GlobalID*:Text Name?:Text RoleCode*:Text Description*:Text SpecifiedLegalOrganization?:LegalOrganization DefinedTradeContact*:Lax PostalTradeAddress?:TradeAddress URIUniversalCommunication*:Lax SpecifiedTaxRegistration*:Lax EndPointURIUniversalCommunication?:Lax LogoAssociatedSpecifiedBinaryFile*:Lax',
  LegalOrganization: 'LegalClassificationCode?:Text Name?:Text ID?:Text TradingBusinessName?:Text PostalTradeAddress?:Lax AuthorizedLegalRegistration*:Lax',
  TradeAddress: 'ID?:Text PostcodeCode?:Text PostOfficeBox?:Text BuildingName?:Text LineOne?:Text LineTwo?:Text LineThree?:Text LineFour?:Text LineFive?:Text StreetName?:Text CityName?:Text CitySubDivisionName?:Text CountryID?:Text CountryName*:Text CountrySubDivisionID?:Text CountrySubDivisionName*:Text AttentionOf?:Text CareOf?:Text BuildingNumber?:Text DepartmentName?:Text AdditionalStreetName?:Text',
  ReferencedDocument: 'IssuerAssignedID?:Text URIID?:Text StatusCode?:Text CopyIndicator?:Lax LineID?:Text TypeCode?:Text GlobalID?:Text RevisionID?:Text Name*:Text AttachmentBinaryObject*:Binary Information*:Text ReferenceTypeCode?:Text SectionName*:Text PreviousRevisionID*:Text FormattedIssueDateTime?:Lax EffectiveSpecifiedPeriod?:Lax IssuerTradeParty?:Lax AttachedSpecifiedBinaryFile*:Lax',
  HeaderTradeDelivery: 'RelatedSupplyChainConsignment?:Lax ShipToTradeParty?:Lax UltimateShipToTradeParty?:Lax ShipFromTradeParty?:Lax ActualDespatchSupplyChainEvent?:Lax ActualPickUpSupplyChainEvent?:Lax ActualDeliverySupplyChainEvent?:SupplyChainEvent ActualReceiptSupplyChainEvent?:Lax AdditionalReferencedDocument*:Lax DespatchAdviceReferencedDocument?:Lax ReceivingAdviceReferencedDocument?:Lax DeliveryNoteReferencedDocument?:Lax ConsumptionReportReferencedDocument?:Lax PreviousDeliverySupplyChainEvent*:Lax PackingListReferencedDocument?:Lax',
  SupplyChainEvent: 'ID?:Text OccurrenceDateTime?:DateTime TypeCode?:Text Description*:Text DescriptionBinaryObject*:Lax UnitQuantity?:Lax LatestOccurrenceDateTime?:Lax EarliestOccurrenceDateTime?:Lax OccurrenceSpecifiedPeriod?:Lax OccurrenceLogisticsLocation?:Lax',
  HeaderTradeSettlement: 'DuePayableAmount*:Amount CreditorReferenceTypeCode*:Text CreditorReferenceType*:Text CreditorReferenceIssuerID*:Text CreditorReferenceID?:Text PaymentReference*:Text TaxCurrencyCode?:Text InvoiceCurrencyCode?:Text PaymentCurrencyCode?:Text InvoiceIssuerReference?:Text InvoiceDateTime?:Lax NextInvoiceDateTime*:Lax CreditReasonCode?:Text CreditReason*:Text InvoicerTradeParty?:Lax InvoiceeTradeParty?:Lax PayeeTradeParty?:Lax PayerTradeParty?:Lax TaxApplicableTradeCurrencyExchange?:Lax InvoiceApplicableTradeCurrencyExchange?:Lax PaymentApplicableTradeCurrencyExchange?:Lax SpecifiedTradeSettlementPaymentMeans*:PaymentMeans ApplicableTradeTax*:TradeTax BillingSpecifiedPeriod?:Lax SpecifiedTradeAllowanceCharge*:Lax SubtotalCalculatedTradeTax*:Lax SpecifiedLogisticsServiceCharge*:Lax SpecifiedTradePaymentTerms*:Lax SpecifiedTradeSettlementHeaderMonetarySummation?:HeaderSummation SpecifiedFinancialAdjustment*:Lax InvoiceReferencedDocument?:Lax ProFormaInvoiceReferencedDocument?:Lax LetterOfCreditReferencedDocument?:Lax FactoringAgreementReferencedDocument*:Lax FactoringListReferencedDocument*:Lax PayableSpecifiedTradeAccountingAccount*:Lax ReceivableSpecifiedTradeAccountingAccount*:Lax PurchaseSpecifiedTradeAccountingAccount*:Lax SalesSpecifiedTradeAccountingAccount*:Lax SpecifiedTradeSettlementFinancialCard*:Lax SpecifiedAdvancePayment*:Lax UltimatePayeeTradeParty?:Lax',
  PaymentMeans: 'PaymentChannelCode?:Text TypeCode?:Text GuaranteeMethodCode?:Text PaymentMethodCode?:Text Information*:Text ID*:Text ApplicableTradeSettlementFinancialCard?:Lax PayerPartyDebtorFinancialAccount?:Lax PayeePartyCreditorFinancialAccount?:CreditorAccount PayerSpecifiedDebtorFinancialInstitution?:Lax PayeeSpecifiedCreditorFinancialInstitution?:Lax',
  CreditorAccount: 'IBANID?:Text AccountName?:Text ProprietaryID?:Text',
  TradeTax: 'CalculatedAmount*:Amount TypeCode?:Text ExemptionReason?:Text CalculatedRate?:Decimal CalculationSequenceNumeric?:Lax BasisQuantity?:Lax BasisAmount*:Amount UnitBasisAmount*:Amount LineTotalBasisAmount*:Amount AllowanceChargeBasisAmount*:Amount CategoryCode?:Text CurrencyCode?:Text Jurisdiction*:Text CustomsDutyIndicator?:Lax ExemptionReasonCode?:Text TaxBasisAllowanceRate?:Lax TaxPointDate?:Lax Type?:Text InformationAmount*:Amount CategoryName*:Text DueDateTypeCode?:Text RateApplicablePercent?:Decimal SpecifiedTradeAccountingAccount*:Lax ServiceSupplyTradeCountry?:Lax BuyerRepayableTaxSpecifiedTradeAccountingAccount?:Lax SellerPayableTaxSpecifiedTradeAccountingAccount?:Lax SellerRefundableTaxSpecifiedTradeAccountingAccount?:Lax BuyerDeductibleTaxSpecifiedTradeAccountingAccount?:Lax BuyerNonDeductibleTaxSpecifiedTradeAccountingAccount?:Lax PlaceApplicableTradeLocation*:Lax',
  HeaderSummation: 'LineTotalAmount*:Amount ChargeTotalAmount*:Amount AllowanceTotalAmount*:Amount TaxBasisTotalAmount*:Amount TaxTotalAmount*:Amount RoundingAmount*:Amount GrandTotalAmount*:Amount InformationAmount*:Amount TotalPrepaidAmount*:Amount TotalDiscountAmount*:Amount TotalAllowanceChargeAmount*:Amount DuePayableAmount*:Amount RetailValueExcludingTaxInformationAmount*:Amount TotalDepositFeeInformationAmount*:Amount ProductValueExcludingTobaccoTaxInformationAmount*:Amount TotalRetailValueInformationAmount*:Amount GrossLineTotalAmount*:Amount NetLineTotalAmount*:Amount NetIncludingTaxesLineTotalAmount*:Amount',
  LineItem: 'DescriptionCode?:Text AssociatedDocumentLineDocument:LineDocument SpecifiedTradeProduct?:TradeProduct SpecifiedLineTradeAgreement?:LineTradeAgreement SpecifiedLineTradeDelivery?:LineTradeDelivery SpecifiedLineTradeSettlement:LineTradeSettlement IncludedSubordinateTradeLineItem*:Lax',
  LineDocument: 'LineID?:Text ParentLineID?:Text LineStatusCode?:Text LineStatusReasonCode?:Text IncludedNote*:Lax',
  TradeProduct: 'ID?:Text GlobalID?:Text SellerAssignedID?:Text BuyerAssignedID?:Text ManufacturerAssignedID?:Text Name*:Text TradeName?:Text Description?:Text TypeCode?:Text NetWeightMeasure?:Lax GrossWeightMeasure?:Lax ProductGroupID*:Text EndItemTypeCode*:Text EndItemName*:Text AreaDensityMeasure?:Lax UseDescription*:Text BrandName?:Text SubBrandName?:Text DrainedNetWeightMeasure?:Lax VariableMeasureIndicator?:Lax ColourCode?:Text ColourDescription*:Text Designation*:Text FormattedCancellationAnnouncedLaunchDateTime?:Lax FormattedLatestProductDataChangeDateTime?:Lax ApplicableProductCharacteristic*:Lax ApplicableMaterialGoodsCharacteristic*:Lax DesignatedProductClassification*:Lax IndividualTradeProductInstance*:Lax CertificationEvidenceReferenceReferencedDocument*:Lax InspectionReferenceReferencedDocument*:Lax OriginTradeCountry?:Lax LinearSpatialDimension?:Lax MinimumLinearSpatialDimension?:Lax MaximumLinearSpatialDimension?:Lax ManufacturerTradeParty?:Lax PresentationSpecifiedBinaryFile*:Lax MSDSReferenceReferencedDocument?:Lax AdditionalReferenceReferencedDocument*:Lax LegalRightsOwnerTradeParty?:Lax BrandOwnerTradeParty?:Lax IncludedReferencedProduct*:Lax InformationNote*:Lax',
  LineTradeAgreement: 'BuyerReference?:Text BuyerRequisitionerTradeParty*:Lax ApplicableTradeDeliveryTerms?:Lax SellerOrderReferencedDocument?:Lax BuyerOrderReferencedDocument?:Lax QuotationReferencedDocument?:Lax ContractReferencedDocument?:Lax DemandForecastReferencedDocument?:Lax PromotionalDealReferencedDocument?:Lax AdditionalReferencedDocument*:Lax GrossPriceProductTradePrice?:Lax NetPriceProductTradePrice?:TradePrice RequisitionerReferencedDocument*:Lax ItemSellerTradeParty?:Lax ItemBuyerTradeParty?:Lax IncludedSpecifiedMarketplace?:Lax UltimateCustomerOrderReferencedDocument*:Lax',
  TradePrice: 'TypeCode?:Text ChargeAmount+:Amount BasisQuantity?:Quantity MinimumQuantity?:Lax MaximumQuantity?:Lax ChangeReason*:Text OrderUnitConversionFactorNumeric?:Lax AppliedTradeAllowanceCharge*:Lax ValiditySpecifiedPeriod?:Lax IncludedTradeTax*:Lax DeliveryTradeLocation*:Lax TradeComparisonReferencePrice*:Lax AssociatedReferencedDocument*:Lax',
  LineTradeDelivery: 'RequestedQuantity?:Lax ReceivedQuantity?:Lax BilledQuantity?:Quantity ChargeFreeQuantity?:Lax PackageQuantity?:Lax ProductUnitQuantity?:Lax PerPackageUnitQuantity?:Lax NetWeightMeasure?:Lax GrossWeightMeasure?:Lax TheoreticalWeightMeasure?:Lax DespatchedQuantity?:Lax SpecifiedDeliveryAdjustment*:Lax IncludedSupplyChainPackaging*:Lax RelatedSupplyChainConsignment?:Lax ShipToTradeParty?:Lax UltimateShipToTradeParty?:Lax ShipFromTradeParty?:Lax ActualDespatchSupplyChainEvent?:Lax ActualPickUpSupplyChainEvent?:Lax RequestedDeliverySupplyChainEvent?:Lax ActualDeliverySupplyChainEvent?:Lax ActualReceiptSupplyChainEvent?:Lax AdditionalReferencedDocument*:Lax DespatchAdviceReferencedDocument?:Lax ReceivingAdviceReferencedDocument?:Lax DeliveryNoteReferencedDocument?:Lax ConsumptionReportReferencedDocument?:Lax PackingListReferencedDocument?:Lax',
  LineTradeSettlement: 'PaymentReference*:Text InvoiceIssuerReference?:Text TotalAdjustmentAmount?:Amount DiscountIndicator?:Lax ApplicableTradeTax*:TradeTax BillingSpecifiedPeriod?:Lax SpecifiedTradeAllowanceCharge*:Lax SubtotalCalculatedTradeTax*:Lax SpecifiedLogisticsServiceCharge*:Lax SpecifiedTradePaymentTerms*:Lax SpecifiedTradeSettlementLineMonetarySummation?:LineSummation SpecifiedFinancialAdjustment*:Lax InvoiceReferencedDocument?:Lax AdditionalReferencedDocument*:Lax PayableSpecifiedTradeAccountingAccount*:Lax ReceivableSpecifiedTradeAccountingAccount*:Lax PurchaseSpecifiedTradeAccountingAccount*:Lax SalesSpecifiedTradeAccountingAccount*:Lax SpecifiedTradeSettlementFinancialCard?:Lax',
  LineSummation: 'LineTotalAmount*:Amount ChargeTotalAmount*:Amount AllowanceTotalAmount*:Amount TaxBasisTotalAmount*:Amount TaxTotalAmount*:Amount GrandTotalAmount*:Amount InformationAmount*:Amount TotalAllowanceChargeAmount*:Amount TotalRetailValueInformationAmount*:Amount GrossLineTotalAmount*:Amount NetLineTotalAmount*:Amount NetIncludingTaxesLineTotalAmount*:Amount ProductWeightLossInformationAmount*:Amount',
};

/* ------------------------------------------------------------------ writers */

const occurs = (suffix: string) =>
  ({ '': '', '?': ' minOccurs="0"', '*': ' minOccurs="0" maxOccurs="unbounded"', '+': ' maxOccurs="unbounded"' })[suffix] ?? '';

/** UBL particles are `prefix:Name?`; CII particles are `Name?:Type`. */
function parseParticle(p: string, syntax: 'ubl' | 'cii') {
  const m = syntax === 'ubl' ? /^(\w+:\w+)([?*+]?)$/.exec(p) : /^(\w+)([?*+]?):(\w+)$/.exec(p);
  if (!m) throw new Error(`bad particle ${p}`);
  return { name: m[1]!, suffix: m[2]!, type: m[3] };
}

const header = (ns: string, imports: [string, string][], comment: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>
<!-- factflow hub schema, generated by src/devtools/hubSchemas.ts (npm run schemas): ${comment} -->
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="${ns}" elementFormDefault="qualified"
${Object.entries(NS).map(([p, u]) => `  xmlns:${p}="${u}"`).join('\n')}>
${imports.map(([n, loc]) => `  <xs:import namespace="${n}" schemaLocation="${loc}"/>`).join('\n')}
`;

const LAX_TYPE = `  <xs:complexType name="Lax" mixed="true">
    <xs:sequence><xs:any processContents="lax" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
    <xs:anyAttribute processContents="lax"/>
  </xs:complexType>
`;

/** Leaf types shared by both syntaxes: value type + attributes (lax). */
function leafTypes(prefix: string): string {
  const simple = (name: string, base: string, attrs = '') => `  <xs:complexType name="${name}">
    <xs:simpleContent><xs:extension base="${base}">${attrs}<xs:anyAttribute processContents="lax"/></xs:extension></xs:simpleContent>
  </xs:complexType>
`;
  return (
    simple('Text', 'xs:string') +
    simple('Date', 'xs:date') +
    simple('Decimal', 'xs:decimal') +
    simple('Amount', 'xs:decimal', prefix === 'cbc' ? '<xs:attribute name="currencyID" type="xs:token" use="required"/>' : '') +
    simple('Quantity', 'xs:decimal') +
    simple('Binary', 'xs:base64Binary', '<xs:attribute name="mimeCode" type="xs:token" use="required"/>') +
    LAX_TYPE
  );
}

function ublSchemas(): Record<string, string> {
  const cacNames = new Set<string>();
  const cbcNames = new Set<string>();
  const collect = (model: string) => {
    for (const p of model.split(' ')) {
      const { name } = parseParticle(p, 'ubl');
      const [prefix, local] = name.split(':') as [string, string];
      (prefix === 'cac' ? cacNames : prefix === 'cbc' ? cbcNames : new Set<string>()).add(local);
    }
  };
  Object.values(UBL_DOCUMENTS).forEach(collect);
  Object.values(UBL_TYPES).forEach(collect);
  const seq = (model: string) =>
    model.split(' ').map((p) => {
      const { name, suffix } = parseParticle(p, 'ubl');
      return `      <xs:element ref="${name}"${occurs(suffix)}/>`;
    }).join('\n');

  const cac =
    header(NS.cac, [[NS.cbc, 'cbc-hub.xsd'], [NS.ext, 'ext-hub.xsd']], 'UBL 2.1 aggregate components; strict where the hub reads, lax elsewhere') +
    Object.entries(UBL_TYPES).map(([t, model]) => `  <xs:complexType name="${t}">\n    <xs:sequence>\n${seq(model)}\n    </xs:sequence>\n  </xs:complexType>\n`).join('') +
    [...cacNames].sort().map((n) => `  <xs:element name="${n}" type="${UBL_AGGREGATES[n] ? `cac:${UBL_AGGREGATES[n]}` : 'cac:Lax'}"/>\n`).join('') +
    LAX_TYPE +
    '</xs:schema>\n';
  const leafOf = (n: string) => Object.entries(UBL_LEAVES).find(([, names]) => names.includes(n))?.[0] ?? 'Text';
  const cbc =
    header(NS.cbc, [], 'UBL 2.1 basic components; typed where the hub reads') +
    [...cbcNames].sort().map((n) => `  <xs:element name="${n}" type="cbc:${leafOf(n)}"/>\n`).join('') +
    leafTypes('cbc') +
    '</xs:schema>\n';
  const ext = header(NS.ext, [], 'UBL extensions, never read: lax') + '  <xs:element name="UBLExtensions" type="ext:Lax"/>\n' + LAX_TYPE + '</xs:schema>\n';
  const doc = (root: 'Invoice' | 'CreditNote', ns: string) =>
    header(ns, [[NS.cac, 'ubl/cac-hub.xsd'], [NS.cbc, 'ubl/cbc-hub.xsd'], [NS.ext, 'ubl/ext-hub.xsd']], `UBL 2.1 ${root}`) +
    `  <xs:element name="${root}">\n    <xs:complexType>\n    <xs:sequence>\n${seq(UBL_DOCUMENTS[root])}\n    </xs:sequence>\n    </xs:complexType>\n  </xs:element>\n</xs:schema>\n`;
  return {
    'ubl/cac-hub.xsd': cac,
    'ubl/cbc-hub.xsd': cbc,
    'ubl/ext-hub.xsd': ext,
    'UBL-Invoice-hub.xsd': doc('Invoice', NS.inv),
    'UBL-CreditNote-hub.xsd': doc('CreditNote', NS.cn),
  };
}

/** One CII variant: its root schema at `rootFile`, its aggregates in `dir`/ram-hub.xsd; the data types are shared. */
function ciiVariant(types: Record<string, string>, rootFile: string, dir: string, label: string): Record<string, string> {
  const typeRef = (t: string) => (['Text', 'Date', 'Decimal', 'Amount', 'Quantity', 'Binary', 'Lax', 'DateTime'].includes(t) ? `udt:${t}` : `ram:${t}`);
  const body = (model: string) =>
    model.split(' ').map((p) => {
      const { name, suffix, type } = parseParticle(p, 'cii');
      return `      <xs:element name="${name}" type="${typeRef(type!)}"${occurs(suffix)}/>`;
    }).join('\n');
  const { CrossIndustryInvoice: rootModel, ...ramTypes } = types;
  const udtFromRam = dir === 'cii' ? 'udt-hub.xsd' : `${dir.split('/').map(() => '..').join('/')}/cii/udt-hub.xsd`;
  const ram =
    header(NS.ram, [[NS.udt, udtFromRam]], `UN/CEFACT CII ${label} aggregates; strict where the hub reads, lax elsewhere`) +
    Object.entries(ramTypes).map(([t, model]) => `  <xs:complexType name="${t}">\n    <xs:sequence>\n${body(model)}\n    </xs:sequence>\n  </xs:complexType>\n`).join('') +
    '</xs:schema>\n';
  const root =
    header(NS.rsm, [[NS.ram, `${dir}/ram-hub.xsd`], [NS.udt, 'cii/udt-hub.xsd']], `UN/CEFACT Cross Industry Invoice ${label}`) +
    `  <xs:element name="CrossIndustryInvoice">\n    <xs:complexType>\n    <xs:sequence>\n${body(rootModel!)}\n    </xs:sequence>\n    </xs:complexType>\n  </xs:element>\n</xs:schema>\n`;
  return { [`${dir}/ram-hub.xsd`]: ram, [rootFile]: root };
}

const UDT =
  header(NS.udt, [], 'UN/CEFACT unqualified data types the hub reads') +
  leafTypes('udt') +
  `  <xs:complexType name="DateTime">
    <xs:choice>
      <xs:element name="DateTimeString">
        <xs:complexType><xs:simpleContent><xs:extension base="xs:string"><xs:attribute name="format" type="xs:token" use="required"/></xs:extension></xs:simpleContent></xs:complexType>
      </xs:element>
      <xs:element name="DateTime" type="xs:dateTime"/>
    </xs:choice>
  </xs:complexType>
` +
  '</xs:schema>\n';

const D22B_TYPES = Object.fromEntries(Object.entries(CII_TYPES).map(([t, model]) => [t, applyEdits(model, D22B_EDITS[t])]));

/** A Factur-X profile: D22B with a strict context and, in each type, only the elements the profile allows. */
function profileTypes(profile: ProfileName): Record<string, string> {
  const allowed: Record<string, string> = { ...PROFILE_ELEMENTS[profile], CrossIndustryInvoice: 'ExchangedDocumentContext ExchangedDocument SupplyChainTradeTransaction' };
  const types: Record<string, string> = { ...D22B_TYPES, ...PROFILE_CONTEXT };
  types.CrossIndustryInvoice = types.CrossIndustryInvoice!.replace('ExchangedDocumentContext:Lax', 'ExchangedDocumentContext:ExchangedDocumentContext');
  return Object.fromEntries(Object.entries(types).map(([t, model]) => {
    const names = allowed[t]?.split(' ');
    if (!names) return [t, model];
    const kept = model.split(' ').filter((p) => names.includes(parseParticle(p, 'cii').name));
    // A type the profile leaves empty keeps one optional lax particle, so the schema stays well-formed.
    return [t, kept.length ? kept.join(' ') : `${model.split(' ')[0]!.split(':')[0]!.replace(/[?*+]$/, '')}?:Lax`];
  }));
}

export const PROFILE_SCHEMA_FILES: Record<ProfileName, string> = {
  MINIMUM: 'Factur-X-MINIMUM-hub.xsd', BASICWL: 'Factur-X-BASICWL-hub.xsd', BASIC: 'Factur-X-BASIC-hub.xsd', EN16931: 'Factur-X-EN16931-hub.xsd', EXTENDED: 'Factur-X-EXTENDED-hub.xsd',
};

function ciiSchemas(): Record<string, string> {
  const profiles = (Object.keys(PROFILE_SCHEMA_FILES) as ProfileName[]).map((p) => ciiVariant(profileTypes(p), PROFILE_SCHEMA_FILES[p], `facturx/${p.toLowerCase()}`, `D22B, Factur-X 1.09 ${p} profile`));
  return {
    'cii/udt-hub.xsd': UDT,
    ...ciiVariant(CII_TYPES, 'CII-hub.xsd', 'cii', 'D16B'),
    ...ciiVariant(D22B_TYPES, 'CII-D22B-hub.xsd', 'cii-d22b', 'D22B'),
    ...Object.assign({}, ...profiles),
  };
}

/* ------------------------------------------------------------------ CDAR D22B */

const CDAR_NS = 'urn:un:unece:uncefact:data:standard:CrossDomainAcknowledgementAndResponse:100';

/** CDAR (CrossDomainAcknowledgementAndResponse D22B) types the hub reads; code lists are left to the CDV rules. */
const CDAR_TYPES: Record<string, string> = {
  CrossDomainAcknowledgementAndResponse: 'ExchangedDocumentContext?:Lax ExchangedDocument:ExchangedDocument AcknowledgementDocument+:AcknowledgementDocument',
  ExchangedDocument: 'ID?:Text Name?:Text TypeCode?:Text StatusCode?:Text IssueDateTime?:DateTime LanguageID?:Text ElectronicPresentationIndicator?:Lax VersionID?:Text GlobalID?:Text IncludedNote*:Lax EffectiveSpecifiedPeriod?:Lax SenderTradeParty?:TradeParty IssuerTradeParty?:TradeParty RecipientTradeParty+:TradeParty',
  TradeParty: 'ID*:Text GlobalID*:Text Name?:Text RoleCode?:Text DefinedTradeContact*:Lax PostalTradeAddress?:Lax URIUniversalCommunication?:Lax',
  AcknowledgementDocument: 'MultipleReferencesIndicator?:Lax ID?:Text TypeCode?:Text Name?:Text IssueDateTime?:DateTime StatusCode?:Text AcknowledgementStatusCode?:Text ItemIdentificationID?:Text ReasonInformation*:Text ChannelCode?:Text ProcessConditionCode?:Text ProcessCondition*:Text Status*:Text ReferenceReferencedDocument+:ReferencedDocument',
  ReferencedDocument: 'IssuerAssignedID?:Text StatusCode?:Text CopyIndicator?:Lax LineID?:Text TypeCode?:Text GlobalID?:Text RevisionID?:Text Name?:Text ReceiptDateTime?:DateTime AttachmentBinaryObject*:Lax ReferenceTypeCode?:Text LanguageID?:Text Description*:Text FormattedIssueDateTime?:Lax IncludedAmount*:Lax VersionID?:Text TotalIssueCountNumeric?:Text Status*:Text ProcessConditionCode?:Text ProcessCondition*:Text Type?:Text IssuerTradeParty?:TradeParty RecipientTradeParty*:TradeParty SenderTradeParty?:TradeParty SpecifiedDocumentStatus*:DocumentStatus ValiditySpecifiedPeriod?:Lax',
  DocumentStatus: 'ReferenceDateTime?:DateTime ConditionCode?:Text ReasonCode?:Text Reason*:Text Condition*:Text ProcessConditionCode?:Text ProcessCondition*:Text ReasonInformationCode?:Text ReasonInformation*:Text ReasonClassificationCode?:Text ReasonClassification*:Text RequestedActionCode?:Text RequestedAction*:Text InvalidInformation?:Text ValidInformation?:Text SequenceNumeric?:Text IncludedNote*:Note SpecifiedDocumentCharacteristic*:Lax',
  Note: 'ContentCode?:Text Content*:Text SubjectCode?:Text',
};

/** The CDAR hub schema: its root in CDAR-hub.xsd, its aggregates in cdar/ram-hub.xsd, the CII data types. */
function cdarSchemas(): Record<string, string> {
  const { CrossDomainAcknowledgementAndResponse: rootModel, ...types } = CDAR_TYPES;
  const variant = ciiVariant({ CrossIndustryInvoice: rootModel!, ...types }, 'CDAR-hub.xsd', 'cdar', 'CDAR D22B (CrossDomainAcknowledgementAndResponse)');
  const root = variant['CDAR-hub.xsd']!
    .replace(`targetNamespace="${NS.rsm}"`, `targetNamespace="${CDAR_NS}"`)
    .replace('<xs:element name="CrossIndustryInvoice">', '<xs:element name="CrossDomainAcknowledgementAndResponse">')
    .replace('UN/CEFACT Cross Industry Invoice CDAR', 'UN/CEFACT CDAR');
  return { ...variant, 'CDAR-hub.xsd': root };
}

export const hubSchemas = (): Record<string, string> => ({ ...ublSchemas(), ...ciiSchemas(), ...cdarSchemas() });

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../schemas');
  for (const [file, text] of Object.entries(hubSchemas())) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
    console.log(`wrote schemas/${file}`);
  }
}
