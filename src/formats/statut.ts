/** CPPStatut / CPPFactureStatuts sent in by a recipient → status updates. */
import type { Location } from '../errors/catalog.js';
import { at, child, childrenNamed, textOf, type XNode } from '../xml/parse.js';

export interface StatusUpdate {
  /** The line's 1-based place in the flow (the hub's counter: NumOrdre is never a JS number). */
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
  /** Producteur/@Id: who sends the status (a validator names itself so). */
  producerId?: string;
  where: Location;
}

export function readStatusUpdates(root: XNode): StatusUpdate[] {
  return childrenNamed(child(root, 'CPPFactureStatuts'), 'CPPFactureStatutUnitaire').map((u, i) => {
    const data = child(u, 'DonneesStatut');
    return {
      position: i + 1,
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
      producerId: child(data, 'Producteur')?.attrs.Id?.trim() || undefined,
      where: at(u),
    };
  });
}

/**
 * Maximum lengths (in characters) the official CPPStatutPivot_V1_19.xsd sets on a status's
 * words, by unit: only a flow status's ComplementStatut is bounded; an invoice status's
 * ComplementStatut and Commentaire (and IdMandatDP) are unbounded strings, carried whole.
 * A word over its limit refuses its line (STATUS_TEXT_TOO_LONG); nothing is ever cut.
 */
export const STATUS_TEXT_LIMITS = {
  CPPFluxStatutUnitaire: { ComplementStatut: 40 },
  CPPFactureStatutUnitaire: {},
} as const satisfies Record<string, Partial<Record<'ComplementStatut' | 'Commentaire', number>>>;

export type StatusWords = { ComplementStatut?: string; Commentaire?: string };

/** The words of a unit over the official limits: element, length and limit of each. */
export function wordsOverLimit(unit: keyof typeof STATUS_TEXT_LIMITS, words: StatusWords): { element: string; length: number; max: number }[] {
  const limits: Partial<Record<keyof StatusWords, number>> = STATUS_TEXT_LIMITS[unit];
  return (Object.keys(words) as (keyof StatusWords)[]).flatMap((element) => {
    const max = limits[element];
    // XSD lengths count characters (code points), not UTF-16 units.
    const length = [...(words[element] ?? '')].length;
    return max !== undefined && length > max ? [{ element: `${unit}/DonneesStatut/${element}`, length, max }] : [];
  });
}

/** A recipient's acknowledgment of a pivot flow (CPPFluxStatuts): 92 received, 94 reception error. */
export interface FlowAck {
  position: number;
  flowId: string;
  status: string;
  comment?: string;
  /** ComplementStatut as sent, checked against the official 40-character limit. */
  complement?: string;
  where: Location;
}

export function readFlowAcks(root: XNode): FlowAck[] {
  return childrenNamed(child(root, 'CPPFluxStatuts'), 'CPPFluxStatutUnitaire').map((u, i) => {
    const data = child(u, 'DonneesStatut');
    return {
      position: i + 1,
      flowId: textOf(data, 'IdFlux') ?? '',
      status: textOf(data, 'IdStatut') ?? '',
      comment: textOf(data, 'Commentaire') || textOf(data, 'ComplementStatut') || undefined,
      complement: textOf(data, 'ComplementStatut') || undefined,
      where: at(u),
    };
  });
}
