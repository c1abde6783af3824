/**
 * The pipeline, in order (each stage a module; the engine's judge and plan are pure):
 *   claim      ingest/claim        file → spool + ledger row, exactly once
 *   read       pipeline/read       format table (pipeline/formats): detect, parse once, schema, map to the model
 *   judge      engine/judge        deposit rules (validate/), routing (route/), duplicates, lifecycle table
 *   decide     app/decide          context gathered and plan applied in one write transaction (stage DECIDED)
 *   deliver    app/deliver         engine/plan's pivots, statuses 03, supplier statuses, report; source archived (DONE)
 * Each flow moves through ledger stages CLAIMING → CLAIMED → DECIDED → DONE; a flow found in
 * an unfinished stage resumes from its stage. Every path (daemon, process, replay, operators'
 * requests) runs flows through `runFlows`.
 */
import { systemFault } from '../errors/catalog.js';
import { removeOrphanTempFiles } from '../emit/atomic.js';
import type { Hub } from '../hub.js';
import { claimFile, isMine, liveNodes, me, ownedByOther, recoverClaims, type ClaimOptions } from '../ingest/claim.js';
import type { FlowRow } from '../ledger/stores.js';
import type { Invoice } from '../model/invoice.js';
import { keepsInvoices } from '../pipeline/flowInvoices.js';
import { decideFlows } from './decide.js';
import { deliverFlows, type Delivery } from './deliver.js';

export interface FlowRun {
  flowId: string;
  /** Another process (or node) took the flow over first: it finishes it. */
  skipped?: boolean;
  /** The system fault that stopped the flow (recorded on it; it stays in the spool for a retry). */
  fault?: Error;
}

/**
 * Runs claimed (or decided) flows to the end, together: decided in one transaction (a savepoint
 * each), then delivered sharing folder fsyncs and commits. A fault stops its own flow only.
 */
export async function runFlows(hub: Hub, flowIds: string[]): Promise<FlowRun[]> {
  const runs: (FlowRun & { flow?: FlowRow; models?: Invoice[] })[] = flowIds.map((flowId) => ({ flowId }));
  for (const run of runs) {
    try {
      const flow = (run.flow = (await hub.ledger.flows.get(run.flowId))!);
      // Take the flow over: its previous owner, if any, is dead (callers skip flows owned by the
      // living). Only one of several nodes taking over the same dead node's flow gets it.
      if (!isMine(hub, flow)) {
        const from = { node: flow.owner_node, pid: flow.owner_pid };
        run.skipped = !(await hub.ledger.transaction((tx) => tx.flows.takeOver(run.flowId, from, me(hub))));
      }
    } catch (e) {
      run.fault = systemFault(e);
    }
  }
  const claimed = runs.filter((r) => !r.fault && !r.skipped && r.flow!.stage === 'CLAIMED');
  (await decideFlows(hub, claimed.map((r) => r.flow!))).forEach((decided, i) => {
    if (decided instanceof Error) claimed[i]!.fault = decided;
    // A large flow of many invoices lets them go: its delivery reads them again one at a time.
    else if ('read' in decided && keepsInvoices(decided.read)) claimed[i]!.models = decided.read.invoices;
  });
  const deliveries: (Delivery & { run: FlowRun })[] = [];
  for (const run of runs) {
    if (run.fault || run.skipped) continue;
    try {
      const flow = (await hub.ledger.flows.get(run.flowId))!;
      if (flow.stage === 'DECIDED' && isMine(hub, flow)) deliveries.push({ flow, models: run.models, run });
    } catch (e) {
      run.fault = systemFault(e);
    }
  }
  (await deliverFlows(hub, deliveries)).forEach((outcome, i) => {
    if (outcome === 'taken-over') deliveries[i]!.run.skipped = true;
    else if (outcome) deliveries[i]!.run.fault = outcome;
  });
  for (const run of runs) {
    if (!run.fault) continue;
    const message = run.fault.message;
    try {
      await hub.ledger.transaction((tx) => tx.flows.recordFault(run.flowId, message));
    } catch {
      // The ledger itself is failing: the fault is logged, and the flow is retried all the same.
    }
    hub.log.error(`system fault, flow kept in the spool for retry: ${message}`, { flowId: run.flowId });
  }
  return runs.map(({ flowId, fault, skipped }) => (fault ? { flowId, fault } : skipped ? { flowId, skipped } : { flowId }));
}

/** Runs one flow to the end; a system fault leaves it in the spool and is rethrown. */
export async function runFlow(hub: Hub, flowId: string): Promise<FlowRow> {
  const [run] = await runFlows(hub, [flowId]);
  if (run!.fault) throw run!.fault;
  return (await hub.ledger.flows.get(flowId))!;
}

/** Claims a file and runs it: the same path for the daemon and `factflow process`. */
export async function processFile(hub: Hub, file: string, opts: ClaimOptions = {}): Promise<FlowRow | undefined> {
  const id = await claimFile(hub, file, opts);
  return id ? runFlow(hub, id) : undefined;
}

/**
 * What a previous run left unfinished: interrupted claims are repaired first; the flows
 * returned still have to be run.
 */
export async function unfinishedFlows(hub: Hub): Promise<FlowRow[]> {
  await recoverClaims(hub);
  const live = await liveNodes(hub);
  return [...(await hub.ledger.flows.inStage('CLAIMED')), ...(await hub.ledger.flows.inStage('DECIDED'))].filter((f) => !ownedByOther(hub, f, live));
}

/** Temp files of writers that died before renaming them: removed once, at start-up. */
export function removeOrphans(hub: Hub): void {
  const orphans = removeOrphanTempFiles(hub.layout.outbox) + removeOrphanTempFiles(hub.layout.archive) + removeOrphanTempFiles(hub.layout.failed);
  if (orphans) hub.log.warn(`removed ${orphans} temp file(s) left by an interrupted writer`);
}

/**
 * Finishes, in this process, whatever was left unfinished (after a crash, a kill or a system
 * fault): `factflow resume`. A flow that fails again stays in the spool; the others go on.
 */
export async function resumeUnfinished(hub: Hub): Promise<{ done: FlowRow[]; failed: FlowRow[] }> {
  removeOrphans(hub);
  const done: FlowRow[] = [];
  const failed: FlowRow[] = [];
  for (const f of await unfinishedFlows(hub)) {
    hub.log.warn(`resuming flow left at stage ${f.stage}`, { flowId: f.id });
    try {
      done.push(await runFlow(hub, f.id));
    } catch {
      failed.push((await hub.ledger.flows.get(f.id))!); // recorded and logged by runFlows
    }
  }
  return { done, failed };
}
