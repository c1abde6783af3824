/**
 * The integration report: how a flow was received, as CPPStatut/CPPFluxStatuts for EDI
 * partners and as a JSON twin for scripts. Both are derived from the same value.
 */
import { ruleOf, type FlowError } from '../errors/catalog.js';
import { el, leaf, XML_DECLARATION } from '../xml/write.js';
import { envelope, type Partner } from './envelope.js';

export type FlowState = 'IN_INTEGRE' | 'IN_INTEGRE_PARTIEL' | 'IN_REJETE' | 'QP_IRRECEVABLE';

export const STATUS_OF_STATE: Record<FlowState, string> = {
  IN_INTEGRE: '90',
  IN_INTEGRE_PARTIEL: '96',
  IN_REJETE: '93',
  QP_IRRECEVABLE: '93',
};

export interface InvoiceReport {
  /** NumOrdre or archive entry: how the supplier finds the invoice in its flow. */
  label: string;
  number: string;
  supplier: string;
  recipient: string;
  serviceCode?: string;
  engagement?: string;
  status: 'ACCEPTED' | 'REJECTED';
  errors: FlowError[];
  /** Findings that refuse nothing (a Factur-X PDF's structural PDF/A-3 checks). */
  warnings?: FlowError[];
}

export interface IntegrationReport {
  flowId: string;
  file: string;
  sha256: string;
  kind?: string;
  receivedAt: string;
  state: FlowState;
  statusCode: string;
  duplicateOf?: string;
  errors: FlowError[];
  invoices: InvoiceReport[];
  /** For status flows sent in by recipients: each update, applied or refused. */
  statusUpdates?: (InvoiceReport & { requestedStatus: string })[];
}

/** How one invoice appears in a report, whether it comes from the ledger or from a validation. */
export function invoiceLineReport(i: { label: string; number: string; supplier: string; recipient: string; serviceCode?: string | null; engagement?: string | null; errors: FlowError[]; warnings?: FlowError[] }): InvoiceReport {
  return {
    label: i.label,
    number: i.number,
    supplier: i.supplier,
    recipient: i.recipient,
    ...(i.serviceCode ? { serviceCode: i.serviceCode } : {}),
    ...(i.engagement ? { engagement: i.engagement } : {}),
    status: i.errors.length ? 'REJECTED' : 'ACCEPTED',
    errors: i.errors,
    ...(i.warnings?.length ? { warnings: i.warnings } : {}),
  };
}

export function flowStateOf(flowErrors: FlowError[], invoices: { status: 'ACCEPTED' | 'REJECTED' }[]): FlowState {
  if (flowErrors.length) return 'QP_IRRECEVABLE';
  const accepted = invoices.filter((i) => i.status === 'ACCEPTED').length;
  if (accepted === 0) return 'IN_REJETE';
  return accepted === invoices.length ? 'IN_INTEGRE' : 'IN_INTEGRE_PARTIEL';
}

function describe(e: FlowError, invoice?: InvoiceReport): string {
  const parts = [
    invoice && `invoice ${invoice.number || '(no number)'} (${invoice.label})`,
    e.line !== undefined && `line ${e.line}`,
    e.column !== undefined && `column ${e.column}`,
    e.element && `element ${e.element}`,
    // CPPStatut has no element for the official rule id: it travels in the free-text description.
    ruleOf(e) && `rule ${ruleOf(e)}`,
  ];
  return parts.filter(Boolean).join(', ');
}

/** One line of the report's Details: a flow error, or an invoice's or status update's. */
function* errorLines(r: IntegrationReport): Generator<{ nature: string; e: FlowError; inv?: InvoiceReport }> {
  for (const e of r.errors) yield { nature: 'Flux', e };
  for (const inv of r.invoices) for (const e of inv.errors) yield { nature: 'Facture', e, inv };
  for (const inv of r.statusUpdates ?? []) for (const e of inv.errors) yield { nature: 'Statut', e, inv };
}

/** The XML report as chunks, one per error line: a flow of many refused invoices is streamed, not built whole. */
export function* reportXmlChunks(r: IntegrationReport, at: string, receiver: Partner, sender: Partner): Generator<string> {
  const count = r.errors.length + r.invoices.reduce((n, i) => n + i.errors.length, 0) + (r.statusUpdates ?? []).reduce((n, i) => n + i.errors.length, 0);
  const summary = r.statusUpdates
    ? `${r.file}: ${r.statusUpdates.filter((u) => u.status === 'ACCEPTED').length} of ${r.statusUpdates.length} status updates applied`
    : `${r.file}: ${r.invoices.filter((i) => i.status === 'ACCEPTED').length} of ${r.invoices.length} invoices integrated` + (r.duplicateOf ? `; duplicate of flow ${r.duplicateOf}` : '');
  yield XML_DECLARATION;
  yield '<CPPStatut>\n';
  yield envelope([['DtPrd', at.slice(0, 10)], ['IdFlx', r.flowId]], receiver, sender);
  yield '<CPPFluxStatuts compteur="1">\n<CPPFluxStatutUnitaire NumOrdre="1">\n<DonneesStatut>\n';
  yield leaf('IdStatut', r.statusCode) + leaf('ComplementStatut', r.state) + leaf('Commentaire', summary) + leaf('Horodatage', at) + leaf('IdFlux', r.flowId);
  if (count > 0) {
    yield `<Details NbLignesErreur="${count}">\n`;
    let i = 0;
    for (const { nature, e, inv } of errorLines(r)) {
      yield el('LigneErreurDetail', [leaf('NatureErreur', nature), leaf('CodeErreur', e.code), leaf('LibelleErreur', e.message), leaf('DescriptionErreur', describe(e, inv))], { IdLigne: ++i });
    }
    yield '</Details>\n';
  }
  yield '</DonneesStatut>\n</CPPFluxStatutUnitaire>\n</CPPFluxStatuts>\n</CPPStatut>\n';
}

export const reportXml = (r: IntegrationReport, at: string, receiver: Partner, sender: Partner): string => [...reportXmlChunks(r, at, receiver, sender)].join('');

/** Lists of the report written element by element in its JSON form. */
const STREAMED_LISTS = new Set(['invoices', 'statusUpdates']);

/**
 * The JSON report as chunks, byte for byte `JSON.stringify(r, null, 2) + '\n'`, with the
 * invoices and status updates serialised one at a time rather than as one string.
 */
export function* reportJsonChunks(r: IntegrationReport): Generator<string> {
  const indent = (json: string, by: string) => json.replace(/\n/g, `\n${by}`);
  const fields = Object.entries(r).filter(([, v]) => v !== undefined);
  yield '{';
  for (const [k, [key, value]] of fields.entries()) {
    yield `${k ? ',' : ''}\n  ${JSON.stringify(key)}: `;
    if (!STREAMED_LISTS.has(key) || !(value as unknown[]).length) {
      yield indent(JSON.stringify(value, null, 2), '  ');
      continue;
    }
    yield '[';
    for (const [i, item] of (value as unknown[]).entries()) yield `${i ? ',' : ''}\n    ${indent(JSON.stringify(item, null, 2), '    ')}`;
    yield '\n  ]';
  }
  yield fields.length ? '\n}\n' : '}\n';
}
