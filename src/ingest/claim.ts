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
import type { Channel, FlowRow, Owner } from '../ledger/stores.js';
import { PendingDirs, processAlive } from '../emit/atomic.js';
import { flowError } from '../errors/catalog.js';
import { openRegular } from '../util/openRegular.js';
import { readableName } from './inboxScan.js';

/** The folder of a path, a Buffer one included (a name that is not UTF-8). */
const dirOf = (p: string | Buffer): string => (typeof p === 'string' ? path.dirname(p) : p.subarray(0, Math.max(1, p.lastIndexOf(path.sep.charCodeAt(0)))).toString('utf8'));

export function newFlowId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `FF${stamp}${crypto.randomBytes(3).toString('hex').toUpperCase()}`;
}

/**
 * A file's SHA-256 and size; a link is never read through: its identity is where it points.
 * Nothing but a regular file is opened (a FIFO would block here): a device, FIFO or socket
 * is identified by its kind and inode, and refused later when the flow is read.
 */
export function fingerprint(file: string): { sha256: string; size: number; mtimeMs?: number } {
  const hash = crypto.createHash('sha256');
  const opened = openRegular(file);
  if (!opened.ok) {
    const stat = opened.stat ?? fs.lstatSync(file);
    if (stat.isSymbolicLink()) return { sha256: hash.update(`symlink:${fs.readlinkSync(file)}`).digest('hex'), size: stat.size };
    return { sha256: hash.update(`${opened.what}:${stat.dev}:${stat.ino}`).digest('hex'), size: 0 };
  }
  try {
    const buf = Buffer.allocUnsafe(Math.min(1024 * 1024, Math.max(opened.size, 1)));
    let n: number;
    while ((n = fs.readSync(opened.fd, buf, 0, buf.length, null)) > 0) hash.update(buf.subarray(0, n));
    // Size and mtime of what was hashed, from the descriptor: a writer still at work shows here.
    const after = fs.fstatSync(opened.fd);
    return { sha256: hash.digest('hex'), size: opened.size, ...(after.size === opened.size ? { mtimeMs: after.mtimeMs } : { mtimeMs: -1 }) };
  } finally {
    fs.closeSync(opened.fd);
  }
}

export interface ClaimOptions {
  /** The partner the file came from (its inbox subfolder), if any. */
  partner?: string;
  /** Copy instead of move: for `factflow process` on a file outside the inbox. */
  copy?: boolean;
  /** An operator's request rather than a partner's flow. */
  channel?: Channel;
  /** The name the flow is known by (default: the file's; required for a Buffer path). */
  name?: string;
  /**
   * The size and mtime the watcher saw stable: after the rename, the file in the spool must
   * still have them (a writer pausing mid-upload shows a change), else it is put back.
   */
  expect?: { size: number; mtimeMs: number };
  /** The flow id to use, reserved beforehand (an API deposit records its key with it first). */
  id?: string;
}

/** Copies a regular file from its descriptor (a FIFO or device is never opened, so never blocks). */
function copyRegular(source: string, target: string): void {
  const opened = openRegular(source);
  if (!opened.ok) {
    const fault = flowError('FLOW_NOT_REGULAR_FILE', { what: opened.what });
    throw Object.assign(new Error(`${fault.code}: ${source}: ${fault.message}`), { code: fault.code });
  }
  try {
    const out = fs.openSync(target, 'wx');
    try {
      const buf = Buffer.allocUnsafe(1024 * 1024);
      let n: number;
      while ((n = fs.readSync(opened.fd, buf, 0, buf.length, null)) > 0) {
        for (let done = 0; done < n; ) done += fs.writeSync(out, buf, done, n - done);
      }
      fs.fsyncSync(out);
    } finally {
      fs.closeSync(out);
    }
  } finally {
    fs.closeSync(opened.fd);
  }
}

/** Claims `source`; returns the new flow id, or undefined if another process took it first. */
export async function claimFile(hub: Hub, source: string | Buffer, opts: ClaimOptions = {}): Promise<string | undefined> {
  return (await claimFiles(hub, [{ source, ...opts }]))[0]?.id;
}

/**
 * Claims several files together: one commit for their rows, their renames, one fsync per
 * folder involved, one commit for their hashes. Returns each file's flow id and size, or
 * undefined for a file another process took first.
 */
export async function claimFiles(hub: Hub, files: ({ source: string | Buffer } & ClaimOptions)[]): Promise<({ id: string; size: number } | undefined)[]> {
  const receivedAt = new Date().toISOString();
  const claims = files.map((f) => {
    const id = f.id ?? newFlowId();
    const name = f.name ?? (typeof f.source === 'string' ? path.basename(f.source) : readableName(Buffer.from(path.basename(f.source.toString('latin1')), 'latin1')));
    return { ...f, name, id, spoolPath: path.join(hub.layout.spool, id), size: 0, moved: false };
  });
  await hub.ledger.transaction((tx) =>
    tx.flows.insertClaims(claims.map((c) => ({ id: c.id, fileName: c.name, partner: c.partner ?? null, channel: c.channel ?? 'edi', receivedAt, spoolPath: c.spoolPath, ownerPid: process.pid, ownerNode: hub.settings.node }))),
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
          copyRegular(String(c.source), `${c.spoolPath}.copying`);
          fs.renameSync(`${c.spoolPath}.copying`, c.spoolPath);
        } else {
          fs.renameSync(c.source, c.spoolPath);
          pending.add(dirOf(c.source));
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
  let measured = claims.filter((c) => c.moved).map((c) => ({ c, ...fingerprint(c.spoolPath) }));
  // Changed since the watcher saw it stable (an upload that paused longer than stabilityMs, or
  // written into while being hashed): back to the inbox, to wait until it is complete.
  // Only regular files are measured so (a link or FIFO is claimed as it is, and refused).
  const changed = measured.filter((m) => m.c.expect && m.mtimeMs !== undefined && (m.size !== m.c.expect.size || m.mtimeMs !== m.c.expect.mtimeMs));
  for (const m of changed) {
    if (exists(m.c.source)) continue; // a new file took its name meanwhile: this one is claimed as it is
    fs.renameSync(m.c.spoolPath, m.c.source);
    m.c.moved = false;
    hub.log.warn(`${m.c.name} changed while being claimed (${m.c.expect!.size} bytes seen stable, ${m.size} now): put back in the inbox until it is complete; upload as .part and rename when done`, { file: m.c.name });
  }
  measured = measured.filter((m) => m.c.moved);
  if (claims.some((c) => !c.moved)) await dropUnmoved();
  const lost: typeof measured = [];
  await hub.ledger.transaction(async (tx) => {
    for (const m of measured) {
      // Not finished by us: either dropped (lost), or finished already by a node that took this
      // one for dead and recovered the claim (the flow exists: it goes on as any other).
      if (!(await tx.flows.finishClaim(m.c.id, m.sha256, (m.c.size = m.size))) && !(await tx.flows.get(m.c.id))) lost.push(m);
    }
  });
  // Claims another node dropped meanwhile (it took this node for dead: a pause longer than the
  // lease): the file goes back to the inbox, to be claimed again, rather than stay unknown in the spool.
  for (const m of lost) {
    if (!exists(m.c.source)) fs.renameSync(m.c.spoolPath, m.c.source);
    m.c.moved = false;
    hub.log.warn(`${m.c.name}: its claim was dropped by another node while it was moved; put back in the inbox`, { file: m.c.name });
  }
  const moved = measured.filter((m) => m.c.moved).map((m) => m.c);
  for (const c of moved) hub.log.info(`claimed ${c.name} (${c.size} bytes)`, { flowId: c.id });
  return claims.map((c) => (c.moved ? { id: c.id, size: c.size } : undefined));
}

/** Whether a path exists, links included (existsSync follows them). */
export function exists(p: string | Buffer): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** This process, as the owner of the flows it works on. */
export const me = (hub: Hub): Owner => ({ node: hub.settings.node, pid: process.pid });
/** A flow of a ledger older than nodes belongs to this node (a SQLite home has one). */
const nodeOf = (hub: Hub, flow: FlowRow): string => flow.owner_node ?? hub.settings.node;
export const isMine = (hub: Hub, flow: FlowRow): boolean => flow.owner_pid === process.pid && nodeOf(hub, flow) === hub.settings.node;

/**
 * Who may not be disturbed: the nodes whose lease is running (a heartbeat within leaseMs,
 * not stopped). A node that stopped or whose lease expired leaves its flows to the others.
 */
export async function liveNodes(hub: Hub): Promise<Set<string>> {
  const now = Date.now();
  return new Set((await hub.ledger.nodes.list()).filter((n) => n.state !== 'stopped' && n.heartbeat_at + n.lease_ms > now).map((n) => n.name));
}

/**
 * Whether someone alive is working on this flow (then it is not ours to touch): another
 * process of this node that still runs, or another node whose lease runs.
 */
export function ownedByOther(hub: Hub, flow: FlowRow, live: Set<string>): boolean {
  if (isMine(hub, flow)) return false;
  const node = nodeOf(hub, flow);
  if (node === hub.settings.node) return !!flow.owner_pid && processAlive(flow.owner_pid);
  return live.has(node);
}

/** Repairs claims interrupted by a crash (of this process or of a dead one, of this node or of a dead node). */
export async function recoverClaims(hub: Hub): Promise<void> {
  const live = await liveNodes(hub);
  if (hub.ledger.backend === 'postgres') await returnUnknownSpoolFiles(hub, live);
  for (const flow of (await hub.ledger.flows.inStage('CLAIMING')).filter((f) => !ownedByOther(hub, f, live))) {
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

/**
 * Files in the spool of this node, or of a dead node, that no unfinished flow names: a claim
 * dropped by another node while this one (taken for dead) was still moving its file, then a
 * kill before it could put the file back. Back to the inbox, to be claimed again. Only for nodes
 * sharing a PostgreSQL ledger (a SQLite home writes its claim row before any rename, alone).
 */
async function returnUnknownSpoolFiles(hub: Hub, live: Set<string>): Promise<void> {
  const root = path.dirname(hub.layout.spool);
  const known = new Set((await hub.ledger.flows.counts()).spoolNames);
  const claiming = new Set((await hub.ledger.flows.inStage('CLAIMING')).map((f) => f.spool_path));
  for (const node of fs.existsSync(root) ? fs.readdirSync(root) : []) {
    if (node !== hub.settings.node && live.has(node)) continue;
    const dir = path.join(root, node);
    for (const name of fs.readdirSync(dir)) {
      const file = path.join(dir, name);
      if (name.endsWith('.copying') || known.has(file) || claiming.has(file)) continue;
      // Read again: a claim of this node may have been written since the first read.
      if (await hub.ledger.flows.get(name)) continue;
      fs.renameSync(file, path.join(hub.layout.inbox, `${name}.returned.xml`));
      hub.log.warn(`${file}: in the spool without a flow (a claim dropped while it moved); put back in the inbox`, { file: name });
    }
  }
}
