/**
 * The pipeline, in order:
 *   claim (ingest/claim)        file → spool + ledger row, exactly once
 *   detect (detect/detect)      magic bytes, root element and namespace
 *   parse + schema (xml/*)      one parse, DOCTYPE refused, compiled XSD
 *   map (formats/*)             format → canonical invoices
 *   rules (validate/rules)      deposit rules per invoice
 *   route (route/routing)       directory checks per invoice
 *   decide (pipeline/decide)    one transaction: accepted/rejected, status 01
 *   emit (pipeline/deliver)     pivots per recipient, status 03, supplier statuses, report
 *   lifecycle (lifecycle/*)     statuses sent in by recipients
 *   archive                     source to archive/ or failed/, flow DONE
 * Each flow moves through ledger stages CLAIMING → CLAIMED → DECIDED → DONE; a flow found in
 * an unfinished stage at start-up resumes from its stage.
 */
import type { Hub } from '../hub.js';
import type { Invoice } from '../model/invoice.js';
import { asError } from '../errors/catalog.js';
import { removeOrphanTempFiles } from '../emit/atomic.js';
import { claimFile, ownedByOther, recoverClaims, type ClaimOptions } from '../ingest/claim.js';
import { flowsInStage, getFlow, sql, type FlowRow } from '../ledger/flows.js';
import { decideTogether } from './decide.js';
import { deliverTogether, type Delivery } from './deliver.js';

/** Runs one claimed flow to the end; system faults leave it in the spool and are rethrown. */
export function runFlow(hub: Hub, flowId: string): FlowRow {
  const [run] = runFlows(hub, [flowId]);
  if (run!.fault) throw run!.fault;
  return getFlow(hub.db, flowId)!;
}

export interface FlowRun {
  flowId: string;
  /** The system fault that stopped the flow (recorded on it; it stays in the spool for a retry). */
  fault?: Error;
}

/**
 * Runs claimed flows to the end, together: decided in one transaction (a savepoint each), then
 * delivered sharing folder fsyncs and commits. A fault stops its own flow only.
 */
export function runFlows(hub: Hub, flowIds: string[]): FlowRun[] {
  const runs: (FlowRun & { flow?: FlowRow; models?: Invoice[] })[] = flowIds.map((flowId) => ({ flowId }));
  for (const run of runs) {
    try {
      run.flow = getFlow(hub.db, run.flowId)!;
      // Take the flow over: its previous owner, if any, is dead (callers skip flows owned by the living).
      if (run.flow.owner_pid !== process.pid) hub.write(() => sql(hub.db, 'UPDATE flows SET owner_pid = ? WHERE id = ?').run(process.pid, run.flowId));
    } catch (e) {
      run.fault = asError(e);
    }
  }
  const claimed = runs.filter((r) => !r.fault && r.flow!.stage === 'CLAIMED');
  decideTogether(hub, claimed.map((r) => r.flow!)).forEach((decided, i) => {
    if (decided instanceof Error) claimed[i]!.fault = decided;
    else claimed[i]!.models = decided.read.invoices;
  });
  const deliveries: (Delivery & { run: FlowRun })[] = [];
  for (const run of runs) {
    if (run.fault) continue;
    const flow = getFlow(hub.db, run.flowId)!;
    if (flow.stage === 'DECIDED') deliveries.push({ flow, models: run.models, run });
  }
  deliverTogether(hub, deliveries).forEach((fault, i) => fault && (deliveries[i]!.run.fault = fault));
  for (const run of runs) {
    if (!run.fault) continue;
    const message = run.fault.message;
    hub.write(() => sql(hub.db, 'UPDATE flows SET attempts = attempts + 1, last_error = ? WHERE id = ?').run(message, run.flowId));
    hub.log.error(`system fault, flow kept in the spool for retry: ${message}`, { flowId: run.flowId });
  }
  return runs.map(({ flowId, fault }) => (fault ? { flowId, fault } : { flowId }));
}

/** Claims a file and runs it: the same path for the daemon and `factflow process`. */
export function processFile(hub: Hub, file: string, opts: ClaimOptions = {}): FlowRow | undefined {
  const id = claimFile(hub, file, opts);
  return id ? runFlow(hub, id) : undefined;
}

/**
 * What a previous run left unfinished: interrupted claims are repaired and temp files of dead
 * writers removed first; the flows returned still have to be run.
 */
export function unfinishedFlows(hub: Hub): FlowRow[] {
  recoverClaims(hub);
  const orphans = removeOrphanTempFiles(hub.layout.outbox) + removeOrphanTempFiles(hub.layout.archive) + removeOrphanTempFiles(hub.layout.failed);
  if (orphans) hub.log.warn(`removed ${orphans} temp file(s) left by an interrupted writer`);
  return [...flowsInStage(hub.db, 'CLAIMED'), ...flowsInStage(hub.db, 'DECIDED')].filter((f) => !ownedByOther(f));
}

/**
 * Finishes, in this process, whatever was left unfinished (after a crash, a kill or a system
 * fault): `factflow resume`. A flow that fails again stays in the spool; the others go on.
 */
export function resumeUnfinished(hub: Hub): { done: FlowRow[]; failed: FlowRow[] } {
  const unfinished = unfinishedFlows(hub);
  const done: FlowRow[] = [];
  const failed: FlowRow[] = [];
  for (const f of unfinished) {
    hub.log.warn(`resuming flow left at stage ${f.stage}`, { flowId: f.id });
    try {
      done.push(runFlow(hub, f.id));
    } catch {
      failed.push(getFlow(hub.db, f.id)!); // recorded and logged by runFlow
    }
  }
  return { done, failed };
}
