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
import { fsyncDir } from '../emit/atomic.js';
import { flowsInStage, sql, type FlowRow } from '../ledger/flows.js';
import { processAlive } from '../emit/atomic.js';

export function newFlowId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `FF${stamp}${crypto.randomBytes(3).toString('hex').toUpperCase()}`;
}

export function sha256File(file: string): string {
  const hash = crypto.createHash('sha256');
  // A link is never read through: its identity is where it points.
  if (fs.lstatSync(file).isSymbolicLink()) return hash.update(`symlink:${fs.readlinkSync(file)}`).digest('hex');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1024 * 1024);
    let n: number;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

export interface ClaimOptions {
  /** The partner the file came from (its inbox subfolder), if any. */
  partner?: string;
  /** Copy instead of move: for `factflow process` on a file outside the inbox. */
  copy?: boolean;
}

/** Claims `source`; returns the new flow id, or undefined if another process took it first. */
export function claimFile(hub: Hub, source: string, opts: ClaimOptions = {}): string | undefined {
  const stat = fs.lstatSync(source);
  const id = newFlowId();
  const spoolPath = path.join(hub.layout.spool, id);
  const receivedAt = new Date().toISOString();
  sql(hub.db, "INSERT INTO flows (id, file_name, partner, size, stage, received_at, spool_path, owner_pid) VALUES (?, ?, ?, ?, 'CLAIMING', ?, ?, ?)")
    .run(id, path.basename(source), opts.partner ?? null, stat.size, receivedAt, spoolPath, process.pid);
  try {
    if (opts.copy) {
      fs.copyFileSync(source, `${spoolPath}.copying`);
      fs.renameSync(`${spoolPath}.copying`, spoolPath);
    } else {
      fs.renameSync(source, spoolPath);
    }
    fsyncDir(hub.layout.spool);
    if (!opts.copy) fsyncDir(path.dirname(source));
  } catch (e) {
    sql(hub.db, "DELETE FROM flows WHERE id = ? AND stage = 'CLAIMING'").run(id);
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  finishClaim(hub, id, spoolPath);
  hub.log.info(`claimed ${path.basename(source)} (${stat.size} bytes)`, { flowId: id });
  return id;
}

function finishClaim(hub: Hub, id: string, spoolPath: string): void {
  const size = fs.lstatSync(spoolPath).size;
  sql(hub.db, "UPDATE flows SET stage = 'CLAIMED', sha256 = ?, size = ? WHERE id = ?").run(sha256File(spoolPath), size, id);
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
export function recoverClaims(hub: Hub): void {
  for (const flow of flowsInStage(hub.db, 'CLAIMING').filter((f) => !ownedByOther(f))) {
    if (exists(flow.spool_path)) {
      finishClaim(hub, flow.id, flow.spool_path);
      hub.log.warn('recovered an interrupted claim', { flowId: flow.id });
    } else {
      fs.rmSync(`${flow.spool_path}.copying`, { force: true });
      sql(hub.db, 'DELETE FROM flows WHERE id = ?').run(flow.id);
    }
  }
}
