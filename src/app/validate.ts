/**
 * `factflow validate`: the report processing would produce, by the same reading, judge and
 * plan, with nothing applied: no ledger row, no output, the file left where it is.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { IntegrationReport } from '../emit/report.js';
import { judgeFlow } from '../engine/judge.js';
import { planDecision, recordRows, reportOf } from '../engine/plan.js';
import type { Hub } from '../hub.js';
import { readFlowFile } from '../pipeline/read.js';
import { gatherContext } from './decide.js';

export async function validateFile(hub: Hub, file: string, partner?: string): Promise<IntegrationReport> {
  const sha256 = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  const receivedAt = new Date().toISOString();
  const flow = { id: '(validation only)', file_name: path.basename(file), received_at: receivedAt, stage: 'CLAIMED' as const, replays: 0, channel: 'edi' as const, partner: partner ?? null, sha256 };
  const read = readFlowFile(file, hub.settings);
  const ctx = await gatherContext(hub, hub.ledger, flow, read);
  const decision = judgeFlow(read, ctx);
  const plan = planDecision({ flow, decision, replay: false, at: receivedAt, places: hub.places });
  return reportOf(
    { flowId: flow.id, file: flow.file_name, sha256, kind: plan.flow.kind, receivedAt, state: decision.state, duplicateOf: plan.flow.duplicateOf, errors: plan.flow.errors },
    recordRows(plan.invoices.map((p) => p.record)),
    plan.statusUpdates,
  );
}
