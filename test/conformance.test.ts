/**
 * Conformance with the real platform's formats: our outputs against the official AIFE schemas
 * (libxml2), cross-checked with a second engine (Xerces, through xsd-schema-validator, when a
 * JDK is present), and the real sample flows against our own input schemas.
 * Runs when ../shared (the reference material) sits beside the project; skipped otherwise.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { processFile } from '../src/app/run.js';
import { AIFE, closeHubs, fixture, hasShared, listFiles, ownSchema, schemaErrors, trackedHub } from './helpers.js';

const require = createRequire(import.meta.url);
const describeShared = hasShared ? describe : describe.skip;
const hasJava = spawnSync('java', ['-version']).status === 0;

afterAll(closeHubs);

/** Runs the fixture flows once and returns every XML output, by kind. */
async function produceOutputs() {
  const hub = await trackedHub();
  for (const f of ['three-recipients.xml', 'partial.xml', 'routing-errors.xml', 'schema-invalid.xml']) await processFile(hub, fixture('mixed', f), { copy: true });
  const out = hub.layout.outbox;
  const files = (sub: string) => listFiles(path.join(out, sub)).filter((f) => f.endsWith('.xml')).map((f) => path.join(out, sub, f));
  return { pivots: files('recipients'), statuses: files('suppliers'), reports: files('reports') };
}

describeShared('official AIFE schemas (libxml2)', () => {
  let outputs: Awaited<ReturnType<typeof produceOutputs>> = { pivots: [], statuses: [], reports: [] };
  beforeAll(async () => {
    if (hasShared) outputs = await produceOutputs();
  });
  const pivotXsd = path.join(AIFE, 'CPPFacturePivot_V2_02.xsd');
  const statutXsd = path.join(AIFE, 'CPPStatutPivot_V1_19.xsd');

  test('the run produced pivots, supplier statuses and reports', () => {
    expect(outputs.pivots.length).toBe(4);
    expect(outputs.statuses.length).toBe(2);
    expect(outputs.reports.length).toBe(4);
  });

  test('every pivot is valid against CPPFacturePivot_V2_02.xsd', () => {
    for (const f of outputs.pivots) expect({ f, errors: schemaErrors(pivotXsd, f) }).toEqual({ f, errors: [] });
  });

  test('every supplier status file and integration report is valid against CPPStatutPivot_V1_19.xsd', () => {
    for (const f of [...outputs.statuses, ...outputs.reports]) expect({ f, errors: schemaErrors(statutXsd, f) }).toEqual({ f, errors: [] });
  });

  test('the real E2 sample is valid against our own mixed-flow schema', () => {
    expect(schemaErrors(ownSchema('CPPFactureMixte.xsd'), path.join(AIFE, 'Facture-IN_DP_E2_CPP_FACTURE_MIN.xml'))).toEqual([]);
  });

  test('the real status samples: well-formed ones pass our status schema, the one with month 15 does not', () => {
    const verdicts = ['Example01-FactureStatut-ok.xml', 'Example02-FactureStatut-ko.xml', 'Example03-FactureStatut-ko.xml', 'Example04-FactureStatut-ko.xml']
      .map((f) => [f, schemaErrors(ownSchema('CPPStatut.xsd'), path.join(AIFE, f)).length === 0]);
    expect(verdicts).toEqual([
      ['Example01-FactureStatut-ok.xml', true],
      ['Example02-FactureStatut-ko.xml', true],
      ['Example03-FactureStatut-ko.xml', false],
      ['Example04-FactureStatut-ko.xml', true],
    ]);
  });

  test('the real pivot samples pass our own pivot schema', () => {
    for (const f of ['facture_1221.xml', 'pivot_CPPFichierFormatPivot_multi.xml']) {
      expect({ f, errors: schemaErrors(ownSchema('CPPFacturePivot.xsd'), path.join(AIFE, f)) }).toEqual({ f, errors: [] });
    }
  });

  test('the real E2 sample goes through the pipeline and each of its test identifiers is refused with a specific code', async () => {
    const hub = await trackedHub();
    const flow = (await processFile(hub, path.join(AIFE, 'Facture-IN_DP_E2_CPP_FACTURE_MIN.xml'), { copy: true }))!;
    const report = JSON.parse(fs.readFileSync(path.join(hub.layout.outbox, 'reports', `${flow.id}.json`), 'utf8'));
    expect(report.errors).toEqual([]);
    expect(report.invoices[0].number).toBe('FAC19-2512');
    // Its SIRETs (00000000000727) are placeholders without a valid check digit.
    expect(report.invoices[0].errors.map((e: { code: string }) => e.code)).toEqual(['RULE_SUPPLIER_SIRET_INVALID', 'ROUTE_RECIPIENT_ID_INVALID']);
  });
});

(hasShared && hasJava ? describe : describe.skip)('cross-check with Xerces (xsd-schema-validator, needs a JDK)', () => {
  const validator = require('xsd-schema-validator') as { validateXML(xml: string, xsd: string): Promise<{ valid: boolean; messages: string[] }> };
  let outputs: Awaited<ReturnType<typeof produceOutputs>> = { pivots: [], statuses: [], reports: [] };
  beforeAll(async () => {
    if (hasShared && hasJava) outputs = await produceOutputs();
  });

  test('Xerces agrees: a pivot, a status file and a report are valid against the official schemas', async () => {
    const checks: [string, string][] = [
      [outputs.pivots[0]!, path.join(AIFE, 'CPPFacturePivot_V2_02.xsd')],
      [outputs.statuses[0]!, path.join(AIFE, 'CPPStatutPivot_V1_19.xsd')],
      [outputs.reports.find((r) => fs.readFileSync(r, 'utf8').includes('<Details'))!, path.join(AIFE, 'CPPStatutPivot_V1_19.xsd')],
    ];
    for (const [xml, xsd] of checks) {
      const result = await validator.validateXML(fs.readFileSync(xml, 'utf8'), xsd);
      expect({ xml, valid: result.valid, messages: result.messages }).toEqual({ xml, valid: true, messages: [] });
    }
  }, 60_000);

  test('Xerces agrees on our own mixed-flow schema: the real sample passes, the schema-invalid fixture fails', async () => {
    const xsd = ownSchema('CPPFactureMixte.xsd');
    const ok = await validator.validateXML(fs.readFileSync(path.join(AIFE, 'Facture-IN_DP_E2_CPP_FACTURE_MIN.xml'), 'utf8'), xsd);
    expect(ok.valid).toBe(true);
    const bad = await validator.validateXML(fs.readFileSync(fixture('mixed', 'schema-invalid.xml'), 'utf8'), xsd).catch((e: { messages?: string[] }) => ({ valid: false, messages: e.messages ?? [] }));
    expect(bad.valid).toBe(false);
  }, 60_000);
});

(fs.existsSync(path.join(AIFE, '..', '..', 'corpus', 'MANIFEST.tsv')) ? describe : describe.skip)('the public invoice corpus (../shared/corpus)', () => {
  test('every file the official XSD accepts passes our schema stage, every file it rejects fails it', async () => {
    const { runConformance } = await import('../src/cli/conformance.js');
    const { outcomes, disagreements } = runConformance(path.join(AIFE, '..', '..', 'corpus'));
    expect(outcomes.filter((o) => o.expected === 'pass').length).toBeGreaterThan(200);
    expect(outcomes.filter((o) => o.expected === 'fail').length).toBeGreaterThanOrEqual(10);
    expect(disagreements).toEqual([]);
  });
});
