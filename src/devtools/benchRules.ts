/**
 * `npm run bench:rules` (also run by `npm run bench`): the official engine and factflow on the
 * same corpus UBL and CII invoices (../shared/corpus, skipped when absent), side by side.
 *   - SaxonJS 2.7 with the official compiled XSLTs (FNFE 1.4.0.03 package: CEN EN 16931 and the
 *     fatal BR-FR variant), warm: the median over the invoices of each one's best time, document
 *     parse included, for CEN alone and for CEN + BR-FR;
 *   - factflow: the marginal ms per invoice of one many-file `factflow validate --json` through
 *     the real CLI, (time of 2N files − time of N files) / N, so that start-up is taken out and
 *     parse, XSD, mapping, rules, routing and the report are in;
 *   - the ratio, against the target of 50×.
 * Only invoices factflow reads without a flow-level refusal are used (both sides), so that every
 * one goes through the whole of factflow's judgement. Writes bench/rules.json and the
 * `rules` block of BENCHMARKS.md.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULTS } from '../config.js';
import { readFlowFile } from '../pipeline/read.js';
import { compiledSef, officialVerdict, saxonVersion } from './saxonOracle.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const CORPUS = path.resolve(ROOT, '..', 'shared', 'corpus');
const XSLT = path.join(CORPUS, 'schematron-xslt', 'fnfe-1.4.0.03');
const TARGET = 50;

const SYNTAXES = [
  { syntax: 'UBL', folder: 'ubl', cen: 'UBL/EN16931/2xslt/EN16931-UBL-validation.xslt', brfr: 'UBL/EN16931/2xslt/BR-FR-Flux2-Schematron-UBL.xslt' },
  { syntax: 'CII', folder: 'cii', cen: 'CII/EN16931/2xslt/EN16931-CII-validation.xslt', brfr: 'CII/EN16931/2xslt/BR-FR-Flux2-Schematron-CII.xslt' },
] as const;

export interface RulesBenchRow {
  syntax: string;
  invoices: number;
  /** Rules SaxonJS found failed over the set (CEN and BR-FR). */
  officialFindings: number;
  saxonCenMs: number;
  saxonCenBrfrMs: number;
  factflowMs: number;
  ratioCen: number;
  ratioCenBrfr: number;
  met: boolean;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const msOf = (fn: () => unknown) => {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The corpus invoices of one syntax (MANIFEST root) that factflow reads without refusing the flow. */
function invoicesOf(folder: string): string[] {
  const rows = fs.readFileSync(path.join(CORPUS, 'MANIFEST.tsv'), 'utf8').split('\n').slice(1).map((l) => l.split('\t'));
  const roots = folder === 'ubl' ? ['Invoice', 'CreditNote'] : ['CrossIndustryInvoice'];
  const settings = { ...DEFAULTS, readThreads: 0 };
  return rows
    .filter((r) => r[0]?.startsWith(`${folder}/`) && roots.includes(r[1] ?? ''))
    .map((r) => path.join(CORPUS, 'examples', r[0]!))
    .filter((f) => readFlowFile(f, settings).errors.length === 0);
}

/**
 * Repetitions of each measurement, the best kept: on a shared machine the other jobs only ever
 * add time, so the minimum is the figure closest to the engine's own cost.
 */
const PASSES = Math.max(1, Number(process.env.BENCH_RULES_PASSES ?? 3));

/** SaxonJS, warm: each document once per stylesheet and pass after a warm-up; per invoice the best pass, then the median. */
function saxonMs(files: string[], cen: string, brfr: string): { cen: number; both: number; findings: number } {
  const docs = files.map((f) => fs.readFileSync(f));
  for (const d of docs.slice(0, 10)) {
    officialVerdict(d, cen);
    officialVerdict(d, brfr);
  }
  // The rules failed, counted (first pass): a run that finds nothing measured nothing.
  let findings = 0;
  const run = (d: Buffer, xslt: string, pass: number) => () => {
    const v = officialVerdict(d, xslt);
    if (pass === 0) findings += 'error' in v ? 0 : v.failed.length;
  };
  const cenMs = docs.map(() => Infinity);
  const brfrMs = docs.map(() => Infinity);
  for (let pass = 0; pass < PASSES; pass++) {
    docs.forEach((d, i) => {
      cenMs[i] = Math.min(cenMs[i]!, msOf(run(d, cen, pass)));
      brfrMs[i] = Math.min(brfrMs[i]!, msOf(run(d, brfr, pass)));
    });
  }
  return { cen: median(cenMs), both: median(cenMs.map((c, i) => c + brfrMs[i]!)), findings };
}

/** One `factflow validate --json` run over the files, in seconds of wall time. */
function validateSeconds(home: string, files: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CLI, '--home', home, 'validate', '--json', ...files], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0 && r.status !== 2) throw new Error(`factflow validate failed (${r.status}): ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

/** factflow's marginal ms per invoice: the best of PASSES runs on N and on 2N files, the difference over N. */
function factflowMs(files: string[]): number {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'factflow-rules-bench-'));
  try {
    spawnSync(process.execPath, [CLI, '--home', home, 'init'], { stdio: 'ignore' });
    const once: number[] = [];
    const twice: number[] = [];
    for (let i = 0; i < PASSES; i++) {
      once.push(validateSeconds(home, files));
      twice.push(validateSeconds(home, [...files, ...files]));
    }
    return ((Math.min(...twice) - Math.min(...once)) * 1000) / files.length;
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/** Which official rule sets factflow ran: its default setting, as a supplier's hub would. */
const activeRules = (): string => {
  const sets = DEFAULTS.officialRules.split(/\s+/).filter((k) => /^(UBL|CII)=/.test(k)).join(', ');
  return `factflow with its default official rules (${sets}), XSD, mapping, deposit and routing rules`;
};

export async function rulesBench(): Promise<RulesBenchRow[]> {
  if (!fs.existsSync(XSLT)) {
    console.log('rules bench skipped: ../shared/corpus/schematron-xslt is absent');
    return [];
  }
  const cpu = os.cpus();
  const machine = `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, Node ${process.version}, SaxonJS ${saxonVersion()}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`;
  const rows: RulesBenchRow[] = [];
  for (const s of SYNTAXES) {
    const files = invoicesOf(s.folder);
    const cen = path.join(XSLT, s.cen);
    const brfr = path.join(XSLT, s.brfr);
    process.stderr.write(`rules bench ${s.syntax}: ${files.length} invoices; compiling the XSLTs to SEF if not cached...\n`);
    compiledSef(cen);
    compiledSef(brfr);
    const saxon = saxonMs(files, cen, brfr);
    const ff = factflowMs(files);
    rows.push({
      syntax: s.syntax, invoices: files.length, officialFindings: saxon.findings, saxonCenMs: saxon.cen, saxonCenBrfrMs: saxon.both, factflowMs: ff,
      ratioCen: saxon.cen / ff, ratioCenBrfr: saxon.both / ff, met: saxon.both / ff >= TARGET,
    });
  }
  const table = [
    `SaxonJS vs factflow on the corpus invoices, ${activeRules()}. Machine: ${machine}.`,
    '',
    '| syntax | invoices (failed rules found by SaxonJS) | SaxonJS CEN (ms) | SaxonJS CEN + BR-FR (ms) | factflow validate, marginal (ms) | ratio CEN | ratio CEN + BR-FR | target ≥ 50× |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.syntax} | ${r.invoices} (${r.officialFindings}) | ${fmt(r.saxonCenMs)} | ${fmt(r.saxonCenBrfrMs)} | ${fmt(r.factflowMs, 2)} | ${fmt(r.ratioCen)} × | ${fmt(r.ratioCenBrfr)} × | ${r.met ? 'met' : '**missed**'} |`),
  ].join('\n');
  console.log(`\n${table}\n`);
  fs.mkdirSync(path.join(ROOT, 'bench'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'bench', 'rules.json'), JSON.stringify({ date: new Date().toISOString(), machine, rules: activeRules(), rows }, null, 2) + '\n');
  const md = fs.readFileSync(path.join(ROOT, 'BENCHMARKS.md'), 'utf8');
  const begin = '<!-- rules:begin -->';
  const end = '<!-- rules:end -->';
  const block = `${begin}\nMeasured ${new Date().toISOString().slice(0, 10)}.\n\n${table}\n${end}`;
  fs.writeFileSync(path.join(ROOT, 'BENCHMARKS.md'), md.includes(begin) ? md.replace(new RegExp(`${begin}[\\s\\S]*${end}`), block) : `${md}\n${block}\n`);
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await rulesBench();
