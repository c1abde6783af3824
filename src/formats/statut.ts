/** CPPStatut / CPPFactureStatuts sent in by a recipient → status updates. */
import type { Location } from '../errors/catalog.js';
import { at, child, childrenNamed, textOf, type XNode } from '../xml/parse.js';

export interface StatusUpdate {
  position: number;
  supplierId: string;
  recipientSiret: string;
  number: string;
  invoiceDate?: string;
  status: string;
  /** ComplementStatut and Commentaire as the producer wrote them; `motif` is the first given (what 04/05/06 require). */
  complement?: string;
  comment?: string;
  motif?: string;
  mandate?: string;
  /** The producer's own Horodatage. */
  producedAt?: string;
  where: Location;
}

export function readStatusUpdates(root: XNode): StatusUpdate[] {
  return childrenNamed(child(root, 'CPPFactureStatuts'), 'CPPFactureStatutUnitaire').map((u, i) => {
    const data = child(u, 'DonneesStatut');
    return {
      position: Number(u.attrs.NumOrdre) || i + 1,
      supplierId: textOf(child(u, 'Fournisseur'), 'Identifiant') ?? '',
      recipientSiret: textOf(child(u, 'Debiteur'), 'Identifiant') ?? '',
      number: textOf(data, 'IdFacture') ?? '',
      invoiceDate: textOf(data, 'DateFacture'),
      status: textOf(data, 'IdStatut') ?? '',
      complement: textOf(data, 'ComplementStatut') || undefined,
      comment: textOf(data, 'Commentaire') || undefined,
      motif: textOf(data, 'ComplementStatut') || textOf(data, 'Commentaire') || undefined,
      mandate: textOf(data, 'IdMandatDP'),
      producedAt: textOf(data, 'Horodatage') || undefined,
      where: at(u),
    };
  });
}

/** A recipient's acknowledgment of a pivot flow (CPPFluxStatuts): 92 received, 94 reception error. */
export interface FlowAck {
  position: number;
  flowId: string;
  status: string;
  comment?: string;
  where: Location;
}

export function readFlowAcks(root: XNode): FlowAck[] {
  return childrenNamed(child(root, 'CPPFluxStatuts'), 'CPPFluxStatutUnitaire').map((u, i) => {
    const data = child(u, 'DonneesStatut');
    return {
      position: Number(u.attrs.NumOrdre) || i + 1,
      flowId: textOf(data, 'IdFlux') ?? '',
      status: textOf(data, 'IdStatut') ?? '',
      comment: textOf(data, 'Commentaire') || textOf(data, 'ComplementStatut') || undefined,
      where: at(u),
    };
  });
}
