/** CDAR statuses (flow 6): the mapping table, messages out, messages in, round trips. */
import fs from 'node:fs';
import path from 'node:path';
import { cdarXml, type CdarMessage } from '../src/emit/cdar.js';
import { CDAR_REASONS, CDAR_TABLE, CDAR_WITHOUT_CPP, cdarOf, cppOf, irreceivableReason, reasonOf, rejectionReason, type CdarRow } from '../src/lifecycle/cdar.js';
import { ERRORS } from '../src/errors/catalog.js';
import { processFile } from '../src/app/run.js';
import { invoiceHistory, resolveInvoice } from '../src/app/queries.js';
import { setStatus } from '../src/app/requests.js';
import { readCdarStatuses } from '../src/formats/cdar.js';
import { readStatusUpdates, type StatusUpdate } from '../src/formats/statut.js';
import { parseXml } from '../src/xml/parse.js';
import type { IntegrationReport } from '../src/emit/report.js';
import type { Hub } from '../src/hub.js';
import { CDAR_EXAMPLES, CDAR_VALID, cdarChecks, cdvFailures, hasCdarCorpus, nativeCdvFailures } from './cdv.js';
import { closeHubs, fixture, listFiles, readJson, ROOT, tempDir, trackedHub } from './helpers.js';

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

corpusTest('every CDAR message of the table is valid against the D22B XSD and the BR-FR-CDV rules (our own and the official Schematron), to the supplier and to the PPF', () => {
  for (const row of CDAR_TABLE.filter((r) => r.cdar)) {
    const variants = [message(row), ...(row.ppf ? [message(row, { ppf: true })] : [])];
    for (const m of variants) {
      const xml = cdarXml(m);
      expect({ code: row.cdar, ppf: !!m.ppf, ...cdarChecks(xml) }).toEqual({ code: row.cdar, ppf: !!m.ppf, ...CDAR_VALID });
    }
  }
});

const SUPPLIER = '81234567800013';
const cdarFiles = (dir: string) => listFiles(dir).filter((f) => f.startsWith('CDAR_')).map((f) => path.join(dir, f));
const codeOf = (xml: string) => /<ram:ProcessConditionCode>(\d+)</.exec(xml)?.[1];

async function checkAll(files: string[]) {
  for (const f of files) {
    const xml = fs.readFileSync(f, 'utf8');
    expect({ f, ...cdarChecks(xml) }).toEqual({ f, ...CDAR_VALID });
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
  // Lifecycle and permission refusals are incoherent with the invoice's state: REJ_COH, with the error's words.
  expect(answers.map((f) => /<ram:ReasonCode>([^<]+)</.exec(fs.readFileSync(f, 'utf8'))?.[1])).toEqual(Array(8).fill('REJ_COH'));
  await checkAll(answers);
});

/** The supplier's CDAR messages read back into the model, by invoice number and status. */
function readBack(files: string[]): Map<string, StatusUpdate> {
  const all = new Map<string, StatusUpdate>();
  for (const f of files) {
    const parsed = parseXml(fs.readFileSync(f), undefined, readCdarStatuses);
    if (!parsed.ok) throw new Error(`${f}: ${parsed.errors[0]!.message}`);
    for (const u of parsed.value) all.set(`${u.number} ${u.status}`, u);
  }
  return all;
}

corpusTest('round trip CPPStatut → CDAR → CPPStatut keeps the status, the reason, the comment and the time', async () => {
  const hub = await trackedHub({ statusFormat: 'both' });
  await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true });
  const flow = (await processFile(hub, fixture('statuses', 'commune-statuses.xml'), { copy: true }))!;
  const dir = path.join(hub.layout.outbox, 'suppliers', SUPPLIER);
  const cpp = parseXml(fs.readFileSync(path.join(dir, `CPPStatut_${flow.id}.xml`)), undefined, readStatusUpdates);
  if (!cpp.ok) throw new Error('CPPStatut unreadable');
  const back = readBack(cdarFiles(dir).filter((f) => f.includes(flow.id)));
  // 07 and 06 have CDAR codes (205, 208); 08 has none, and is in the CPPStatut only.
  expect([...back.keys()].sort()).toEqual(['FA-2026-0002 07', 'FA-2026-0004 06']);
  for (const u of cpp.value.filter((x) => x.status !== '08')) {
    const b = back.get(`${u.number} ${u.status}`)!;
    expect({ status: b.status, complement: b.complement, comment: b.comment, producedAt: b.producedAt, date: b.invoiceDate })
      .toEqual({ status: u.status, complement: u.complement, comment: u.comment, producedAt: u.producedAt, date: '2026-11-02' });
  }
  await checkAll(cdarFiles(dir));
});

corpusTest('statusFormat cdar: every code the hub emits (200, 203, 205, 208, 210, 211, 213, 221, 501), with its reasons, valid, and no CPPStatut', async () => {
  const hub = await trackedHub({ statusFormat: 'cdar' });
  await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true });
  const inv = (ref: string) => resolveInvoice(hub, `${SUPPLIER}/${ref}`);
  const ok = async (ref: string, change: Parameters<typeof setStatus>[2]) => expect((await setStatus(hub, await inv(ref), change)).errors).toEqual([]);
  await ok('FA-2026-0002', { status: '07', producer: 'recipient', comment: 'Livraison conforme' });
  await ok('FA-2026-0002', { status: '08', producer: 'recipient', mandate: 'MDT-1' });
  await ok('FA-2026-0002', { status: '09', producer: 'recipient' });
  await ok('FA-2026-0002', { status: '10', producer: 'accountant' });
  await ok('FA-2026-0002', { status: '11', producer: 'accountant' });
  await ok('FA-2026-0004', { status: '05', producer: 'recipient', motif: 'DOUBLON' });
  await ok('FA-2026-0003', { status: '04', producer: 'recipient', motif: 'Service inconnu chez nous' });
  await ok('FA-2026-0001', { status: '06', producer: 'recipient', motif: 'Bon de livraison manquant' });
  await processFile(hub, fixture('mixed', 'partial.xml'), { copy: true });
  await processFile(hub, fixture('hostile', 'zero-byte-attachment.xml'), { copy: true });
  await processFile(hub, fixture('hostile', 'truncated.xml'), { copy: true });
  await processFile(hub, fixture('hostile', 'empty.xml'), { copy: true });
  await processFile(hub, fixture('hostile', 'binary.xml'), { copy: true });
  const dir = path.join(hub.layout.outbox, 'suppliers', SUPPLIER);
  expect(listFiles(dir).filter((f) => f.startsWith('CPPStatut_'))).toEqual([]);
  const files = cdarFiles(dir);
  const seen = files.map((f) => {
    const xml = fs.readFileSync(f, 'utf8');
    return `${codeOf(xml)} ${/<ram:ReasonCode>([^<]+)</.exec(xml)?.[1] ?? '-'}`;
  });
  expect([...new Set(seen)].sort()).toEqual(['200 -', '203 -', '205 -', '208 JUSTIF_ABS', '210 DOUBLON', '211 -', '213 CALCUL_ERR', '213 DEST_INC', '213 REJ_ASS_PJ', '221 ROUTAGE_ERR']);
  const reasons = readBack(files);
  expect(reasons.get('FA-2026-0003 04')!.motif).toBe('Service inconnu chez nous');
  expect(reasons.get('FA-2026-0002 07')!.comment).toBe('Livraison conforme');
  const ppf = cdarFiles(path.join(hub.layout.outbox, 'ppf')).map((f) => codeOf(fs.readFileSync(f, 'utf8')));
  expect([...new Set(ppf)].sort()).toEqual(['200', '210', '213']);
  const refused = listFiles(path.join(hub.layout.outbox, 'reports')).filter((f) => f.endsWith('_CDAR_501.xml')).map((f) => path.join(hub.layout.outbox, 'reports', f));
  expect(refused.map((f) => /<ram:ReasonCode>([^<]+)</.exec(fs.readFileSync(f, 'utf8'))?.[1]).sort()).toEqual(['IRR_SYNTAX', 'IRR_TYPE_F', 'IRR_VIDE_F']);
  await checkAll([...files, ...cdarFiles(path.join(hub.layout.outbox, 'ppf')), ...refused]);
});

test('a partner overrides the statusFormat setting for its suppliers; a bad value is refused', async () => {
  const hub = await trackedHub({ statusFormat: 'cpp' });
  await hub.ledger.transaction((tx) => tx.partners.save({ code: 'ACM001', name: 'ACME EDI', suppliers: [SUPPLIER], recipients: [], statusFormat: 'cdar' }));
  expect((await hub.ledger.partners.get('ACM001'))!.statusFormat).toBe('cdar');
  await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true });
  const files = listFiles(path.join(hub.layout.outbox, 'suppliers', SUPPLIER));
  expect(files.some((f) => f.startsWith('CDAR_'))).toBe(true);
  expect(files.some((f) => f.startsWith('CPPStatut_'))).toBe(false);
  await expect(trackedHub({ statusFormat: 'xml' as never })).rejects.toThrow(/statusFormat .* must be one of cpp, cdar, both/);
});

test("the README's CDAR table is the code's table, row for row", () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## CDAR statuses'), readme.indexOf('## The directory'));
  for (const r of CDAR_TABLE) {
    const cells = [`${r.cpp} ${r.cppName}`, r.cdar ? `${r.cdar} ${r.label!.replace(/_/g, ' ')}` : '—', r.phase ?? '', r.statusCode ?? '', r.reason ?? '', r.ppf ? 'yes' : '', r.why];
    expect(section).toContain(`| ${cells.join(' | ')} |`);
  }
  for (const [code, why] of Object.entries(CDAR_WITHOUT_CPP)) expect(section).toContain(`| ${code} | ${why} |`);
  // Every CDAR code is either in the table or said to have no Chorus Pro status, never both.
  for (const code of Object.keys(CDAR_WITHOUT_CPP)) expect(cppOf(code)).toBeUndefined();
  for (const r of CDAR_TABLE.filter((x) => x.cdar)) expect(cppOf(r.cdar!)).toBe(r.cpp);
  expect(Object.keys(CDAR_REASONS).length).toBeGreaterThan(0);
});

corpusTest('a CDAR flow refused whole (not valid against the CDAR schema) is answered 501 Irrecevable, IRR_SYNTAX', async () => {
  const hub = await trackedHub();
  const broken = adapted('UC1_F202500003_05-CDV-205_Approuvee.xml', 'FA-2026-0002', COMMUNE).replace(/<rsm:ExchangedDocument>[\s\S]*<\/rsm:ExchangedDocument>/, '');
  const { outcome, report } = await dropCdar(hub, broken);
  expect(report.errors[0]!.code).toBe('SCHEMA_INVALID');
  const answer = fs.readFileSync(path.join(hub.layout.outbox, 'reports', `${outcome.id}_CDAR_501.xml`), 'utf8');
  expect(answer).toContain('<ram:ReasonCode>IRR_SYNTAX</ram:ReasonCode>');
  expect(cdarChecks(answer)).toEqual(CDAR_VALID);
});

corpusTest('the checks are not vacuous: a reason the status does not allow fails our BR-FR-CDV rules and the official Schematron alike', () => {
  const xml = cdarXml(message(cdarOf('05')!, { reason: { code: 'JUSTIF_ABS' } }));
  const ids = (failures: string[]) => [...new Set(failures.map((f) => f.split(':')[0]))].sort();
  const official = ids(cdvFailures(xml));
  expect(official.length).toBeGreaterThan(0);
  expect(ids(nativeCdvFailures(xml))).toEqual(official);
});

corpusTest('every reason the hub gives with 213 and 501, from every error code of the catalog, is one its status allows and makes a valid message', () => {
  const codes = Object.keys(ERRORS).map((code) => ({ code }));
  const rejected = new Set(codes.map((e) => rejectionReason([e])));
  const irreceivable = new Set(codes.map((e) => irreceivableReason([e])));
  expect([...rejected].sort()).toEqual(['CALCUL_ERR', 'DEST_INC', 'DOUBLON', 'MONTANTTOTAL_ERR', 'REJ_ADR', 'REJ_ASS_PJ', 'REJ_COH', 'REJ_SEMAN']);
  expect([...irreceivable].sort()).toEqual(['IRR_SYNTAX', 'IRR_TAILLE_F', 'IRR_TYPE_F', 'IRR_VIDE_F']);
  for (const [code, reasons] of [['96', rejected], ['93', irreceivable]] as const) {
    const row = cdarOf(code)!;
    for (const reason of reasons) {
      expect(CDAR_REASONS[row.cdar!]).toContain(reason);
      const xml = cdarXml(message(row, { reason: { code: reason, text: 'Le motif' } }));
      expect({ reason, ...cdarChecks(xml) }).toEqual({ reason, ...CDAR_VALID });
    }
  }
  // The default reason of each status, and a motif that is one of its own codes, go out as they are.
  for (const row of CDAR_TABLE.filter((r) => r.reason)) expect(CDAR_REASONS[row.cdar!]).toContain(row.reason);
  expect(reasonOf(cdarOf('05')!, 'DOUBLON')).toEqual({ code: 'DOUBLON' });
  expect(reasonOf(cdarOf('05')!, 'DOUBLON: Déjà reçue')).toEqual({ code: 'DOUBLON', text: 'Déjà reçue' });
  expect(reasonOf(cdarOf('05')!, 'JUSTIF_ABS: Pièce manquante')).toEqual({ code: 'NON_CONFORME', text: 'JUSTIF_ABS: Pièce manquante' });
});

corpusTest('round trip CDAR → CPPStatut → CDAR: a refusal sent in as CDAR 210 DOUBLON reaches the supplier with its reason code, words, comment and time', async () => {
  const hub = await trackedHub({ statusFormat: 'both' });
  await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true });
  const sent = message(cdarOf('05')!, {
    invoice: { number: 'FA-2026-0002', issueDate: '2026-11-02', typeCode: '380' },
    reason: { code: 'DOUBLON', text: 'Déjà reçue sous FA-2026-0001' },
    comment: 'Voir notre courrier',
  });
  const { report } = await dropCdar(hub, cdarXml(sent), 'refusal.xml');
  expect(report.statusUpdates![0]!.errors).toEqual([]);
  const history = await invoiceHistory(hub, await resolveInvoice(hub, `${SUPPLIER}/FA-2026-0002`));
  const refused = history.events.find((h) => h.status === '05')!;
  expect({ motif: refused.motif, comment: refused.comment, at: refused.producedAt }).toEqual({ motif: 'DOUBLON: Déjà reçue sous FA-2026-0001', comment: 'Voir notre courrier', at: sent.at });
  const dir = path.join(hub.layout.outbox, 'suppliers', SUPPLIER);
  const out = cdarFiles(dir).filter((f) => f.endsWith('_210.xml'));
  expect(out.length).toBe(1);
  const back = readBack(out).get('FA-2026-0002 05')!;
  const xml = fs.readFileSync(out[0]!, 'utf8');
  expect({ code: /<ram:ReasonCode>([^<]+)</.exec(xml)?.[1], words: /<ram:Reason>([^<]+)</.exec(xml)?.[1], comment: back.comment, at: back.producedAt })
    .toEqual({ code: 'DOUBLON', words: 'Déjà reçue sous FA-2026-0001', comment: 'Voir notre courrier', at: sent.at });
  expect(back.motif).toBe(refused.motif);
  expect(listFiles(dir).some((f) => f.startsWith('CPPStatut_'))).toBe(true);
  await checkAll([...out, ...cdarFiles(path.join(hub.layout.outbox, 'ppf')).filter((f) => f.endsWith('_210.xml'))]);
});
