/**
 * A flow deposited over HTTP goes through the same claim as a file dropped in inbox/<partner>/:
 * the bytes are written durably under var/uploads/, then claimed (ledger row, atomic rename
 * into the spool, hash) and run by the same pipeline. Exactly once even when the client
 * retries: the deposit's key (the client's trackingId, else the content's SHA-256, per
 * partner) is recorded with the flow id BEFORE the claim, so a retry, even after a crash,
 * finds the same flow.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../emit/atomic.js';
import type { Hub } from '../hub.js';
import { claimFile, newFlowId } from '../ingest/claim.js';
import { isIgnoredName } from '../ingest/inboxScan.js';

export interface DepositRequest {
  /** The partner depositing (its permissions are checked by the judge, as for its inbox folder). */
  partner?: string;
  name: string;
  bytes: Buffer;
  trackingId?: string;
}

export type DepositResult =
  | { ok: true; flowId: string; created: boolean; sha256: string; receivedAt: string }
  | { ok: false; reason: 'name' | 'conflict'; message: string };

/** A flow's name is a plain file name, as it would be in the inbox. */
export function depositNameProblem(name: string): string | undefined {
  if (!name || name.length > 255) return 'the flow name must be 1 to 255 characters';
  if (/[\/\\\u0000]/.test(name) || name === '..') return 'the flow name must be a file name, without a folder';
  if (isIgnoredName(name)) return 'the flow name must not start with a dot nor end in .part or .tmp (the inbox ignores those)';
  return undefined;
}

/** Deposits of one key are run one at a time in this process (a client retrying in parallel). */
const inProgress = new Map<string, Promise<unknown>>();

export async function depositFlow(hub: Hub, req: DepositRequest): Promise<DepositResult> {
  const problem = depositNameProblem(req.name);
  if (problem) return { ok: false, reason: 'name', message: problem };
  const sha256 = crypto.createHash('sha256').update(req.bytes).digest('hex');
  const partner = req.partner ?? '';
  const key = req.trackingId ? `tracking:${req.trackingId}` : `sha256:${sha256}`;
  const lockKey = `${partner}\u0000${key}`;
  while (inProgress.has(lockKey)) await inProgress.get(lockKey)!.catch(() => undefined);
  const run = deposit(hub, req, partner, key, sha256);
  inProgress.set(lockKey, run);
  try {
    return await run;
  } finally {
    inProgress.delete(lockKey);
  }
}

async function deposit(hub: Hub, req: DepositRequest, partner: string, key: string, sha256: string): Promise<DepositResult> {
  const at = new Date().toISOString();
  const held = await hub.ledger.transaction((tx) => tx.deposits.reserve({ partner, deposit_key: key, flow_id: newFlowId(), tracking_id: req.trackingId ?? null, at }));
  const earlier = await hub.ledger.flows.get(held.flow_id);
  if (earlier) {
    // (A claim still in progress has no hash yet: it is the same deposit.)
    if (earlier.stage !== 'CLAIMING' && earlier.sha256 !== sha256) return { ok: false, reason: 'conflict', message: `trackingId ${req.trackingId} was already used for flow ${earlier.id}, with other content` };
    return { ok: true, flowId: earlier.id, created: false, sha256, receivedAt: earlier.received_at };
  }
  // First attempt, or the retry of one that stopped before its claim: claim under the reserved id.
  const staged = path.join(hub.layout.var, 'uploads', `${held.flow_id}.upload`);
  writeFileAtomic(staged, [req.bytes]);
  try {
    const id = await claimFile(hub, staged, { partner: req.partner, name: req.name, id: held.flow_id });
    if (!id) throw new Error(`the upload ${staged} vanished before its claim`);
  } finally {
    fs.rmSync(staged, { force: true });
  }
  const flow = (await hub.ledger.flows.get(held.flow_id))!;
  return { ok: true, flowId: flow.id, created: true, sha256, receivedAt: flow.received_at };
}
