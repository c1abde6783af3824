/**
 * Several nodes over one PostgreSQL ledger share large flows: a node claims a large flow only for
 * a worker it has free, so archives dropped together are spread over the nodes instead of all
 * being held by the first one to look. Skipped without FACTFLOW_TEST_PG.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { mixedFlow } from '../src/devtools/synth.js';
import { CLI, cli, deliveredInvoices, fixture, freshPgDatabase, listFiles, TEST_PG, tempDir } from './helpers.js';

const FLOWS = 4;
const INVOICES = 120;

(TEST_PG ? test : test.skip)('large flows dropped together are spread over two nodes with one worker each, each delivered once', async () => {
  const url = await freshPgDatabase();
  const home = tempDir('factflow-nodes-');
  const env = { ...process.env, FACTFLOW_LEDGER: url, FACTFLOW_WORKERS: '1', FACTFLOW_STABILITY_MS: '50', FACTFLOW_SWEEP_INTERVAL_MS: '200' };
  expect(cli(['directory', 'import', '--structures', fixture('directory', 'structures.csv'), '--services', fixture('directory', 'services.csv')], { home, env }).code).toBe(0);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const nodes: ChildProcess[] = ['a', 'b'].map((n) => spawn(process.execPath, [CLI, '--home', home, 'watch'], { env: { ...env, FACTFLOW_NODE: n }, stdio: 'ignore' }));
  try {
    // Both nodes up (a heartbeat each) before the flows arrive.
    for (let waited = 0; (await client.query("SELECT 1 FROM nodes WHERE state = 'running'")).rowCount! < 2; waited += 100) {
      if (waited > 60_000) throw new Error('the nodes did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const flows = Array.from({ length: FLOWS }, (_, i) => mixedFlow({ seed: 700 + i, flowTag: `L${i}`, invoices: INVOICES, pdfBytes: 2048 }));
    expect(Math.min(...flows.map((f) => Buffer.byteLength(f)))).toBeGreaterThan(256 * 1024); // large, by the daemon's measure
    flows.forEach((xml, i) => fs.writeFileSync(path.join(home, `flow-${i}.upload`), xml));
    flows.forEach((_, i) => fs.renameSync(path.join(home, `flow-${i}.upload`), path.join(home, 'inbox', `flow-${i}.xml`)));
    for (let waited = 0; (await client.query("SELECT 1 FROM flows WHERE stage = 'DONE'")).rowCount! < FLOWS; waited += 200) {
      if (waited > 120_000) throw new Error('the flows were not finished in time');
      await new Promise((r) => setTimeout(r, 200));
    }
    const owners = (await client.query<{ owner_node: string }>('SELECT DISTINCT owner_node FROM flows ORDER BY owner_node')).rows.map((r) => r.owner_node);
    expect(owners).toEqual(['a', 'b']);
    const delivered = deliveredInvoices(home);
    expect(delivered.size).toBe(FLOWS * INVOICES);
    expect([...delivered.values()].every((n) => n === 1)).toBe(true);
    expect(listFiles(path.join(home, 'inbox'))).toEqual([]);
  } finally {
    for (const c of nodes) c.kill('SIGTERM');
    await Promise.all(nodes.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    await client.end();
  }
}, 240_000);
