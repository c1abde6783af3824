/** Keeping a home healthy: the doctor's checks, and purging flows past retention. */
import fs from 'node:fs';
import path from 'node:path';
import { processAlive } from '../emit/atomic.js';
import type { Hub } from '../hub.js';
import type { FlowRow } from '../ledger/stores.js';
import { stateFileOf, type DaemonState } from '../daemon/state.js';
import { scanInbox } from '../ingest/inboxScan.js';

export type Verdict = 'ok' | 'warn' | 'FAIL';
export interface Check {
  check: string;
  result: Verdict;
  detail: string;
}

export async function doctor(hub: Hub): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (check: string, result: Verdict, detail: string) => checks.push({ check, result, detail });
  const l = hub.layout;
  for (const [name, dir] of Object.entries({ inbox: l.inbox, outbox: l.outbox, archive: l.archive, failed: l.failed, spool: l.spool, log: l.log })) {
    try {
      fs.accessSync(dir, fs.constants.W_OK);
      add(`folder ${name}`, 'ok', dir);
    } catch {
      add(`folder ${name}`, 'FAIL', `${dir} is missing or not writable: fix its permissions`);
    }
  }
  const disk = fs.statfsSync(l.home);
  const free = disk.bavail * disk.bsize;
  const freeText = `${(free / 1024 ** 3).toFixed(1)} GiB free`;
  add('free disk', free < 256 * 1024 ** 2 ? 'FAIL' : free < 2 * 1024 ** 3 ? 'warn' : 'ok', free < 2 * 1024 ** 3 ? `${freeText}: flows stay in the spool when writes fail; free some space` : freeText);
  const health = await hub.ledger.health();
  const sqlite = hub.ledger.backend === 'sqlite';
  add('ledger integrity', health.integrity === 'ok' ? 'ok' : 'FAIL', health.integrity === 'ok' ? (sqlite ? l.db : 'PostgreSQL') : sqlite ? `${health.integrity}: restore var/factflow.db from a backup` : health.integrity);
  add('ledger schema', health.schemaVersion === health.expectedVersion ? 'ok' : 'FAIL', `version ${health.schemaVersion} (this factflow: ${health.expectedVersion})`);
  add('ledger journal', 'ok', health.journal);
  const directory = await hub.ledger.directory.summary();
  add('directory', directory.structures ? 'ok' : 'FAIL', directory.structures ? `${directory.structures} structures, imported ${directory.lastImport}` : 'empty: every invoice will be refused; run factflow directory import');
  if (hub.ledger.backend === 'postgres') {
    // Nodes sharing the ledger: a dead one's flows are finished by the others once its lease is past.
    const now = Date.now();
    const nodes = await hub.ledger.nodes.list();
    const dead = nodes.filter((n) => n.state !== 'stopped' && n.heartbeat_at + n.lease_ms <= now);
    const running = nodes.filter((n) => n.state !== 'stopped' && n.heartbeat_at + n.lease_ms > now);
    add('nodes', dead.some((n) => n.unfinished) ? 'warn' : 'ok', `${running.length} running${dead.length ? `; lease expired: ${dead.map((n) => `${n.name} (${n.unfinished} unfinished flow(s), left to the others)`).join(', ')}` : ''} (see factflow nodes)`);
  }
  const counts = await hub.ledger.flows.counts();
  add('unfinished flows', counts.faulty ? 'warn' : 'ok', counts.faulty ? `${counts.faulty} kept in the spool after a system fault (see factflow flows list --state CLAIMED)` : `${counts.unfinished} in progress`);
  const known = new Set(counts.spoolNames.map((p) => path.basename(p)));
  const orphans = fs.readdirSync(l.spool).filter((f) => !known.has(f) && !f.endsWith('.copying'));
  add('spool', orphans.length ? 'warn' : 'ok', orphans.length ? `${orphans.length} file(s) the ledger does not know: ${orphans.slice(0, 3).join(', ')}` : 'consistent with the ledger');
  const lock = path.join(l.nodeVar, 'watch.lock');
  const pid = fs.existsSync(lock) ? Number(fs.readFileSync(lock, 'utf8')) : 0;
  const alive = !!pid && processAlive(pid);
  let state: DaemonState | undefined;
  try {
    state = JSON.parse(fs.readFileSync(stateFileOf(l.nodeVar), 'utf8')) as DaemonState;
  } catch {
    state = undefined;
  }
  if (state && (state.pid !== pid || !alive)) state = undefined; // left by a daemon that died
  const progress = `${state?.inProgress ?? counts.unfinished} flow(s) in progress`;
  add('daemon', 'ok', !alive ? 'not running (start it with npm start or factflow watch)' : state?.state === 'stopping' ? `stopping (pid ${pid}): finishing ${progress}` : `running (pid ${pid}), ${progress}`);
  if (alive && state) {
    const here = hub.ledger.fileIdentity;
    const moved = state.ledger && (state.ledger.dev !== here.dev || state.ledger.ino !== here.ino);
    if (state.ledgerProblem || moved) {
      add('daemon ledger', 'FAIL', state.ledgerProblem ?? `SYS_LEDGER_UNAVAILABLE: the running daemon (pid ${pid}) writes a ledger file that is no longer ${l.db} (deleted or replaced): stop it, put the right file back, start it again`);
    } else add('daemon ledger', 'ok', `the daemon writes ${l.db}`);
    if (state.logProblem) add('log files', 'FAIL', `the daemon cannot write var/log: ${state.logProblem}`);
  }
  const deliveries = new Map((await hub.ledger.notify.deliveryStates()).map((d) => [d.state, d.n]));
  const [pending, failed] = [deliveries.get('pending') ?? 0, deliveries.get('failed') ?? 0];
  add('notifications', failed ? 'warn' : 'ok', `${pending} webhook call(s) or e-mail(s) pending${alive ? '' : ' (sent by the daemon)'}, ${failed} given up${failed ? ' (see factflow webhooks deliveries --failed)' : ''}; e-mail ${hub.settings.smtpHost === 'off' ? 'off (smtpHost)' : `through ${hub.settings.smtpHost}:${hub.settings.smtpPort}`}`);
  const unexpected = scanInbox(l.inbox).unexpected;
  add('inbox', unexpected.length ? 'warn' : 'ok', unexpected.length ? `${unexpected.length} entr${unexpected.length === 1 ? 'y' : 'ies'} in places no flow is taken from (flows go in inbox/ or inbox/<partner>/): ${unexpected.slice(0, 10).join(', ')}${unexpected.length > 10 ? ', …' : ''}` : 'nothing in unexpected places');
  return checks;
}

/** Finished flows older than the cutoff that no kept flow depends on (events, recycling, completion, duplicates). */
export const purgeable = (hub: Hub, cutoff: string): Promise<FlowRow[]> => hub.ledger.flows.purgeable(cutoff);

/** Notification events past the cutoff, delivered (or given up), with their deliveries and attempts; pending ones are kept. */
export const purgeNotifications = (hub: Hub, cutoff: string): Promise<number> => hub.ledger.transaction((tx) => tx.notify.purge(cutoff));

/** Removes the flows' rows, then their files: a crash between leaves files without rows, never rows without files. */
export async function purge(hub: Hub, flows: FlowRow[]): Promise<number> {
  await hub.ledger.transaction((tx) => tx.flows.purge(flows.map((f) => f.id)));
  let files = 0;
  for (const f of flows) {
    for (const p of [f.final_path, `${f.final_path}.report.json`, `${f.final_path}.report.xml`]) {
      if (p && fs.existsSync(p)) {
        fs.rmSync(p);
        files++;
      }
    }
  }
  return files;
}
