/**
 * A hub flow as the Flow Service standard describes one (its `Flow` object): syntax and type
 * from the flow's kind, the acknowledgement from its state, details from its coded errors.
 */
import type { FlowError } from '../errors/catalog.js';
import { parseErrors, type FlowRow, type InvoiceRow } from '../ledger/stores.js';

const SYNTAX: Record<string, string> = {
  'ubl-invoice': 'UBL', 'ubl-creditnote': 'UBL', cii: 'CII', facturx: 'Factur-X', mixed: 'CPPFactureMixte', statut: 'CPPStatut', zip: 'Archive', 'tar.gz': 'Archive',
};

export type AckStatus = 'Pending' | 'Ok' | 'Error';
/** The states each acknowledgement status covers (search by ackStatus). */
export const ACK_STATES: Record<Exclude<AckStatus, 'Pending'>, string[]> = { Ok: ['IN_INTEGRE', 'IN_INTEGRE_PARTIEL'], Error: ['IN_REJETE', 'QP_IRRECEVABLE'] };

export const ackStatusOf = (flow: FlowRow): AckStatus =>
  flow.stage !== 'DONE' || !flow.state ? 'Pending' : ACK_STATES.Ok.includes(flow.state) ? 'Ok' : 'Error';

export const updatedAtOf = (flow: FlowRow): string => flow.done_at ?? flow.decided_at ?? flow.received_at;

const detail = (level: 'Error' | 'Warning', item: string, e: FlowError) => ({
  level,
  item,
  reasonCode: e.code,
  reasonMessage: `${e.message}${e.line ? ` (line ${e.line}${e.column ? `, column ${e.column}` : ''})` : ''}${e.element ? ` [${e.element}]` : ''}`,
});

/** The standard's Flow object for a flow, with the invoices the caller may see. */
export function flowInfo(flow: FlowRow, invoices: InvoiceRow[], trackingId: string | undefined, full: boolean) {
  const status = ackStatusOf(flow);
  const details = [
    ...(full ? parseErrors(flow.errors).map((e) => detail('Error', 'flow', e)) : []),
    ...invoices.flatMap((i) => {
      const item = [i.label, i.number].filter(Boolean).join(' ');
      return [...parseErrors(i.errors).map((e) => detail('Error', item, e)), ...parseErrors(i.warnings).map((e) => detail('Warning', item, e))];
    }),
  ];
  return {
    flowId: flow.id,
    submittedAt: flow.received_at,
    updatedAt: updatedAtOf(flow),
    name: flow.file_name,
    ...(trackingId ? { trackingId } : {}),
    flowSyntax: SYNTAX[flow.kind ?? ''] ?? 'Undefined',
    flowProfile: 'Undefined',
    processingRule: 'B2G',
    processingRuleSource: 'Computed',
    flowType: flow.kind === 'statut' ? 'SupplierInvoiceLC' : flow.kind ? 'CustomerInvoice' : 'Undefined',
    flowDirection: 'Out',
    ...(full ? { sha256: flow.sha256 } : {}),
    acknowledgement: { status, ...(details.length ? { details } : {}) },
    hub: {
      stage: flow.stage,
      ...(flow.state ? { state: flow.state } : {}),
      ...(flow.status_code ? { statusCode: flow.status_code } : {}),
      ...(flow.duplicate_of ? { duplicateOf: flow.duplicate_of } : {}),
      ...(flow.partner ? { partner: flow.partner } : {}),
      invoices: invoices.map((i) => ({ id: i.id, label: i.label, number: i.number, supplier: i.supplier_id, recipient: i.recipient_siret, accepted: !!i.accepted, ...(i.status ? { status: i.status } : {}) })),
      ...(flow.last_error ? { fault: flow.last_error } : {}),
    },
  };
}

const str = { type: 'string' } as const;
export const FLOW_SCHEMA = {
  $id: 'Flow',
  type: 'object',
  description: "The standard's Flow object, plus `hub`: the flow as factflow sees it",
  required: ['flowId', 'submittedAt', 'updatedAt', 'name', 'flowSyntax', 'processingRule', 'flowType', 'flowDirection', 'acknowledgement'],
  properties: {
    flowId: str, submittedAt: { type: 'string', format: 'date-time' }, updatedAt: { type: 'string', format: 'date-time' }, name: str, trackingId: str,
    flowSyntax: str, flowProfile: str, processingRule: str, processingRuleSource: str, flowType: str, flowDirection: str, sha256: str,
    acknowledgement: {
      type: 'object',
      properties: {
        status: { type: 'string', enum: ['Pending', 'Ok', 'Error'] },
        details: { type: 'array', items: { type: 'object', properties: { level: str, item: str, reasonCode: str, reasonMessage: str } } },
      },
    },
    hub: {
      type: 'object',
      properties: {
        stage: str, state: str, statusCode: str, duplicateOf: str, partner: str, fault: str,
        invoices: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, label: str, number: str, supplier: str, recipient: str, accepted: { type: 'boolean' }, status: str } } },
      },
    },
  },
} as const;
