/** `factflow nodes` (the nodes sharing the ledger, their heartbeats and work) and `factflow ledger migrate`. */
import type { Command } from 'commander';
import type { NodeRow } from '../../ledger/stores.js';
import { withHub } from '../context.js';
import { printTable } from '../table.js';

/** running, stopping, stopped, or dead (lease expired without a last beat saying it stopped). */
export const nodeState = (n: NodeRow, now = Date.now()): string => (n.state !== 'stopped' && n.heartbeat_at + n.lease_ms <= now ? 'dead' : n.state);

export function registerNodes(program: Command): void {
  program
    .command('nodes')
    .description('The nodes sharing this ledger: last heartbeat, state (running, stopping, stopped, dead once its lease expired), what each is doing.')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExample:\n  FACTFLOW_LEDGER=postgres://factflow@db/factflow factflow --home /mnt/factflow nodes')
    .action(async (opts: { json?: boolean }) => {
      await withHub(program, false, async (hub) => {
        const now = Date.now();
        const nodes = (await hub.ledger.nodes.list()).map((n) => ({ ...n, state: nodeState(n, now), heartbeat: new Date(n.heartbeat_at).toISOString(), age_ms: now - n.heartbeat_at }));
        if (opts.json) return console.log(JSON.stringify(nodes, null, 2));
        printTable(['NODE', 'HOST', 'PID', 'STATE', 'LAST HEARTBEAT', 'AGO', 'UNFINISHED', 'DOING'],
          nodes.map((n) => [n.name, n.host, n.pid, n.state, n.heartbeat, `${(n.age_ms / 1000).toFixed(1)} s`, n.unfinished, n.doing]));
      }, 'read');
    });

  const ledger = program.command('ledger').description('The ledger itself (SQLite file or PostgreSQL database).');
  ledger
    .command('migrate')
    .description('Bring the ledger to this factflow\'s schema (every command does it when it opens the ledger; this does only that) and print its version.')
    .addHelpText('after', '\nExample:\n  FACTFLOW_LEDGER=postgres://factflow@db/factflow factflow --home /mnt/factflow ledger migrate')
    .action(async () => {
      await withHub(program, false, async (hub) => {
        const h = await hub.ledger.health();
        console.log(`ledger (${hub.ledger.backend}) at schema version ${h.schemaVersion} (this factflow: ${h.expectedVersion}); ${h.journal}`);
      }, 'existing');
    });
}
