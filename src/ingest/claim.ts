/**
 * Claiming a file: it becomes a flow of the ledger and moves into the spool, exactly once.
 * The ledger row is written first (stage CLAIMING), then the file is renamed into the spool
 * under the flow id, then the row becomes CLAIMED with the file's hash. A crash between any
 * two steps is repaired at start-up by `recoverClaims`: the rename either happened (finish
 * the claim) or not (drop the row; the file is still in the inbox).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Hub } from '../hub.js';
import type { Channel, FlowRow } from '../ledger/stores.js';
import { fsyncPath, PendingDirs, processAlive } from '../emit/atomic.js';

export function newFlowId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `FF${stamp}${crypto.randomBytes(3).toString('hex').toUpperCase()}`;
}

/** A file's SHA-256 and size; a link is never read through: its identity is where it points. */
export function fingerprint(file: string): { sha256: string; size: number } {
  const hash = crypto.createHash('sha256');
  const stat = fs.lstatSync(file);
  if (stat.isSymbolicLink()) return { sha256: hash.update(`symlink:${fs.readlinkSync(file)}`).digest('hex'), size: stat.size };
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(Math.min(1024 * 1024, Math.max(stat.size, 1)));
    let n: number;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return { sha256: hash.digest('hex'), size: stat.size };
}

export interface ClaimOptions {
  /** The partner the file came from (its inbox subfolder), if any. */
  partner?: string;
  /** Copy instead of move: for `factflow process` on a file outside the inbox. */
  copy?: boolean;
  /** An operator's request rather than a partner's flow. */
  channel?: Channel;
  /** The name the flow is known by (default: the file's). */
  name?: string;
}

/** Claims `source`; returns the new flow id, or undefined if another process took it first. */
export async function claimFile(hub: Hub, source: string, opts: ClaimOptions = {}): Promise<string | undefined> {
  return (await claimFiles(hub, [{ source, ...opts }]))[0]?.id;
}

/**
 * Claims several files together: one commit for their rows, their renames, one fsync per
 * folder involved, one commit for their hashes. Returns each file's flow id and size, or
 * undefined for a file another process took first.
 */
export async function claimFiles(hub: Hub, files: ({ source: string } & ClaimOptions)[]): Promise<({ id: string; size: number } | undefined)[]> {
  const receivedAt = new Date().toISOString();
  const claims = files.map((f) => {
    const id = newFlowId();
    return { ...f, id, spoolPath: path.join(hub.layout.spool, id), size: 0, moved: false };
  });
  await hub.ledger.transaction((tx) =>
    tx.flows.insertClaims(claims.map((c) => ({ id: c.id, fileName: c.name ?? path.basename(c.source), partner: c.partner ?? null, channel: c.channel ?? 'edi', receivedAt, spoolPath: c.spoolPath, ownerPid: process.pid }))),
  );
  const dropUnmoved = () => hub.ledger.transaction(async (tx) => {
    for (const c of claims) if (!c.moved) await tx.flows.dropClaim(c.id);
  });
  const pending = new PendingDirs();
  try {
    for (const c of claims) {
      try {
        if (c.copy) {
          // The copy is the flow from now on: on disk before it takes its name.
          fs.copyFileSync(c.source, `${c.spoolPath}.copying`);
          fsyncPath(`${c.spoolPath}.copying`);
          fs.renameSync(`${c.spoolPath}.copying`, c.spoolPath);
        } else {
          fs.renameSync(c.source, c.spoolPath);
          pending.add(path.dirname(c.source));
        }
        c.moved = true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    pending.add(hub.layout.spool);
    pending.sync();
  } catch (e) {
    await dropUnmoved();
    throw e;
  }
  if (claims.some((c) => !c.moved)) await dropUnmoved();
  const moved = claims.filter((c) => c.moved);
  const measured = moved.map((c) => ({ c, ...fingerprint(c.spoolPath) }));
  await hub.ledger.transaction(async (tx) => {
    for (const m of measured) await tx.flows.finishClaim(m.c.id, m.sha256, (m.c.size = m.size));
  });
  for (const c of moved) hub.log.info(`claimed ${path.basename(c.source)} (${c.size} bytes)`, { flowId: c.id });
  return claims.map((c) => (c.moved ? { id: c.id, size: c.size } : undefined));
}

/** Whether a path exists, links included (existsSync follows them). */
export function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Whether another live process is working on this flow (then it is not ours to touch). */
export const ownedByOther = (flow: FlowRow): boolean => !!flow.owner_pid && flow.owner_pid !== process.pid && processAlive(flow.owner_pid);

/** Repairs claims interrupted by a crash (of this process or of a dead one). */
export async function recoverClaims(hub: Hub): Promise<void> {
  for (const flow of (await hub.ledger.flows.inStage('CLAIMING')).filter((f) => !ownedByOther(f))) {
    if (exists(flow.spool_path)) {
      const { sha256, size } = fingerprint(flow.spool_path);
      await hub.ledger.transaction((tx) => tx.flows.finishClaim(flow.id, sha256, size));
      hub.log.warn('recovered an interrupted claim', { flowId: flow.id });
    } else {
      fs.rmSync(`${flow.spool_path}.copying`, { force: true });
      await hub.ledger.transaction((tx) => tx.flows.dropClaim(flow.id));
    }
  }
}
