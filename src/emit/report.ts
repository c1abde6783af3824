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

export function reportXml(r: IntegrationReport, at: string, receiver: Partner, sender: Partner): string {
  const lines = [
    ...r.errors.map((e) => ({ nature: 'Flux', e, inv: undefined })),
    ...r.invoices.flatMap((inv) => inv.errors.map((e) => ({ nature: 'Facture', e, inv }))),
    ...(r.statusUpdates ?? []).flatMap((inv) => inv.errors.map((e) => ({ nature: 'Statut', e, inv }))),
  ];
  const summary = r.statusUpdates
    ? `${r.file}: ${r.statusUpdates.filter((u) => u.status === 'ACCEPTED').length} of ${r.statusUpdates.length} status updates applied`
    : `${r.file}: ${r.invoices.filter((i) => i.status === 'ACCEPTED').length} of ${r.invoices.length} invoices integrated` + (r.duplicateOf ? `; duplicate of flow ${r.duplicateOf}` : '');
  return (
    XML_DECLARATION +
    el('CPPStatut', [
      envelope([['DtPrd', at.slice(0, 10)], ['IdFlx', r.flowId]], receiver, sender),
      el('CPPFluxStatuts', el('CPPFluxStatutUnitaire', el('DonneesStatut', [
        leaf('IdStatut', r.statusCode),
        leaf('ComplementStatut', r.state),
        leaf('Commentaire', summary),
        leaf('Horodatage', at),
        leaf('IdFlux', r.flowId),
        lines.length > 0 &&
          el('Details', lines.map(({ nature, e, inv }, i) =>
            el('LigneErreurDetail', [leaf('NatureErreur', nature), leaf('CodeErreur', e.code), leaf('LibelleErreur', e.message), leaf('DescriptionErreur', describe(e, inv))], { IdLigne: i + 1 }),
          ), { NbLignesErreur: lines.length }),
      ]), { NumOrdre: 1 }), { compteur: 1 }),
    ])
  );
}
