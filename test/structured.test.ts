/** Structured flows (E1): UBL and CII invoices, alone or in zip / tar.gz batches. */
import fs from 'node:fs';
import path from 'node:path';
import { writeTarGz, writeZip } from '../src/devtools/archives.js';
import { FIXTURE_RECIPIENTS, ublInvoice } from '../src/devtools/synth.js';
import { DEFAULTS } from '../src/config.js';
import { processFile } from '../src/app/run.js';
import { readFlowFile } from '../src/pipeline/read.js';
import { unzipOne } from '../src/util/zip.js';
import type { IntegrationReport } from '../src/emit/report.js';
import { cli, closeHubs, deliveredInvoices, fixture, listFiles, ownSchema, readJson, schemaErrors, tempDir, trackedHub, variant , readShared } from './helpers.js';

afterEach(closeHubs);

const report = (home: string, flowId: string) => readJson<IntegrationReport>(path.join(home, 'outbox', 'reports', `${flowId}.json`));
const pivotOf = (home: string, siret: string, flowId: string) => path.join(home, 'outbox', 'recipients', siret, `CPPFacturePivot_${flowId}.xml`);

/** The attachments of a pivot: name, type, and the unzipped content. */
function attachments(pivotFile: string) {
  const xml = fs.readFileSync(pivotFile, 'utf8');
  return [...xml.matchAll(/<PJ NumOrdre="\d+">\s*<Contenu>([^<]*)<\/Contenu>\s*<NomPJ>([^<]*)<\/NomPJ>\s*<TypePJ>(\d+)<\/TypePJ>/g)].map((m) => ({
    name: m[2],
    type: m[3],
    content: unzipOne(Buffer.from(m[1]!, 'base64'), 1e8)!,
  }));
}

test('a UBL invoice is integrated; its original XML travels as PJ 01 and its embedded PDF as PJ 02', async () => {
  const hub = await trackedHub();
  const flow = (await processFile(hub, fixture('ubl', 'invoice-commune.xml'), { copy: true }))!;
  expect(flow.kind).toBe('ubl-invoice');
  expect(flow.state).toBe('IN_INTEGRE');
  const pivot = pivotOf(hub.layout.home, '21450001200015', flow.id);
  expect(schemaErrors(ownSchema('CPPFacturePivot.xsd'), pivot)).toEqual([]);
  const xml = fs.readFileSync(pivot, 'utf8');
  expect(xml).toContain('<Id>UBL-2026-001</Id>');
  expect(xml).toContain('<Identifiant>81234567800013</Identifiant>');
  expect(xml).toContain('<NumeroMarche>MARCHE-2026-7</NumeroMarche>');
  expect(xml).toContain('<Code>30</Code>'); // UNCL 4461 58 (SEPA credit transfer) mapped to 30
  const pjs = attachments(pivot);
  // The delivery note is not the invoice: the hub adds its readable rendering (PJ00…) after PJ 01.
  expect(pjs.map((p) => [p.name, p.type])).toEqual([['UBL-2026-001.xml', '01'], ['PJ00UBL-2026-001.pdf', '02'], ['bon-livraison.pdf', '02']]);
  expect(pjs[0]!.content.content.equals(fs.readFileSync(fixture('ubl', 'invoice-commune.xml')))).toBe(true);
  expect(pjs[2]!.content.content.subarray(0, 5).toString()).toBe('%PDF-');
});

test('a UBL credit note becomes type 381 with its service code', async () => {
  const hub = await trackedHub();
  const flow = (await processFile(hub, fixture('ubl', 'creditnote-hospital.xml'), { copy: true }))!;
  expect(flow.state).toBe('IN_INTEGRE');
  const xml = fs.readFileSync(pivotOf(hub.layout.home, '26750000100016', flow.id), 'utf8');
  expect(xml).toContain('<Type>381</Type>');
  expect(xml).toContain('<CodeService>TECHNIQUE</CodeService>');
});

test('a CII invoice to the State carries its service code and engagement number, dates converted from format 102', async () => {
  const hub = await trackedHub();
  const flow = (await processFile(hub, fixture('cii', 'invoice-etat.xml'), { copy: true }))!;
  expect(flow.kind).toBe('cii');
  expect(flow.state).toBe('IN_INTEGRE');
  const pivot = pivotOf(hub.layout.home, '11000201100044', flow.id);
  const xml = fs.readFileSync(pivot, 'utf8');
  expect(xml).toContain('<CodeService>SGAMI-SUD</CodeService>');
  expect(xml).toContain('<NumeroEngagement>EJ-CII-2026-001</NumeroEngagement>');
  expect(xml).toContain('<DateEmissionFacture>2026-11-02</DateEmissionFacture>');
  expect(attachments(pivot).map((p) => [p.name, p.type])).toEqual([['CII-2026-001.xml', '01'], ['PJ00CII-2026-001.pdf', '02'], ['annexe.pdf', '02']]);
});

test('a tar.gz of twenty UBL invoices is one flow: twenty invoices, each delivered once, to three recipients', async () => {
  const hub = await trackedHub();
  const flow = (await processFile(hub, fixture('archives', 'twenty-ubl.tar.gz'), { copy: true }))!;
  expect(flow.kind).toBe('tar.gz');
  expect(flow.state).toBe('IN_INTEGRE');
  expect(report(hub.layout.home, flow.id).invoices.map((i) => i.label)).toEqual(
    Array.from({ length: 20 }, (_, i) => `factures/UBL-2026-1${String(i).padStart(2, '0')}.xml`),
  );
  const delivered = deliveredInvoices(hub.layout.home);
  expect(delivered.size).toBe(20);
  expect([...delivered.values()].every((n) => n === 1)).toBe(true);
  expect(listFiles(path.join(hub.layout.outbox, 'recipients'))).toHaveLength(3);
});

test('a zip mixing good and bad entries: each entry is an invoice, refused for its own reason', async () => {
  const hub = await trackedHub();
  const flow = (await processFile(hub, fixture('archives', 'mixed-batch.zip'), { copy: true }))!;
  expect(flow.state).toBe('IN_INTEGRE_PARTIEL');
  const r = report(hub.layout.home, flow.id);
  expect(r.invoices.map((i) => [i.label, i.status, i.errors.map((e) => e.code)])).toEqual([
    ['ok-1.xml', 'ACCEPTED', []],
    ['ok-cii.xml', 'ACCEPTED', []],
    ['not-an-invoice.txt', 'REJECTED', ['ARCHIVE_ENTRY_INVALID']],
    ['../../etc/evil.xml', 'REJECTED', ['ARCHIVE_UNSAFE_PATH']],
    ['inner.zip', 'REJECTED', ['ARCHIVE_NESTED']],
    ['link.xml', 'REJECTED', ['ARCHIVE_LINK']],
    ['unknown-recipient.xml', 'REJECTED', ['ROUTE_RECIPIENT_UNKNOWN']],
  ]);
  // Nothing was written outside the home (entries are never extracted to disk).
  expect(fs.existsSync(path.join(hub.layout.home, '..', 'etc', 'evil.xml'))).toBe(false);
});

test('an archive read by this thread and a helper thread gives the same invoices, report and pivots as one thread alone', async () => {
  // 60 entries (past the sharing threshold), a few of them bad in different ways.
  const entries = Array.from({ length: 60 }, (_, i) => {
    const name = `lot/UBL-P-${String(i).padStart(2, '0')}.xml`;
    const xml = ublInvoice({ seed: 500 + i, number: `UBL-P-${i}`, recipient: FIXTURE_RECIPIENTS[i % 3], lines: 2, attachmentBytes: i % 7 === 0 ? 3000 : undefined });
    if (i === 13) return { name, content: xml.replace('<cbc:IssueDate>', '<cbc:Unexpected/><cbc:IssueDate>') };
    if (i === 41) return { name, content: 'not xml at all' };
    return { name, content: xml };
  });
  const archive = path.join(tempDir(), 'sixty.tar.gz');
  fs.writeFileSync(archive, writeTarGz(entries));
  const outcome = async (readThreads: number) => {
    const hub = await trackedHub({ readThreads });
    const flow = (await processFile(hub, archive, { copy: true }))!;
    const r = report(hub.layout.home, flow.id);
    const pivots = listFiles(path.join(hub.layout.outbox, 'recipients')).map((f) => fs.readFileSync(path.join(hub.layout.outbox, 'recipients', f), 'utf8').replaceAll(flow.id, 'FLOW'));
    return { state: flow.state, invoices: r.invoices, pivots };
  };
  // Once the helper is up, it takes its share of the entries; what it read is what this thread reads.
  const both = await readShared(archive, DEFAULTS);
  const alone = readFlowFile(archive, { ...DEFAULTS, readThreads: 0 });
  expect(both.readByHelpers).toBeGreaterThan(0);
  expect(alone.readByHelpers).toBe(0);
  expect(both.invoices).toEqual(alone.invoices);
  expect(both.entryErrors).toEqual(alone.entryErrors);
  expect(Buffer.isBuffer(both.invoices[7]!.attachments[1]!.content)).toBe(true);

  const shared = await outcome(1);
  expect(shared.state).toBe('IN_INTEGRE_PARTIEL');
  expect(shared.invoices.filter((i) => i.status === 'REJECTED').map((i) => [i.label, i.errors.map((e) => e.code)])).toEqual([
    ['lot/UBL-P-13.xml', ['ARCHIVE_ENTRY_INVALID']],
    ['lot/UBL-P-41.xml', ['ARCHIVE_ENTRY_INVALID']],
  ]);
  expect(shared.invoices[13]!.errors[0]!.message).toMatch(/Unexpected/);
  expect(shared.pivots).toHaveLength(3);
  expect(shared).toEqual(await outcome(0));
});

describe('archive limits (zip bombs)', () => {
  const zeros = Buffer.alloc(4 * 1024 * 1024); // compresses to a few kilobytes

  test('an entry that expands past the entry cap is refused, even when its header lies about its size', async () => {
    const hub = await trackedHub({ archiveMaxEntryBytes: 1024 * 1024 });
    const file = path.join(tempDir(), 'bomb.zip');
    fs.writeFileSync(file, writeZip([
      { name: 'honest.xml', content: zeros },
      { name: 'liar.xml', content: zeros, declaredSize: 1000 },
      { name: 'good.xml', content: ublInvoice({ seed: 9, number: 'BOMB-OK', recipient: FIXTURE_RECIPIENTS[0] }) },
    ]));
    const flow = (await processFile(hub, file, { copy: true }))!;
    const codes = report(hub.layout.home, flow.id).invoices.map((i) => i.errors.map((e) => e.code));
    expect(codes).toEqual([['ARCHIVE_ENTRY_TOO_LARGE'], ['ARCHIVE_ENTRY_TOO_LARGE'], []]);
  });

  test('an archive expanding past the total cap, or holding too many entries, is refused whole', async () => {
    const hub = await trackedHub({ archiveMaxTotalBytes: 2 * 1024 * 1024, archiveMaxEntries: 3 });
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'big.tar.gz'), writeTarGz([{ name: 'a.xml', content: zeros }]));
    fs.writeFileSync(path.join(dir, 'many.zip'), writeZip(Array.from({ length: 4 }, (_, i) => ({ name: `${i}.xml`, content: '<x/>' }))));
    const big = (await processFile(hub, path.join(dir, 'big.tar.gz'), { copy: true }))!;
    const many = (await processFile(hub, path.join(dir, 'many.zip'), { copy: true }))!;
    expect(report(hub.layout.home, big.id)).toMatchObject({ state: 'QP_IRRECEVABLE', errors: [expect.objectContaining({ code: 'ARCHIVE_TOO_LARGE' })] });
    expect(report(hub.layout.home, many.id)).toMatchObject({ state: 'QP_IRRECEVABLE', errors: [expect.objectContaining({ code: 'ARCHIVE_TOO_MANY_ENTRIES' })] });
  });

  test('a tar.gz symlink and a path escaping the archive are refused entry by entry', async () => {
    const hub = await trackedHub();
    const file = path.join(tempDir(), 'links.tar.gz');
    fs.writeFileSync(file, writeTarGz([{ name: 'link.xml', content: '', symlink: true }, { name: '/abs/path.xml', content: '<x/>' }]));
    const flow = (await processFile(hub, file, { copy: true }))!;
    expect(report(hub.layout.home, flow.id).invoices.map((i) => i.errors[0]!.code)).toEqual(['ARCHIVE_LINK', 'ARCHIVE_UNSAFE_PATH']);
  });
});

test('detection is by content: a UBL invoice named .pdf is processed as UBL', async () => {
  const hub = await trackedHub();
  const file = variant(fixture('ubl', 'invoice-commune.xml'), path.join(tempDir(), 'facture.pdf'));
  expect(await processFile(hub, file, { copy: true })).toMatchObject({ kind: 'ubl-invoice', state: 'IN_INTEGRE' });
});

test('a UBL invoice without the buyer SIRET is refused with the element to fill; one already paid is framework A2', async () => {
  const hub = await trackedHub();
  const dir = tempDir();
  const noSiret = variant(fixture('ubl', 'invoice-commune.xml'), path.join(dir, 'no-siret.xml'), [['<cbc:ID schemeID="0009">21450001200015</cbc:ID>', '<cbc:ID>CLIENT-42</cbc:ID>'], ['<cbc:EndpointID schemeID="0009">21450001200015</cbc:EndpointID>', ''], ['<cbc:CompanyID schemeID="0002">214500012</cbc:CompanyID>', '']]);
  const r = report(hub.layout.home, (await processFile(hub, noSiret, { copy: true }))!.id);
  expect(r.invoices[0]!.errors[0]).toMatchObject({ code: 'RULE_RECIPIENT_ID_MISSING' });
  expect(r.invoices[0]!.errors[0]!.message).toContain('cac:AccountingCustomerParty/cac:Party/cac:PartyIdentification/cbc:ID');

  const xml = fs.readFileSync(fixture('ubl', 'invoice-commune.xml'), 'utf8');
  const gross = /<cbc:TaxInclusiveAmount currencyID="EUR">([^<]+)</.exec(xml)![1]!;
  const paid = variant(fixture('ubl', 'invoice-commune.xml'), path.join(dir, 'paid.xml'), [
    ['<cbc:ID>UBL-2026-001</cbc:ID>', '<cbc:ID>UBL-2026-PAID</cbc:ID>'],
    [/<cbc:PayableAmount currencyID="EUR">[^<]+</, `<cbc:PrepaidAmount currencyID="EUR">${gross}</cbc:PrepaidAmount><cbc:PayableAmount currencyID="EUR">0.00<`],
  ]);
  const flow = (await processFile(hub, paid, { copy: true }))!;
  expect(flow.state).toBe('IN_INTEGRE');
  expect(fs.readFileSync(pivotOf(hub.layout.home, '21450001200015', flow.id), 'utf8')).toContain('<Cadre>A2</Cadre>');
});

test('a UBL document refused by its schema refuses the flow with line and element', async () => {
  const hub = await trackedHub();
  const file = variant(fixture('ubl', 'invoice-commune.xml'), path.join(tempDir(), 'bad.xml'), [['<cbc:IssueDate>2026-11-02</cbc:IssueDate>', '<cbc:IssueDate>2 novembre</cbc:IssueDate>']]);
  const r = report(hub.layout.home, (await processFile(hub, file, { copy: true }))!.id);
  expect(r.state).toBe('QP_IRRECEVABLE');
  expect(r.errors[0]).toMatchObject({ code: 'SCHEMA_INVALID', line: 5, element: expect.stringContaining('IssueDate') });
});

test('factflow validate prints the report processing would produce and changes nothing', () => {
  const home = tempDir();
  cli(['directory', 'import', '--structures', fixture('directory', 'structures.csv'), '--services', fixture('directory', 'services.csv')], { home });
  const ok = cli(['validate', '--json', fixture('archives', 'mixed-batch.zip')], { home });
  expect(ok.code).toBe(2);
  const preview = JSON.parse(ok.stdout);
  expect(preview).toMatchObject({ file: 'mixed-batch.zip', state: 'IN_INTEGRE_PARTIEL', statusCode: '96' });
  expect(preview.invoices).toHaveLength(7);
  // Processing gives the same verdicts.
  const processed = JSON.parse(cli(['process', '--json', fixture('archives', 'mixed-batch.zip')], { home }).stdout)[0];
  expect(processed.invoices.map((i: { status: string }) => i.status)).toEqual(preview.invoices.map((i: { status: string }) => i.status));
  // Validation alone wrote nothing: only the processed flow is in the ledger and outbox.
  expect(JSON.parse(cli(['flows', 'list', '--json'], { home }).stdout)).toHaveLength(1);
  const clean = cli(['validate', fixture('ubl', 'invoice-commune.xml')], { home });
  expect(clean.code).toBe(0);
  expect(clean.stdout).toMatch(/IN_INTEGRE \(90\).*1\/1 invoices integrated/);
  expect(JSON.parse(cli(['flows', 'list', '--json'], { home }).stdout)).toHaveLength(1);
  // A validated copy of an already processed flow is announced as a duplicate.
  expect(JSON.parse(cli(['validate', '--json', fixture('archives', 'mixed-batch.zip')], { home }).stdout).errors[0].code).toBe('FLOW_DUPLICATE');
});
