/**
 * NODES (`npm run bench -- NODES`, and in every full run): S2 and S3 through running daemons on
 * SQLite and on PostgreSQL with 1, 2 and 3 nodes on this machine, side by side.
 *   S2n  three tar.gz of 2,000 UBL invoices each, dropped at once (one flow per node at most)
 *   S3n  200 single-invoice flows dropped at once (drop-to-report latency)
 * Each node is a `factflow watch` with its own name on the same home; the CPU time of the nodes
 * and of the PostgreSQL server is read from /proc, per invoice, for the estimate of N machines.
 * PostgreSQL: FACTFLOW_BENCH_PG or FACTFLOW_TEST_PG (a URL whose user may create databases),
 * else a throw-away cluster is started in a temp folder (as user postgres when run as root)
 * when the server's binaries are installed; without one, only SQLite is measured.
 * Results: bench/nodes.json and the NODES block of BENCHMARKS.md.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase } from '../ledger/postgres.js';
import { writeTarGz } from './archives.js';
import { FIXTURE_RECIPIENTS, mixedFlowChunks, ublInvoice } from './synth.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const WORK = path.join(ROOT, 'bench', 'work', 'nodes');
const TICK = 100; // clock ticks per second in /proc/<pid>/stat (USER_HZ)

interface Row {
  scenario: 'S2n' | 'S3n';
  ledger: 'sqlite' | 'postgres';
  nodes: number;
  invoices: number;
  flows: number;
  seconds: number;
  invoicesPerSecond: number;
  flowsPerSecond: number;
  p50Seconds?: number;
  p95Seconds?: number;
  /** CPU seconds of the nodes (all their threads) per 1,000 invoices. */
  nodeCpuPer1000: number;
  /** CPU seconds of the PostgreSQL server per 1,000 invoices. */
  dbCpuPer1000?: number;
  /** Flows finished by each node. */
  spread: number[];
}

const cpuOf = (pid: number): number => {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / TICK;
  } catch {
    return 0;
  }
};
/** CPU seconds of every process named postgres (the server and its backends). */
const postgresCpu = (): number =>
  fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).reduce((sum, d) => {
    try {
      return fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'postgres' ? sum + cpuOf(Number(d)) : sum;
    } catch {
      return sum;
    }
  }, 0);

/** A PostgreSQL server for the run: given, or a throw-away cluster stopped by `stop`. */
function postgresServer(): { url: string; stop: () => void } | undefined {
  const given = process.env.FACTFLOW_BENCH_PG ?? process.env.FACTFLOW_TEST_PG;
  if (given) return { url: given, stop: () => undefined };
  const bin = fs.existsSync('/usr/lib/postgresql') ? fs.readdirSync('/usr/lib/postgresql').map((v) => `/usr/lib/postgresql/${v}/bin`).find((b) => fs.existsSync(`${b}/initdb`)) : undefined;
  if (!bin) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factflow-bench-pg-'));
  const root = process.getuid?.() === 0;
  if (root) spawnSync('chown', ['postgres', dir]);
  const as = (cmd: string) => (root ? spawnSync('su', ['postgres', '-s', '/bin/sh', '-c', cmd]) : spawnSync('sh', ['-c', cmd]));
  const port = 40000 + Math.floor(Math.random() * 20000);
  if (as(`${bin}/initdb -D ${dir}/data -A trust -U postgres`).status !== 0) return undefined;
  if (as(`${bin}/pg_ctl -D ${dir}/data -l ${dir}/log -w -o '-k ${dir} -p ${port} -c listen_addresses=127.0.0.1 -c max_connections=200' start`).status !== 0) return undefined;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => {
      as(`${bin}/pg_ctl -D ${dir}/data -m fast stop`);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Flows finished by each node (the owner the ledger records), through `factflow flows list`. */
function spreadOf(home: string, env: NodeJS.ProcessEnv, nodes: number): number[] {
  const r = spawnSync(process.execPath, [CLI, '--home', home, 'flows', 'list', '--limit', '100000', '--json'], { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const flows = r.status === 0 ? (JSON.parse(r.stdout) as Record<string, unknown>[]) : [];
  const owner = (f: Record<string, unknown>) => String(f.node ?? '');
  return Array.from({ length: nodes }, (_, i) => flows.filter((f) => owner(f) === `node${i}`).length);
}

async function measure(scenario: Row['scenario'], ledger: Row['ledger'], nodes: number, server: string | undefined, inputs: { name: string; file: string; invoices: number }[]): Promise<Row> {
  const home = path.join(WORK, `${scenario}-${ledger}-${nodes}`, 'home');
  fs.rmSync(path.dirname(home), { recursive: true, force: true });
  fs.mkdirSync(home, { recursive: true });
  const env: NodeJS.ProcessEnv = { FACTFLOW_LOG_LEVEL: 'warn', ...(ledger === 'postgres' ? { FACTFLOW_LEDGER: await createDatabase(server!, `ff_bench_${scenario.toLowerCase()}_${nodes}`) } : {}) };
  const imported = spawnSync(process.execPath, [CLI, '--home', home, 'directory', 'import', '--structures', path.join(ROOT, 'fixtures/directory/structures.csv'), '--services', path.join(ROOT, 'fixtures/directory/services.csv')], { env: { ...process.env, ...env } });
  if (imported.status !== 0) throw new Error(`directory import failed: ${imported.stderr}`);
  const daemons: ChildProcess[] = Array.from({ length: nodes }, (_, i) =>
    spawn(process.execPath, [CLI, '--home', home, 'watch'], { env: { ...process.env, ...env, FACTFLOW_NODE: `node${i}` }, stdio: 'ignore' }));
  await new Promise((r) => setTimeout(r, 2000 + 500 * nodes)); // let them start
  spawnSync('sync');
  const dbBefore = ledger === 'postgres' ? postgresCpu() : 0;
  const nodesBefore = daemons.reduce((n, d) => n + cpuOf(d.pid!), 0);
  const dropped = Date.now();
  for (const i of inputs) fs.renameSync(i.file, path.join(home, 'inbox', i.name));
  const reports = path.join(home, 'outbox', 'reports');
  const seen = new Map<string, number>();
  while (seen.size < inputs.length && Date.now() - dropped < 300_000) {
    for (const f of fs.existsSync(reports) ? fs.readdirSync(reports) : []) if (f.endsWith('.json') && !seen.has(f)) seen.set(f, fs.statSync(path.join(reports, f)).mtimeMs);
    await new Promise((r) => setTimeout(r, 20));
  }
  const nodeCpu = daemons.reduce((n, d) => n + cpuOf(d.pid!), 0) - nodesBefore;
  const dbCpu = ledger === 'postgres' ? postgresCpu() - dbBefore : undefined;
  for (const d of daemons) d.kill('SIGTERM');
  await Promise.all(daemons.map((d) => new Promise((r) => (d.exitCode !== null ? r(null) : d.once('exit', r)))));
  const spread = spreadOf(home, env, nodes);
  const latencies = [...seen.values()].map((t) => (t - dropped) / 1000).sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  const seconds = latencies.at(-1)!;
  const invoices = inputs.reduce((n, i) => n + i.invoices, 0);
  return {
    scenario, ledger, nodes, invoices, flows: inputs.length, seconds, invoicesPerSecond: invoices / seconds, flowsPerSecond: inputs.length / seconds,
    ...(scenario === 'S3n' ? { p50Seconds: p(0.5), p95Seconds: p(0.95) } : {}),
    nodeCpuPer1000: (nodeCpu / invoices) * 1000, ...(dbCpu === undefined ? {} : { dbCpuPer1000: (dbCpu / invoices) * 1000 }), spread,
  };
}

/** Fresh copies of a scenario's inputs in a staging folder (each run moves them into an inbox). */
function stage(scenario: Row['scenario']): { name: string; file: string; invoices: number }[] {
  const dir = path.join(WORK, `${scenario}-input`);
  const staging = path.join(WORK, `${scenario}-staging`);
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(dir, { recursive: true });
    if (scenario === 'S2n') {
      for (let a = 0; a < 3; a++) {
        const entries = Array.from({ length: 2000 }, (_, i) => {
          const name = `UBL-N${a}-${String(i).padStart(4, '0')}.xml`;
          return { name, content: ublInvoice({ seed: 5000 + a * 2000 + i, number: name.slice(0, -4), recipient: FIXTURE_RECIPIENTS[i % 3], lines: 5, targetBytes: 20 * 1024 }) };
        });
        fs.writeFileSync(path.join(dir, `ubl-2000-${a}.tar.gz`), writeTarGz(entries));
      }
    } else {
      for (let i = 0; i < 200; i++) {
        fs.writeFileSync(path.join(dir, `single-${String(i).padStart(3, '0')}.xml`), [...mixedFlowChunks({ seed: 7000 + i, flowTag: `N3-${i}`, invoices: 1, pdfBytes: 20 * 1024 })].join(''));
      }
    }
  }
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  return fs.readdirSync(dir).sort().map((name) => {
    fs.copyFileSync(path.join(dir, name), path.join(staging, name));
    return { name, file: path.join(staging, name), invoices: scenario === 'S2n' ? 2000 : 1 };
  });
}

const fmt = (n: number | undefined, digits = 0) => (n === undefined ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));

export async function benchNodes(): Promise<void> {
  process.stderr.write('running NODES (S2 and S3 on SQLite and PostgreSQL, 1 to 3 nodes)...\n');
  fs.mkdirSync(WORK, { recursive: true });
  const server = postgresServer();
  const rows: Row[] = [];
  try {
    for (const scenario of ['S2n', 'S3n'] as const) {
      const configs: [Row['ledger'], number][] = [['sqlite', 1], ...(server ? ([['postgres', 1], ['postgres', 2], ['postgres', 3]] as [Row['ledger'], number][]) : [])];
      for (const [ledger, nodes] of configs) {
        spawnSync('sync');
        rows.push(await measure(scenario, ledger, nodes, server?.url, stage(scenario)));
      }
    }
  } finally {
    server?.stop();
  }
  const cores = os.availableParallelism();
  const table = [
    `| scenario | ledger | nodes | invoices/s | flows/s | p50 / p95 (s) | flows per node | node CPU s / 1,000 invoices | PostgreSQL CPU s / 1,000 invoices |`,
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.scenario === 'S2n' ? 'S2n: 3 × tar.gz of 2,000 UBL' : 'S3n: 200 single-invoice flows'} | ${r.ledger} | ${r.nodes} | ${fmt(r.invoicesPerSecond)} | ${fmt(r.flowsPerSecond, 1)} | ${r.p50Seconds === undefined ? '-' : `${fmt(r.p50Seconds, 2)} / ${fmt(r.p95Seconds, 2)}`} | ${r.ledger === 'sqlite' ? '-' : r.spread.join(' / ')} | ${fmt(r.nodeCpuPer1000, 2)} | ${fmt(r.dbCpuPer1000, 2)} |`),
  ];
  // N machines of this kind: each gives `cores` CPU seconds per second to its node; the database
  // (on its own machine) is the shared bound, at its measured CPU per invoice.
  const estimate = rows.filter((r) => r.ledger === 'postgres' && r.nodes === 1).map((r) => {
    const perMachine = (cores / r.nodeCpuPer1000) * 1000;
    const dbBound = r.dbCpuPer1000 ? (cores / r.dbCpuPer1000) * 1000 : undefined;
    return `${r.scenario}: one ${cores}-core node ≈ ${fmt(perMachine)} invoices/s of CPU (${fmt(r.nodeCpuPer1000, 2)} s per 1,000); N machines ≈ N × ${fmt(perMachine)} invoices/s until a ${cores}-core database saturates at ≈ ${fmt(dbBound)} invoices/s of its CPU (more cores on the database raise that bound; the serialized write transactions, one commit each, bound it too).`;
  });
  const text = [
    `Nodes (NODES, ${new Date().toISOString().slice(0, 10)}, ${cores} cores shared by the nodes and the database; ${server ? 'PostgreSQL on this machine' : 'no PostgreSQL server: SQLite only'}):`,
    '',
    ...table,
    '',
    ...estimate.map((e) => `- ${e}`),
  ].join('\n');
  console.log(`\n${text}\n`);
  fs.mkdirSync(path.join(ROOT, 'bench'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'bench', 'nodes.json'), JSON.stringify({ date: new Date().toISOString(), cores, rows }, null, 2) + '\n');
  const md = fs.readFileSync(path.join(ROOT, 'BENCHMARKS.md'), 'utf8');
  const begin = '<!-- nodes:begin -->';
  const end = '<!-- nodes:end -->';
  const block = `${begin}\n${text}\n${end}`;
  fs.writeFileSync(path.join(ROOT, 'BENCHMARKS.md'), md.includes(begin) ? md.replace(new RegExp(`${begin}[\\s\\S]*${end}`), block) : `${md}\n${block}\n`);
}
