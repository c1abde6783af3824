/** Invoice lifecycle statuses (CPPStatut / CPPFactureStatuts), as suppliers receive them. */
import { el, leaf, XML_DECLARATION } from '../xml/write.js';
import { envelope, type Partner } from './envelope.js';

export interface StatusEntry {
  supplier: { idType: string; id: string; name: string; countryCode?: string };
  recipient: { siret: string; name?: string; serviceCode?: string };
  status: string;
  /** The status's name, e.g. DEPOSEE, or the motif for 04/05/06. */
  complement?: string;
  comment?: string;
  at: string;
  invoiceNumber: string;
  invoiceDate?: string;
  mandate?: string;
}

/**
 * The status file as chunks, one per entry: a flow of 50,000 invoices gives a file of tens of
 * MB, written as it is produced instead of built as one string. `entries` is read once, lazily.
 */
export function* invoiceStatusesChunks(flowId: string, date: string, receiver: Partner, sender: Partner, count: number, entries: Iterable<StatusEntry>): Generator<string> {
  yield XML_DECLARATION;
  yield '<CPPStatut>\n';
  yield envelope([['DtPrd', date], ['IdFlx', flowId]], receiver, sender);
  yield `<CPPFactureStatuts compteur="${count}">\n`;
  let i = 0;
  for (const e of entries) yield statusEntryXml(e, ++i);
  yield '</CPPFactureStatuts>\n</CPPStatut>\n';
}

/** The whole status file as one string (small files: tests, samples). */
export function invoiceStatusesXml(flowId: string, date: string, receiver: Partner, sender: Partner, entries: StatusEntry[]): string {
  return [...invoiceStatusesChunks(flowId, date, receiver, sender, entries.length, entries)].join('');
}

function statusEntryXml(e: StatusEntry, numOrdre: number): string {
  return el('CPPFactureStatutUnitaire', [
    el('Fournisseur', [leaf('TypeIdentifiant', e.supplier.idType), leaf('Identifiant', e.supplier.id), leaf('RaisonSociale', e.supplier.name), leaf('CodePays', e.supplier.countryCode)]),
    el('Debiteur', [leaf('TypeIdentifiant', '1'), leaf('Identifiant', e.recipient.siret), leaf('Nom', e.recipient.name), leaf('CodeService', e.recipient.serviceCode)]),
    el('DonneesStatut', [
      leaf('IdStatut', e.status),
      leaf('ComplementStatut', e.complement),
      leaf('Commentaire', e.comment),
      leaf('Horodatage', e.at),
      leaf('IdFacture', e.invoiceNumber),
      leaf('DateFacture', e.invoiceDate),
      leaf('IdMandatDP', e.mandate),
    ]),
  ], { NumOrdre: numOrdre });
}
