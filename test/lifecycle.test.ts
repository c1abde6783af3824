/** The invoice lifecycle: statuses sent in by recipients, the CLI, recycling, completion, duplicates. */
import fs from 'node:fs';
import path from 'node:path';
import { invoiceStatusesXml, type StatusEntry } from '../src/emit/statuses.js';
import { checkTransition, LIFECYCLE } from '../src/lifecycle/statuses.js';
import { completeInvoice, setStatus } from '../src/app/requests.js';
import { invoiceHistory, resolveInvoice } from '../src/app/queries.js';
import { processFile } from '../src/app/run.js';
import type { Hub } from '../src/hub.js';
import type { IntegrationReport } from '../src/emit/report.js';
import { AIFE, closeHubs, fixture, hasShared, listFiles, ownSchema, readJson, schemaErrors, tempDir, trackedHub, variant } from './helpers.js';

afterEach(closeHubs);

const SUPPLIER = '81234567800013';
const COMMUNE = '21450001200015';
const HOSPITAL = '26750000100016';
const STATE = '11000201100044';

const report = (hub: Hub, flowId: string) => readJson<IntegrationReport>(path.join(hub.layout.outbox, 'reports', `${flowId}.json`));

/** A recipient's status file, as its EDI system would drop it. */
async function dropStatuses(hub: Hub, updates: { number: string; status: string; recipient: string; motif?: string; mandate?: string }[]) {
  const entries: StatusEntry[] = updates.map((u) => ({
    supplier: { idType: '1', id: SUPPLIER, name: 'ACME FOURNITURES SAS', countryCode: 'FR' },
    recipient: { siret: u.recipient },
    status: u.status,
    complement: u.motif,
    at: '2026-11-20T10:00:00+01:00',
    invoiceNumber: u.number,
    mandate: u.mandate,
  }));
  const file = path.join(tempDir(), 'statuts.xml');
  fs.writeFileSync(file, invoiceStatusesXml('REC-1', '2026-11-20', { id: 'FFL001' }, { id: 'MAI001' }, entries));
  return (await processFile(hub, file, { copy: true }))!;
}

/** Statuses the supplier received, in order, for one invoice number, across its status files. */
function supplierStatuses(hub: Hub, number: string): string[] {
  const dir = path.join(hub.layout.outbox, 'suppliers', SUPPLIER);
  const files = listFiles(dir).map((f) => ({ f, t: fs.statSync(path.join(dir, f)).mtimeMs })).sort((a, b) => a.t - b.t || a.f.localeCompare(b.f));
  return files.flatMap(({ f }) =>
    [...fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/<IdStatut>(\d+)<\/IdStatut>[\s\S]*?<IdFacture>([^<]+)<\/IdFacture>/g)].filter((m) => m[2] === number).map((m) => m[1]!),
  );
}

async function delivered(): Promise<Hub> {
  const hub = await trackedHub();
  await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true });
  return hub;
}

test('the transition table: terminal statuses are terminal; 04, 05, 06 need a motif; 08 a mandate', async () => {
  for (const s of LIFECYCLE.filter((r) => r.terminal)) {
    expect(LIFECYCLE.some((r) => r.from.includes(s.code))).toBe(false);
  }
  expect(checkTransition({ number: 'X', from: '03', to: '05', producer: 'recipient' }).map((e) => e.code)).toEqual(['LIFE_MOTIF_REQUIRED']);
  expect(checkTransition({ number: 'X', from: '03', to: '08', producer: 'recipient' }).map((e) => e.code)).toEqual(['LIFE_MANDATE_REQUIRED']);
  expect(checkTransition({ number: 'X', from: '03', to: '07', producer: 'supplier' }).map((e) => e.code)).toEqual(['LIFE_PRODUCER_FORBIDDEN']);
  expect(checkTransition({ number: 'X', from: '05', to: '07', producer: 'recipient' }).map((e) => e.code)).toEqual(['LIFE_TRANSITION_FORBIDDEN']);
  expect(checkTransition({ number: 'X', from: '03', to: 'SERVICE_FAIT', producer: 'recipient' })).toEqual([]);
  expect(checkTransition({ number: 'X', from: '03', to: '42', producer: 'recipient' }).map((e) => e.code)).toEqual(['LIFE_STATUS_UNKNOWN']);
});

test('from deposit to payment: the recipient by status files, the accountant by CLI; the supplier follows every step', async () => {
  const hub = await delivered();
  expect((await dropStatuses(hub, [{ number: 'FA-2026-0002', status: '07', recipient: COMMUNE }])).state).toBe('IN_INTEGRE');
  expect((await dropStatuses(hub, [{ number: 'FA-2026-0002', status: '08', recipient: COMMUNE, mandate: 'MDT-2026-118' }, { number: 'FA-2026-0002', status: '09', recipient: COMMUNE }])).state).toBe('IN_INTEGRE');
  const inv = await resolveInvoice(hub, `${SUPPLIER}/FA-2026-0002`);
  expect((await setStatus(hub, inv, { status: 'COMPTABILISEE', producer: 'accountant' })).errors).toEqual([]);
  expect((await setStatus(hub, await resolveInvoice(hub, 'FA-2026-0002'), { status: '11', producer: 'accountant' })).errors).toEqual([]);

  expect(supplierStatuses(hub, 'FA-2026-0002')).toEqual(['01', '03', '07', '08', '09', '10', '11']);
  const dir = path.join(hub.layout.outbox, 'suppliers', SUPPLIER);
  for (const f of listFiles(dir)) expect(schemaErrors(ownSchema('CPPStatut.xsd'), path.join(dir, f))).toEqual([]);
  if (hasShared) for (const f of listFiles(dir)) expect(schemaErrors(path.join(AIFE, 'CPPStatutPivot_V1_19.xsd'), path.join(dir, f))).toEqual([]);
  expect(fs.readFileSync(path.join(dir, listFiles(dir).find((f) => fs.readFileSync(path.join(dir, f), 'utf8').includes('MDT-2026-118'))!), 'utf8')).toContain('<IdMandatDP>MDT-2026-118</IdMandatDP>');

  const { events } = await invoiceHistory(hub, await resolveInvoice(hub, 'FA-2026-0002'));
  expect(events.map((e) => [e.status, e.producer])).toEqual([
    ['01', 'platform'], ['03', 'platform'], ['07', 'recipient'], ['08', 'recipient'], ['09', 'recipient'], ['10', 'accountant'], ['11', 'accountant'],
  ]);
  // 11 is terminal.
  expect((await setStatus(hub, await resolveInvoice(hub, 'FA-2026-0002'), { status: '07', producer: 'recipient' })).errors.map((e) => e.code)).toEqual(['LIFE_TRANSITION_FORBIDDEN']);
});

test('in one status file, valid updates apply and refused ones are reported with their code and change nothing', async () => {
  const hub = await delivered();
  const flow = await dropStatuses(hub, [
    { number: 'FA-2026-0002', status: '07', recipient: COMMUNE },
    { number: 'NO-SUCH-INVOICE', status: '07', recipient: COMMUNE },
    { number: 'FA-2026-0001', status: '07', recipient: COMMUNE }, // addressed to the State, not the commune
    { number: 'FA-2026-0004', status: '11', recipient: COMMUNE }, // the recipient cannot pay
    { number: 'FA-2026-0004', status: '05', recipient: COMMUNE }, // reject without motif
    { number: 'FA-2026-0004', status: '06', recipient: COMMUNE, motif: 'Bon de commande manquant' },
  ]);
  expect(flow.state).toBe('IN_INTEGRE_PARTIEL');
  const r = report(hub, flow.id);
  expect(r.statusUpdates!.map((u) => [u.number, u.status, u.errors.map((e) => e.code)])).toEqual([
    ['FA-2026-0002', 'ACCEPTED', []],
    ['NO-SUCH-INVOICE', 'REJECTED', ['LIFE_INVOICE_UNKNOWN']],
    ['FA-2026-0001', 'REJECTED', ['LIFE_NOT_RECIPIENT']],
    ['FA-2026-0004', 'REJECTED', ['LIFE_PRODUCER_FORBIDDEN']],
    ['FA-2026-0004', 'REJECTED', ['LIFE_MOTIF_REQUIRED']],
    ['FA-2026-0004', 'ACCEPTED', []],
  ]);
  expect((await resolveInvoice(hub, 'FA-2026-0001')).status).toBe('03');
  expect((await resolveInvoice(hub, 'FA-2026-0004')).status).toBe('06');
  // The sender gets the report like for any flow.
  expect(schemaErrors(ownSchema('CPPStatut.xsd'), path.join(hub.layout.outbox, 'reports', `${flow.id}.xml`))).toEqual([]);
});

test('recycling: after 04 the supplier resends the same number with corrected routing; it is delivered with Renvoi=Recyclée', async () => {
  const hub = await delivered();
  // The State sends FA-2026-0001 back: wrong service.
  expect((await dropStatuses(hub, [{ number: 'FA-2026-0001', status: '04', recipient: STATE, motif: 'Code service erroné' }])).state).toBe('IN_INTEGRE');
  // The supplier resends it (same number) to the hospital's pharmacy with its engagement number.
  const resent = variant(fixture('mixed', 'three-recipients.xml'), path.join(tempDir(), 'recycled.xml'), [
    ['ACME-20261103-01', 'ACME-20261110-07'],
    ['<Identifiant>11000201100044</Identifiant>\n        <Nom>ETAT</Nom>\n        <CodeService>SGAMI-SUD</CodeService>', `<Identifiant>${HOSPITAL}</Identifiant>\n        <Nom>CH</Nom>\n        <CodeService>PHARMACIE</CodeService>`],
  ]);
  const flow = (await processFile(hub, resent, { copy: true }))!;
  const codes = report(hub, flow.id).invoices.map((i) => [i.number, i.errors.map((e) => e.code)]);
  expect(codes[0]).toEqual(['FA-2026-0001', []]); // recycled, not a duplicate
  expect(codes.slice(1).every(([, c]) => (c as string[])[0] === 'RULE_DOUBLE_INVOICING')).toBe(true);
  const pivot = fs.readFileSync(path.join(hub.layout.outbox, 'recipients', HOSPITAL, `CPPFacturePivot_${flow.id}.xml`), 'utf8');
  expect(pivot).toContain('<Renvoi>Recyclée</Renvoi>');
  const { chain, events } = await invoiceHistory(hub, await resolveInvoice(hub, 'FA-2026-0001'));
  expect(chain.map((c) => [c.recipient_siret, c.renvoi, c.status])).toEqual([[STATE, 'Non', '04'], [HOSPITAL, 'Recyclée', '03']]);
  expect(events.map((e) => e.status)).toEqual(['01', '03', '04', '01', '03']);
  // Updates now reach the new delivery.
  expect((await dropStatuses(hub, [{ number: 'FA-2026-0001', status: '07', recipient: HOSPITAL }])).state).toBe('IN_INTEGRE');
});

test('completion by a resent mixed flow: 06 → 12 → 03, delivered again with Renvoi=Complétée and the new documents', async () => {
  const hub = await delivered();
  await dropStatuses(hub, [{ number: 'FA-2026-0002', status: '06', recipient: COMMUNE, motif: 'PV de réception manquant' }]);
  const original = await resolveInvoice(hub, 'FA-2026-0002');
  const full = fs.readFileSync(fixture('mixed', 'three-recipients.xml'), 'utf8');
  // Only invoice 2, with an extra document.
  const unit = /<CPPFactureMixteUnitaire NumOrdre="2">[\s\S]*?<\/CPPFactureMixteUnitaire>\n/.exec(full)![0]
    .replace('NumOrdre="2"', 'NumOrdre="1"')
    .replace('</PJ>', `</PJ>\n      <PJ NumOrdre="2">\n        <Contenu>${Buffer.from('%PDF-1.4 PV de réception').toString('base64')}</Contenu>\n        <NomPJ>pv-reception.pdf</NomPJ>\n        <TypePJ>02</TypePJ>\n        <MimeTypePJ>application/pdf</MimeTypePJ>\n      </PJ>`);
  const head = full.slice(0, full.indexOf('<CPPFactureMixteUnitaire')).replace('Compteur="4"', 'Compteur="1"').replace('ACME-20261103-01', 'ACME-20261112-03');
  const file = path.join(tempDir(), 'completion.xml');
  fs.writeFileSync(file, `${head}${unit}  </CPPFactures>\n</CPPFactureMixte>\n`);
  const flow = (await processFile(hub, file, { copy: true }))!;
  expect(flow.state).toBe('IN_INTEGRE');
  const pivot = fs.readFileSync(path.join(hub.layout.outbox, 'recipients', COMMUNE, `CPPFacturePivot_${flow.id}.xml`), 'utf8');
  expect(pivot).toContain('<Renvoi>Complétée</Renvoi>');
  expect(pivot).toContain(`<IdCPRO>${original.id}</IdCPRO>`); // the same invoice
  expect(pivot).toContain('<NomPJ>pv-reception.pdf</NomPJ>');
  expect((await resolveInvoice(hub, 'FA-2026-0002')).status).toBe('03');
  expect(supplierStatuses(hub, 'FA-2026-0002')).toEqual(['01', '03', '06', '12', '03']);
  // Completing it again is double invoicing.
  const again = variant(file, path.join(tempDir(), 'again.xml'), [['ACME-20261112-03', 'ACME-20261112-04']]);
  expect(report(hub, (await processFile(hub, again, { copy: true }))!.id).invoices[0]!.errors.map((e) => e.code)).toEqual(['RULE_DOUBLE_INVOICING']);
});

test('completion from the CLI adds the documents to the original invoice and delivers it again', async () => {
  const hub = await delivered();
  const inv = await resolveInvoice(hub, 'FA-2026-0003');
  expect((await completeInvoice(hub, inv, [fixture('mixed', 'partial.xml')])).errors.map((e) => e.code)).toEqual(['LIFE_TRANSITION_FORBIDDEN']); // not suspended
  await setStatus(hub, inv, { status: '06', motif: 'Facture illisible', producer: 'recipient' });
  const doc = path.join(tempDir(), 'facture-lisible.pdf');
  fs.writeFileSync(doc, '%PDF-1.4 lisible');
  const result = await completeInvoice(hub, await resolveInvoice(hub, 'FA-2026-0003'), [doc], 'Nouvelle copie');
  expect(result.errors).toEqual([]);
  const pivot = fs.readFileSync(path.join(hub.layout.outbox, 'recipients', HOSPITAL, `CPPFacturePivot_${result.flow!.id}.xml`), 'utf8');
  expect(pivot).toContain('<Renvoi>Complétée</Renvoi>');
  expect(pivot).toContain('<NomPJ>FA-2026-0003.pdf</NomPJ>');
  expect(pivot).toContain('<NomPJ>facture-lisible.pdf</NomPJ>');
  if (hasShared) expect(schemaErrors(path.join(AIFE, 'CPPFacturePivot_V2_02.xsd'), path.join(hub.layout.outbox, 'recipients', HOSPITAL, `CPPFacturePivot_${result.flow!.id}.xml`))).toEqual([]);
  expect((await invoiceHistory(hub, await resolveInvoice(hub, 'FA-2026-0003'))).events.map((e) => e.status)).toEqual(['01', '03', '06', '12', '03']);
});

test('a rejected invoice (05) is terminal: resending its number is double invoicing', async () => {
  const hub = await delivered();
  await dropStatuses(hub, [{ number: 'FA-2026-0004', status: '05', recipient: COMMUNE, motif: 'Montant erroné' }]);
  const resent = variant(fixture('mixed', 'three-recipients.xml'), path.join(tempDir(), 'resent.xml'), [['ACME-20261103-01', 'ACME-20261115-01']]);
  const r = report(hub, (await processFile(hub, resent, { copy: true }))!.id);
  expect(r.invoices[3]!.errors.map((e) => e.code)).toEqual(['RULE_DOUBLE_INVOICING']);
});

(hasShared ? test : test.skip)('the real status samples are read; each is refused for a specific reason', async () => {
  const hub = await delivered();
  const outcome = async (f: string) => {
    const flow = (await processFile(hub, path.join(AIFE, f), { copy: true }))!;
    const r = report(hub, flow.id);
    return [flow.state, [...r.errors, ...(r.statusUpdates ?? []).flatMap((u) => u.errors)].map((e) => e.code)];
  };
  expect(await outcome('Example01-FactureStatut-ok.xml')).toEqual(['IN_REJETE', ['LIFE_INVOICE_UNKNOWN']]);
  expect(await outcome('Example02-FactureStatut-ko.xml')).toEqual(['IN_REJETE', ['LIFE_INVOICE_UNKNOWN']]);
  expect(await outcome('Example03-FactureStatut-ko.xml')).toEqual(['QP_IRRECEVABLE', ['SCHEMA_INVALID']]);
  // A flow acknowledgment (92) of a pivot flow this hub never delivered.
  expect(await outcome('Example04-FactureStatut-ko.xml')).toEqual(['IN_REJETE', ['LIFE_ACK_FLOW_UNKNOWN']]);
});

(hasShared ? test : test.skip)('a recipient acknowledges a pivot flow it received (92, as in the real sample); other flow statuses are refused', async () => {
  const hub = await trackedHub();
  const delivered = (await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true }))!;
  const ack = variant(path.join(AIFE, 'Example04-FactureStatut-ko.xml'), path.join(tempDir(), 'ack.xml'), [['<IdFlux>1000000000</IdFlux>', `<IdFlux>${delivered.id}</IdFlux>`]]);
  const flow = (await processFile(hub, ack, { copy: true }))!;
  expect(flow.state).toBe('IN_INTEGRE');
  expect(report(hub, flow.id).statusUpdates).toEqual([expect.objectContaining({ number: delivered.id, requestedStatus: '92', status: 'ACCEPTED' })]);
  const wrong = variant(ack, path.join(tempDir(), 'ack90.xml'), [['<IdStatut>92</IdStatut>', '<IdStatut>90</IdStatut>'], ['Reçu', 'Recu']]);
  expect(report(hub, (await processFile(hub, wrong, { copy: true }))!.id).statusUpdates![0]!.errors.map((e) => e.code)).toEqual(['LIFE_ACK_STATUS_INVALID']);
});
