/** The accepted values of every enumerated option, each checked through context.choice(). */
import { LIFECYCLE, type Producer } from '../lifecycle/statuses.js';
import { choice } from './context.js';

export const FLOW_STATES = ['IN_INTEGRE', 'IN_INTEGRE_PARTIEL', 'IN_REJETE', 'QP_IRRECEVABLE', 'CLAIMING', 'CLAIMED', 'DECIDED', 'DONE'] as const;

/** --state of flows list: a final state, or a ledger stage for unfinished flows. */
export const flowStateOption = (value: string) => choice('--state', value, FLOW_STATES);

/** A lifecycle status by name or code (07, 7); returns its two-digit code. */
export function statusOption(option: string, value: string, extra: readonly string[] = []): string {
  const names = [...LIFECYCLE.map((s) => s.name), ...extra];
  const byCode: Record<string, string> = {};
  for (const s of LIFECYCLE) byCode[s.code] = byCode[String(Number(s.code))] = s.name;
  const name = choice(option, value, names, byCode, ' (or a status code, 01 to 22; any case)');
  return LIFECYCLE.find((s) => s.name === name)?.code ?? name;
}

/** Who sets a status from the command line (the platform's own statuses are never typed). */
export const PRODUCERS = ['recipient', 'accountant', 'supplier'] as const satisfies readonly Producer[];
export const producerOption = (value: string) => choice('--as', value, PRODUCERS);
/** `invoice validate|refuse --as`: only a circuit's validator decides there. */
export const validatorOption = (value: string) => choice('--as', value, ['validator'] as const);
