/** The envelope shared by every CPP flow (mixed invoices, pivots, statuses). */
import { child, childrenNamed, textOf, type XNode } from '../xml/parse.js';

export interface Envelope {
  /** Parameter code (DtPrd, IdFlx, ...) to value. */
  params: Record<string, string>;
  senderId?: string;
  receiverId?: string;
}

export function readEnvelope(root: XNode): Envelope {
  const unit = child(child(root, 'Enveloppe'), 'EnveloppeUnitaire');
  const params: Record<string, string> = {};
  for (const p of childrenNamed(child(unit, 'Parametres'), 'ParametreIndiv')) {
    const code = textOf(p, 'Code');
    if (code) params[code] = textOf(p, 'Valeurparametre') ?? '';
  }
  const partners = child(unit, 'Partenaires');
  return {
    params,
    senderId: textOf(child(partners, 'Emetteur'), 'Id'),
    receiverId: textOf(child(partners, 'Recepteur'), 'Id'),
  };
}
