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

export function invoiceStatusesXml(flowId: string, date: string, receiver: Partner, sender: Partner, entries: StatusEntry[]): string {
  return (
    XML_DECLARATION +
    el('CPPStatut', [
      envelope([['DtPrd', date], ['IdFlx', flowId]], receiver, sender),
      el('CPPFactureStatuts', entries.map((e, i) =>
        el('CPPFactureStatutUnitaire', [
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
        ], { NumOrdre: i + 1 }),
      ), { compteur: entries.length }),
    ])
  );
}
