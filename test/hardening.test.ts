/**
 * Hardening against hostile input (issue 13): each case through the real components (libxml2,
 * real files, readFlow/readFlowFile) and refused with its code. Inputs are sized so that the
 * fixed code answers well under a second and a regression to backtracking or quadratic work
 * runs into the test's timeout.
 */
import { DEFAULTS } from '../src/config.js';
import { mixedFlow, FIXTURE_RECIPIENTS } from '../src/devtools/synth.js';
import { readFlow } from '../src/pipeline/read.js';

const settings = { ...DEFAULTS, readThreads: 0 };
const valid = (tag = 'HARD', invoices = 1) => mixedFlow({ seed: 7, flowTag: tag, invoices, pdfBytes: 256, recipients: [FIXTURE_RECIPIENTS[0]!] });
const codesOf = (xml: string | Buffer) => {
  const r = readFlow(Buffer.isBuffer(xml) ? xml : Buffer.from(xml, 'utf8'), settings);
  return [...new Set(r.errors.map((e) => e.code))];
};
const withDoctype = (doctype: string, before = '') => valid().replace('<CPPFactureMixte>', `${before}${doctype}\n<CPPFactureMixte>`);

describe('a DOCTYPE is refused wherever it stands (the parser says so, not a text scan)', () => {
  const entity = '<!DOCTYPE CPPFactureMixte [<!ENTITY e "INJECTED">]>';
  test('after 70,000 newlines', () => {
    expect(codesOf(withDoctype(entity, '\n'.repeat(70_000)).replace('ACME FOURNITURES SAS', '&e;'))).toEqual(['XML_DOCTYPE_FORBIDDEN']);
  });
  test('after a 100 KB comment', () => {
    expect(codesOf(withDoctype(entity, `<!--${'x'.repeat(100_000)}-->\n`).replace('ACME FOURNITURES SAS', '&e;'))).toEqual(['XML_DOCTYPE_FORBIDDEN']);
  });
  test('a parameter-entity XXE past 64 KB is a coded refusal, not a fault', () => {
    const xxe = '<!DOCTYPE CPPFactureMixte [<!ENTITY % x SYSTEM "file:///etc/passwd"> %x;]>';
    expect(codesOf(withDoctype(xxe, `<!--${'x'.repeat(70_000)}-->\n`))).toEqual(['XML_DOCTYPE_FORBIDDEN']);
  });
  test('in UTF-16 after a long comment', () => {
    const xml = withDoctype(entity, `<!--${'x'.repeat(70_000)}-->\n`).replace('encoding="UTF-8"', 'encoding="UTF-16"');
    expect(codesOf(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml, 'utf16le')]))).toEqual(['XML_DOCTYPE_FORBIDDEN']);
  });
});

test('line numbers past 65,535 are the real ones', () => {
  // A bad supplier SIRET on line 108,001 or so: the rule error names its real line.
  const xml = valid().replace('<Identifiant>81234567800013</Identifiant>', `${'\n'.repeat(108_000)}<Identifiant>81234567800014</Identifiant>`);
  const line = xml.slice(0, xml.indexOf('81234567800014')).split('\n').length;
  expect(line).toBeGreaterThan(108_000);
  const r = readFlow(Buffer.from(xml), settings);
  expect(r.errors).toEqual([]);
  const [inv] = r.invoices;
  expect(inv!.where.supplierId!.line).toBe(line);
  // And a schema error that far down.
  const bad = valid().replace('<Type>380</Type>', `${'\n'.repeat(108_000)}<Typo>380</Typo>`);
  const badLine = bad.slice(0, bad.indexOf('<Typo>')).split('\n').length;
  const refused = readFlow(Buffer.from(bad), settings);
  expect(refused.errors[0]).toMatchObject({ code: 'SCHEMA_INVALID', line: badLine });
});

describe('UTF-16 without a byte order mark is read in either byte order', () => {
  const xml = valid('U16NOBOM').replace('encoding="UTF-8"', 'encoding="UTF-16"');
  const swap = (b: Buffer) => Buffer.from(b).swap16();
  test('little-endian', () => {
    const r = readFlow(Buffer.from(xml, 'utf16le'), settings);
    expect(r.errors).toEqual([]);
    expect(r.invoices).toHaveLength(1);
  });
  test('big-endian', () => {
    const r = readFlow(swap(Buffer.from(xml, 'utf16le')), settings);
    expect(r.errors).toEqual([]);
    expect(r.invoices).toHaveLength(1);
  });
  test('without a declaration, and with white space first, both byte orders get the same verdict', () => {
    const bare = xml.replace(/^<\?xml[^>]*\?>/, '');
    const le = Buffer.from(`\n ${bare}`, 'utf16le');
    expect(codesOf(le)).toEqual([]);
    expect(codesOf(swap(le))).toEqual([]);
  });
});

test('the base64 check is one linear pass: "QUJD", 200,000 spaces and "!" is refused at once', () => {
  const xml = valid().replace(/<Contenu>[^<]*<\/Contenu>/, `<Contenu>QUJD${' '.repeat(200_000)}!</Contenu>`);
  const r = readFlow(Buffer.from(xml), settings);
  expect(r.errors).toEqual([]);
  expect(r.invoices[0]!.attachments[0]!.badBase64).toBe(true);
});

test('base64 with white space anywhere and padding at the end is accepted; padding in the middle is not', () => {
  const inv = (contenu: string) => readFlow(Buffer.from(valid().replace(/<Contenu>[^<]*<\/Contenu>/, `<Contenu>${contenu}</Contenu>`)), settings).invoices[0]!.attachments[0]!;
  expect(inv(' JVBE\nRi0x\r\n\tLjQ= ').content.toString()).toBe('%PDF-1.4');
  expect(inv('JVBERi0xLg==').badBase64).toBeUndefined();
  expect(inv('JV=BERi0xLg').badBase64).toBe(true);
  expect(inv('JVBERi0xLg===').badBase64).toBe(true);
  expect(inv('JVBERi0xLg= =').badBase64).toBe(true);
});
