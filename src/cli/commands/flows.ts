/** Finding, explaining and replaying flows. */
import type { Command } from 'commander';
import type { Hub } from '../../hub.js';
import { getFlow, invoicesOfFlow, outputsOfFlow, parseErrors, sql, type FlowRow } from '../../ledger/flows.js';
import { buildReport } from '../../pipeline/deliver.js';
import { failedFlows, planReplay, replayFlow, type ReplayPlan } from '../../pipeline/replay.js';
import { flowStateOption } from '../choices.js';
import { countOption, EXIT, parseWhen, progress, UsageError, where, withHub } from '../context.js';
import { flowNote, refusalCodes } from '../notes.js';
import { printTable } from '../table.js';

interface ListOptions {
  state?: string;
  since?: string;
  until?: string;
  supplier?: string;
  recipient?: string;
  limit?: string;
  offset?: string;
  json?: boolean;
}

/** flows list shows this many rows unless --limit says otherwise. */
export const DEFAULT_FLOW_LIMIT = 100;

type ListedFlow = FlowRow & { invoices: number; accepted: number };

export function listFlows(hub: Hub, opts: ListOptions): ListedFlow[] {
  return sql(hub.db, `SELECT f.*, (SELECT count(*) FROM invoices i WHERE i.flow_id = f.id) AS invoices,
      (SELECT count(*) FROM invoices i WHERE i.flow_id = f.id AND i.accepted = 1) AS accepted
      FROM flows f
      WHERE (@state IS NULL OR f.state = @state OR f.stage = @state)
        AND (@since IS NULL OR f.received_at >= @since) AND (@until IS NULL OR f.received_at <= @until)
        AND (@supplier IS NULL OR EXISTS (SELECT 1 FROM invoices i WHERE i.flow_id = f.id AND i.supplier_id = @supplier))
        AND (@recipient IS NULL OR EXISTS (SELECT 1 FROM invoices i WHERE i.flow_id = f.id AND i.recipient_siret = @recipient))
      ORDER BY f.received_at DESC, f.id DESC LIMIT @limit OFFSET @offset`).all({
    // cliops: --state is checked and normalised (in_integre → IN_INTEGRE); LIMIT/OFFSET added to the query.
    state: opts.state ? flowStateOption(opts.state) : null,
    limit: countOption('--limit', opts.limit ?? String(DEFAULT_FLOW_LIMIT), 1),
    offset: countOption('--offset', opts.offset ?? '0'),
    since: opts.since ? parseWhen(opts.since) : null,
    until: opts.until ? parseWhen(opts.until) : null,
    supplier: opts.supplier ?? null,
    recipient: opts.recipient ?? null,
  }) as ListedFlow[];
}

function flowDetails(hub: Hub, flow: FlowRow) {
  const report = flow.stage === 'DONE' || flow.stage === 'DECIDED' ? buildReport(hub, flow.id) : undefined;
  const replays = sql(hub.db, 'SELECT * FROM replays WHERE flow_id = ? ORDER BY attempt').all(flow.id);
  const acknowledgments = sql(hub.db, "SELECT s.status, s.flow_id AS byFlow, f.received_at AS at FROM status_updates s JOIN flows f ON f.id = s.flow_id WHERE s.number = ? AND s.accepted = 1 AND s.status IN ('92', '94')").all(flow.id);
  return {
    id: flow.id,
    file: flow.file_name,
    size: flow.size,
    sha256: flow.sha256,
    partner: flow.partner,
    kind: flow.kind,
    stage: flow.stage,
    state: flow.state,
    statusCode: flow.status_code,
    duplicateOf: flow.duplicate_of,
    times: { received: flow.received_at, decided: flow.decided_at, done: flow.done_at },
    source: flow.final_path,
    attempts: flow.attempts,
    lastError: flow.last_error,
    replays,
    acknowledgments,
    errors: parseErrors(flow.errors),
    invoices: invoicesOfFlow(hub.db, flow.id).map((r) => ({
      id: r.id,
      label: r.label,
      number: r.number,
      supplier: r.supplier_id,
      recipient: r.recipient_siret,
      serviceCode: r.service_code,
      engagement: r.engagement,
      accepted: !!r.accepted,
      status: r.status,
      renvoi: r.renvoi,
      errors: parseErrors(r.errors),
    })),
    statusUpdates: report?.statusUpdates,
    outputs: outputsOfFlow(hub.db, flow.id),
  };
}

function printPlans(plans: ReplayPlan[]): void {
  printTable(['FLOW', 'FILE', 'STATE', 'RETRIED', 'ACCEPTED NOW', 'STILL REJECTED', 'NOTE'], plans.map((p) => [
    p.flowId, p.file, p.state, p.retried, p.wouldAccept, p.stillRejected.length,
    p.skipped ?? (p.flowErrors.length ? `flow refused: ${p.flowErrors.map((e) => e.code).join(', ')}` : [...new Set(p.stillRejected.flatMap((r) => r.codes))].join(', ')),
  ]));
}

export function registerFlows(program: Command): void {
  const flows = program.command('flows').description('Find and inspect flows.');
  flows
    .command('list')
    .description('List flows, newest first, with their invoice counts.')
    .option('--state <state>', 'IN_INTEGRE, IN_INTEGRE_PARTIEL, IN_REJETE, QP_IRRECEVABLE, or a stage (CLAIMING, CLAIMED, DECIDED, DONE); any case')
    .option('--since <when>', 'received at or after: 2026-11-01, an ISO time, or a duration back (7d, 12h)')
    .option('--until <when>', 'received at or before')
    .option('--supplier <id>', 'holding an invoice from this supplier')
    .option('--recipient <siret>', 'holding an invoice to this recipient')
    .option('--limit <n>', `at most this many flows (default ${DEFAULT_FLOW_LIMIT})`)
    .option('--offset <n>', 'skip this many of the newest first (paging: --offset 100 for the next page)')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nNOTE shows the error codes that refused the flow or its invoices, a system fault, or replays.\n\nExamples:\n  factflow flows list --state IN_REJETE --since 1d\n  factflow flows list --recipient 11000201100044 --json\n  factflow flows list --limit 50 --offset 50')
    .action(async (opts: ListOptions) => {
      await withHub(program, false, (hub) => {
        const rows = listFlows(hub, opts);
        const codes = rows.map((r) => refusalCodes(hub, r));
        if (opts.json) {
          console.log(JSON.stringify(rows.map((r, i) => ({ id: r.id, file: r.file_name, stage: r.stage, state: r.state, statusCode: r.status_code, invoices: r.invoices, accepted: r.accepted, receivedAt: r.received_at, replays: r.replays, lastError: r.last_error, errorCodes: codes[i] })), null, 2));
          return;
        }
        printTable(['FLOW', 'FILE', 'STATE', 'INVOICES', 'ACCEPTED', 'RECEIVED', 'NOTE'], rows.map((r, i) => [r.id, r.file_name, r.state ?? r.stage, r.invoices, r.accepted, r.received_at, flowNote(r, codes[i]!)]));
        const limit = Number(opts.limit ?? DEFAULT_FLOW_LIMIT);
        if (rows.length === limit) console.error(`(first ${limit} shown; the next ones with --offset ${Number(opts.offset ?? 0) + limit})`);
      }, 'read');
    });

  flows
    .command('show')
    .description('Everything about one flow: file, hash, times, invoices and their status, every error with its code and place, outputs.')
    .argument('<flowId>')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExample:\n  factflow flows show FF20261123101500A1B2C3')
    .action(async (flowId: string, opts: { json?: boolean }) => {
      process.exitCode = await withHub(program, false, (hub) => {
        const flow = getFlow(hub.db, flowId);
        if (!flow) {
          console.error(`No flow ${flowId}. List them with: factflow flows list`);
          return EXIT.NOT_FOUND;
        }
        const d = flowDetails(hub, flow);
        if (opts.json) {
          console.log(JSON.stringify(d, null, 2));
          return EXIT.OK;
        }
        console.log(`Flow ${d.id}: ${d.file} (${d.size} bytes, ${d.kind ?? 'unknown kind'})${d.partner ? ` from partner ${d.partner}` : ''}`);
        console.log(`SHA-256 ${d.sha256}`);
        console.log(`State ${d.state ?? '-'} (${d.statusCode ?? '-'}), stage ${d.stage}${d.duplicateOf ? `, duplicate of ${d.duplicateOf}` : ''}`);
        console.log(`Received ${d.times.received}; decided ${d.times.decided ?? '-'}; done ${d.times.done ?? '-'}`);
        if (d.source) console.log(`Source kept at ${d.source}`);
        if (d.lastError) console.log(`Last system fault (attempt ${d.attempts}): ${d.lastError}`);
        for (const r of d.replays as { attempt: number; started_at: string; accepted: number; still_rejected: number }[]) console.log(`Replay ${r.attempt} at ${r.started_at}: ${r.accepted} accepted, ${r.still_rejected} still rejected`);
        for (const a of d.acknowledgments as { status: string; byFlow: string; at: string }[]) console.log(`Acknowledged ${a.status} by the recipient at ${a.at} (flow ${a.byFlow})`);
        for (const e of d.errors) console.log(`Flow error ${e.code}: ${e.message}${where(e)}${e.element ? ` at ${e.element}` : ''}`);
        if (d.invoices.length) {
          printTable(['ID', 'ENTRY', 'NUMBER', 'RECIPIENT', 'SERVICE', 'DECISION', 'STATUS', 'ERRORS'], d.invoices.map((i) => [
            i.id, i.label, i.number, i.recipient, i.serviceCode, i.accepted ? 'accepted' : 'rejected', i.status, i.errors.map((e) => `${e.code}${where(e)}`).join('; '),
          ]));
        }
        for (const u of d.statusUpdates ?? []) console.log(`${u.label} ${u.number} → ${u.requestedStatus}: ${u.status}${u.errors.length ? ` (${u.errors.map((e) => e.code).join(', ')})` : ''}`);
        for (const o of d.outputs) console.log(`Output ${o.kind}: ${o.path}`);
        return EXIT.OK;
      }, 'read');
    });

  program
    .command('replay')
    .description('Process failed or partly integrated flows again after fixing the cause; invoices already integrated are never emitted again.')
    .argument('[flowId...]', 'the flows to replay')
    .option('--failed', 'every finished flow with refused invoices (or refused whole)')
    .option('--since <when>', 'with --failed: received at or after this date or duration (7d)')
    .option('--dry-run', 'print what would happen, change nothing')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExamples:\n  factflow replay --failed --since 1d --dry-run\n  factflow replay FF20261123101500A1B2C3')
    .action(async (ids: string[], opts: { failed?: boolean; since?: string; dryRun?: boolean; json?: boolean }) => {
      if (!ids.length && !opts.failed) throw new UsageError('name the flows to replay, or use --failed');
      process.exitCode = await withHub(program, !opts.json && !opts.dryRun, (hub) => {
        const targets = opts.failed ? failedFlows(hub, opts.since ? parseWhen(opts.since) : undefined) : ids.map((id) => getFlow(hub.db, id));
        const missing = ids.filter((_, i) => !targets[i]);
        if (!opts.failed && missing.length) {
          console.error(`No flow ${missing.join(', ')}. List them with: factflow flows list`);
          return EXIT.NOT_FOUND;
        }
        const flowsToReplay = targets as FlowRow[];
        const plans = flowsToReplay.map((f) => planReplay(hub, f));
        const willAccept = plans.reduce((n, p) => n + p.wouldAccept, 0);
        if (opts.dryRun) {
          if (opts.json) console.log(JSON.stringify(plans, null, 2));
          else {
            printPlans(plans);
            console.log(`\n${plans.filter((p) => !p.skipped).length} flow(s) to replay; ${willAccept} invoice(s) would be accepted now. Nothing was changed (--dry-run).`);
          }
          return EXIT.OK;
        }
        const bar = progress(flowsToReplay.length, 'replaying');
        const done = flowsToReplay.map((f) => {
          const result = replayFlow(hub, f.id);
          bar.tick();
          return result;
        });
        bar.done();
        if (opts.json) console.log(JSON.stringify(done.map((d) => ({ ...d.plan, stateAfter: d.flow.state })), null, 2));
        else {
          printPlans(done.map((d) => ({ ...d.plan, state: d.plan.skipped ? d.plan.state : `${d.plan.state} → ${d.flow.state}` })));
        }
        return done.every((d) => d.flow.state === 'IN_INTEGRE') ? EXIT.OK : EXIT.DATA;
      }, 'existing');
    });
}
