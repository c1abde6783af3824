/** CDAR statuses (flow 6): the mapping table, messages out, messages in, round trips. */
import fs from 'node:fs';
import path from 'node:path';
import { cdarXml, type CdarMessage } from '../src/emit/cdar.js';
import { CDAR_REASONS, CDAR_TABLE, cdarOf, reasonOf, type CdarRow } from '../src/lifecycle/cdar.js';
import { processFile } from '../src/app/run.js';
import { cdarXsdErrors, cdvFailures, hasCdarCorpus } from './cdv.js';
import { closeHubs, fixture, listFiles, trackedHub } from './helpers.js';

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
