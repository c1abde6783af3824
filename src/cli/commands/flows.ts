/** Finding, explaining and replaying flows. */
import type { Command } from 'commander';
import { flowDetails } from '../../app/queries.js';
import { failedFlows, planReplay, replayFlow, type ReplayPlan } from '../../app/replay.js';
import type { FlowRow, FlowFilter } from '../../ledger/stores.js';
import { flowStateOption } from '../choices.js';
import { codeOf, countOption, EXIT, parseWhen, progress, UsageError, where, withHub } from '../context.js';
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

const filterOf = (opts: ListOptions): FlowFilter => ({
  // --state is checked and normalised (in_integre → IN_INTEGRE).
  state: opts.state ? flowStateOption(opts.state) : undefined,
  limit: countOption('--limit', opts.limit ?? String(DEFAULT_FLOW_LIMIT), 1),
  offset: countOption('--offset', opts.offset ?? '0'),
  since: opts.since ? parseWhen(opts.since) : undefined,
  until: opts.until ? parseWhen(opts.until) : undefined,
  supplier: opts.supplier,
  recipient: opts.recipient,
});

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
      await withHub(program, false, async (hub) => {
        const filter = filterOf(opts);
        const rows = await hub.ledger.flows.list(filter);
        const codes = await Promise.all(rows.map((r) => refusalCodes(hub, r)));
        if (opts.json) {
          console.log(JSON.stringify(rows.map((r, i) => ({ id: r.id, file: r.file_name, stage: r.stage, state: r.state, statusCode: r.status_code, invoices: r.invoices, accepted: r.accepted, receivedAt: r.received_at, replays: r.replays, lastError: r.last_error, errorCodes: codes[i], node: r.owner_node })), null, 2));
          return;
        }
        printTable(['FLOW', 'FILE', 'STATE', 'INVOICES', 'ACCEPTED', 'RECEIVED', 'NOTE'], rows.map((r, i) => [r.id, r.file_name, r.state ?? r.stage, r.invoices, r.accepted, r.received_at, flowNote(r, codes[i]!)]));
        if (rows.length === filter.limit) console.error(`(first ${filter.limit} shown; the next ones with --offset ${filter.offset! + filter.limit})`);
      }, 'read');
    });

  flows
    .command('show')
    .description('Everything about one flow: file, hash, times, invoices and their status, every error with its code and place, outputs.')
    .argument('<flowId>')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExample:\n  factflow flows show FF20261123101500A1B2C3')
    .action(async (flowId: string, opts: { json?: boolean }) => {
      process.exitCode = await withHub(program, false, async (hub) => {
        const flow = await hub.ledger.flows.get(flowId);
        if (!flow) {
          console.error(`No flow ${flowId}. List them with: factflow flows list`);
          return EXIT.NOT_FOUND;
        }
        const d = await flowDetails(hub, flow);
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
        for (const r of d.replays) console.log(`Replay ${r.attempt} at ${r.started_at}: ${r.accepted} accepted, ${r.still_rejected} still rejected`);
        for (const a of d.acknowledgments) console.log(`Acknowledged ${a.status} by the recipient at ${a.at} (flow ${a.byFlow})`);
        for (const e of d.errors) console.log(`Flow error ${codeOf(e)}: ${e.message}${where(e)}${e.element ? ` at ${e.element}` : ''}`);
        if (d.invoices.length) {
          printTable(['ID', 'ENTRY', 'NUMBER', 'RECIPIENT', 'SERVICE', 'DECISION', 'STATUS', 'ERRORS'], d.invoices.map((i) => [
            i.id, i.label, i.number, i.recipient, i.serviceCode, i.accepted ? 'accepted' : 'rejected', i.status, i.errors.map((e) => `${codeOf(e)}${where(e)}`).join('; '),
          ]));
        }
        for (const u of d.statusUpdates ?? []) console.log(`${u.label} ${u.number} → ${u.requestedStatus}: ${u.status}${u.errors.length ? ` (${u.errors.map(codeOf).join(', ')})` : ''}`);
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
      process.exitCode = await withHub(program, !opts.json && !opts.dryRun, async (hub) => {
        const targets = opts.failed ? await failedFlows(hub, opts.since ? parseWhen(opts.since) : undefined) : await Promise.all(ids.map((id) => hub.ledger.flows.get(id)));
        const missing = ids.filter((_, i) => !targets[i]);
        if (!opts.failed && missing.length) {
          console.error(`No flow ${missing.join(', ')}. List them with: factflow flows list`);
          return EXIT.NOT_FOUND;
        }
        const flowsToReplay = targets as FlowRow[];
        const plans: ReplayPlan[] = [];
        for (const f of flowsToReplay) plans.push(await planReplay(hub, f));
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
        const done = [];
        for (const f of flowsToReplay) {
          done.push(await replayFlow(hub, f.id));
          bar.tick();
        }
        bar.done();
        if (opts.json) console.log(JSON.stringify(done.map((d) => ({ ...d.plan, stateAfter: d.flow.state })), null, 2));
        else {
          printPlans(done.map((d) => ({ ...d.plan, state: d.plan.skipped ? d.plan.state : `${d.plan.state} → ${d.flow.state}` })));
        }
        return done.every((d) => d.flow.state === 'IN_INTEGRE') ? EXIT.OK : EXIT.DATA;
      }, 'existing');
    });
}
