/**
 * A node's heartbeat in the ledger: its row in `nodes` rewritten every leaseMs/3 with what it
 * is doing. Another node presumes it dead once leaseMs has passed without a beat, and then
 * finishes its unfinished flows (ingest/claim ownedByOther). A node of a shared (PostgreSQL)
 * ledger that finds it could not beat for longer than its lease (the process was frozen, the
 * database unreachable) has lost its flows to the others: it stops at once rather than finish
 * them a second time; its supervisor starts it again.
 */
import os from 'node:os';
import type { Hub } from '../hub.js';

export interface NodeActivity {
  state: 'running' | 'stopping' | 'stopped';
  doing: string;
}

export interface Heartbeat {
  /** Beats now (state changes are shown at once). */
  beat(): Promise<void>;
  /** The last beat, with the node stopped. */
  stop(doing: string): Promise<void>;
}

/** Exit status of a node that lost its lease (EX_TEMPFAIL: start it again). */
export const LEASE_LOST_EXIT = 75;

export async function startHeartbeat(hub: Hub, activity: () => NodeActivity, onLeaseLost: (why: string) => void): Promise<Heartbeat> {
  const leaseMs = Math.max(1000, hub.settings.leaseMs);
  const startedAt = new Date().toISOString();
  const base = { name: hub.settings.node, host: os.hostname(), pid: process.pid, startedAt, leaseMs };
  const shared = hub.ledger.backend === 'postgres';
  let lastOk = Date.now();
  let failing = false;
  let stopped = false;
  const beat = async (now = activity()) => {
    const before = lastOk;
    try {
      const row = { ...base, at: Date.now(), ...now };
      // SQLite: through a transaction, so that it queues for the threads' write lock like every
      // write. PostgreSQL: on its own, never behind the write lock (a long decision must not
      // delay the beat past the lease).
      await (shared ? hub.ledger.nodes.beat(row) : hub.ledger.transaction((tx) => tx.nodes.beat(row)));
    } catch (e) {
      if (!failing) hub.log.warn(`heartbeat not recorded: ${e instanceof Error ? e.message : String(e)}`);
      failing = true;
      if (shared && !stopped && Date.now() - before > leaseMs) onLeaseLost(`no heartbeat recorded for ${Date.now() - before} ms (lease ${leaseMs} ms)`);
      return;
    }
    failing = false;
    lastOk = Date.now();
    if (shared && !stopped && lastOk - before > leaseMs) onLeaseLost(`${lastOk - before} ms between two heartbeats (lease ${leaseMs} ms): the other nodes may have taken this node's flows`);
  };
  await beat();
  const timer = setInterval(() => void beat(), Math.max(200, Math.floor(leaseMs / 3)));
  timer.unref();
  return {
    beat: () => beat(),
    async stop(doing) {
      stopped = true;
      clearInterval(timer);
      await beat({ state: 'stopped', doing });
    },
  };
}
