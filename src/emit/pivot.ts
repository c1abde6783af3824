/**
 * The pivot flow (CPPFacturePivot) for one recipient: its accepted invoices of one flow.
 * Produced as chunks, one per invoice, so a large flow is written without building one
 * huge string. Attachments travel as base64 of a zip holding the one file.
 */
import type { Attachment, Invoice } from '../model/invoice.js';
import { pivotPaymentCode, pivotPaymentLabel } from '../model/paymentMeans.js';
import { zipOne } from '../util/zip.js';
import { base64Leaf, el, leaf, XML_DECLARATION } from '../xml/write.js';
import { envelope, type Partner } from './envelope.js';
import { renderedPdf } from './renderedPdf.js';

export type Renvoi = 'Non' | 'Complétée' | 'Recyclée';

export interface PivotInvoice {
  invoice: Invoice;
  /** The hub's own id for the invoice (IdCPRO). */
  hubId: number;
  renvoi: Renvoi;
  /** Its own deposit date when it differs from the flow's (an invoice released by a validation circuit). */
  receivedOn?: string;
  /** The day a works statement was made available to its MOE (DateMiseADispositionMOE). */
  moeOn?: string;
}

export interface PivotHeader {
  flowId: string;
  /** Deposit date, YYYY-MM-DD: the DtPrd parameter and every DateReception. */
  depositDate: string;
  recipient: Partner;
  platform: Partner;
  /** Add a rendered PDF to structured invoices that have none (the `renderPdf` setting; default on). */
  renderPdf?: boolean;
  /** An attachment's bytes (the application reads back those a large flow's reader set aside); default: those held. */
  bytesOf?: (a: Attachment) => Buffer;
}

const heldBytes = (a: Attachment): Buffer => {
  if (!a.content) throw new Error(`attachment ${a.name} was set aside and no reader was given for it`);
  return a.content;
};

/** A pivot file, one invoice at a time from `invoices` (`count` of them, the list's Compteur). */
export function* pivotChunks(header: PivotHeader, count: number, invoices: Iterable<PivotInvoice>): Generator<string | Buffer> {
  yield XML_DECLARATION;
  yield '<CPPFacturePivot>\n';
  yield envelope([['DtPrd', header.depositDate], ['IdFlx', header.flowId]], header.recipient, header.platform);
  yield `<CPPFactures Compteur="${count}">\n`;
  let numOrdre = 0;
  for (const p of invoices) yield pivotInvoice(p, ++numOrdre, header.depositDate, header.renderPdf ?? true, header.bytesOf ?? heldBytes);
  yield '</CPPFactures>\n</CPPFacturePivot>\n';
}

function pivotInvoice({ invoice: inv, hubId, renvoi, receivedOn, moeOn }: PivotInvoice, numOrdre: number, depositDate: string, renderPdf: boolean, bytesOf: (a: Attachment) => Buffer): string {
  const bank = inv.supplier.bankAccount;
  return el('CPPFacturePivotUnitaire', [
    el('Fournisseur', [
      leaf('TypeIdentifiant', inv.supplier.idType),
      leaf('Identifiant', inv.supplier.id),
      leaf('RaisonSociale', inv.supplier.name),
      leaf('CodePays', inv.supplier.countryCode),
      bank && el('ReferenceBancaire', [leaf('Compte', bank.account), leaf('Etablissement', bank.institution), leaf('RaisonSocialeEncaisseur', bank.holder)], { Type: bank.type }),
      leaf('ModeEmission', 'flux'),
    ]),
    el('Debiteur', [
      leaf('TypeIdentifiant', '1'),
      leaf('Identifiant', inv.recipient.siret),
      leaf('Nom', inv.recipient.name),
      leaf('CodeService', inv.recipient.serviceCode),
      leaf('NomService', inv.recipient.serviceName),
    ]),
    el('DonneesFacture', [
      leaf('Id', inv.number),
      leaf('IdCPRO', hubId),
      leaf('Renvoi', renvoi),
      leaf('Type', inv.type),
      leaf('Cadre', inv.cadre),
      leaf('DateEmissionFacture', inv.issueDate),
      leaf('DateLivraison', inv.deliveryDate),
      el('ModePaiement', [leaf('Code', pivotPaymentCode(inv.paymentMeans.code)), leaf('Libelle', pivotPaymentLabel(inv.paymentMeans.code))]),
      leaf('DateReception', receivedOn ?? depositDate),
      leaf('DateMiseADispositionMOE', moeOn),
      leaf('Devise', inv.currency),
      el('Montants', [leaf('MontantHT', inv.totals.net), leaf('MontantTTC', inv.totals.gross), leaf('MontantNetAPayer', inv.totals.payable)]),
      inv.vat.length > 0 && el('TVAs', inv.vat.map((t) => el('TVA', [leaf('Taux', t.rate), leaf('BaseHt', t.base), leaf('MontantTVA', t.amount)]))),
      (inv.contractNumber || inv.engagementNumber) &&
        el('Engagement', [leaf('NumeroMarche', inv.contractNumber), leaf('NumeroEngagement', inv.engagementNumber)]),
      inv.lines.length > 0 &&
        el('Lignes', inv.lines.map((l, i) =>
          el('Ligne', [leaf('ReferenceProduit', l.productRef), leaf('PrixUnitaire', l.unitPrice), leaf('Quantite', l.quantity), leaf('MontantHT', l.netAmount), leaf('TauxTVA', l.vatRate)], { NumOrdre: i + 1 }),
        )),
    ]),
    pivotAttachments(inv, renderPdf).map((a, i) => pivotAttachment(a, i + 1, bytesOf)),
  ], { NumOrdre: numOrdre });
}

/** The invoice itself (01) first, then the rendered PDF if any, then the supplier's other documents. */
function pivotAttachments(inv: Invoice, renderPdf: boolean): Attachment[] {
  const sorted = [...inv.attachments].sort((a, b) => a.type.localeCompare(b.type));
  const rendered = renderPdf ? renderedPdf(inv) : undefined;
  if (rendered) sorted.splice(sorted.filter((a) => a.type === '01').length, 0, rendered);
  return sorted;
}

function pivotAttachment(a: Attachment, numOrdre: number, bytesOf: (a: Attachment) => Buffer): string {
  const zip = a.zipped ?? zipOne(a.name, bytesOf(a));
  return el('PJ', [base64Leaf('Contenu', zip.toString('base64')), leaf('NomPJ', a.name), leaf('TypePJ', a.type), leaf('MimeTypePJ', a.mimeType)], { NumOrdre: numOrdre });
}
