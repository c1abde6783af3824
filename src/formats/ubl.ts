/**
 * UBL 2.1 Invoice / CreditNote → canonical invoice (platform conventions: cbc:BuyerReference
 * is the service code, cac:OrderReference/cbc:ID the engagement number).
 */
import type { Invoice, InvoiceLine, PostalAddress, VatLine } from '../model/invoice.js';
import { at, child, childrenNamed, descend, textOf, type XNode } from '../xml/parse.js';
import { blankInvoice, cadreOf, embeddedDocument, originalDocument, pickSiret, supplierIdentity, type IdCandidate } from './structured.js';

function partyIds(party: XNode | undefined): IdCandidate[] {
  const ids = childrenNamed(party, 'PartyIdentification').map((p) => child(p, 'ID')).filter((n): n is XNode => !!n);
  const legal = childrenNamed(party, 'PartyLegalEntity').map((p) => child(p, 'CompanyID')).filter((n): n is XNode => !!n);
  const endpoint = child(party, 'EndpointID');
  return [...ids, ...legal, ...(endpoint ? [endpoint] : [])].map((n) => ({ value: n.text.trim(), scheme: n.attrs.schemeID, schemeName: n.attrs.schemeName }));
}

const partyName = (party: XNode | undefined) =>
  textOf(descend(party, 'PartyLegalEntity'), 'RegistrationName') ?? textOf(descend(party, 'PartyName'), 'Name') ?? '';

/** The printed address, read leniently (only the rendered PDF shows it). */
function postalAddress(party: XNode | undefined): PostalAddress | undefined {
  const a = child(party, 'PostalAddress');
  if (!a) return undefined;
  const lines = [textOf(a, 'StreetName'), textOf(a, 'AdditionalStreetName'), ...childrenNamed(a, 'AddressLine').map((l) => textOf(l, 'Line'))];
  return { lines: lines.filter((l): l is string => !!l), postcode: textOf(a, 'PostalZone'), city: textOf(a, 'CityName'), countryCode: textOf(child(a, 'Country'), 'IdentificationCode') };
}

const vatIds = (party: XNode | undefined) => childrenNamed(party, 'PartyTaxScheme').map((p) => textOf(p, 'CompanyID') ?? '').filter(Boolean);

export function readUbl(root: XNode, original: Buffer, position: number, label: string, maxAttachmentBytes: number): Invoice {
  const creditNote = root.name === 'CreditNote';
  const supplierParty = descend(root, 'AccountingSupplierParty', 'Party');
  const customerParty = descend(root, 'AccountingCustomerParty', 'Party');
  const totals = child(root, 'LegalMonetaryTotal');
  const currency = textOf(root, 'DocumentCurrencyCode') ?? '';
  // Of several TaxTotal, the one in the document currency holds the breakdown.
  const taxTotals = childrenNamed(root, 'TaxTotal');
  const taxTotal = taxTotals.find((t) => child(t, 'TaxSubtotal') && child(t, 'TaxAmount')?.attrs.currencyID === currency) ?? taxTotals.find((t) => child(t, 'TaxSubtotal')) ?? taxTotals[0];
  const payment = child(root, 'PaymentMeans');
  const payeeAccount = child(payment, 'PayeeFinancialAccount');
  const country = textOf(descend(supplierParty, 'PostalAddress', 'Country'), 'IdentificationCode') ?? '';
  const supplierIds = partyIds(supplierParty);
  const lines = childrenNamed(root, creditNote ? 'CreditNoteLine' : 'InvoiceLine');
  const number = textOf(root, 'ID') ?? '';
  const docRefs = childrenNamed(root, 'AdditionalDocumentReference');

  const vat: VatLine[] = childrenNamed(taxTotal, 'TaxSubtotal').map((s) => ({
    rate: textOf(child(s, 'TaxCategory'), 'Percent') ?? textOf(s, 'Percent') ?? '',
    base: textOf(s, 'TaxableAmount') ?? '',
    amount: textOf(s, 'TaxAmount') ?? '',
  }));
  const invoiceLines: InvoiceLine[] = lines.map((l) => ({
    productRef: textOf(descend(l, 'Item', 'SellersItemIdentification'), 'ID') ?? textOf(child(l, 'Item'), 'Name'),
    unitPrice: textOf(child(l, 'Price'), 'PriceAmount') ?? '0',
    quantity: textOf(l, creditNote ? 'CreditedQuantity' : 'InvoicedQuantity') ?? '1',
    netAmount: textOf(l, 'LineExtensionAmount') ?? '',
    vatRate: textOf(descend(l, 'Item', 'ClassifiedTaxCategory'), 'Percent'),
    name: textOf(child(l, 'Item'), 'Name'),
    description: textOf(child(l, 'Item'), 'Description'),
  }));
  const payable = textOf(totals, 'PayableAmount') ?? '';
  const prepaid = textOf(totals, 'PrepaidAmount');
  const customerIdElement = 'cac:AccountingCustomerParty/cac:Party/cac:PartyIdentification/cbc:ID (schemeID="0009", the SIRET)';

  return {
    ...blankInvoice(position, label),
    number,
    type: creditNote ? '381' : textOf(root, 'InvoiceTypeCode') ?? '380',
    cadre: cadreOf(payable, prepaid),
    issueDate: textOf(root, 'IssueDate') ?? '',
    deliveryDate: textOf(child(root, 'Delivery'), 'ActualDeliveryDate'),
    currency,
    paymentMeans: { code: textOf(payment, 'PaymentMeansCode') ?? '', label: child(payment, 'PaymentMeansCode')?.attrs.name },
    totals: {
      net: textOf(totals, 'TaxExclusiveAmount') ?? '',
      gross: textOf(totals, 'TaxInclusiveAmount') ?? '',
      payable,
      lines: textOf(totals, 'LineExtensionAmount'),
      prepaid,
    },
    vat,
    contractNumber: textOf(child(root, 'ContractDocumentReference'), 'ID'),
    engagementNumber: textOf(child(root, 'OrderReference'), 'ID'),
    lines: invoiceLines,
    supplier: {
      ...supplierIdentity(supplierIds, vatIds(supplierParty), country),
      name: partyName(supplierParty),
      countryCode: country,
      bankAccount: payeeAccount ? { type: 'IBAN', account: textOf(payeeAccount, 'ID'), holder: textOf(payeeAccount, 'Name') } : undefined,
      vatNumber: vatIds(supplierParty)[0],
      address: postalAddress(supplierParty),
    },
    recipient: {
      siret: pickSiret(partyIds(customerParty)) ?? '',
      name: partyName(customerParty) || undefined,
      serviceCode: textOf(root, 'BuyerReference') || undefined,
      address: postalAddress(customerParty),
    },
    attachments: [
      originalDocument(number, original),
      ...docRefs.flatMap((ref) => {
        const binary = descend(ref, 'Attachment', 'EmbeddedDocumentBinaryObject');
        return binary ? [embeddedDocument(binary, textOf(ref, 'ID'), maxAttachmentBytes)] : [];
      }),
    ],
    notes: childrenNamed(root, 'Note').map((n) => n.text.trim()).filter(Boolean),
    dueDate: textOf(root, 'DueDate') ?? textOf(payment, 'PaymentDueDate'),
    where: {
      invoice: at(root),
      number: at(child(root, 'ID')),
      type: at(child(root, creditNote ? 'CreditNoteTypeCode' : 'InvoiceTypeCode') ?? root),
      issueDate: at(child(root, 'IssueDate')),
      currency: at(child(root, 'DocumentCurrencyCode') ?? root),
      paymentMeans: at(payment ?? root),
      totals: at(totals),
      vat: at(taxTotal ?? root),
      lines: at(lines[0] ?? root),
      supplierId: at(supplierParty ?? root),
      recipientId: customerParty ? { ...at(customerParty), element: customerIdElement } : at(root),
      serviceCode: at(child(root, 'BuyerReference') ?? root),
      engagementNumber: at(child(root, 'OrderReference') ?? root),
      attachments: at(docRefs[0] ?? root),
    },
  };
}
