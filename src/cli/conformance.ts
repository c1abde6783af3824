#!/usr/bin/env node
/**
 * `npm run conformance -- <corpus dir>`: runs every sample of a corpus (a folder holding
 * MANIFEST.tsv and examples/) through the hub's parse → detect → schema stages, prints per
 * folder how many files pass each stage, lists every disagreement with the manifest's XSD
 * verdict and with its official rule verdicts (conformanceRules.ts), and exits 1 when there is one.
 *   manifest "UBL2.1:ok" / "CII-D16B:ok"  → the file must pass our schema stage;
 *   manifest ":FAIL" / "PARSE-ERROR"       → the file must be refused at or before it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { facturxConformance, type FacturxRow } from './conformanceFacturx.js';
import { KNOWN_DISAGREEMENTS, ruleConformance, type RuleRow } from './conformanceRules.js';
import { printTable } from './table.js';
import { flowError } from '../errors/catalog.js';
import { binaryFormatOf, xmlFormatOf } from '../pipeline/formats.js';
import { parseXml } from '../xml/parse.js';
import { schema } from '../xml/schemas.js';

export type Stage = 'parse' | 'detect' | 'schema';
export interface FileOutcome {
  file: string;
  /** The last stage passed, or none. */
  passed: Stage | 'none';
  kind?: string;
  detail?: string;
  expected?: 'pass' | 'fail';
}

/** Runs the first stages of the pipeline on one file, as the hub would. */
export function stagesOf(bytes: Buffer): Omit<FileOutcome, 'file'> {
  const binary = binaryFormatOf(bytes);
  if (binary) return { passed: 'detect', kind: binary.kind };
  let kind: string | undefined;
  const parsed = parseXml(bytes, (root, ns) => {
    const k = xmlFormatOf(root, ns);
    if (!k) return [flowError('FLOW_UNKNOWN_FORMAT', { found: `${ns ? `{${ns}}` : ''}${root}` })];
    kind = k.kind;
    return schema(k.schema);
  }, () => undefined, 1);
  if (parsed.ok) return { passed: 'schema', kind };
  const e = parsed.errors[0]!;
  const detail = `${e.code}: ${e.message}${e.line ? ` (line ${e.line})` : ''}`;
  if (e.code === 'SCHEMA_INVALID') return { passed: 'detect', kind, detail };
  if (e.code === 'FLOW_UNKNOWN_FORMAT') return { passed: 'parse', detail };
  return { passed: 'none', detail };
}

function expectation(xsdColumn: string): 'pass' | 'fail' | undefined {
  if (/(UBL2\.1|CII-D16B):ok/.test(xsdColumn)) return 'pass';
  if (/(UBL2\.1|CII-D16B):FAIL/.test(xsdColumn) || xsdColumn.includes('PARSE-ERROR')) return 'fail';
  return undefined;
}

export interface ConformanceResult {
  outcomes: FileOutcome[];
  disagreements: FileOutcome[];
  facturx: FacturxRow[];
  /** The official rules: one row per file and rule set (per test and rule for the CEN unit tests). */
  rules: RuleRow[];
}

/** `rules`: also run the official rule sets (half a minute over the corpus). */
export function runConformance(corpusDir: string, { rules = false } = {}): ConformanceResult {
  const manifest = fs.readFileSync(path.join(corpusDir, 'MANIFEST.tsv'), 'utf8').split('\n').slice(1).filter(Boolean);
  const outcomes = manifest.map((line): FileOutcome => {
    const [file, root = '', , xsd = ''] = line.split('\t');
    const expected = expectation(`${xsd} ${root}`);
    return { file: file!, expected, ...stagesOf(fs.readFileSync(path.join(corpusDir, 'examples', file!))) };
  });
  const disagreements = outcomes.filter(
    (o) => (o.expected === 'pass' && o.passed !== 'schema') || (o.expected === 'fail' && o.passed === 'schema'),
  );
  return { outcomes, disagreements, facturx: facturxConformance(corpusDir), rules: rules ? ruleConformance(corpusDir) : [] };
}

/** Rule rows that disagree with the official verdict (PDFs the hub does not extract are shown apart). */
export const ruleDisagreements = (rows: RuleRow[]): RuleRow[] => rows.filter((r) => !r.agree && !r.notExtracted);

/** Disagreements other than the pinned, documented ones: these fail the run. */
export const unknownRuleDisagreements = (rows: RuleRow[]): RuleRow[] => ruleDisagreements(rows).filter((r) => !KNOWN_DISAGREEMENTS.includes(`${r.set} ${r.file}`));

function printRules(rows: RuleRow[]): void {
  console.log('\nOfficial rules (failed fatal rule ids, file by file, against the manifest\'s SaxonJS verdicts):\n');
  const groups = new Map<string, RuleRow[]>();
  for (const r of rows) {
    const key = `${r.set}${r.file.includes('#') ? ' (CEN unit tests)' : ''}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  printTable(
    ['RULE SET', 'CHECKS', 'AGREE', 'ENGINE-ERROR', 'NOT EXTRACTED', 'DISAGREE'],
    [...groups].map(([k, list]) => [k, list.length, list.filter((r) => r.agree).length, list.filter((r) => r.agree && r.expected === 'ENGINE-ERROR').length, list.filter((r) => r.notExtracted).length, ruleDisagreements(list).length]),
  );
  for (const r of rows.filter((x) => x.notExtracted)) console.log(`NOT EXTRACTED ${r.file} (${r.set}): ${r.got}; the manifest's verdict came from pdfdetach`);
  for (const r of ruleDisagreements(rows)) {
    const known = KNOWN_DISAGREEMENTS.includes(`${r.set} ${r.file}`) ? 'KNOWN (SaxonJS fault) ' : '';
    console.log(`${known}DISAGREE ${r.set} ${r.file}\n  official: ${r.expected || 'PASS'}\n  factflow: ${r.got || 'PASS'}`);
  }
  console.log(`\n${rows.length} rule checks; ${ruleDisagreements(rows).length} disagreement(s), ${unknownRuleDisagreements(rows).length} not known.`);
}

function print({ outcomes, disagreements, facturx, rules }: ConformanceResult): void {
  const folders = new Map<string, FileOutcome[]>();
  for (const o of outcomes) {
    const folder = o.file.split('/').slice(0, 2).join('/');
    folders.set(folder, [...(folders.get(folder) ?? []), o]);
  }
  const rank = { none: 0, parse: 1, detect: 2, schema: 3 } as const;
  const rows = [...folders].map(([folder, list]) => {
    const at = (s: Stage) => list.filter((o) => rank[o.passed] >= rank[s]).length;
    return [folder, list.length, at('parse'), at('detect'), at('schema')].map(String);
  });
  const header = ['FOLDER', 'FILES', 'WELL-FORMED', 'DETECTED', 'SCHEMA-VALID'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [header, ...rows]) console.log(r.map((c, i) => (i ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  '));
  const expected = outcomes.filter((o) => o.expected);
  console.log(`\n${outcomes.length} files; ${expected.length} with an XSD verdict in the manifest; ${disagreements.length} disagreement(s).`);
  for (const d of disagreements) console.log(`DISAGREE ${d.file}: manifest expects ${d.expected}, hub ${d.passed === 'schema' ? 'accepts it' : `stops after ${d.passed}`}${d.detail ? ` (${d.detail})` : ''}`);
  console.log('\nFactur-X PDFs (manifest: what pdfdetach found embedded, the profile of its spec id, the EN 16931 Schematron verdict, not judged here):\n');
  printTable(['PDF', 'MANIFEST EMBEDS', 'PROFILE', 'EN16931', 'HUB', 'WARNINGS', 'ACCEPTED TODAY', 'VERDICT'], facturx.map((r) => [r.file, r.manifestEmbedded, r.manifestProfile, r.manifestEn16931, r.hub, r.structuralWarnings, r.acceptedOn, r.agreement]));
  const count = (a: string) => facturx.filter((r) => r.agreement === a).length;
  console.log(`\n${facturx.length} PDFs: ${count('agree')} agree, ${count('stricter')} refused for a stricter documented reason, ${count('DISAGREE')} disagreement(s).`);
  printRules(rules);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const dir = process.argv[2];
  if (!dir || !fs.existsSync(path.join(dir, 'MANIFEST.tsv'))) {
    console.error('usage: npm run conformance -- <corpus dir holding MANIFEST.tsv and examples/>');
    process.exit(64);
  }
  const result = runConformance(dir, { rules: true });
  print(result);
  process.exit(result.disagreements.length || result.facturx.some((r) => r.agreement === 'DISAGREE') || unknownRuleDisagreements(result.rules).length ? 1 : 0);
}
