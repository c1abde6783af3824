/** CDAR statuses (flow 6): the mapping table, messages out, messages in, round trips. */
import fs from 'node:fs';
import path from 'node:path';
import { cdarXml, type CdarMessage } from '../src/emit/cdar.js';
import { CDAR_REASONS, CDAR_TABLE, cdarOf, reasonOf, type CdarRow } from '../src/lifecycle/cdar.js';
import { cdarXsdErrors, cdvFailures, hasCdarCorpus } from './cdv.js';

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
