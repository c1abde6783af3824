/** CDAR statuses (flow 6): the mapping table, messages out, messages in, round trips. */
import fs from 'node:fs';
import path from 'node:path';
import { cdarXml, type CdarMessage } from '../src/emit/cdar.js';
import { CDAR_REASONS, CDAR_TABLE, cdarOf, reasonOf, type CdarRow } from '../src/lifecycle/cdar.js';
import { processFile } from '../src/app/run.js';
import { invoiceHistory, resolveInvoice } from '../src/app/queries.js';
import type { IntegrationReport } from '../src/emit/report.js';
import type { Hub } from '../src/hub.js';
import { CDAR_EXAMPLES, cdarXsdErrors, cdvFailures, hasCdarCorpus } from './cdv.js';
import { closeHubs, fixture, listFiles, readJson, tempDir, trackedHub } from './helpers.js';

afterEach(closeHubs);

const corpusTest = hasCdarCorpus ? test : test.skip;

const message = (row: CdarRow, over: Partial<CdarMessage> = {}): CdarMessage => ({
  id: `FF1_7_${row.cdar}`,
  createdAt: '2026-11-20T10:00:01.000Z',
  row,
  platform: { name: 'factflow' },
  buyer: { id: '21450001200015', scheme: '0009', name: 'COMMUNE' },
  seller: { id: '81234567800013', scheme: '0009', name: 'ACME' },
  invoice: { number: 'FA-2026-0002', issueDate: '2026-11-12', typeCode: '380', receivedAt: '2026-11-20T09:00:00.000Z' },
  at: '2026-11-20T09:15:00+01:00',
  ...(row.reason || ['206', '207', '208', '210', '213', '501'].includes(row.cdar!) ? { reason: reasonOf(row, 'Montant erroné') } : {}),
  comment: 'Vu',
  ...over,
});

corpusTest('every CDAR message of the table is valid against the D22B XSD and the BR-FR-CDV rules, to the supplier and to the PPF', () => {
  for (const row of CDAR_TABLE.filter((r) => r.cdar)) {
    const variants = [message(row), ...(row.ppf ? [message(row, { ppf: true })] : [])];
    for (const m of variants) {
      const xml = cdarXml(m);
      expect({ code: row.cdar, ppf: !!m.ppf, xsd: cdarXsdErrors(xml), cdv: cdvFailures(xml) }).toEqual({ code: row.cdar, ppf: !!m.ppf, xsd: [], cdv: [] });
    }
  }
});

const SUPPLIER = '81234567800013';
const cdarFiles = (dir: string) => listFiles(dir).filter((f) => f.startsWith('CDAR_')).map((f) => path.join(dir, f));
const codeOf = (xml: string) => /<ram:ProcessConditionCode>(\d+)</.exec(xml)?.[1];

async function checkAll(files: string[]) {
  for (const f of files) {
    const xml = fs.readFileSync(f, 'utf8');
    expect({ f, xsd: cdarXsdErrors(xml), cdv: cdvFailures(xml) }).toEqual({ f, xsd: [], cdv: [] });
  }
}

corpusTest('statusFormat both: the supplier gets CPPStatut and CDAR 200, 203 and 213 (with the reason), the PPF its variant of 200 and 213', async () => {
  const hub = await trackedHub({ statusFormat: 'both' });
  await processFile(hub, fixture('mixed', 'partial.xml'), { copy: true });
  const dir = path.join(hub.layout.outbox, 'suppliers', SUPPLIER);
  expect(listFiles(dir).some((f) => f.startsWith('CPPStatut_'))).toBe(true);
  const files = cdarFiles(dir);
  const codes = files.map((f) => codeOf(fs.readFileSync(f, 'utf8'))).sort();
  expect(codes).toEqual(['200', '203', '213', '213']);
  const reasons = files.map((f) => /<ram:ReasonCode>([^<]+)</.exec(fs.readFileSync(f, 'utf8'))?.[1]).filter(Boolean).sort();
  expect(reasons).toEqual(['CALCUL_ERR', 'DEST_INC']);
  const ppf = cdarFiles(path.join(hub.layout.outbox, 'ppf'));
  expect(ppf.map((f) => codeOf(fs.readFileSync(f, 'utf8'))).sort()).toEqual(['200', '213', '213']);
  for (const f of ppf) expect(fs.readFileSync(f, 'utf8')).toContain('urn.cpro.gouv.fr:1p0:CDV:einvoicingF2');
  await checkAll([...files, ...ppf]);
});

const COMMUNE = '21450001200015';
const HOSPITAL = '26750000100016';

/** A corpus example in the test's own copy: its invoice, seller and buyer made the ones the test deposited. */
function adapted(file: string, number: string, buyer: string): string {
  const xml = fs.readFileSync(path.join(CDAR_EXAMPLES, file), 'utf8').replace(/^\uFEFF/, '');
  return xml
    .replace(/F20250000\d/g, number)
    .replace(/<ram:GlobalID schemeID="0002">100000009<\/ram:GlobalID>/g, `<ram:GlobalID schemeID="0009">${SUPPLIER}</ram:GlobalID>`)
    .replace(/<ram:GlobalID schemeID="0002">200000008<\/ram:GlobalID>/g, `<ram:GlobalID schemeID="0009">${buyer}</ram:GlobalID>`)
    .replace(/format="102">2025070\d</g, 'format="102">20261102<');
}

async function dropCdar(hub: Hub, xml: string, name = 'cdar.xml') {
  const file = path.join(tempDir(), name);
  fs.writeFileSync(file, xml);
  const outcome = (await processFile(hub, file, { copy: true }))!;
  return { outcome, report: readJson<IntegrationReport>(path.join(hub.layout.outbox, "reports", `${outcome.id}.json`)) };
}

corpusTest('every FNFE CDAR example is read; those a recipient may send are applied to the invoice deposited, the others refused with the lifecycle codes, and answered in CDAR', async () => {
  const hub = await trackedHub();
  await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true });
  // In the examples' order, on the invoices of the worked example (FA-2026-0002: the commune's).
  const expected: [string, string, string, string, string | undefined][] = [
    ['UC1_F202500003_01-CDV-200_Deposee.xml', 'FA-2026-0002', COMMUNE, '01', 'LIFE_NOT_RECIPIENT'],
    ['UC1_F202500003_01-CDV-200_Deposee_POUR_PPF.xml', 'FA-2026-0002', COMMUNE, '01', 'LIFE_NOT_RECIPIENT'],
    ['UC1_F202500003_02-CDV-202_Recue.xml', 'FA-2026-0002', COMMUNE, '02', 'LIFE_PRODUCER_FORBIDDEN'],
    ['UC1_F202500003_03-CDV-203_Mise_a_disposition.xml', 'FA-2026-0002', COMMUNE, '03', 'LIFE_PRODUCER_FORBIDDEN'],
    ['UC1_F202500003_04-CDV-204_Prise_en_charge.xml', 'FA-2026-0002', COMMUNE, 'CDAR 204', 'LIFE_STATUS_UNKNOWN'],
    ['UC1_F202500003_05-CDV-205_Approuvee.xml', 'FA-2026-0002', COMMUNE, '07', undefined],
    ['UC1_F202500003_06-CDV-211_Paiement_transmis.xml', 'FA-2026-0002', COMMUNE, '11', 'LIFE_PRODUCER_FORBIDDEN'],
    ['UC1_F202500003_07-CDV-212_Encaissee.xml', 'FA-2026-0002', COMMUNE, 'CDAR 212', 'LIFE_STATUS_UNKNOWN'],
    ['UC1_F202500003_07-CDV-212_Encaissee_POUR_PPF.xml', 'FA-2026-0002', COMMUNE, 'CDAR 212', 'LIFE_NOT_RECIPIENT'],
    ['UC4_F202500006_04-CDV-207_En_litige.xml', 'FA-2026-0004', COMMUNE, '06', undefined],
    ['UC5_F202500007_04-CDV-207_En_litige.xml', 'FA-2026-0003', HOSPITAL, '06', undefined],
  ];
  expect(fs.readdirSync(CDAR_EXAMPLES).filter((f) => f.endsWith('.xml')).sort()).toEqual(expected.map((e) => e[0]).sort());
  for (const [file, number, buyer, status, code] of expected) {
    const { report } = await dropCdar(hub, adapted(file, number, buyer), file);
    const u = report.statusUpdates![0]!;
    expect({ file, status: u.requestedStatus, code: u.errors[0]?.code }).toEqual({ file, status, code });
  }
  const history = await invoiceHistory(hub, await resolveInvoice(hub, `${SUPPLIER}/FA-2026-0004`));
  const suspended = history.events.find((h) => h.status === '06')!;
  expect(suspended.motif).toBe('TX_TVA_ERR: Taux de TVA erroné');
  expect(suspended.producedAt).toBe('2025-07-01T18:00:00');
  // Each refused line is answered in CDAR beside the report, valid like everything the hub emits.
  const answers = listFiles(path.join(hub.layout.outbox, 'reports')).filter((f) => f.includes('_CDAR_')).map((f) => path.join(hub.layout.outbox, 'reports', f));
  expect(answers.length).toBe(8);
  expect(answers.map((f) => codeOf(fs.readFileSync(f, 'utf8')))).toEqual(Array(8).fill('213'));
  await checkAll(answers);
});
