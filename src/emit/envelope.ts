/** The CPP envelope written at the top of every output. */
import { el, leaf } from '../xml/write.js';

export interface Partner {
  id: string;
  label?: string;
}

export function envelope(params: [code: string, value: string][], receiver: Partner, sender: Partner): string {
  const partner = (name: string, p: Partner) => el(name, [leaf('Id', p.id), leaf('Libelle', p.label)]);
  return el(
    'Enveloppe',
    el('EnveloppeUnitaire', [
      el('Parametres', params.map(([code, value], i) => el('ParametreIndiv', [leaf('Code', code), leaf('Valeurparametre', value)], { NumOrdre: String(i + 1).padStart(4, '0') }))),
      el('Partenaires', [partner('Recepteur', receiver), partner('Emetteur', sender)]),
    ], { NumOrdre: 1 }),
  );
}
