/**
 * The SaxonJS oracle gives the official verdicts the corpus MANIFEST records (SaxonJS 2.7 with the
 * FNFE package's compiled XSLTs). Skipped without ../shared/corpus. The first run compiles each
 * XSLT to SEF (about 30 s each) into the cache; later runs only load it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fatalIds, officialVerdict, svrlFindings } from '../src/devtools/saxonOracle.js';
import { SHARED } from './helpers.js';

const CORPUS = path.join(SHARED, 'corpus');
const XSLT = path.join(CORPUS, 'schematron-xslt', 'fnfe-1.4.0.03');
const present = fs.existsSync(XSLT);

/** The MANIFEST row of a file: its columns, by position. */
function manifestRow(file: string): string[] {
  const row = fs.readFileSync(path.join(CORPUS, 'MANIFEST.tsv'), 'utf8').split('\n').map((l) => l.split('\t')).find((r) => r[0] === file);
  if (!row) throw new Error(`${file} is not in MANIFEST.tsv`);
  return row;
}
/**
 * `EN16931-CII:FAIL[BR-16,BR-CO-10]` → the ids; `…:PASS` → none. The MANIFEST lists at most 8
 * ids per cell (no cell has more): a full cell is the first 8 of the sorted ids.
 */
const LISTED = 8;
const expectedIds = (cell: string) => (/:FAIL\[([^\]]*)\]/.exec(cell)?.[1]?.split(',') ?? []).sort();

const CASES: [string, number, string][] = [
  ['cii/akretion-facturx-fixtures/factur-x-basicwl.xml', 4, 'CII/EN16931/2xslt/EN16931-CII-validation.xslt'],
  ['ubl/mustang-library-samples/BT-128.ubl.xml', 4, 'UBL/EN16931/2xslt/EN16931-UBL-validation.xslt'],
  ['ubl/mustang-library-samples/BT-128.ubl.xml', 6, 'UBL/EN16931/2xslt/BR-FR-Flux2-Schematron-UBL.xslt'],
];

(present ? describe : describe.skip)('SaxonJS oracle against MANIFEST.tsv', () => {
  test.each(CASES)('%s, column %i, %s', (file, column, xslt) => {
    const verdict = officialVerdict(fs.readFileSync(path.join(CORPUS, 'examples', file)), path.join(XSLT, xslt));
    expect('error' in verdict ? verdict.error : '').toBe('');
    const expected = expectedIds(manifestRow(file)[column]!);
    const ids = fatalIds(verdict);
    expect(expected.length === LISTED ? ids.slice(0, LISTED) : ids).toEqual(expected);
    if (!('error' in verdict)) for (const f of verdict.failed) expect(f.location).toMatch(/^\//);
  }, 300_000);
});

test('SVRL findings: id, flag (error when the rule has none) and location, in document order', () => {
  const svrl = `<svrl:schematron-output xmlns:svrl="http://purl.oclc.org/dsdl/svrl">
    <svrl:failed-assert test="x" id="BR-01" flag="fatal" location="/Invoice[1]"><svrl:text>a</svrl:text></svrl:failed-assert>
    <svrl:successful-report id="FX-1" location="/a[1]/b[@x=&quot;1&quot;]"/>
    <svrl:failed-assert flag="warning" id="BR-FR-W" location="/c"/></svrl:schematron-output>`;
  expect(svrlFindings(svrl)).toEqual([
    { id: 'BR-01', flag: 'fatal', location: '/Invoice[1]' },
    { id: 'FX-1', flag: 'error', location: '/a[1]/b[@x="1"]' },
    { id: 'BR-FR-W', flag: 'warning', location: '/c' },
  ]);
  expect(fatalIds({ failed: svrlFindings(svrl) })).toEqual(['BR-01', 'FX-1']);
});
