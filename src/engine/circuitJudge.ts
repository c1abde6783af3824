/**
 * What the judge checks on a validation circuit's status, besides the lifecycle table: that the
 * named validator of the level awaited sends it (and its partner may act for it), and that a
 * deadline the platform declares passed has passed. Pure, over the gathered context.
 */
import { flowError, type FlowError } from '../errors/catalog.js';
import type { StatusUpdate } from '../formats/statut.js';
import type { InvoiceRow } from '../ledger/stores.js';
import { levelOfStatus, validatorAt } from '../lifecycle/circuits.js';
import { statusRule, type Producer } from '../lifecycle/statuses.js';
import { validatorAllowed, type Partner } from '../route/partners.js';
import type { JudgeContext } from './context.js';

/** A status file carries recipients' statuses and validators' alike: a circuit decision is a validator's. */
export function lineProducer(flowProducer: Producer, status: string): Producer {
  return flowProducer === 'recipient' && statusRule(status)?.setBy.includes('validator') ? 'validator' : flowProducer;
}

export function circuitChecks(u: StatusUpdate, producer: Producer, from: string | null, invoice: InvoiceRow, ctx: JudgeContext, partner?: Partner): FlowError[] {
  const at = levelOfStatus(statusRule(u.status)?.code ?? '');
  if (!at) return [];
  const hold = ctx.holds?.get(invoice.id);
  // Not held, or not at that level: the lifecycle table refuses the transition.
  const awaitedLevel = from === '13' ? 1 : from === '18' ? 2 : undefined;
  if (!hold || awaitedLevel !== at.level) return [];
  if (producer === 'validator') {
    const validator = validatorAt(hold, at.level) ?? '';
    const sender = u.producerId ?? '';
    if (partner && !validatorAllowed(partner, sender)) return [flowError('PARTNER_VALIDATOR_NOT_ALLOWED', { partner: partner.code, validator: sender || '(none)' }, u.where)];
    if (sender !== validator) return [flowError('VALIDATION_NOT_VALIDATOR', { number: u.number, level: String(at.level), validator, sender: sender || '(none)' }, u.where)];
  }
  if (producer === 'platform' && at.circuit === 'lapsed' && (!hold.due_at || !ctx.receivedAt || hold.due_at > ctx.receivedAt)) {
    return [flowError('VALIDATION_DEADLINE_NOT_REACHED', { number: u.number, level: String(at.level), due: hold.due_at ?? '(decided)' }, u.where)];
  }
  return [];
}
