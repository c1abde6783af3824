/**
 * Validation circuits as data: for each billing framework (Cadre), the levels an invoice goes
 * through before its recipient receives it, who acts at each level, how long they have and
 * what happens when they do not act in time. A framework without a circuit is delivered at
 * once. The statuses a circuit moves through are rows of the lifecycle table
 * (src/lifecycle/statuses.ts); this table says which of them apply at which level.
 *
 * Level 1 is the main contractor named in the invoice's `Valideur` (subcontractors, A9/A10),
 * the agent of the co-contractors (A12), or the project manager, MOE (works statements from the
 * supplier, A4/A7). Co-contractors' works statements (A13/A14) have both: the agent first, the
 * MOE second. Statements the MOE or the MOA deposit themselves (A15–A20, A24, A25) go straight
 * to the MOA.
 */
import type { Invoice } from '../model/invoice.js';

/** Who acts at a level: the invoice's `Valideur`, or its project manager (`MaitreOeuvre`). */
export type Actor = 'valideur' | 'moe';

/**
 * Past the deadline: `release` (silence is approval: the invoice goes on to the next level or
 * to its recipient, as the subcontracting rules read silence), or `refuse` (it stops there).
 */
export type DeadlineRule = 'release' | 'refuse';

export interface CircuitLevel {
  level: 1 | 2;
  by: Actor;
  /** The statuses of this level: awaiting, approved, refused, wrong validator, deadline passed. */
  pending: string;
  validated: string;
  refused: string;
  wrongValidator: string;
  lapsed: string;
  onDeadline: DeadlineRule;
}

const LEVEL_1 = { level: 1, pending: '13', wrongValidator: '14', refused: '15', validated: '16', lapsed: '17', onDeadline: 'release' } as const;
const LEVEL_2 = { level: 2, pending: '18', wrongValidator: '19', refused: '20', validated: '21', lapsed: '22', onDeadline: 'release' } as const;

export interface Circuit {
  cadres: readonly string[];
  what: string;
  levels: readonly CircuitLevel[];
}

export const CIRCUITS: readonly Circuit[] = [
  { cadres: ['A9', 'A10'], what: "subcontractor's invoice or payment request, approved by the main contractor", levels: [{ ...LEVEL_1, by: 'valideur' }] },
  { cadres: ['A12'], what: "co-contractor's invoice, approved by the co-contractors' agent", levels: [{ ...LEVEL_1, by: 'valideur' }] },
  { cadres: ['A13', 'A14'], what: "co-contractor's works statement, approved by the agent, then by the MOE", levels: [{ ...LEVEL_1, by: 'valideur' }, { ...LEVEL_2, by: 'moe' }] },
  { cadres: ['A4', 'A7'], what: "supplier's works statement, approved by the MOE", levels: [{ ...LEVEL_1, by: 'moe' }] },
];

const BY_CADRE = new Map(CIRCUITS.flatMap((c) => c.cadres.map((cadre) => [cadre, c] as const)));

export const circuitOf = (cadre: string): Circuit | undefined => BY_CADRE.get(cadre);

/** Works contracts' frameworks: their recipient must be a MOA in the directory (EstMOA). */
export const WORKS_CADRES: ReadonlySet<string> = new Set(['A4', 'A5', 'A6', 'A7', 'A8', 'A13', 'A14', 'A15', 'A16', 'A17', 'A18', 'A19', 'A20', 'A22', 'A23', 'A24', 'A25']);

/** The identifier of who acts at a level, from the invoice. */
/** Who acts at a level of a held invoice: its validator (level 1) or its level-2 validator. */
export const validatorAt = (hold: { validator_1: string; validator_2: string | null }, level: number): string | undefined =>
  (level === 2 ? hold.validator_2 : hold.validator_1) ?? undefined;
/** Everyone who acts on a held invoice, at either level. */
export const validatorsOf = (hold: { validator_1: string; validator_2: string | null }): string[] => [hold.validator_1, hold.validator_2].filter((v): v is string => !!v);

export const actorId = (inv: Pick<Invoice, 'validator' | 'moe'>, by: Actor): string | undefined => (by === 'valideur' ? inv.validator?.id : inv.moe?.id) || undefined;

/** The level a circuit status belongs to, and what it is there. */
export function levelOfStatus(status: string): { circuit: 'pending' | 'validated' | 'refused' | 'wrongValidator' | 'lapsed'; level: 1 | 2 } | undefined {
  for (const l of [LEVEL_1, LEVEL_2]) {
    for (const k of ['pending', 'validated', 'refused', 'wrongValidator', 'lapsed'] as const) if (l[k] === status) return { circuit: k, level: l.level };
  }
  return undefined;
}

/** Deadlines per level, in days (settings `validationDeadlineDays`, `validation2DeadlineDays`). */
export interface Deadlines {
  1: number;
  2: number;
}

const DAY_MS = 86_400_000;
export const dueAt = (from: string, level: 1 | 2, deadlines: Deadlines): string => new Date(Date.parse(from) + deadlines[level] * DAY_MS).toISOString();

/**
 * What follows a level's decision (approved, or its deadline passed): the next level, the
 * recipient, or nothing (the deadline rule refuses).
 */
export function nextStep(circuit: Circuit, status: string): { to: 'level'; level: CircuitLevel } | { to: 'recipient' } | { to: 'none' } {
  const at = levelOfStatus(status);
  if (!at || (at.circuit !== 'validated' && at.circuit !== 'lapsed')) return { to: 'none' };
  const here = circuit.levels.find((l) => l.level === at.level);
  if (!here || (at.circuit === 'lapsed' && here.onDeadline === 'refuse')) return { to: 'none' };
  const next = circuit.levels.find((l) => l.level === at.level + 1);
  return next ? { to: 'level', level: next } : { to: 'recipient' };
}
