/**
 * Where everything goes, computed from the home's layout and the flow: output names are
 * deterministic, so a resumed attempt rewrites its own files and a replay writes new ones.
 * Every name built from data goes through safeName, so nothing points outside its folder.
 */
import path from 'node:path';
import type { Layout } from '../config.js';
import type { FlowState } from '../emit/report.js';
import type { FlowRow } from '../ledger/stores.js';
import { safeName } from '../util/paths.js';

/** A date as the local calendar day (YYYY-MM-DD): deposit dates and archive folders. */
export const localDate = (iso: string): string => {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};

const attemptSuffix = (attempt: number) => (attempt ? `_r${attempt}` : '');
const unitSuffix = (unit: number | string | undefined) => (unit === undefined ? '' : `_${safeName(String(unit))}`);

type FlowNaming = Pick<FlowRow, 'id' | 'file_name' | 'received_at'>;

export class Places {
  constructor(readonly layout: Layout) {}

  /** A recipient's pivot of a flow; with a position, the pivot of that one invoice (grouping by invoice). */
  pivot(siret: string, flowId: string, attempt = 0, position?: number): string {
    return path.join(this.layout.outbox, 'recipients', safeName(siret), `CPPFacturePivot_${flowId}${unitSuffix(position)}${attemptSuffix(attempt)}.xml`);
  }

  /**
   * A supplier's status file of a flow; with a unit (`<IdCPRO>_<status>`, grouping by invoice),
   * the file of that one status: the hub id, unlike a position, is unique across the flows a
   * status flow updates.
   */
  supplierStatuses(supplierId: string, flowId: string, attempt = 0, unit?: string): string {
    return path.join(this.layout.outbox, 'suppliers', safeName(supplierId), `CPPStatut_${flowId}${unitSuffix(unit)}${attemptSuffix(attempt)}.xml`);
  }

  /** A supplier's CDAR message (one status of one invoice), beside its CPPStatut files. */
  supplierCdar(supplierId: string, flowId: string, attempt: number, unit: string): string {
    return path.join(this.layout.outbox, 'suppliers', safeName(supplierId), `CDAR_${flowId}${unitSuffix(unit)}${attemptSuffix(attempt)}.xml`);
  }

  /** The concentrator's (PPF) variant of a mandatory CDAR status. */
  ppfCdar(flowId: string, attempt: number, unit: string): string {
    return path.join(this.layout.outbox, 'ppf', `CDAR_${flowId}${unitSuffix(unit)}${attemptSuffix(attempt)}.xml`);
  }

  /** A CDAR answer to a flow's sender, beside the flow's report. */
  answerCdar(flowId: string, partner: string | undefined, unit: string): string {
    return path.join(path.dirname(this.reports(flowId, partner).xml), `${flowId}_CDAR${unitSuffix(unit)}.xml`);
  }

  /** An invoice made available to its validator (a validation circuit), one file per invoice and level, named by its hub id. */
  validator(validatorId: string, flowId: string, attempt: number, hubId: number): string {
    return path.join(this.layout.outbox, 'validators', safeName(validatorId), `CPPFacturePivot_${flowId}${unitSuffix(hubId)}${attemptSuffix(attempt)}.xml`);
  }

  /** Reports go to the partner's own folder when the flow came from a registered partner. */
  reports(flowId: string, partner?: string): { xml: string; json: string } {
    const dir = partner ? path.join(this.layout.outbox, 'partners', safeName(partner)) : path.join(this.layout.outbox, 'reports');
    return { xml: path.join(dir, `${flowId}.xml`), json: path.join(dir, `${flowId}.json`) };
  }

  private stored(flow: FlowNaming): string {
    return `${flow.id}__${safeName(flow.file_name)}`;
  }

  private archiveDir(flow: FlowNaming): string {
    return path.join(this.layout.archive, ...localDate(flow.received_at).split('-'));
  }

  /** Integrated flows (fully or partly) are archived by deposit date; refused ones go to failed/. */
  final(flow: FlowNaming, state: FlowState): string {
    const dir = state === 'IN_INTEGRE' || state === 'IN_INTEGRE_PARTIEL' ? this.archiveDir(flow) : this.layout.failed;
    return path.join(dir, this.stored(flow));
  }

  isFailed(file: string): boolean {
    return path.dirname(file) === this.layout.failed;
  }

  /** Where a flow's source file may be: the spool while it is processed, else where it was put. */
  sourceCandidates(flow: FlowNaming & Pick<FlowRow, 'spool_path' | 'final_path'>): string[] {
    return [flow.spool_path, flow.final_path, path.join(this.layout.failed, this.stored(flow)), path.join(this.archiveDir(flow), this.stored(flow))].filter((p): p is string => !!p);
  }
}
