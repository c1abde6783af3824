/**
 * `factflow validate` over many files through the real CLI: one report per file in the order
 * given, the worst exit code, missing files refused before anything is read; and the B2G
 * reference-length rules as a supplier sees them (JSON, text, flows show).
 */
import fs from 'node:fs';
import path from 'node:path';
import { codeOf } from '../src/cli/context.js';
import { ERRORS, type ErrorCode, type FlowError } from '../src/errors/catalog.js';
import { reportXml, type IntegrationReport } from '../src/emit/report.js';
import { AIFE, cli, fixture, hasShared, schemaErrors, tempDir, variant } from './helpers.js';

const home = tempDir();
cli(['directory', 'import', '--structures', fixture('directory', 'structures.csv'), '--services', fixture('directory', 'services.csv')], { home });
const work = tempDir();
const longEj = variant(fixture('cii', 'invoice-etat.xml'), path.join(work, 'long-ej.xml'), [['EJ-CII-2026-001', 'EJ-'.padEnd(60, '7')]]);
const ok = fixture('ubl', 'invoice-commune.xml');
const partial = fixture('mixed', 'partial.xml');

interface Report { file: string; state: string; invoices: { errors: FlowError[] }[] }

test('several files: a JSON array of reports in the order given, exit code the worst of them', () => {
  const r = cli(['validate', '--json', longEj, ok, partial, ok], { home });
  expect(r.code).toBe(2);
  const reports = JSON.parse(r.stdout) as Report[];
  expect(reports.map((x) => [x.file, x.state])).toEqual([
    ['long-ej.xml', 'IN_REJETE'], ['invoice-commune.xml', 'IN_INTEGRE'], ['partial.xml', 'IN_INTEGRE_PARTIEL'], ['invoice-commune.xml', 'IN_INTEGRE'],
  ]);
  const [e] = reports[0]!.invoices[0]!.errors;
  expect(e).toMatchObject({ code: 'RULE_ENGAGEMENT_TOO_LONG', line: expect.any(Number) });
  expect(e!.message).toContain('60 characters');
  // An error carries its code's official rule id exactly when the catalog gives one.
  for (const err of reports.flatMap((x) => x.invoices.flatMap((i) => i.errors))) expect(err.rule).toBe((ERRORS[err.code as ErrorCode] as { rule?: string }).rule);
});

test('one file keeps the single-report shape; all accepted exits 0', () => {
  const r = cli(['validate', '--json', ok], { home });
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ file: 'invoice-commune.xml', state: 'IN_INTEGRE' });
  const two = cli(['validate', '--json', ok, ok], { home });
  expect(two.code).toBe(0);
  expect(JSON.parse(two.stdout)).toHaveLength(2);
});

test('text output names each file with its verdict and errors', () => {
  const r = cli(['validate', ok, longEj], { home });
  expect(r.code).toBe(2);
  const lines = r.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/IN_INTEGRE \(90\).*invoice-commune\.xml: 1\/1/);
  expect(lines[1]).toMatch(/IN_REJETE \(93\).*long-ej\.xml: 0\/1/);
  expect(lines[2]).toMatch(/RULE_ENGAGEMENT_TOO_LONG: Engagement number \(EJ\) "EJ-7+" is 60 characters/);
});

test('a missing file or a folder among them: not found (3), nothing validated', () => {
  for (const bad of [path.join(work, 'nope.xml'), work]) {
    const r = cli(['validate', '--json', ok, bad], { home });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('INPUT_NOT_FOUND');
  }
});

test('processed, the over-long EJ refuses the invoice and flows show gives the code', () => {
  const r = cli(['process', '--json', longEj], { home });
  expect(r.code).toBe(2);
  const [report] = JSON.parse(r.stdout) as (Report & { flowId: string })[];
  expect(report!.invoices[0]!.errors.map((e) => e.code)).toEqual(['RULE_ENGAGEMENT_TOO_LONG']);
  const shown = cli(['flows', 'show', report!.flowId], { home });
  expect(shown.stdout).toContain('RULE_ENGAGEMENT_TOO_LONG');
  // The XML integration report names the code (schema validity is checked by the report tests).
  const xml = fs.readdirSync(path.join(home, 'outbox', 'reports')).filter((f) => f.endsWith('.xml'));
  expect(xml.some((f) => fs.readFileSync(path.join(home, 'outbox', 'reports', f), 'utf8').includes('RULE_ENGAGEMENT_TOO_LONG'))).toBe(true);
});

// An error with an official id (a made-up one here: no catalog code has one yet): printed after the code, and in
// the XML report inside DescriptionErreur, the one free-text slot CPPStatut has for it.
(hasShared ? test : test.skip)('an error\'s rule id reaches the text output and a schema-valid CPPStatut report', () => {
  // Its own copy: the tests above processed long-ej.xml, which validate would now call a duplicate.
  const copy = variant(longEj, path.join(work, 'long-ej-2.xml'), [['<rsm:CrossIndustryInvoice', '<!-- copy -->\n<rsm:CrossIndustryInvoice']]);
  const report = JSON.parse(cli(['validate', '--json', copy], { home }).stdout) as IntegrationReport;
  const withRule = { ...report.invoices[0]!.errors[0]!, rule: 'BR-TEST-01' };
  expect(codeOf(withRule)).toBe('RULE_ENGAGEMENT_TOO_LONG [BR-TEST-01]');
  const xml = reportXml({ ...report, invoices: [{ ...report.invoices[0]!, errors: [withRule] }] }, '2026-12-02T05:00:00.000Z', { id: 'ACM009' }, { id: 'FFLOW01' });
  expect(xml).toMatch(/<DescriptionErreur>[^<]*rule BR-TEST-01<\/DescriptionErreur>/);
  const file = path.join(work, 'report.xml');
  fs.writeFileSync(file, xml);
  expect(schemaErrors(path.join(AIFE, 'CPPStatutPivot_V1_19.xsd'), file)).toEqual([]);
});
