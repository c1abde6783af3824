/**
 * The invoice lifecycle (domain §5) as one explicit table: who may set each status, from
 * which statuses, and what it must carry. Every status change goes through it, the platform's
 * own (01 at deposit, 03 when the pivot is written, 12 at completion) included. No official
 * matrix is published; this one follows the usual path 01 → 02 → 03 → 07 → 08 → 09 → 10 → 11
 * and its branches 03 → 04 (recycle), 03/07 → 06 → 12 → 03 (suspend, complete), 03/07 → 05 (reject).
 */
import { flowError, type FlowError } from '../errors/catalog.js';

export type Producer = 'platform' | 'recipient' | 'supplier' | 'accountant' | 'validator';

export interface StatusRule {
  code: string;
  name: string;
  setBy: readonly Producer[];
  /** Statuses the invoice may be in for this one to be set (null: not deposited yet). */
  from: readonly (string | null)[];
  needsMotif?: boolean;
  needsMandate?: boolean;
  terminal?: boolean;
}

export const LIFECYCLE: readonly StatusRule[] = [
  { code: '01', name: 'DEPOSEE', setBy: ['platform'], from: [null] },
  { code: '02', name: 'EN_COURS_ACHEMINEMENT', setBy: ['platform'], from: ['01'] },
  // 03 after a validation circuit too: validated, or its deadline passed (src/lifecycle/circuits.ts).
  { code: '03', name: 'MISE_A_DISPOSITION', setBy: ['platform'], from: ['01', '02', '12', '16', '17', '21', '22'] },
  { code: '04', name: 'A_RECYCLER', setBy: ['recipient'], from: ['03'], needsMotif: true, terminal: true },
  { code: '05', name: 'REJETEE', setBy: ['recipient'], from: ['03', '07'], needsMotif: true, terminal: true },
  { code: '06', name: 'SUSPENDUE', setBy: ['recipient'], from: ['03', '07'], needsMotif: true },
  { code: '12', name: 'COMPLETEE', setBy: ['supplier'], from: ['06'] },
  { code: '07', name: 'SERVICE_FAIT', setBy: ['recipient'], from: ['03'] },
  { code: '08', name: 'MANDATEE', setBy: ['recipient'], from: ['03', '07'], needsMandate: true },
  { code: '09', name: 'MISE_A_DISPOSITION_COMPTABLE', setBy: ['recipient', 'accountant'], from: ['08'] },
  { code: '10', name: 'COMPTABILISEE', setBy: ['accountant'], from: ['09'] },
  { code: '11', name: 'MISE_EN_PAIEMENT', setBy: ['accountant'], from: ['09', '10'], terminal: true },
  // Validation circuits (src/lifecycle/circuits.ts). The official CPPStatut schema allows IdStatut
  // 01–41 and documents only 01–12: these codes follow the order in which the platform lists its
  // circuit statuses (README, "Validation circuits"). The name travels in ComplementStatut.
  { code: '13', name: 'A_VALIDER_1', setBy: ['platform'], from: ['01'] },
  { code: '14', name: 'ERREUR_FOURNISSEUR_SUR_VALIDEUR', setBy: ['validator'], from: ['13'], needsMotif: true, terminal: true },
  { code: '15', name: 'REFUSEE_1', setBy: ['validator'], from: ['13'], needsMotif: true, terminal: true },
  { code: '16', name: 'VALIDEE_1', setBy: ['validator'], from: ['13'] },
  { code: '17', name: 'ABSENCE_VALIDATION_1_HORS_DELAI', setBy: ['platform'], from: ['13'] },
  { code: '18', name: 'A_VALIDER_2', setBy: ['platform'], from: ['16', '17'] },
  { code: '19', name: 'ERREUR_COTRAITANT_SUR_VALIDEUR', setBy: ['validator'], from: ['18'], needsMotif: true, terminal: true },
  { code: '20', name: 'REFUSEE_2', setBy: ['validator'], from: ['18'], needsMotif: true, terminal: true },
  { code: '21', name: 'VALIDEE_2', setBy: ['validator'], from: ['18'] },
  { code: '22', name: 'ABSENCE_VALIDATION_2_HORS_DELAI', setBy: ['platform'], from: ['18'] },
];

const BY_CODE = new Map(LIFECYCLE.map((s) => [s.code, s]));
const BY_NAME = new Map(LIFECYCLE.map((s) => [s.name, s]));

export const STATUS_NAMES: Record<string, string> = Object.fromEntries(LIFECYCLE.map((s) => [s.code, s.name]));

/** Accepts a code (7, 07) or a name (SERVICE_FAIT, service_fait). */
export function statusRule(codeOrName: string): StatusRule | undefined {
  const t = codeOrName.trim();
  if (/^\d{1,2}$/.test(t)) return BY_CODE.get(t.padStart(2, '0'));
  return BY_NAME.get(t.toUpperCase());
}

export interface Transition {
  number: string;
  from: string | null;
  to: string;
  producer: Producer;
  motif?: string;
  mandate?: string;
}

/** Pure check of one status change; an empty list means it may be applied. */
export function checkTransition(t: Transition): FlowError[] {
  const rule = statusRule(t.to);
  if (!rule) return [flowError('LIFE_STATUS_UNKNOWN', { status: t.to })];
  const to = `${rule.code} ${rule.name}`;
  if (!rule.setBy.includes(t.producer)) return [flowError('LIFE_PRODUCER_FORBIDDEN', { to, allowed: rule.setBy.join(' or '), producer: t.producer })];
  if (!rule.from.includes(t.from)) {
    const from = t.from ? `${t.from} ${STATUS_NAMES[t.from] ?? ''}`.trim() : 'not yet deposited';
    return [flowError('LIFE_TRANSITION_FORBIDDEN', { number: t.number, from, to })];
  }
  if (rule.needsMotif && !t.motif?.trim()) return [flowError('LIFE_MOTIF_REQUIRED', { to })];
  if (rule.needsMandate && !t.mandate?.trim()) return [flowError('LIFE_MANDATE_REQUIRED')];
  return [];
}

/** For the platform's own changes, which the hub itself plans: a refusal here is a defect, not a data error. */
export function assertTransition(t: Transition): string {
  const errors = checkTransition(t);
  if (errors.length) throw new Error(`lifecycle table refuses the platform's change: ${errors[0]!.message}`);
  return statusRule(t.to)!.code;
}
