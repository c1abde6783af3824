/**
 * Every code of the error catalog, produced by a real input through the real component that
 * raises it: deposit and routing rules through the pure judge (milliseconds each), reading
 * through the real readers and libxml2, system faults through their mapping or the real file
 * layer. The last test fails when a code of the catalog has no case here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULTS, type Settings } from '../src/config.js';
import { writeOverlappingZip, writeTarGz, writeZip } from '../src/devtools/archives.js';
import { ERRORS, systemFault, type ErrorCode, type FlowError } from '../src/errors/catalog.js';
import { invoiceKey, serviceKey, statusTargetKey, type JudgeContext } from '../src/engine/context.js';
import { judgeFlow } from '../src/engine/judge.js';
import { requestBytes } from '../src/formats/request.js';
import { embeddingCatalog, flateStream, HOSTILE_PDFS, rawPdf } from '../src/devtools/pdfs.js';
import { makeFacturx } from './facturxPdf.js';
import type { StatusUpdate } from '../src/formats/statut.js';
import type { InvoiceRow } from '../src/ledger/stores.js';
import type { Invoice } from '../src/model/invoice.js';
import { readFlow, readFlowFile, type ReadResult } from '../src/pipeline/read.js';
import { readServices, readStructures } from '../src/route/directoryImport.js';
import { fixture, tempDir } from './helpers.js';

const settings: Settings = { ...DEFAULTS, readThreads: 0 };
const bytesOf = (...p: string[]) => fs.readFileSync(fixture(...p));

// The fixture directory, parsed by the real importer, as the judge sees it.
const structures = new Map(readStructures(fixture('directory', 'structures.csv')).structures.map((s) => [s.siret, s]));
const services = new Map(readServices(fixture('directory', 'services.csv')).services.map((s) => [serviceKey(s.siret, s.code), s]));

function context(over: Partial<JudgeContext> = {}): JudgeContext {
  return {
    channel: 'edi', sha256: 'a'.repeat(64), depositDate: '2026-11-20', partner: { kind: 'none' }, structures, services,
    earlier: new Map(), acceptedBefore: new Set(), statusTargets: new Map(), deliveredRecipients: new Map(),
    limits: { maxAttachmentBytes: DEFAULTS.maxAttachmentBytes, maxInvoiceTotalBytes: DEFAULTS.maxInvoiceTotalBytes }, ...over,
  };
}

/** Invoice 2 of the three-recipients fixture (to the commune, which requires nothing), as read. */
const base = (): Invoice => {
  const inv = readFlowFile(fixture('mixed', 'three-recipients.xml'), settings).invoices[1]!;
  return { ...inv, attachments: inv.attachments.map((a) => ({ ...a })) };
};
const judgeOne = (change: (i: Invoice) => void, ctx = context()): FlowError[] => {
  const inv = base();
  change(inv);
  return judgeFlow({ kind: 'mixed', invoices: [inv], errors: [] }, ctx).invoices[0]!.errors;
};
const flowErrors = (read: ReadResult, ctx = context()) => judgeFlow(read, ctx).flowErrors;
/** A fixture with one text replaced, read by the real reader and judged: its first invoice's errors. */
const judgeEdited = (file: string[], from: string, to: string): FlowError[] => {
  const text = bytesOf(...file).toString('utf8');
  expect(text).toContain(from);
  return judgeFlow(readFlow(Buffer.from(text.replace(from, to)), settings), context()).invoices[0]!.errors;
};

const row = (over: Partial<InvoiceRow> = {}): InvoiceRow => ({
  id: 7, flow_id: 'FFX', position: 1, label: 'NumOrdre 1', number: 'FA-1', supplier_type: '1', supplier_id: '81234567800013', supplier_name: 'ACME',
  supplier_country: 'FR', recipient_siret: '21450001200015', recipient_name: null, service_code: null, engagement: null, issue_date: '2026-11-02', type: '380',
  amount_gross: '120.00', currency: 'EUR', accepted: 1, status: '03', errors: '[]', pivot_path: 'x', renvoi: 'Non', origin_invoice_id: null, role: 'invoice', ...over,
});
const update = (over: Partial<StatusUpdate> = {}): StatusUpdate => ({ position: 1, supplierId: '81234567800013', recipientSiret: '21450001200015', number: 'FA-1', status: '07', where: {}, ...over });
const statusErrors = (u: StatusUpdate, ctx: Partial<JudgeContext> = {}, producer: 'recipient' | 'accountant' | 'platform' = 'recipient', acks: ReadResult['statuses'] extends infer S ? (S extends { acks: infer A } ? A : never) : never = []) => {
  const c = context({ statusTargets: new Map([[statusTargetKey('81234567800013', 'FA-1'), [row()]]]), ...ctx });
  const lines = judgeFlow({ kind: 'statut', invoices: [], errors: [], statuses: { producer, updates: acks.length ? [] : [u], acks } }, c).statusLines;
  return lines.flatMap((l) => l.errors);
};
/** FA-1 held at validation level 1 by 81234567800013, due 2026-12-01. */
const held = (): Partial<JudgeContext> => ({
  statusTargets: new Map([[statusTargetKey('81234567800013', 'FA-1'), [row({ status: '13', pivot_path: null })]]]),
  holds: new Map([[7, { invoice_id: 7, cadre: 'A9', validator_1: '81234567800013', validator_2: null, level: 1, due_at: '2026-12-01T00:00:00.000Z' }]]),
});
const archiveLimits = (over: Partial<Settings>) => ({ ...settings, ...over });
const ubl = bytesOf('ubl', 'invoice-commune.xml');
const ciiXml = bytesOf('cii', 'invoice-etat.xml');

type Producer = () => FlowError[] | Promise<FlowError[]>;

const CASES: Record<ErrorCode, Producer> = {
  FLOW_EMPTY: () => readFlow(Buffer.alloc(0), settings).errors,
  FLOW_TOO_LARGE: () => readFlowFile(fixture('mixed', 'partial.xml'), { ...settings, maxFlowBytes: 100 }).errors,
  FLOW_NOT_REGULAR_FILE: () => {
    const link = path.join(tempDir(), 'link.xml');
    fs.symlinkSync('/etc/passwd', link);
    return readFlowFile(link, settings).errors;
  },
  FLOW_PARTNER_UNKNOWN: () => flowErrors(readFlow(bytesOf('mixed', 'partial.xml'), settings), context({ partner: { kind: 'unknown', code: 'ZZZ999' } })),
  FLOW_DUPLICATE: () => flowErrors({ invoices: [], errors: [] }, context({ duplicateOf: 'FF1' })),
  FLOW_UNKNOWN_FORMAT: () => readFlow(Buffer.from('hello'), settings).errors,
  XML_DOCTYPE_FORBIDDEN: () => readFlow(bytesOf('hostile', 'billion-laughs.xml'), settings).errors,
  XML_NOT_WELL_FORMED: () => readFlow(bytesOf('mixed', 'not-well-formed.xml'), settings).errors,
  XML_ENCODING: () => readFlow(bytesOf('hostile', 'invalid-utf8.xml'), settings).errors,
  SCHEMA_INVALID: () => readFlow(bytesOf('mixed', 'schema-invalid.xml'), settings).errors,
  FLOW_COUNTER_MISMATCH: () => readFlow(bytesOf('mixed', 'counter-mismatch.xml'), settings).errors,
  FLOW_DUPLICATE_NUMORDRE: () => readFlow(bytesOf('hostile', 'duplicated-numordre.xml'), settings).errors,
  PDF_UNREADABLE: () => readFlow(Buffer.from('%PDF-1.7\n<<<<>>>> garbage ) ( [ ] \n'), settings).errors,
  PDF_ENCRYPTED: () => readFlow(rawPdf([...embeddingCatalog(), flateStream(ciiXml, '/Type /EmbeddedFile'), '<< /Filter /Standard /V 2 /R 3 >>'], '/Root 1 0 R /Encrypt 5 0 R'), settings).errors,
  PDF_TOO_COMPLEX: () => readFlow(HOSTILE_PDFS.deepNesting(), settings).errors,
  FACTURX_NO_INVOICE: async () => readFlow(await makeFacturx({ xml: ciiXml, fileName: 'notes.xml', level: null }), settings).errors,
  FACTURX_AMBIGUOUS: async () => readFlow(await makeFacturx({ xml: ciiXml, extra: { 'xrechnung.xml': ciiXml }, level: null }), settings).errors,
  FACTURX_PROFILE_UNKNOWN: async () => readFlow(await makeFacturx({ xml: Buffer.from(ciiXml.toString('utf8').replace('urn:cen.eu:en16931:2017<', 'urn:example:not-a-profile<')), level: null }), settings).errors,
  FACTURX_PROFILE_MISMATCH: async () => readFlow(await makeFacturx({ xml: ciiXml, level: 'BASIC' }), settings).errors,
  FACTURX_STRUCTURAL: async () => (await import('./catalogSupport.js')).facturxWithoutXmp(await makeFacturx({ xml: ciiXml, level: null })),
  FACTURX_PROFILE_NOT_ACCEPTED: () => judgeOne((i) => (i.facturx = { profile: 'MINIMUM', structural: [] })),
  ARCHIVE_CORRUPT: () => readFlow(Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(40, 1)]), settings).errors,
  ARCHIVE_TOO_MANY_ENTRIES: () => readFlow(writeZip([{ name: 'a.xml', content: ubl }, { name: 'b.xml', content: ubl }]), archiveLimits({ archiveMaxEntries: 1 })).errors,
  ARCHIVE_TOO_LARGE: () => readFlow(writeZip([{ name: 'a.xml', content: ubl }, { name: 'b.xml', content: ubl }]), archiveLimits({ archiveMaxTotalBytes: ubl.length + 10 })).errors,
  ARCHIVE_EMPTY: () => readFlow(writeTarGz([]), settings).errors,
  ARCHIVE_UNSAFE_PATH: () => [...readFlow(writeZip([{ name: '../evil.xml', content: ubl }]), settings).entryErrors!.values()].flat(),
  ARCHIVE_LINK: () => [...readFlow(writeTarGz([{ name: 'l.xml', content: '/etc/passwd', symlink: true }]), settings).entryErrors!.values()].flat(),
  ARCHIVE_NESTED: () => [...readFlow(writeZip([{ name: 'in.zip', content: writeZip([{ name: 'a.xml', content: ubl }]) }]), settings).entryErrors!.values()].flat(),
  ARCHIVE_ENTRY_TOO_LARGE: () => [...readFlow(writeZip([{ name: 'a.xml', content: ubl }]), archiveLimits({ archiveMaxEntryBytes: 100 })).entryErrors!.values()].flat(),
  ARCHIVE_OVERLAPPING_ENTRIES: () => readFlow(writeOverlappingZip(10, 1000), settings).errors,
  ARCHIVE_ENTRY_INVALID: () => [...readFlow(writeZip([{ name: 'a.txt', content: 'hello' }]), settings).entryErrors!.values()].flat(),

  RULE_SUPPLIER_ID_MISSING: () => judgeOne((i) => (i.supplier.id = '')),
  RULE_SUPPLIER_SIRET_INVALID: () => judgeOne((i) => (i.supplier.id = '81234567800014')),
  RULE_RECIPIENT_ID_MISSING: () => judgeOne((i) => (i.recipient.siret = '')),
  RULE_INVOICE_NUMBER_MISSING: () => judgeOne((i) => (i.number = '')),
  RULE_INVOICE_NUMBER_TOO_LONG: () => judgeOne((i) => (i.number = 'F'.repeat(21))),
  RULE_SERVICE_CODE_TOO_LONG: () => judgeEdited(['cii', 'invoice-etat.xml'], 'SGAMI-SUD', 'S'.repeat(101)),
  RULE_ENGAGEMENT_TOO_LONG: () => judgeEdited(['cii', 'invoice-etat.xml'], 'EJ-CII-2026-001', 'EJ-'.padEnd(51, '7')),
  RULE_CONTRACT_NUMBER_TOO_LONG: () => judgeEdited(['ubl', 'invoice-commune.xml'], 'MARCHE-2026-7', 'MARCHE-'.padEnd(51, '7')),
  RULE_ISSUE_DATE_INVALID: () => judgeOne((i) => (i.issueDate = '2026-02-30')),
  RULE_ISSUE_DATE_FUTURE: () => judgeOne((i) => (i.issueDate = '2026-11-21')),
  RULE_CURRENCY_INVALID: () => judgeOne((i) => (i.currency = 'EUX')),
  RULE_TYPE_INVALID: () => judgeOne((i) => (i.type = '386')),
  RULE_CADRE_INVALID: () => judgeOne((i) => (i.cadre = 'A11')),
  RULE_CADRE_VALIDATOR_MISSING: () => judgeOne((i) => (i.cadre = 'A9')),
  RULE_CADRE_MOE_MISSING: () => judgeOne((i) => (i.cadre = 'A4')),
  // The fixture commune is not a MOA (EstMOA Non); the circuits fixture's département is a MOA only.
  ROUTE_RECIPIENT_NOT_MOA: () => judgeOne((i) => ((i.cadre = 'A6'), (i.moe = { idType: '1', id: '49123456000028' }))),
  ROUTE_RECIPIENT_MOA_ONLY: () => judgeOne((i) => (i.recipient.siret = '21330001100011'), context({ structures: new Map(readStructures(fixture('circuits', 'structures.csv')).structures.map((s) => [s.siret, s])) })),
  VALIDATION_NOT_VALIDATOR: () => statusErrors(update({ status: '16', producerId: '49123456000028' }), held()),
  PARTNER_VALIDATOR_NOT_ALLOWED: () => statusErrors(update({ status: '16', producerId: '81234567800013' }), { ...held(), partner: { kind: 'registered', partner: { code: 'OTH001', name: 'Other', suppliers: [], recipients: [], validators: [] } } }),
  VALIDATION_DEADLINE_NOT_REACHED: () => statusErrors(update({ status: '17' }), { ...held(), receivedAt: '2026-11-20T00:00:00.000Z' }, 'platform'),
  RULE_PAYMENT_MODE_INVALID: () => judgeOne((i) => (i.paymentMeans = { code: '99' })),
  RULE_AMOUNT_INVALID: () => judgeOne((i) => (i.totals.net = '12,00')),
  RULE_AMOUNT_TTC_MISMATCH: () => judgeOne((i) => (i.totals.gross = '999.00')),
  RULE_AMOUNT_VAT_MISMATCH: () => judgeOne((i) => (i.vat[0]!.rate = '10')),
  RULE_AMOUNT_LINES_MISMATCH: () => judgeOne((i) => (i.lines = [{ unitPrice: '1.00', quantity: '1', netAmount: '1.00' }])),
  RULE_AMOUNT_OUT_OF_RANGE: () => judgeOne((i) => (i.totals.net = '1' + '0'.repeat(22))),
  RULE_AMOUNT_NEGATIVE: () => judgeOne((i) => (i.totals.payable = '-1.00')),
  RULE_ATTACHMENT_INVOICE_MISSING: () => judgeOne((i) => (i.attachments = i.attachments.map((a) => ({ ...a, type: '02' as const })))),
  RULE_ATTACHMENT_INVOICE_MULTIPLE: () => judgeOne((i) => i.attachments.push({ ...i.attachments[0]!, name: 'copy.pdf' })),
  RULE_ATTACHMENT_EMPTY: () => judgeOne((i) => (i.attachments[0]!.content = Buffer.alloc(0))),
  RULE_OFFICIAL: () => readFlow(Buffer.from(ubl.toString('utf8').replace('<cbc:ProfileID>S1</cbc:ProfileID>', '')), settings).invoices[0]!.official!.errors,
  RULE_OFFICIAL_WARNING: () => readFlow(Buffer.from(ubl.toString('utf8').replace('<cbc:ProfileID>S1</cbc:ProfileID>', '')), { ...settings, officialRulesRefuse: false }).invoices[0]!.official!.warnings,
  // Two payment due dates: the official BR-FR CII rules take string() of both and stop.
  RULE_OFFICIAL_ENGINE: () => readFlow(Buffer.from(ciiXml.toString('utf8').replace('<ram:SpecifiedTradeSettlementHeaderMonetarySummation>', `${'<ram:SpecifiedTradePaymentTerms><ram:DueDateDateTime><udt:DateTimeString format="102">20261202</udt:DateTimeString></ram:DueDateDateTime></ram:SpecifiedTradePaymentTerms>'.repeat(2)}<ram:SpecifiedTradeSettlementHeaderMonetarySummation>`)), settings).invoices[0]!.official!.errors,
  RULE_ATTACHMENT_BASE64: () => judgeOne((i) => (i.attachments[0]!.badBase64 = true)),
  RULE_ATTACHMENT_TOO_LARGE: () => judgeOne(() => undefined, context({ limits: { maxAttachmentBytes: 10, maxInvoiceTotalBytes: DEFAULTS.maxInvoiceTotalBytes } })),
  RULE_ATTACHMENTS_TOTAL_TOO_LARGE: () => judgeOne(() => undefined, context({ limits: { maxAttachmentBytes: DEFAULTS.maxAttachmentBytes, maxInvoiceTotalBytes: 10 } })),
  RULE_ATTACHMENT_NAME_TOO_LONG: () => judgeOne((i) => (i.attachments[0]!.name = `${'n'.repeat(50)}.pdf`)),
  RULE_ATTACHMENT_NAME_UNSAFE: () => judgeOne((i) => (i.attachments[0]!.name = '../../../evil.pdf')),
  RULE_ATTACHMENT_EXTENSION: () => judgeOne((i) => (i.attachments[0]!.name = 'facture.exe')),
  RULE_ATTACHMENT_ZIP_INVALID: () => judgeOne((i) => (i.attachments[0]!.badZip = true)),
  RULE_DOUBLE_INVOICING: () => judgeOne(() => undefined, context({ earlier: new Map([[invoiceKey(base()), { id: 3, flow_id: 'FF0', status: '03' }]]) })),
  RULE_DUPLICATE_IN_FLOW: () => judgeFlow({ kind: 'mixed', invoices: [base(), { ...base(), position: 2 }], errors: [] }, context()).invoices[1]!.errors,

  PARTNER_SUPPLIER_NOT_ALLOWED: () => judgeOne(() => undefined, context({ partner: { kind: 'registered', partner: { code: 'OTH001', name: 'Other', suppliers: ['53298765400011'], recipients: [] } } })),
  PARTNER_RECIPIENT_NOT_ALLOWED: () => statusErrors(update(), { partner: { kind: 'registered', partner: { code: 'OTH001', name: 'Other', suppliers: [], recipients: ['11000201100044'] } } }),

  ROUTE_RECIPIENT_ID_INVALID: () => judgeOne((i) => (i.recipient.siret = '21450001200016')),
  ROUTE_RECIPIENT_UNKNOWN: () => judgeOne((i) => (i.recipient.siret = '44100002200018')),
  ROUTE_RECIPIENT_INACTIVE: () => judgeOne((i) => (i.recipient.siret = '26450001300018')),
  ROUTE_SERVICE_REQUIRED: () => judgeOne((i) => (i.recipient = { siret: '26750000100016' })),
  ROUTE_SERVICE_UNKNOWN: () => judgeOne((i) => (i.recipient = { siret: '26750000100016', serviceCode: 'NOPE' })),
  ROUTE_SERVICE_INACTIVE: () => judgeOne((i) => (i.recipient = { siret: '26750000100016', serviceCode: 'ANCIEN-LABO' })),
  ROUTE_ENGAGEMENT_REQUIRED: () => judgeOne((i) => ((i.recipient = { siret: '21330001100011' }), (i.engagementNumber = undefined))),
  ROUTE_SERVICE_AND_ENGAGEMENT_REQUIRED: () => judgeOne((i) => ((i.recipient = { siret: '11000201100044' }), (i.engagementNumber = undefined))),

  LIFE_INVOICE_UNKNOWN: () => statusErrors(update({ number: 'FA-404' })),
  LIFE_NOT_RECIPIENT: () => statusErrors(update({ recipientSiret: '11000201100044' })),
  LIFE_STATUS_UNKNOWN: () => statusErrors(update({ status: '42' })),
  LIFE_TRANSITION_FORBIDDEN: () => statusErrors(update({ status: '10' }), {}, 'accountant'),
  LIFE_PRODUCER_FORBIDDEN: () => statusErrors(update({ status: '03' })),
  LIFE_MOTIF_REQUIRED: () => statusErrors(update({ status: '05' })),
  LIFE_MANDATE_REQUIRED: () => statusErrors(update({ status: '08' })),
  LIFE_ACK_STATUS_INVALID: () => statusErrors(update(), {}, 'recipient', [{ position: 1, flowId: 'FF1', status: '90', where: {} }]),
  LIFE_ACK_FLOW_UNKNOWN: () => statusErrors(update(), {}, 'recipient', [{ position: 1, flowId: 'FF404', status: '92', where: {} }]),
  STATUS_TEXT_TOO_LONG: () => statusErrors(update(), { deliveredRecipients: new Map([['FF1', ['21450001200015']]]) }, 'recipient', [{ position: 1, flowId: 'FF1', status: '92', complement: 'x'.repeat(41), where: {} }]),
  LIFE_AMBIGUOUS_INVOICE: () => statusErrors(update(), { statusTargets: new Map([[statusTargetKey('81234567800013', 'FA-1'), [row(), row({ id: 8, issue_date: '2025-11-02' })]]]) }),

  INPUT_NOT_FOUND: async () => {
    const { completeInvoiceMissingFile } = await import('./catalogSupport.js');
    return completeInvoiceMissingFile();
  },
  REQUEST_CHANNEL_FORBIDDEN: () => readFlow(requestBytes({ factflowRequest: 1, action: 'status', producer: 'recipient', updates: [] }), settings, 'edi').errors,

  SYS_DISK_FULL: () => [systemFault(Object.assign(new Error('write failed'), { code: 'ENOSPC', path: '/srv/out' })).fault],
  SYS_PERMISSION_DENIED: () => [systemFault(Object.assign(new Error('open failed'), { code: 'EACCES', path: '/srv/out' })).fault],
  SYS_IO_ERROR: () => [systemFault(Object.assign(new Error('read failed'), { code: 'EIO', path: '/srv/out' })).fault],
  SYS_SOURCE_MISSING: async () => (await import('./catalogSupport.js')).deliverWithoutSource(),
  SYS_SOURCE_CHANGED: async () => (await import('./catalogSupport.js')).deliverFromChangedSource(),
  SYS_LEDGER_UNAVAILABLE: async () => (await import('./catalogSupport.js')).openCorruptLedger(),
  SYS_WORKER_FAILED: async () => (await import('./catalogSupport.js')).crashAWorker(),
  SYS_UNEXPECTED: () => [systemFault(new Error('something else')).fault],
};

describe('every catalog code is produced by a real input', () => {
  test.each(Object.keys(CASES) as ErrorCode[])('%s', async (code) => {
    const produced = await CASES[code]();
    expect(produced.map((e) => `${e.code}: ${e.message}`).join("\n")).toContain(code);
    const e = produced.find((p) => p.code === code)!;
    // Every placeholder was filled: typed params make a missing one a compile error, this checks the rest.
    expect(e.message).not.toMatch(/\{\w+\}|undefined/);
  });

  test('the catalog has no code without a case above', () => {
    expect(Object.keys(ERRORS).filter((c) => !(c in CASES))).toEqual([]);
  });
});
