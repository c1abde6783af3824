/**
 * The validation circuits' share of the plans, pure like the rest of engine/plan:
 *  - at a decision: the circuit an accepted invoice is held in (its validators, the level-1
 *    deadline), and the levels a validator's (or the deadline's) decision closes;
 *  - at a delivery: the invoices to make available to their level-1 validator instead of their
 *    recipient, and the releases of invoices a decision of this flow moved on: to the level-2
 *    validator, or to the recipient (with DateMiseADispositionMOE for a works statement).
 * Every status planned here goes through the lifecycle table.
 */
import type { AcceptedUpdate } from './judge.js';
import type { EventRecord, EventRow, HoldRow, InvoiceRow } from '../ledger/stores.js';
import { actorId, circuitOf, dueAt, levelOfStatus, nextStep, validatorAt, type Deadlines } from '../lifecycle/circuits.js';
import { assertTransition } from '../lifecycle/statuses.js';
import type { Invoice } from '../model/invoice.js';
import { localDate, type Places } from './places.js';

export type PlannedHold = Omit<HoldRow, 'invoice_id'>;

/** A level of a held invoice from now on: awaited until `dueAt`, or decided (`dueAt` null). */
export interface LevelChange {
  invoiceId: number;
  level: number;
  dueAt: string | null;
}

/** The circuit an accepted invoice is held in, or none: its framework has no circuit. */
export function holdOf(inv: Invoice, at: string, deadlines: Deadlines): PlannedHold | undefined {
  const circuit = circuitOf(inv.cadre);
  if (!circuit) return undefined;
  const [first, second] = circuit.levels;
  return {
    cadre: inv.cadre,
    // The deposit rules refused the invoice if one is missing.
    validator_1: actorId(inv, first!.by) ?? '',
    validator_2: second ? (actorId(inv, second.by) ?? '') : null,
    level: 1,
    due_at: dueAt(at, 1, deadlines),
  };
}

/** A validator's decision, or the deadline's, closes its level: its deadline no longer runs. */
export function levelsClosedBy(updates: AcceptedUpdate[]): LevelChange[] {
  return updates.flatMap((u) => {
    const at = levelOfStatus(u.status);
    return at && at.circuit !== 'pending' ? [{ invoiceId: u.invoiceId, level: at.level, dueAt: null }] : [];
  });
}

/**
 * Whether an accepted row of this delivery goes to its level-1 validator rather than its
 * recipient: the decision held it in a circuit (holdOf), and it is the invoice itself.
 */
export const heldAtDeposit = (row: Pick<InvoiceRow, 'role'>, hold: Pick<HoldRow, 'cadre'> | undefined): boolean => row.role === 'invoice' && !!hold && !!circuitOf(hold.cadre);

/** An invoice a decision of this flow moved on (approved, or its deadline passed), not yet released. */
export interface Release {
  row: InvoiceRow;
  model: Invoice;
  hold: HoldRow;
  /** The deposit flow's reception time. */
  depositedAt: string;
  /** Its history, for the day its MOE received it. */
  history: Pick<EventRow, 'status' | 'at'>[];
}

export interface PlannedRelease {
  row: InvoiceRow;
  model: Invoice;
  /** Where it goes: its recipient's pivot (grouped like any pivot), or its level-2 validator's file. */
  to: { kind: 'pivot'; siret: string } | { kind: 'validator'; path: string };
  receivedOn: string;
  moeOn?: string;
  event: EventRecord;
  level?: LevelChange;
}

/** The day a held invoice was made available at its MOE level, if it has one. */
function moeDay(hold: HoldRow, history: Release['history']): string | undefined {
  const circuit = circuitOf(hold.cadre);
  const moe = circuit?.levels.find((l) => l.by === 'moe');
  const made = moe && history.find((e) => e.status === moe.pending);
  return made ? localDate(made.at) : undefined;
}

export function planReleases(releases: Release[], flow: { id: string; replays: number }, places: Places, now: string, deadlines: Deadlines): PlannedRelease[] {
  return releases.flatMap((r): PlannedRelease[] => {
    const circuit = circuitOf(r.hold.cadre);
    if (!circuit) return [];
    const step = nextStep(circuit, r.row.status ?? '');
    const source = { at: now, producer: 'platform', sourceFlow: flow.id, attempt: flow.replays, invoiceId: r.row.id };
    const receivedOn = localDate(r.depositedAt);
    if (step.to === 'none') return [];
    if (step.to === 'level') {
      const validator = validatorAt(r.hold, step.level.level) ?? '';
      const status = assertTransition({ number: r.row.number, from: r.row.status, to: step.level.pending, producer: 'platform' });
      return [{
        row: r.row, model: r.model, receivedOn,
        to: { kind: 'validator', path: places.validator(validator, flow.id, flow.replays, r.row.id) },
        moeOn: step.level.by === 'moe' ? localDate(now) : moeDay(r.hold, r.history),
        event: { ...source, status },
        level: { invoiceId: r.row.id, level: step.level.level, dueAt: dueAt(now, step.level.level, deadlines) },
      }];
    }
    const status = assertTransition({ number: r.row.number, from: r.row.status, to: '03', producer: 'platform' });
    return [{ row: r.row, model: r.model, receivedOn, moeOn: moeDay(r.hold, r.history), to: { kind: 'pivot', siret: r.row.recipient_siret }, event: { ...source, status } }];
  });
}

/** The statuses after which a held invoice may move on: what the application gathers releases for. */
export const RELEASING_STATUSES: ReadonlySet<string> = new Set(['16', '17', '21', '22']);
