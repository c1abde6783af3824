/** The core pipeline, through the real components: SQLite file, folders, libxml2 validation. */
import fs from 'node:fs';
import path from 'node:path';
import { decideFlows } from '../src/app/decide.js';
import { deliverFlows } from '../src/app/deliver.js';
import { processFile, runFlow } from '../src/app/run.js';
import { systemFault } from '../src/errors/catalog.js';
import { claimFile } from '../src/ingest/claim.js';
import { flowInvoices } from '../src/pipeline/flowInvoices.js';
import type { IntegrationReport } from '../src/emit/report.js';
import { DEFAULTS } from '../src/config.js';
import { readFlowFile } from '../src/pipeline/read.js';
import { storedBytesReader } from '../src/pipeline/storedBytes.js';
import { closeHubs, deliveredInvoices, fixture, listFiles, ownSchema, readJson, schemaErrors, tempDir, trackedHub, variant } from './helpers.js';

afterEach(closeHubs);

const report = (home: string, flowId: string) => readJson<IntegrationReport>(path.join(home, 'outbox', 'reports', `${flowId}.json`));

describe('a mixed flow for three recipients', () => {
  test('becomes one pivot per recipient, statuses 01 and 03 for the supplier, and an IN_INTEGRE report', async () => {
    const hub = await trackedHub();
    const home = hub.layout.home;
    const flow = (await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true }))!;
    expect(flow.state).toBe('IN_INTEGRE');
    expect(flow.status_code).toBe('90');

    const pivots = listFiles(path.join(home, 'outbox', 'recipients'));
    expect(pivots).toEqual([
      `11000201100044/CPPFacturePivot_${flow.id}.xml`,
      `21450001200015/CPPFacturePivot_${flow.id}.xml`,
      `26750000100016/CPPFacturePivot_${flow.id}.xml`,
    ]);
    for (const p of pivots) expect(schemaErrors(ownSchema('CPPFacturePivot.xsd'), path.join(home, 'outbox', 'recipients', p))).toEqual([]);
    const commune = fs.readFileSync(path.join(home, 'outbox', 'recipients', pivots[1]!), 'utf8');
    expect(commune).toContain('<CPPFactures Compteur="2">');
    expect(commune).toContain('<Id>FA-2026-0002</Id>');
    expect(commune).toContain('<Id>FA-2026-0004</Id>');
    expect(commune).not.toContain('FA-2026-0001');

    // Every invoice delivered exactly once across the pivots.
    expect([...deliveredInvoices(home).values()]).toEqual([1, 1, 1, 1]);

    // The supplier's statuses: 01 then 03 for each invoice.
    const statusFile = path.join(home, 'outbox', 'suppliers', '81234567800013', `CPPStatut_${flow.id}.xml`);
    expect(schemaErrors(ownSchema('CPPStatut.xsd'), statusFile)).toEqual([]);
    const statuses = [...fs.readFileSync(statusFile, 'utf8').matchAll(/<IdStatut>(\d+)<\/IdStatut>/g)].map((m) => m[1]);
    expect(statuses.filter((s) => s === '01')).toHaveLength(4);
    expect(statuses.filter((s) => s === '03')).toHaveLength(4);
    expect((await hub.ledger.invoices.ofFlow(flow.id)).map((i) => i.status)).toEqual(['03', '03', '03', '03']);

    const r = report(home, flow.id);
    expect(r).toMatchObject({ flowId: flow.id, file: 'three-recipients.xml', state: 'IN_INTEGRE', statusCode: '90', errors: [] });
    expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.invoices.map((i) => i.status)).toEqual(['ACCEPTED', 'ACCEPTED', 'ACCEPTED', 'ACCEPTED']);
    expect(r.invoices[0]).toMatchObject({ number: 'FA-2026-0001', recipient: '11000201100044', serviceCode: 'SGAMI-SUD', engagement: '1300012345' });
    expect(schemaErrors(ownSchema('CPPStatut.xsd'), path.join(home, 'outbox', 'reports', `${flow.id}.xml`))).toEqual([]);

    // The source is archived under the deposit date; nothing stays in the spool or inbox.
    expect(listFiles(path.join(home, 'archive'))).toEqual([expect.stringMatching(new RegExp(`^\\d{4}/\\d{2}/\\d{2}/${flow.id}__three-recipients\\.xml$`))]);
    expect(listFiles(hub.layout.spool)).toEqual([]);
    expect((await hub.ledger.flows.get(flow.id))!.stage).toBe('DONE');
  });

  test('a PJ type 01 carries the PDF as base64 of a zip holding that one file', async () => {
    const hub = await trackedHub();
    const flow = (await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true }))!;
    const xml = fs.readFileSync(path.join(hub.layout.outbox, 'recipients', '11000201100044', `CPPFacturePivot_${flow.id}.xml`), 'utf8');
    const content = /<Contenu>([^<]+)<\/Contenu>/.exec(xml)![1]!;
    const { unzipOne } = await import('../src/util/zip.js');
    const zip = Buffer.from(content, 'base64');
    expect(zip.subarray(0, 4).toString('latin1')).toBe('PK\x03\x04');
    const inner = unzipOne(zip, 1e7)!;
    expect(inner.name).toBe('FA-2026-0001.pdf');
    expect(inner.content.subarray(0, 5).toString()).toBe('%PDF-');
  });
});

describe('per-invoice decisions inside a valid flow', () => {
  test('accepted and rejected invoices in one flow give IN_INTEGRE_PARTIEL (96) and a pivot of the accepted ones only', async () => {
    const hub = await trackedHub();
    const flow = (await processFile(hub, fixture('mixed', 'partial.xml'), { copy: true }))!;
    expect(flow.state).toBe('IN_INTEGRE_PARTIEL');
    expect(flow.status_code).toBe('96');
    const r = report(hub.layout.home, flow.id);
    expect(r.invoices.map((i) => [i.number, i.status, i.errors.map((e) => e.code)])).toEqual([
      ['FA-2026-0101', 'ACCEPTED', []],
      ['FA-2026-0102', 'REJECTED', ['ROUTE_RECIPIENT_UNKNOWN']],
      ['FA-2026-0103', 'REJECTED', ['RULE_AMOUNT_TTC_MISMATCH']],
    ]);
    // Errors say where: line and element path of the offending invoice.
    expect(r.invoices[1]!.errors[0]).toMatchObject({ line: expect.any(Number), element: '/CPPFactureMixte/CPPFactures/CPPFactureMixteUnitaire[2]/Debiteur/Identifiant' });
    expect([...deliveredInvoices(hub.layout.home).keys()]).toEqual(['81234567800013/FA-2026-0101']);
    // A partial flow is archived (some of it was integrated).
    expect(listFiles(hub.layout.failed)).toEqual([]);
  });

  test('each routing failure has its own code', async () => {
    const hub = await trackedHub();
    const flow = (await processFile(hub, fixture('mixed', 'routing-errors.xml'), { copy: true }))!;
    expect(flow.state).toBe('IN_REJETE');
    expect(flow.status_code).toBe('93');
    const codes = report(hub.layout.home, flow.id).invoices.map((i) => i.errors.map((e) => e.code));
    expect(codes).toEqual([
      ['ROUTE_RECIPIENT_INACTIVE'],
      ['ROUTE_SERVICE_INACTIVE'],
      ['ROUTE_SERVICE_REQUIRED'],
      ['ROUTE_ENGAGEMENT_REQUIRED'],
      ['ROUTE_SERVICE_AND_ENGAGEMENT_REQUIRED'],
      ['ROUTE_ENGAGEMENT_REQUIRED'],
      ['ROUTE_SERVICE_UNKNOWN'],
      ['ROUTE_RECIPIENT_ID_INVALID'],
    ]);
    expect(listFiles(path.join(hub.layout.home, 'outbox', 'recipients'))).toEqual([]);
    // No invoice accepted: no lifecycle status file for the supplier.
    expect(listFiles(path.join(hub.layout.home, 'outbox', 'suppliers'))).toEqual([]);
  });

  test('each deposit rule failure has its own code', async () => {
    const hub = await trackedHub();
    const flow = (await processFile(hub, fixture('mixed', 'rule-errors.xml'), { copy: true }))!;
    const codes = report(hub.layout.home, flow.id).invoices.map((i) => i.errors.map((e) => e.code));
    expect(codes).toEqual([
      ['RULE_AMOUNT_TTC_MISMATCH'],
      ['RULE_AMOUNT_VAT_MISMATCH'],
      ['RULE_AMOUNT_LINES_MISMATCH'],
      ['RULE_ISSUE_DATE_FUTURE', 'RULE_CURRENCY_INVALID'],
      ['RULE_SUPPLIER_SIRET_INVALID'],
      ['RULE_INVOICE_NUMBER_TOO_LONG'],
      ['RULE_ATTACHMENT_EXTENSION'],
    ]);
  });

  test('the same invoice number from the same supplier in the same year is double invoicing', async () => {
    const hub = await trackedHub();
    await processFile(hub, fixture('mixed', 'partial.xml'), { copy: true });
    // Different bytes (a new flow id in the envelope), same first invoice.
    const again = variant(fixture('mixed', 'partial.xml'), path.join(tempDir(), 'resent.xml'), [['ACME-20261103-02', 'ACME-20261104-09']]);
    const flow = (await processFile(hub, again, { copy: true }))!;
    const first = report(hub.layout.home, flow.id).invoices[0]!;
    expect(first.errors.map((e) => e.code)).toEqual(['RULE_DOUBLE_INVOICING']);
    expect(first.errors[0]!.message).toContain('FA-2026-0101');
    expect(deliveredInvoices(hub.layout.home).get('81234567800013/FA-2026-0101')).toBe(1);
  });
});

describe('flows refused whole (QP_IRRECEVABLE, 93)', () => {
  test.each([
    ['schema-invalid.xml', 'SCHEMA_INVALID', /MontantHT/],
    ['not-well-formed.xml', 'XML_NOT_WELL_FORMED', /Fournisseur/],
    ['counter-mismatch.xml', 'FLOW_COUNTER_MISMATCH', /Compteur says 3 invoices but the flow holds 2/],
  ])('%s → %s with line, column or element', async (file, code, message) => {
    const hub = await trackedHub();
    const flow = (await processFile(hub, fixture('mixed', file), { copy: true }))!;
    expect(flow.state).toBe('QP_IRRECEVABLE');
    expect(flow.status_code).toBe('93');
    const r = report(hub.layout.home, flow.id);
    expect(r.errors[0]).toMatchObject({ code, line: expect.any(Number) });
    expect(r.errors[0]!.message).toMatch(message);
    expect(r.invoices).toEqual([]);
    // Moved to failed/ with its report beside it; nothing delivered.
    const failed = listFiles(hub.layout.failed);
    expect(failed).toEqual([`${flow.id}__${file}`, `${flow.id}__${file}.report.json`, `${flow.id}__${file}.report.xml`]);
    expect(listFiles(path.join(hub.layout.outbox, 'recipients'))).toEqual([]);
  });

  test('schema errors name the element by its path', async () => {
    const hub = await trackedHub();
    const flow = (await processFile(hub, fixture('mixed', 'schema-invalid.xml'), { copy: true }))!;
    expect(report(hub.layout.home, flow.id).errors[0]!.element).toBe('/CPPFactureMixte/CPPFactures/CPPFactureMixteUnitaire/DonneesFacture/Montants/MontantHT');
  });

  test('a DOCTYPE is refused before parsing, so no entity is ever expanded', async () => {
    const hub = await trackedHub();
    const file = variant(fixture('mixed', 'three-recipients.xml'), path.join(tempDir(), 'xxe.xml'), [
      ['<?xml version="1.0" encoding="UTF-8"?>\n', '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE CPPFactureMixte [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'],
      ['<RaisonSociale>ACME FOURNITURES SAS</RaisonSociale>', '<RaisonSociale>&x;</RaisonSociale>'],
    ]);
    const flow = (await processFile(hub, file, { copy: true }))!;
    expect(report(hub.layout.home, flow.id).errors).toEqual([expect.objectContaining({ code: 'XML_DOCTYPE_FORBIDDEN', line: 2 })]);
    expect(fs.readFileSync(path.join(hub.layout.outbox, 'reports', `${flow.id}.json`), 'utf8')).not.toContain('root:');
  });

  test('an unknown XML document and a binary file are reported as what they are', async () => {
    const hub = await trackedHub();
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'order.xml'), '<Order xmlns="urn:example:order"><Id>1</Id></Order>');
    fs.writeFileSync(path.join(dir, 'image.bin'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]));
    fs.writeFileSync(path.join(dir, 'empty.xml'), '');
    const codes: string[][][] = [];
    for (const f of ['order.xml', 'image.bin', 'empty.xml']) {
      const flow = (await processFile(hub, path.join(dir, f), { copy: true }))!;
      codes.push(report(hub.layout.home, flow.id).errors.map((e) => [e.code, e.message]));
    }
    expect(codes[0]![0]![0]).toBe('FLOW_UNKNOWN_FORMAT');
    expect(codes[0]![0]![1]).toContain('{urn:example:order}Order');
    expect(codes[1]![0]![0]).toBe('FLOW_UNKNOWN_FORMAT');
    expect(codes[2]![0]![0]).toBe('FLOW_EMPTY');
  });
});

describe('duplicate flows', () => {
  test('the same bytes dropped again are refused with a report naming the earlier flow, and nothing is re-emitted', async () => {
    const hub = await trackedHub();
    const first = (await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true }))!;
    const before = listFiles(path.join(hub.layout.outbox, 'recipients'));
    const second = (await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true }))!;
    expect(second.state).toBe('QP_IRRECEVABLE');
    expect(second.duplicate_of).toBe(first.id);
    const r = report(hub.layout.home, second.id);
    expect(r.duplicateOf).toBe(first.id);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'FLOW_DUPLICATE' })]);
    expect(r.errors[0]!.message).toContain(first.id);
    expect(listFiles(path.join(hub.layout.outbox, 'recipients'))).toEqual(before);
    expect([...deliveredInvoices(hub.layout.home).values()]).toEqual([1, 1, 1, 1]);
  });
});

describe('large mixed flows are read one invoice at a time, with the same verdicts', () => {
  const comparable = (r: IntegrationReport) => ({
    state: r.state,
    errors: r.errors.map((e) => ({ code: e.code, line: e.line, element: e.element })),
    invoices: r.invoices.map((i) => ({ label: i.label, number: i.number, status: i.status, errors: i.errors.map((e) => ({ code: e.code, line: e.line, element: e.element, message: e.message })) })),
  });
  const normalise = (home: string, id: string) =>
    listFiles(path.join(home, 'outbox', 'recipients')).map((f) => fs.readFileSync(path.join(home, 'outbox', 'recipients', f), 'utf8').replaceAll(id, 'FLOW').replace(/\d{4}-\d{2}-\d{2}T[\d:.]+Z/g, 'T'));

  test.each(['three-recipients.xml', 'partial.xml', 'rule-errors.xml', 'routing-errors.xml', 'counter-mismatch.xml', 'schema-invalid.xml'])('%s', async (file) => {
    const whole = await trackedHub();
    const parts = await trackedHub({ chunkAboveBytes: 1 });
    const a = (await processFile(whole, fixture('mixed', file), { copy: true }))!;
    const b = (await processFile(parts, fixture('mixed', file), { copy: true }))!;
    expect(comparable(report(parts.layout.home, b.id))).toEqual(comparable(report(whole.layout.home, a.id)));
    // The same pivots, byte for byte apart from the flow id and dates.
    expect(normalise(parts.layout.home, b.id)).toEqual(normalise(whole.layout.home, a.id));
  });

  test('a schema error in the third invoice has the same line and element either way', async () => {
    const file = variant(fixture('mixed', 'partial.xml'), path.join(tempDir(), 'third-bad.xml'), [[/(<CPPFactureMixteUnitaire NumOrdre="3">[\s\S]*?<MontantTVA>)20.00</, '$1vingt<']]);
    const whole = await trackedHub();
    const parts = await trackedHub({ chunkAboveBytes: 1 });
    const a = report(whole.layout.home, (await processFile(whole, file, { copy: true }))!.id);
    const b = report(parts.layout.home, (await processFile(parts, file, { copy: true }))!.id);
    expect(a.errors).toEqual([expect.objectContaining({ code: 'SCHEMA_INVALID', element: '/CPPFactureMixte/CPPFactures/CPPFactureMixteUnitaire[3]/DonneesFacture/TVAS/TVA/MontantTVA' })]);
    expect(comparable(b)).toEqual(comparable(a));
  });

  test('their attachments are held as places in the file, and read back as the very bytes', () => {
    const file = fixture('mixed', 'three-recipients.xml');
    const whole = readFlowFile(file, DEFAULTS).invoices.flatMap((i) => i.attachments);
    const parts = readFlowFile(file, { ...DEFAULTS, chunkAboveBytes: 1 }).invoices.flatMap((i) => i.attachments);
    expect(whole.length).toBeGreaterThan(0);
    expect(parts.map((a) => [a.content, a.stored?.file, a.stored?.size])).toEqual(whole.map((a) => [undefined, file, a.content!.length]));
    const stored = storedBytesReader();
    try {
      expect(parts.map((a) => stored.bytesOf(a))).toEqual(whole.map((a) => a.content));
    } finally {
      stored.close();
    }
  });

  test('after the decision their invoices are read again one at a time, as the first reading gave them', () => {
    const file = fixture('mixed', 'three-recipients.xml');
    expect(readFlowFile(file, { ...DEFAULTS, chunkAboveBytes: 1 }).inUnits).toBe(true);
    const first = readFlowFile(file, DEFAULTS);
    expect(first.inUnits).toBeUndefined();
    // Read on its own, an invoice holds its attachments: what the whole-file reading gives.
    for (const settings of [{ ...DEFAULTS, chunkAboveBytes: 1 }, DEFAULTS]) {
      const again = flowInvoices(file, settings, 'edi');
      try {
        // Locations compared by what they say (a location's element path is made when read).
        const plain = (i: unknown) => JSON.parse(JSON.stringify(i));
        expect(first.invoices.map((i) => plain(again.at(i.position)))).toEqual(first.invoices.map(plain));
        expect([again.at(0), again.at(first.invoices.length + 1)]).toEqual([undefined, undefined]);
      } finally {
        again.close();
      }
    }
  });

  test('an invoice that no longer reads when its pivot is written is a fault: the flow stays decided, and is delivered once the file is back', async () => {
    const hub = await trackedHub({ chunkAboveBytes: 1 });
    const id = (await claimFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true }))!;
    const [decided] = await decideFlows(hub, [(await hub.ledger.flows.get(id))!]);
    expect(decided && 'read' in decided && decided.read.inUnits).toBe(true);
    const spooled = path.join(hub.layout.spool, id);
    const original = fs.readFileSync(spooled);
    fs.writeFileSync(spooled, original.toString('utf8').replace(/(<MontantHT>)([\d.]+)(<\/MontantHT>)/, '$1douze$3'));
    const [fault] = await deliverFlows(hub, [{ flow: (await hub.ledger.flows.get(id))! }]);
    expect(fault instanceof Error && systemFault(fault).fault.code).toBe('SYS_SOURCE_CHANGED');
    expect((await hub.ledger.flows.get(id))!.stage).toBe('DECIDED');
    expect(listFiles(path.join(hub.layout.outbox, 'recipients'))).toEqual([]);
    fs.writeFileSync(spooled, original);
    expect((await runFlow(hub, id)).state).toBe('IN_INTEGRE');
    expect([...deliveredInvoices(hub.layout.home).values()]).toEqual([1, 1, 1, 1]);
    // Read again one at a time, the invoices make the pivots the whole-file reading makes.
    const whole = await trackedHub();
    const a = (await processFile(whole, fixture('mixed', 'three-recipients.xml'), { copy: true }))!;
    expect(normalise(hub.layout.home, id)).toEqual(normalise(whole.layout.home, a.id));
  });

  test.each([['read in parts', 1], ['read whole', undefined]])('%s, a source whose invoice is no longer the one decided delivers nothing', async (_, chunkAboveBytes) => {
    const hub = await trackedHub(chunkAboveBytes ? { chunkAboveBytes } : {});
    const id = (await claimFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true }))!;
    await decideFlows(hub, [(await hub.ledger.flows.get(id))!]);
    const spooled = path.join(hub.layout.spool, id);
    fs.writeFileSync(spooled, fs.readFileSync(spooled, 'utf8').replace('FA-2026-0001', 'FA-2026-0099'));
    const [fault] = await deliverFlows(hub, [{ flow: (await hub.ledger.flows.get(id))! }]);
    expect(fault instanceof Error && systemFault(fault).fault.message).toContain('invoice 1 is no longer FA-2026-0001');
    expect(listFiles(path.join(hub.layout.outbox, 'recipients'))).toEqual([]);
  });

  test('a duplicated NumOrdre and a lying Compteur are caught across parts', async () => {
    const parts = await trackedHub({ chunkAboveBytes: 1 });
    const dup = (await processFile(parts, fixture('hostile', 'duplicated-numordre.xml'), { copy: true }))!;
    expect(report(parts.layout.home, dup.id).errors.map((e) => e.code)).toEqual(['FLOW_DUPLICATE_NUMORDRE']);
    const lying = (await processFile(parts, fixture('hostile', 'lying-compteur.xml'), { copy: true }))!;
    expect(report(parts.layout.home, lying.id).errors.map((e) => e.code)).toEqual(['FLOW_COUNTER_MISMATCH']);
  });
});
