/** E2 mixed flow (CPPFactureMixte) → canonical invoices. */
import { flowError, type FlowError, type Location } from '../errors/catalog.js';
import type { Attachment, Invoice } from '../model/invoice.js';
import { at, child, childrenNamed, textOf, type XNode } from '../xml/parse.js';
import { canonicalInteger } from '../validate/decimal.js';
import { decodeAttachment } from './attachments.js';
import { readEnvelope, type Envelope } from './envelope.js';

export interface MixedFlow {
  envelope: Envelope;
  invoices: Invoice[];
  /** Problems that refuse the whole flow (Compteur, NumOrdre). */
  errors: FlowError[];
}

export function readMixedFlow(root: XNode, maxAttachmentSize: number): MixedFlow {
  const list = child(root, 'CPPFactures');
  const units = childrenNamed(list, 'CPPFactureMixteUnitaire');
  return {
    envelope: readEnvelope(root),
    invoices: units.map((u, i) => readInvoice(u, maxAttachmentSize, i + 1)),
    errors: countingErrors(list?.attrs.Compteur, units.map((u) => ({ numOrdre: u.attrs.NumOrdre, where: at(u) })), at(list)),
  };
}

/**
 * The flow-level checks on the invoice list: Compteur matches, NumOrdre unique. Both are
 * xs:integer types: compared as canonical digit strings (the schema's value: "01" is 1),
 * never as JavaScript numbers, which merge integers above 2^53.
 */
export function countingErrors(compteur: string | undefined, units: { numOrdre: string | undefined; where: Location }[], listAt: Location): FlowError[] {
  const errors: FlowError[] = [];
  if (canonicalInteger(compteur) !== String(units.length)) errors.push(flowError('FLOW_COUNTER_MISMATCH', { declared: compteur ?? '(none)', actual: units.length }, listAt));
  const seen = new Set<string>();
  for (const u of units) {
    const n = canonicalInteger(u.numOrdre) ?? `(${u.numOrdre ?? ''})`;
    if (seen.has(n)) errors.push(flowError('FLOW_DUPLICATE_NUMORDRE', { numOrdre: u.numOrdre ?? '' }, u.where));
    seen.add(n);
  }
  return errors;
}

/** `position` is the invoice's 1-based place in the flow (the hub's counter); NumOrdre stays the supplier's text, in the label. */
export function readInvoice(unit: XNode, maxAttachmentSize: number, position: number): Invoice {
  const supplier = child(unit, 'Fournisseur');
  const buyer = child(unit, 'Debiteur');
  const data = child(unit, 'DonneesFacture');
  const amounts = child(data, 'Montants');
  const engagement = child(data, 'Engagement');
  const bank = child(supplier, 'ReferenceBancaire');
  const validator = child(data, 'Valideur');
  const moe = child(data, 'MaitreOeuvre');
  const payment = child(data, 'ModePaiement');
  const invoice: Invoice = {
    position,
    label: `NumOrdre ${unit.attrs.NumOrdre}`,
    number: textOf(data, 'Id') ?? '',
    type: textOf(data, 'Type') ?? '',
    cadre: textOf(data, 'Cadre') ?? '',
    issueDate: textOf(data, 'DateEmissionFacture') ?? '',
    deliveryDate: textOf(data, 'DateLivraison'),
    currency: textOf(data, 'Devise') ?? '',
    paymentMeans: { code: textOf(payment, 'Code') ?? '', label: textOf(payment, 'Libelle') },
    totals: {
      net: textOf(amounts, 'MontantHT') ?? '',
      gross: textOf(amounts, 'MontantTTC') ?? '',
      payable: textOf(amounts, 'MontantNetAPayer') ?? '',
    },
    vat: childrenNamed(child(data, 'TVAS'), 'TVA').map((t) => ({
      rate: textOf(t, 'Taux') ?? '',
      base: textOf(t, 'BaseHt') ?? '',
      amount: textOf(t, 'MontantTVA') ?? '',
    })),
    contractNumber: textOf(engagement, 'NumeroMarche') || undefined,
    engagementNumber: textOf(engagement, 'NumeroEngagement') || undefined,
    validator: validator ? { idType: textOf(validator, 'TypeIdentifiant') ?? '', id: textOf(validator, 'Identifiant') ?? '' } : undefined,
    moe: moe ? { idType: textOf(moe, 'TypeIdentifiant') ?? '', id: textOf(moe, 'Identifiant') ?? '' } : undefined,
    lines: childrenNamed(child(data, 'Lignes'), 'Ligne').map((l) => ({
      productRef: textOf(l, 'ReferenceProduit'),
      unitPrice: textOf(l, 'PrixUnitaire') ?? '',
      quantity: textOf(l, 'Quantite') ?? '',
      netAmount: textOf(l, 'MontantHT') ?? '',
      vatRate: textOf(l, 'TauxTVA'),
    })),
    supplier: {
      idType: textOf(supplier, 'TypeIdentifiant') ?? '',
      id: textOf(supplier, 'Identifiant') ?? '',
      name: textOf(supplier, 'RaisonSociale') ?? '',
      countryCode: textOf(supplier, 'CodePays') ?? '',
      bankAccount: bank
        ? {
            type: bank.attrs.Type === 'RIB' ? 'RIB' : 'IBAN',
            account: textOf(bank, 'Compte'),
            institution: textOf(bank, 'Etablissement'),
            holder: textOf(bank, 'RaisonSocialeEncaisseur'),
          }
        : undefined,
    },
    recipient: {
      siret: textOf(buyer, 'Identifiant') ?? '',
      name: textOf(buyer, 'Nom'),
      serviceCode: textOf(buyer, 'CodeService') || undefined,
      serviceName: textOf(buyer, 'NomService'),
    },
    attachments: childrenNamed(unit, 'PJ').map((pj): Attachment =>
      decodeAttachment(
        textOf(pj, 'TypePJ') === '01' ? '01' : '02',
        textOf(pj, 'NomPJ') ?? '',
        textOf(pj, 'MimeTypePJ') ?? '',
        child(pj, 'Contenu')?.text ?? '',
        maxAttachmentSize,
      ),
    ),
    where: {
      invoice: at(unit),
      number: at(child(data, 'Id')),
      type: at(child(data, 'Type')),
      cadre: at(child(data, 'Cadre')),
      issueDate: at(child(data, 'DateEmissionFacture')),
      currency: at(child(data, 'Devise')),
      paymentMeans: at(child(payment, 'Code')),
      totals: at(amounts),
      vat: at(child(data, 'TVAS')),
      lines: at(child(data, 'Lignes')),
      supplierId: at(child(supplier, 'Identifiant')),
      recipientId: at(child(buyer, 'Identifiant')),
      serviceCode: at(child(buyer, 'CodeService') ?? buyer),
      engagementNumber: at(engagement ?? data),
      attachments: at(child(unit, 'PJ')),
    },
  };
  return invoice;
}
