/**
 * UN/CEFACT CII D16B CrossIndustryInvoice → canonical invoice (BuyerReference is the service
 * code, BuyerOrderReferencedDocument/IssuerAssignedID the engagement number).
 */
import type { Invoice, InvoiceLine, PostalAddress } from '../model/invoice.js';
import { at, child, childrenNamed, descend, textOf, type XNode } from '../xml/parse.js';
import { blankInvoice, cadreOf, embeddedDocument, originalDocument, pickSiret, supplierIdentity, type IdCandidate } from './structured.js';

/** CII dates: DateTimeString with format 102 (YYYYMMDD), or already ISO. */
export function ciiDate(node: XNode | undefined): string {
  const s = textOf(node, 'DateTimeString') ?? textOf(node, 'DateTime') ?? '';
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(s);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : s.slice(0, 10);
}

function partyIds(party: XNode | undefined): IdCandidate[] {
  const legal = child(child(party, 'SpecifiedLegalOrganization'), 'ID');
  const nodes = [...(legal ? [legal] : []), ...childrenNamed(party, 'GlobalID'), ...childrenNamed(party, 'ID')];
  return nodes.map((n) => ({ value: n.text.trim(), scheme: n.attrs.schemeID, schemeName: n.attrs.schemeName }));
}

/** The printed address, read leniently (only the rendered PDF shows it). */
function postalAddress(party: XNode | undefined): PostalAddress | undefined {
  const a = child(party, 'PostalTradeAddress');
  if (!a) return undefined;
  const lines = [textOf(a, 'LineOne'), textOf(a, 'LineTwo'), textOf(a, 'LineThree')];
  return { lines: lines.filter((l): l is string => !!l), postcode: textOf(a, 'PostcodeCode'), city: textOf(a, 'CityName'), countryCode: textOf(a, 'CountryID') };
}

const vatIds = (party: XNode | undefined) =>
  childrenNamed(party, 'SpecifiedTaxRegistration').map((r) => child(r, 'ID')).filter((n) => n && n.attrs.schemeID === 'VA').map((n) => n!.text.trim());

/** Of repeated amounts (e.g. TaxTotalAmount in two currencies), the one in the invoice currency. */
const amountIn = (parent: XNode | undefined, name: string, currency: string) => {
  const all = childrenNamed(parent, name);
  return (all.find((n) => n.attrs.currencyID === currency) ?? all[0])?.text.trim();
};

export function readCii(root: XNode, original: Buffer, position: number, label: string, maxAttachmentBytes: number): Invoice {
  const doc = child(root, 'ExchangedDocument');
  const tx = child(root, 'SupplyChainTradeTransaction');
  const agreement = child(tx, 'ApplicableHeaderTradeAgreement');
  const settlement = child(tx, 'ApplicableHeaderTradeSettlement');
  const sums = child(settlement, 'SpecifiedTradeSettlementHeaderMonetarySummation');
  const seller = child(agreement, 'SellerTradeParty');
  const buyer = child(agreement, 'BuyerTradeParty');
  const payment = child(settlement, 'SpecifiedTradeSettlementPaymentMeans');
  const iban = textOf(child(payment, 'PayeePartyCreditorFinancialAccount'), 'IBANID');
  const currency = textOf(settlement, 'InvoiceCurrencyCode') ?? '';
  const country = textOf(child(seller, 'PostalTradeAddress'), 'CountryID') ?? '';
  const number = textOf(doc, 'ID') ?? '';
  const items = childrenNamed(tx, 'IncludedSupplyChainTradeLineItem');
  const docRefs = childrenNamed(agreement, 'AdditionalReferencedDocument');
  const payable = amountIn(sums, 'DuePayableAmount', currency) ?? '';
  const prepaid = amountIn(sums, 'TotalPrepaidAmount', currency);
  const lines: InvoiceLine[] = items.map((item) => ({
    productRef: textOf(child(item, 'SpecifiedTradeProduct'), 'SellerAssignedID') ?? textOf(child(item, 'SpecifiedTradeProduct'), 'Name'),
    unitPrice: textOf(descend(item, 'SpecifiedLineTradeAgreement', 'NetPriceProductTradePrice'), 'ChargeAmount') ?? '0',
    quantity: textOf(child(item, 'SpecifiedLineTradeDelivery'), 'BilledQuantity') ?? '1',
    netAmount: textOf(descend(item, 'SpecifiedLineTradeSettlement', 'SpecifiedTradeSettlementLineMonetarySummation'), 'LineTotalAmount') ?? '',
    vatRate: textOf(descend(item, 'SpecifiedLineTradeSettlement', 'ApplicableTradeTax'), 'RateApplicablePercent'),
    name: textOf(child(item, 'SpecifiedTradeProduct'), 'Name'),
    description: textOf(child(item, 'SpecifiedTradeProduct'), 'Description'),
  }));

  return {
    ...blankInvoice(position, label),
    number,
    type: textOf(doc, 'TypeCode') ?? '380',
    cadre: cadreOf(payable, prepaid),
    issueDate: ciiDate(child(doc, 'IssueDateTime')),
    deliveryDate: ciiDate(descend(tx, 'ApplicableHeaderTradeDelivery', 'ActualDeliverySupplyChainEvent', 'OccurrenceDateTime')) || undefined,
    currency,
    paymentMeans: { code: textOf(payment, 'TypeCode') ?? '', label: textOf(payment, 'Information') },
    totals: {
      net: amountIn(sums, 'TaxBasisTotalAmount', currency) ?? '',
      gross: amountIn(sums, 'GrandTotalAmount', currency) ?? '',
      payable,
      lines: amountIn(sums, 'LineTotalAmount', currency),
      prepaid,
    },
    vat: childrenNamed(settlement, 'ApplicableTradeTax').map((t) => ({
      rate: textOf(t, 'RateApplicablePercent') ?? '',
      base: textOf(t, 'BasisAmount') ?? '',
      amount: textOf(t, 'CalculatedAmount') ?? '',
    })),
    contractNumber: textOf(child(agreement, 'ContractReferencedDocument'), 'IssuerAssignedID'),
    engagementNumber: textOf(child(agreement, 'BuyerOrderReferencedDocument'), 'IssuerAssignedID'),
    lines,
    supplier: {
      ...supplierIdentity(partyIds(seller), vatIds(seller), country),
      name: textOf(seller, 'Name') ?? textOf(child(seller, 'SpecifiedLegalOrganization'), 'TradingBusinessName') ?? '',
      countryCode: country,
      bankAccount: iban ? { type: 'IBAN', account: iban } : undefined,
      vatNumber: vatIds(seller)[0],
      address: postalAddress(seller),
    },
    recipient: {
      siret: pickSiret(partyIds(buyer)) ?? '',
      name: textOf(buyer, 'Name'),
      serviceCode: textOf(agreement, 'BuyerReference') || undefined,
      address: postalAddress(buyer),
    },
    attachments: [
      originalDocument(number, original),
      ...docRefs.flatMap((ref) => {
        const binary = child(ref, 'AttachmentBinaryObject');
        return binary ? [embeddedDocument(binary, textOf(ref, 'IssuerAssignedID'), maxAttachmentBytes)] : [];
      }),
    ],
    notes: childrenNamed(doc, 'IncludedNote').map((n) => textOf(n, 'Content') ?? '').filter(Boolean),
    dueDate: ciiDate(child(child(settlement, 'SpecifiedTradePaymentTerms'), 'DueDateDateTime')) || undefined,
    where: {
      invoice: at(root),
      number: at(child(doc, 'ID')),
      type: at(child(doc, 'TypeCode') ?? doc),
      issueDate: at(child(doc, 'IssueDateTime')),
      currency: at(child(settlement, 'InvoiceCurrencyCode') ?? settlement),
      paymentMeans: at(payment ?? settlement),
      totals: at(sums ?? settlement),
      vat: at(child(settlement, 'ApplicableTradeTax') ?? settlement),
      lines: at(items[0] ?? tx),
      supplierId: at(seller ?? agreement),
      recipientId: buyer ? { ...at(buyer), element: 'ram:BuyerTradeParty/ram:SpecifiedLegalOrganization/ram:ID (schemeID="0009", the SIRET)' } : at(agreement),
      serviceCode: at(child(agreement, 'BuyerReference') ?? agreement),
      engagementNumber: at(child(agreement, 'BuyerOrderReferencedDocument') ?? agreement),
      attachments: at(docRefs[0] ?? agreement),
    },
  };
}
