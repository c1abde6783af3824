/**
 * `npm run bench`: deterministic synthetic flows (seeded) run through the real CLI, each
 * scenario in a fresh home, and compared with `xmllint --noout --schema` on the same documents
 * and schemas (the floor: parsing and validation only). Writes bench/results.json and
 * BENCHMARKS.md. Peak RSS is sampled from /proc/<pid>/status (VmHWM), so it needs Linux.
 *   S1  one mixed flow of 1,000 invoices, 3 lines each, a 20 KB PDF each
 *   S2  a tar.gz of 2,000 UBL invoices of about 20 KB each (and again with renderPdf off and on,
 *       side by side: what the rendered PDFs cost)
 *   S3  200 single-invoice flows dropped at once into a running daemon (drop-to-report latency)
 *   S4  a mixed flow of about 100 MB (memory)
 *   S5  one mixed flow of 50,000 small invoices (memory must not grow with the invoice count)
 *   SOAK  a running daemon fed rounds of small normal flows mixed with hostile ones (200,000
 *       attributes, 50,000 levels deep, a DOCTYPE): its resident memory after each round, and
 *       the slope over the second half (memory must plateau, not grow with the flows done)
 *   SEARCH  `invoices search` and `flows list` on a generated ledger (benchSearch: 200,000
 *       invoices in a plain run, 10 million with `--search`; BENCH_SEARCH_INVOICES sets it)
 *   FX  Factur-X extraction cost, in-process, over the corpus PDFs (../shared/corpus, when present)
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { writeTarGz } from './archives.js';
import { extractFacturx } from '../formats/facturx.js';
import { readFacturx } from '../formats/facturxDocument.js';
import { FIXTURE_RECIPIENTS, mixedFlowChunks, ublInvoice } from './synth.js';
import { benchNodes } from './benchNodes.js';
import { rulesBench } from './benchRules.js';
import { searchBench, type SearchBench } from './benchSearch.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const WORK = path.join(ROOT, 'bench', 'work');
const MB = 1024 * 1024;
/** Extra node flags for the runs measured, e.g. BENCH_NODE_ARGS=--cpu-prof to profile them. */
const NODE = [process.execPath, ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [])];

interface RunResult {
  seconds: number;
  peakRssMb: number;
  code: number | null;
}

/** Runs a command to completion, sampling its peak resident memory. */
function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  spawnSync('sync'); // the inputs just generated are on disk before the clock starts
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn(args[0]!, args.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
    let peakKb = 0;
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        // exited
      }
    };
    const timer = setInterval(sample, 10);
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ seconds: Number(process.hrtime.bigint() - started) / 1e9, peakRssMb: Math.round(peakKb / 1024), code });
    });
  });
}

function freshHome(name: string): string {
  const home = path.join(WORK, name, 'home');
  fs.rmSync(path.join(WORK, name), { recursive: true, force: true });
  fs.mkdirSync(home, { recursive: true });
  const r = spawnSync(process.execPath, [CLI, '--home', home, 'directory', 'import', '--structures', path.join(ROOT, 'fixtures/directory/structures.csv'), '--services', path.join(ROOT, 'fixtures/directory/services.csv')]);
  if (r.status !== 0) throw new Error(`directory import failed: ${r.stderr}`);
  return home;
}

function writeChunks(file: string, chunks: Iterable<string>): number {
  const fd = fs.openSync(file, 'w');
  for (const c of chunks) fs.writeSync(fd, c);
  fs.closeSync(fd);
  return fs.statSync(file).size;
}

const hasXmllint = spawnSync('xmllint', ['--version']).status === 0;

/** The floor: xmllint validating the same documents against the same schema, in one process. */
async function xmllintFloor(schema: string, files: string[]): Promise<number | undefined> {
  if (!hasXmllint) return undefined;
  const r = await run(['xmllint', '--noout', '--schema', path.join(ROOT, 'schemas', schema), ...files]);
  return r.seconds;
}

function cpuModel(): string {
  return os.cpus()[0]?.model.trim() ?? 'unknown CPU';
}

interface Scenario {
  id: string;
  title: string;
  invoices: number;
  flows: number;
  seconds: number;
  invoicesPerSecond: number;
  flowsPerSecond: number;
  peakRssMb: number;
  inputMb: number;
  p50Seconds?: number;
  p95Seconds?: number;
  xmllintSeconds?: number;
  vsXmllint?: number;
  target: string;
  met: boolean;
}

async function s1(): Promise<Scenario> {
  const home = freshHome('s1');
  const file = path.join(WORK, 's1', 'mixed-1000.xml');
  const size = writeChunks(file, mixedFlowChunks({ seed: 1, flowTag: 'S1', invoices: 1000, linesPerInvoice: 3, pdfBytes: 20 * 1024 }));
  const r = await run([...NODE, CLI, '--home', home, 'process', file]);
  const floor = await xmllintFloor('CPPFactureMixte.xsd', [file]);
  const ips = 1000 / r.seconds;
  return { id: 'S1', title: 'one mixed flow, 1,000 invoices, 3 lines, 20 KB PDF each', invoices: 1000, flows: 1, seconds: r.seconds, invoicesPerSecond: ips, flowsPerSecond: 1 / r.seconds, peakRssMb: r.peakRssMb, inputMb: size / MB, xmllintSeconds: floor, vsXmllint: floor ? r.seconds / floor : undefined, target: '≥ 1,000 invoices/s; peak RSS ≤ 200 MB', met: ips >= 1000 && r.peakRssMb <= 200 };
}

/** The S2 archive (2,000 UBL invoices) and its documents, written once per run. */
function s2Input(): { archive: string; dir: string; entries: { name: string; content: string }[] } {
  const dir = path.join(WORK, 's2', 'docs');
  const archive = path.join(WORK, 's2', 'ubl-2000.tar.gz');
  fs.mkdirSync(dir, { recursive: true });
  const entries = Array.from({ length: 2000 }, (_, i) => {
    const name = `UBL-S2-${String(i).padStart(4, '0')}.xml`;
    const content = ublInvoice({ seed: 1000 + i, number: name.slice(0, -4), recipient: FIXTURE_RECIPIENTS[i % 3], lines: 5, targetBytes: 20 * 1024 });
    fs.writeFileSync(path.join(dir, name), content);
    return { name, content };
  });
  fs.writeFileSync(archive, writeTarGz(entries));
  return { archive, dir, entries };
}

/**
 * S2's floor, stage by stage, as the scaling study measured it: what any hub must do for this
 * archive at the least. xmllint parsing and validating the documents (one process), a node
 * start, gunzip of the archive, deflate + base64 of every document (the pivots carry each
 * invoice zipped), and writing + fsyncing that many bytes.
 */
interface Floor {
  xmllint: number;
  nodeStart: number;
  gunzip: number;
  deflateBase64: number;
  writeFsync: number;
  total: number;
}
let s2Floor: (Floor & { factflow: number; ratio: number }) | undefined;

async function floorOf(archive: string, files: string[], schema: string): Promise<Floor | undefined> {
  const xmllint = await xmllintFloor(schema, files);
  if (xmllint === undefined) return undefined;
  const secs = (f: () => void) => {
    const t = process.hrtime.bigint();
    f();
    return Number(process.hrtime.bigint() - t) / 1e9;
  };
  const nodeStart = (await run([process.execPath, '-e', '0'])).seconds;
  const gz = fs.readFileSync(archive);
  const gunzip = secs(() => zlib.gunzipSync(gz));
  const docs = files.map((f) => fs.readFileSync(f));
  let encoded: string[] = [];
  const deflateBase64 = secs(() => (encoded = docs.map((d) => zlib.deflateRawSync(d).toString('base64'))));
  const out = path.join(WORK, 's2', 'floor.out');
  const writeFsync = secs(() => {
    const fd = fs.openSync(out, 'w');
    fs.writeSync(fd, encoded.join(''));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  });
  fs.rmSync(out, { force: true });
  return { xmllint, nodeStart, gunzip, deflateBase64, writeFsync, total: xmllint + nodeStart + gunzip + deflateBase64 + writeFsync };
}

async function s2(): Promise<Scenario> {
  const home = freshHome('s2'); // first: it clears the scenario's folder
  const { archive, dir, entries } = s2Input();
  const r = await run([...NODE, CLI, '--home', home, 'process', archive], { FACTFLOW_RENDER_PDF: 'false' });
  const floor = await floorOf(archive, entries.map((e) => path.join(dir, e.name)), 'UBL-Invoice-hub.xsd');
  const ips = 2000 / r.seconds;
  const ratio = floor ? r.seconds / floor.total : undefined;
  if (floor) s2Floor = { ...floor, factflow: r.seconds, ratio: ratio! };
  const inputMb = entries.reduce((n, e) => n + e.content.length, 0) / MB;
  return { id: 'S2', title: 'tar.gz of 2,000 UBL invoices (~20 KB each), renderPdf off (the floor renders none)', invoices: 2000, flows: 1, seconds: r.seconds, invoicesPerSecond: ips, flowsPerSecond: 1 / r.seconds, peakRssMb: r.peakRssMb, inputMb, xmllintSeconds: floor?.total, vsXmllint: ratio, target: `≥ 1,000 invoices/s; ≤ 3 × the floor${floor ? '' : ' (xmllint not installed: floor not measured, so not met)'}`, met: ips >= 1000 && ratio !== undefined && ratio <= 3 };
}

interface Rendering {
  /** Best of three runs each, S2 with renderPdf off and on. */
  offSeconds: number;
  onSeconds: number;
  ratio: number;
  /** Wall time added per invoice (rendering, zipping, base64, writing the larger pivots). */
  msPerInvoice: number;
  pivotMbOff: number;
  pivotMbOn: number;
}
let rendering: Rendering | undefined;

const dirBytes = (dir: string): number =>
  (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[]).filter((d) => d.isFile()).reduce((n, d) => n + fs.statSync(path.join(d.parentPath, d.name)).size, 0);

/** S2 with the rendered PDFs off and on, alternately in fresh homes: what rendering costs. */
async function s2Rendering(): Promise<Scenario> {
  const archive = path.join(WORK, 's2', 'ubl-2000.tar.gz');
  if (!fs.existsSync(archive)) s2Input();
  const once = async (render: boolean) => {
    const home = freshHome(render ? 's2-render-on' : 's2-render-off');
    const r = await run([...NODE, CLI, '--home', home, 'process', archive], { FACTFLOW_RENDER_PDF: String(render) });
    return { ...r, pivotBytes: dirBytes(path.join(home, 'outbox', 'recipients')) };
  };
  const runs = { off: [] as Awaited<ReturnType<typeof once>>[], on: [] as Awaited<ReturnType<typeof once>>[] };
  for (let i = 0; i < 3; i++) {
    runs.off.push(await once(false));
    runs.on.push(await once(true));
  }
  const best = (rs: typeof runs.off) => rs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const off = best(runs.off);
  const on = best(runs.on);
  rendering = { offSeconds: off.seconds, onSeconds: on.seconds, ratio: on.seconds / off.seconds, msPerInvoice: ((on.seconds - off.seconds) * 1000) / 2000, pivotMbOff: off.pivotBytes / MB, pivotMbOn: on.pivotBytes / MB };
  const ips = 2000 / off.seconds;
  return { id: 'S2-noPDF', title: 'S2 with renderPdf=false (best of 3)', invoices: 2000, flows: 1, seconds: off.seconds, invoicesPerSecond: ips, flowsPerSecond: 1 / off.seconds, peakRssMb: off.peakRssMb, inputMb: dirBytes(path.join(WORK, 's2', 'docs')) / MB, target: 'rendered PDFs add ≤ 1 ms per invoice', met: rendering.msPerInvoice <= 1 };
}

async function s3(): Promise<Scenario> {
  const home = freshHome('s3');
  const staging = path.join(WORK, 's3', 'staging');
  fs.mkdirSync(staging, { recursive: true });
  const names = Array.from({ length: 200 }, (_, i) => {
    const name = `single-${String(i).padStart(3, '0')}.xml`;
    writeChunks(path.join(staging, name), mixedFlowChunks({ seed: 3000 + i, flowTag: `S3-${i}`, invoices: 1, pdfBytes: 20 * 1024 }));
    return name;
  });
  const daemon = spawn(NODE[0]!, [...NODE.slice(1), CLI, '--home', home, 'watch'], { env: { ...process.env, FACTFLOW_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let peakKb = 0;
  const sampler = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${daemon.pid}/status`, 'utf8'));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      // not started or exited
    }
  }, 20);
  await new Promise((r) => setTimeout(r, 1500)); // let it start
  spawnSync('sync');
  const dropped = Date.now();
  for (const n of names) fs.renameSync(path.join(staging, n), path.join(home, 'inbox', n));
  const reports = path.join(home, 'outbox', 'reports');
  const seen = new Map<string, number>();
  while (seen.size < names.length) {
    for (const f of fs.existsSync(reports) ? fs.readdirSync(reports) : []) {
      if (!f.endsWith('.json') || seen.has(f)) continue;
      seen.set(f, fs.statSync(path.join(reports, f)).mtimeMs);
    }
    if (Date.now() - dropped > 120_000) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  clearInterval(sampler);
  daemon.kill('SIGTERM');
  const latencies = [...seen.values()].map((t) => (t - dropped) / 1000).sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  const span = latencies[latencies.length - 1]!;
  const fps = latencies.length / span;
  return { id: 'S3', title: '200 single-invoice flows dropped at once into a running daemon', invoices: latencies.length, flows: latencies.length, seconds: span, invoicesPerSecond: fps, flowsPerSecond: fps, peakRssMb: Math.round(peakKb / 1024), inputMb: (names.length * 28 * 1024) / MB, p50Seconds: p(0.5), p95Seconds: p(0.95), target: 'p95 drop-to-report ≤ 2 s; ≥ 100 flows/s', met: p(0.95) <= 2 && fps >= 100 };
}

async function s4(): Promise<Scenario> {
  const home = freshHome('s4');
  const file = path.join(WORK, 's4', 'mixed-100mb.xml');
  // ~27 KB per invoice with a 20 KB PDF: 3,800 invoices make about 100 MB.
  const size = writeChunks(file, mixedFlowChunks({ seed: 4, flowTag: 'S4', invoices: 3800, linesPerInvoice: 3, pdfBytes: 20 * 1024 }));
  const r = await run([...NODE, CLI, '--home', home, 'process', file]);
  const limit = 2 * (size / MB) + 150;
  return { id: 'S4', title: `one mixed flow of ${Math.round(size / MB)} MB (3,800 invoices)`, invoices: 3800, flows: 1, seconds: r.seconds, invoicesPerSecond: 3800 / r.seconds, flowsPerSecond: 1 / r.seconds, peakRssMb: r.peakRssMb, inputMb: size / MB, target: `peak RSS ≤ 200 MB, whatever the flow's size (was 2 × flow + 150 MB = ${Math.round(limit)} MB)`, met: r.peakRssMb <= 200 };
}

async function s5(): Promise<Scenario> {
  const count = Number(process.env.BENCH_S5_INVOICES ?? 50_000);
  const home = freshHome('s5');
  const file = path.join(WORK, 's5', `mixed-${count}.xml`);
  // One line and a 1 KB PDF each: about 4 KB per invoice, the size of the scaling study's.
  const size = writeChunks(file, mixedFlowChunks({ seed: 5, flowTag: 'S5', invoices: count, linesPerInvoice: 1, pdfBytes: 1024 }));
  const r = await run([...NODE, CLI, '--home', home, 'process', file]);
  return { id: 'S5', title: `one mixed flow of ${count.toLocaleString('en-US')} small invoices (${Math.round(size / MB)} MB)`, invoices: count, flows: 1, seconds: r.seconds, invoicesPerSecond: count / r.seconds, flowsPerSecond: 1 / r.seconds, peakRssMb: r.peakRssMb, inputMb: size / MB, target: 'peak RSS ≤ 200 MB', met: r.code === 0 && r.peakRssMb <= 200 };
}

/** Current resident memory of a process, in MB. */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** The hostile documents of the soak: unique per round, so that none is refused as a duplicate unread. */
const SOAK_HOSTILE = [
  (n: number) => `<CPPFactureMixte ${Array.from({ length: 200_000 }, (_, i) => `a${i}="${n}"`).join(' ')}/>`,
  (n: number) => `${'<a>'.repeat(50_000)}${n}${'</a>'.repeat(50_000)}`,
  (n: number) => `<?xml version="1.0"?>\n<!DOCTYPE CPPFactureMixte [<!ENTITY e "${n}">]>\n<CPPFactureMixte>&e;</CPPFactureMixte>`,
];

interface SoakResult {
  rounds: number;
  flowsPerRound: number;
  rssMb: number[];
  /** MB per 1,000 flows over the second half of the rounds (after the warm-up). */
  slopeMbPer1000: number;
}

async function soak(): Promise<Scenario> {
  const rounds = Number(process.env.BENCH_SOAK_ROUNDS ?? 100);
  const normal = 100;
  const home = freshHome('soak');
  const staging = path.join(WORK, 'soak', 'staging');
  fs.mkdirSync(staging, { recursive: true });
  const daemon = spawn(NODE[0]!, [...NODE.slice(1), CLI, '--home', home, 'watch'], { env: { ...process.env, FACTFLOW_LOG_LEVEL: process.env.FACTFLOW_LOG_LEVEL ?? 'warn' }, stdio: ['ignore', 'ignore', 'ignore'] });
  await new Promise((r) => setTimeout(r, 1500));
  const reports = path.join(home, 'outbox', 'reports');
  const rss: number[] = [];
  let dropped = 0;
  const started = Date.now();
  for (let round = 0; round < rounds; round++) {
    const names: string[] = [];
    for (let i = 0; i < normal; i++) {
      const name = `r${round}-n${i}.xml`;
      writeChunks(path.join(staging, name), mixedFlowChunks({ seed: 50_000 + round * 1000 + i, flowTag: `SK-${round}-${i}`, invoices: 1, pdfBytes: 2 * 1024 }));
      names.push(name);
    }
    // BENCH_SOAK_HOSTILE=0: normal flows only, the baseline to compare with.
    if (process.env.BENCH_SOAK_HOSTILE !== '0') SOAK_HOSTILE.forEach((make, k) => {
      const name = `r${round}-h${k}.xml`;
      fs.writeFileSync(path.join(staging, name), make(round));
      names.push(name);
    });
    for (const n of names) fs.renameSync(path.join(staging, n), path.join(home, 'inbox', n));
    dropped += names.length;
    const deadline = Date.now() + 120_000;
    while ((fs.existsSync(reports) ? fs.readdirSync(reports).filter((f) => f.endsWith('.json')).length : 0) < dropped && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    rss.push(rssMb(daemon.pid!));
  }
  const seconds = (Date.now() - started) / 1000;
  daemon.kill('SIGTERM');
  const half = rss.slice(Math.floor(rss.length / 2));
  const perRound = dropped / rounds;
  // Least-squares slope of RSS over the flows done, second half only.
  const xs = half.map((_, i) => i * perRound);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = half.reduce((a, b) => a + b, 0) / half.length;
  const slope = xs.reduce((a, x, i) => a + (x - mx) * (half[i]! - my), 0) / (xs.reduce((a, x) => a + (x - mx) ** 2, 0) || 1);
  soakResult = { rounds, flowsPerRound: perRound, rssMb: rss.map((r) => Math.round(r)), slopeMbPer1000: slope * 1000 };
  return {
    id: 'SOAK', title: `daemon fed ${rounds} rounds of ${normal} normal + ${SOAK_HOSTILE.length} hostile flows`, invoices: rounds * normal, flows: dropped, seconds,
    invoicesPerSecond: (rounds * normal) / seconds, flowsPerSecond: dropped / seconds, peakRssMb: Math.round(Math.max(...rss)), inputMb: 0,
    target: 'RSS flat over the second half (≤ 5 MB per 1,000 flows)', met: slope * 1000 <= 5,
  };
}

let soakResult: SoakResult | undefined;

let searchResult: SearchBench | undefined;

async function search(): Promise<Scenario> {
  const invoices = Number(process.env.BENCH_SEARCH_INVOICES ?? (process.argv.includes('--search') ? 10_000_000 : 200_000));
  const r = (searchResult = await searchBench(invoices, WORK));
  const slowest = r.timings.reduce((a, b) => (b.ms > a.ms ? b : a));
  return {
    id: 'SEARCH', title: `invoices search and flows list, ${invoices.toLocaleString('en-US')} invoices in ${r.flows.toLocaleString('en-US')} flows (generated in ${Math.round(r.generateSeconds)} s); slowest: ${slowest.what}, ${fmt(slowest.ms, 1)} ms`,
    invoices, flows: r.flows, seconds: r.timings.reduce((n, t) => n + t.ms, 0) / 1000, invoicesPerSecond: NaN, flowsPerSecond: NaN, peakRssMb: 0, inputMb: r.fileMb,
    target: `every query ≤ ${r.targetMs} ms`, met: r.met,
  };
}

/** The XSD engines side by side on the S2 documents: libxml2-wasm (compiled once) and xmllint. */
async function engines(): Promise<{ engine: string; documents: number; seconds: number; perSecond: number }[]> {
  const dir = path.join(WORK, 's2', 'docs');
  const files = fs.readdirSync(dir).map((f) => path.join(dir, f));
  const out = [];
  const script = `
    import fs from 'node:fs';
    import { XmlDocument } from 'libxml2-wasm';
    import { schema } from ${JSON.stringify(path.join(ROOT, 'dist/xml/schemas.js'))};
    const files = fs.readFileSync(0, 'utf8').split('\\n').filter(Boolean);
    const s = schema('ubl-invoice');
    const t = process.hrtime.bigint();
    let bad = 0;
    for (const f of files) { const d = XmlDocument.fromBuffer(fs.readFileSync(f)); if (s.check(d).length) bad++; d.dispose(); }
    console.log(Number(process.hrtime.bigint() - t) / 1e9, bad);`;
  const wasm = spawnSync(process.execPath, ['--input-type=module', '-e', script], { input: files.join('\n'), cwd: ROOT, encoding: 'utf8' });
  const [secs] = wasm.stdout.trim().split(' ').map(Number);
  out.push({ engine: 'libxml2-wasm (schema compiled once, in-process)', documents: files.length, seconds: secs!, perSecond: files.length / secs! });
  const floor = await xmllintFloor('UBL-Invoice-hub.xsd', files);
  if (floor) out.push({ engine: 'xmllint --noout --schema (one process)', documents: files.length, seconds: floor, perSecond: files.length / floor });
  let libxmljs2 = false;
  try {
    await import('libxmljs2' as string);
    libxmljs2 = true;
  } catch {
    // not installed: it is unmaintained (libxml2 2.9.9) and not a dependency
  }
  if (!libxmljs2) out.push({ engine: 'libxmljs2: not installed (unmaintained; not measured)', documents: 0, seconds: 0, perSecond: 0 });
  return out;
}

interface FacturxCost {
  pdfs: number;
  extracted: number;
  /** PDF parse + embedded XML + XMP: milliseconds per PDF (mean, median, max). */
  extractMs: { mean: number; p50: number; max: number };
  /** The same plus BT-24, the profile's hub schema and the CII mapping. */
  readMs: { mean: number; p50: number; max: number };
}

/** Factur-X extraction cost per PDF over the corpus, each PDF timed over 5 runs after a warm-up run. */
function facturxCost(): FacturxCost | undefined {
  const dir = path.join(ROOT, '..', 'shared', 'corpus', 'examples', 'facturx-pdf');
  if (!fs.existsSync(dir)) return undefined;
  const pdfs = fs.readdirSync(dir).flatMap((d) => fs.readdirSync(path.join(dir, d)).map((f) => fs.readFileSync(path.join(dir, d, f))));
  const time = (f: () => unknown) => {
    f(); // compiles the schemas, warms the JIT
    const t = process.hrtime.bigint();
    for (let i = 0; i < 5; i++) f();
    return Number(process.hrtime.bigint() - t) / 5e6;
  };
  const stats = (ms: number[]) => {
    const sorted = [...ms].sort((a, b) => a - b);
    return { mean: ms.reduce((a, b) => a + b, 0) / ms.length, p50: sorted[Math.floor(sorted.length / 2)]!, max: sorted[sorted.length - 1]! };
  };
  const extract = pdfs.map((b) => time(() => extractFacturx(b)));
  const read = pdfs.map((b) => time(() => readFacturx(b, 1, 'bench', 10 * MB)));
  return { pdfs: pdfs.length, extracted: pdfs.filter((b) => extractFacturx(b).ok).length, extractMs: stats(extract), readMs: stats(read) };
}

const fmt = (n: number | null | undefined, digits = 0) => (n === undefined || n === null || Number.isNaN(n) ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));

async function main(): Promise<void> {
  fs.mkdirSync(WORK, { recursive: true });
  const only = process.argv.slice(2).map((a) => (a === '--search' ? 'SEARCH' : a));
  const all: [string, () => Promise<Scenario>][] = [['S1', s1], ['S2', s2], ['S2-noPDF', s2Rendering], ['S3', s3], ['S4', s4], ['S5', s5], ['SOAK', soak], ['SEARCH', search]];
  const scenarios: Scenario[] = [];
  for (const [id, fn] of all) {
    // The rendering variant runs with S2.
    if (only.length && !only.includes(id) && !(id === 'S2-noPDF' && only.includes('S2'))) continue;
    process.stderr.write(`running ${id}...\n`);
    // Flush what earlier scenarios wrote, so their writeback does not slow this one's fsyncs.
    spawnSync('sync');
    scenarios.push(await fn());
  }
  const engineRows = !only.length || only.includes('S2') ? await engines() : [];
  if (!only.length || only.includes('NODES')) await benchNodes();
  const fx = !only.length || only.includes('FX') ? facturxCost() : undefined;
  if (fx) writeFacturxCost(fx);
  if (!only.length || only.includes('RULES')) await rulesBench();
  if (!scenarios.length) return;
  // A partial run (`npm run bench -- S5`) keeps the last figures of the scenarios it did not run.
  const resultsFile = path.join(ROOT, 'bench', 'results.json');
  const previous = fs.existsSync(resultsFile) ? JSON.parse(fs.readFileSync(resultsFile, 'utf8')) : {};
  const ran = new Set(scenarios.map((s) => s.id));
  const kept = ((previous.scenarios ?? []) as (Scenario & { measured?: string })[]).filter((s) => !ran.has(s.id) && all.some(([id]) => id === s.id));
  const stamp = new Date().toISOString().slice(0, 10);
  const measured = [...scenarios.map((s) => ({ ...s, measured: stamp })), ...kept.map((s) => ({ ...s, measured: s.measured ?? previous.machine?.date?.slice(0, 10) ?? '?' }))];
  scenarios.splice(0, scenarios.length, ...all.map(([id]) => measured.find((s) => s.id === id)).filter((s): s is Scenario & { measured: string } => !!s));
  if (!ran.has('S2')) s2Floor ??= previous.s2Floor;
  if (!ran.has('S2-noPDF')) rendering ??= previous.rendering;
  if (!ran.has('SOAK')) soakResult ??= previous.soak;
  if (!ran.has('SEARCH')) searchResult ??= previous.search;
  if (!engineRows.length) engineRows.push(...(previous.engines ?? []));
  const machine = { cpu: cpuModel(), cores: os.cpus().length, memoryGb: Math.round(os.totalmem() / 1024 ** 3), node: process.version, platform: `${os.platform()} ${os.release()}`, date: new Date().toISOString() };
  fs.mkdirSync(path.join(ROOT, 'bench'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'bench', 'results.json'), JSON.stringify({ machine, scenarios, s2Floor, rendering, soak: soakResult, search: searchResult, engines: engineRows }, null, 2) + '\n');
  const table = [
    '| scenario | invoices/s | flows/s | p50 / p95 (s) | peak RSS (MB) | input (MB) | vs floor (xmllint…) | target | met |',
    '|---|---|---|---|---|---|---|---|---|',
    ...scenarios.map((s) => `| ${s.id}: ${s.title}${(s as { measured?: string }).measured && (s as { measured?: string }).measured !== new Date().toISOString().slice(0, 10) ? ` (${(s as { measured?: string }).measured})` : ''} | ${fmt(s.invoicesPerSecond)} | ${fmt(s.flowsPerSecond, 1)} | ${s.p50Seconds === undefined ? '-' : `${fmt(s.p50Seconds, 2)} / ${fmt(s.p95Seconds, 2)}`} | ${s.peakRssMb} | ${fmt(s.inputMb, 1)} | ${s.vsXmllint === undefined ? '-' : `${fmt(s.vsXmllint, 2)} × (${fmt(s.xmllintSeconds, 2)} s)`} | ${s.target} | ${s.met ? 'yes' : '**no**'} |`),
  ].join('\n');
  const engineTable = [
    '| XSD engine (S2 documents, hub UBL schema) | documents/s |',
    '|---|---|',
    ...engineRows.map((e) => `| ${e.engine} | ${e.documents ? fmt(e.perSecond) : '-'} |`),
  ].join('\n');
  const renderingTable = rendering
    ? [
        '| S2, rendered PDFs (renderPdf) | off | on | ratio on/off | added per invoice | pivots written |',
        '|---|---|---|---|---|---|',
        `| 2,000 UBL invoices, best of 3 runs each | ${fmt(rendering.offSeconds, 2)} s | ${fmt(rendering.onSeconds, 2)} s | ${fmt(rendering.ratio, 2)} × | ${fmt(rendering.msPerInvoice, 2)} ms | ${fmt(rendering.pivotMbOff, 1)} MB → ${fmt(rendering.pivotMbOn, 1)} MB |`,
      ].join('\n')
    : '';
  const soakTable = soakResult
    ? [
        '| SOAK: daemon RSS after each round (MB) | slope, second half |',
        '|---|---|',
        `| ${soakResult.rssMb.join(' → ')} | ${fmt(soakResult.slopeMbPer1000, 1)} MB per 1,000 flows |`,
      ].join('\n')
    : '';
  const searchTable = searchResult
    ? [
        `| SEARCH: ${searchResult.invoices.toLocaleString('en-US')} invoices, ${searchResult.flows.toLocaleString('en-US')} flows, ${fmt(searchResult.fileMb)} MB ledger generated in ${fmt(searchResult.generateSeconds)} s, ${searchResult.machine ?? ''}, load average ${searchResult.loadAverage ? searchResult.loadAverage.map((n) => fmt(n, 1)).join(' → ') : '?'} (best of 5, in-process) | ms | rows | target ≤ ${searchResult.targetMs} ms |`,
        '|---|---|---|---|',
        ...searchResult.timings.map((t) => `| ${t.what} | ${fmt(t.ms, 2)} | ${t.rows} | ${t.ms <= searchResult!.targetMs ? 'yes' : '**no**'} |`),
      ].join('\n')
    : '';
  const floorTable = s2Floor
    ? [
        '| S2 floor (s) | xmllint --noout --schema | node start | gunzip | deflate + base64 | write + fsync | floor | factflow | ratio (target ≤ 3 ×) |',
        '|---|---|---|---|---|---|---|---|---|',
        `| same 2,000 documents, same schema | ${fmt(s2Floor.xmllint, 2)} | ${fmt(s2Floor.nodeStart, 2)} | ${fmt(s2Floor.gunzip, 2)} | ${fmt(s2Floor.deflateBase64, 2)} | ${fmt(s2Floor.writeFsync, 2)} | ${fmt(s2Floor.total, 2)} | ${fmt(s2Floor.factflow, 2)} | ${fmt(s2Floor.ratio, 2)} × ${s2Floor.ratio <= 3 ? 'met' : '**missed**'} |`,
      ].join('\n')
    : '';
  const tables = [table, floorTable, renderingTable, soakTable, searchTable, engineTable].filter(Boolean).join('\n\n');
  console.log(`\nMachine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, Node ${machine.node}\n\n${tables}\n`);
  const md = fs.readFileSync(path.join(ROOT, 'BENCHMARKS.md'), 'utf8');
  const begin = '<!-- results:begin -->';
  const end = '<!-- results:end -->';
  const block = `${begin}\nMeasured ${machine.date.slice(0, 10)} on ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB RAM, Node ${machine.node} (${machine.platform}).\n\n${tables}\n${end}`;
  fs.writeFileSync(path.join(ROOT, 'BENCHMARKS.md'), md.includes(begin) ? md.replace(new RegExp(`${begin}[\\s\\S]*${end}`), block) : `${md}\n${block}\n`);
}

/** The Factur-X table has its own block in BENCHMARKS.md, so `npm run bench -- FX` refreshes it alone. */
function writeFacturxCost(fx: FacturxCost): void {
  const row = (label: string, m: FacturxCost['extractMs']) => `| ${label} | ${fmt(m.mean, 2)} | ${fmt(m.p50, 2)} | ${fmt(m.max, 2)} |`;
  const table = [
    `Factur-X, ${fx.pdfs} corpus PDFs (${fx.extracted} with an invoice extracted), in-process, ms per PDF:`,
    '',
    '| step | mean | median | max |',
    '|---|---|---|---|',
    row('extraction (PDF objects, embedded XML, XMP, structural checks)', fx.extractMs),
    row('extraction + profile + hub schema + CII mapping', fx.readMs),
  ].join('\n');
  console.log(`\n${table}\n`);
  fs.mkdirSync(path.join(ROOT, 'bench'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'bench', 'facturx.json'), JSON.stringify({ date: new Date().toISOString(), cpu: cpuModel(), ...fx }, null, 2) + '\n');
  const md = fs.readFileSync(path.join(ROOT, 'BENCHMARKS.md'), 'utf8');
  const begin = '<!-- facturx:begin -->';
  const end = '<!-- facturx:end -->';
  const block = `${begin}\n${table}\n${end}`;
  fs.writeFileSync(path.join(ROOT, 'BENCHMARKS.md'), md.includes(begin) ? md.replace(new RegExp(`${begin}[\\s\\S]*${end}`), block) : `${md}\n${block}\n`);
}

await main();
