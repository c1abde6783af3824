/**
 * Recipients' own software reads every invoice and every word (issue 12): pivots and supplier
 * status files one per invoice when asked (setting or partner), crash-resumed and replayed
 * with stable names; a recipient's status words and time reach the supplier whole; over-long
 * words are refused, never cut; ModePaiement/Libelle written from the code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setFaultHook } from '../src/emit/atomic.js';
import { processFile, resumeUnfinished } from '../src/app/run.js';
import { replayFlow } from '../src/app/replay.js';
import type { Hub } from '../src/hub.js';
import { importDirectory } from '../src/route/directoryImport.js';
import { AIFE, cli, closeHubs, deliveredInvoices, fixture, hasShared, listFiles, ownSchema, readJson, schemaErrors, tempDir, trackedHub } from './helpers.js';

afterEach(async () => {
  setFaultHook(undefined);
  await closeHubs();
});

const SUPPLIER = '81234567800013';
const STATE = '11000201100044';
const COMMUNE = '21450001200015';
const HOSPITAL = '26750000100016';
const pivotXsd = path.join(AIFE, 'CPPFacturePivot_V2_02.xsd');
const statutXsd = path.join(AIFE, 'CPPStatutPivot_V1_19.xsd');

const outFiles = (hub: Hub, sub: string) => listFiles(path.join(hub.layout.outbox, sub)).map((f) => path.join(hub.layout.outbox, sub, f));
const count = (file: string, element: string) => fs.readFileSync(file, 'utf8').split(`<${element} `).length - 1;
const text = (file: string) => fs.readFileSync(file, 'utf8');

function expectOfficial(xsd: string, files: string[]): void {
  if (!hasShared) return;
  for (const f of files) expect({ f, errors: schemaErrors(xsd, f) }).toEqual({ f, errors: [] });
}

test('grouping by invoice: one pivot per invoice and one status file per status, each valid, every invoice once', async () => {
  const hub = await trackedHub({ pivotGrouping: 'invoice' });
  const flow = (await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true }))!;
  const pivots = listFiles(path.join(hub.layout.outbox, 'recipients'));
  expect(pivots).toEqual([
    `${STATE}/CPPFacturePivot_${flow.id}_1.xml`,
    `${COMMUNE}/CPPFacturePivot_${flow.id}_2.xml`,
    `${COMMUNE}/CPPFacturePivot_${flow.id}_4.xml`,
    `${HOSPITAL}/CPPFacturePivot_${flow.id}_3.xml`,
  ].sort());
  for (const f of outFiles(hub, 'recipients')) expect(count(f, 'CPPFacturePivotUnitaire')).toBe(1);
  expect([...deliveredInvoices(hub.layout.home).values()]).toEqual([1, 1, 1, 1]);
  expectOfficial(pivotXsd, outFiles(hub, 'recipients'));

  // 01 and 03 for each of the four invoices, each status in its own file.
  const statuses = outFiles(hub, 'suppliers');
  expect(statuses).toHaveLength(8);
  for (const f of statuses) expect(count(f, 'CPPFactureStatutUnitaire')).toBe(1);
  expect(statuses.map((f) => path.basename(f)).every((n) => new RegExp(`^CPPStatut_${flow.id}_\\d+_0[13]\\.xml$`).test(n))).toBe(true);
  expectOfficial(statutXsd, statuses);
  // The ledger's outputs name the same files.
  const outputs = await hub.ledger.flows.outputs(flow.id);
  expect(outputs.filter((o) => o.kind === 'pivot').map((o) => o.path).sort()).toEqual(outFiles(hub, 'recipients').sort());
});

test('the default stays one pivot per recipient; ModePaiement/Libelle is written from the code', async () => {
  const hub = await trackedHub();
  await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true });
  const pivots = outFiles(hub, 'recipients');
  expect(pivots).toHaveLength(3);
  for (const f of pivots) expect(text(f)).toMatch(/<ModePaiement>\s*<Code>30<\/Code>\s*<Libelle>Virement<\/Libelle>\s*<\/ModePaiement>/);
  expectOfficial(pivotXsd, pivots);
  expect(outFiles(hub, 'suppliers')).toHaveLength(1);
});

test('a partner override: its recipient gets one pivot per invoice, the others keep the setting', async () => {
  const hub = await trackedHub();
  const home = hub.layout.home;
  expect(cli(['partners', 'add', 'PAS001', '--name', 'Pastell commune', '--recipient', COMMUNE, '--pivot-grouping', 'invoice'], { home }).code).toBe(0);
  expect(cli(['partners', 'add', 'PAS001', '--name', 'Pastell', '--pivot-grouping', 'sometimes'], { home }).code).toBe(64);
  expect(JSON.parse(cli(['partners', 'list', '--json'], { home }).stdout)).toEqual([
    { code: 'PAS001', name: 'Pastell commune', suppliers: [], recipients: [COMMUNE], pivotGrouping: 'invoice' },
  ]);
  const flow = (await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true }))!;
  expect(listFiles(path.join(hub.layout.outbox, 'recipients'))).toEqual([
    `${STATE}/CPPFacturePivot_${flow.id}.xml`,
    `${COMMUNE}/CPPFacturePivot_${flow.id}_2.xml`,
    `${COMMUNE}/CPPFacturePivot_${flow.id}_4.xml`,
    `${HOSPITAL}/CPPFacturePivot_${flow.id}.xml`,
  ].sort());
  expect([...deliveredInvoices(home).values()]).toEqual([1, 1, 1, 1]);
  // The supplier is served by no partner: its statuses follow the setting, one file.
  expect(listFiles(path.join(hub.layout.outbox, 'suppliers'))).toEqual([`${SUPPLIER}/CPPStatut_${flow.id}.xml`]);
  // Back to the setting: an update without the option keeps the override, "default" drops it.
  cli(['partners', 'add', 'PAS001', '--name', 'Pastell commune'], { home });
  expect((await hub.ledger.partners.get('PAS001'))!.pivotGrouping).toBe('invoice');
  cli(['partners', 'add', 'PAS001', '--name', 'Pastell commune', '--pivot-grouping', 'default'], { home });
  expect((await hub.ledger.partners.get('PAS001'))!.pivotGrouping).toBeUndefined();
});

test('a delivery crashed half-way resumes by rewriting the same per-invoice files, each invoice once', async () => {
  const clean = await trackedHub({ pivotGrouping: 'invoice' });
  await processFile(clean, fixture('mixed', 'three-recipients.xml'), { copy: true });
  const namesOf = (hub: Hub, id: string) => [...listFiles(path.join(hub.layout.outbox, 'recipients')), ...listFiles(path.join(hub.layout.outbox, 'suppliers'))].map((f) => f.replace(id, '<flow>'));

  const hub = await trackedHub({ pivotGrouping: 'invoice' });
  let failures = 0;
  // The third invoice's pivot fails after others were written; on the first retry, a status file fails.
  setFaultHook((op, file) => {
    if (op === 'rename' && file.endsWith('_3.xml') && file.includes(`${path.sep}recipients${path.sep}`) && failures === 0) (failures++, fail('ENOSPC'));
  });
  await expect(processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true })).rejects.toThrow('ENOSPC');
  const [flowId] = listFiles(hub.layout.spool);
  expect(listFiles(path.join(hub.layout.outbox, 'recipients')).length).toBeGreaterThan(0);
  setFaultHook((op, file) => {
    if (op === 'rename' && file.includes(`${path.sep}suppliers${path.sep}`) && failures === 1) (failures++, fail('EIO'));
  });
  await resumeUnfinished(hub);
  expect((await hub.ledger.flows.get(flowId!))!.stage).toBe('DECIDED');
  setFaultHook(undefined);
  const { done } = await resumeUnfinished(hub);
  expect(done.map((f) => f.stage)).toEqual(['DONE']);
  expect(failures).toBe(2);
  expect(namesOf(hub, flowId!)).toEqual(namesOf(clean, (await clean.ledger.flows.list({}))[0]!.id));
  expect([...deliveredInvoices(hub.layout.home).values()]).toEqual([1, 1, 1, 1]);
  // Every status reached the supplier once: 01 and 03 per invoice.
  const units = outFiles(hub, 'suppliers').flatMap((f) => [...text(f).matchAll(/<IdStatut>(\d+)<\/IdStatut>[\s\S]*?<IdFacture>([^<]+)</g)].map((m) => `${m[2]} ${m[1]}`));
  expect(units.sort()).toEqual(['FA-2026-0001', 'FA-2026-0002', 'FA-2026-0003', 'FA-2026-0004'].flatMap((n) => [`${n} 01`, `${n} 03`]));
});

function fail(code: string): never {
  throw Object.assign(new Error(`${code}: simulated`), { code });
}

test('a replay writes its own _r1 per-invoice files and leaves the first attempt\'s alone', async () => {
  const hub = await trackedHub({ pivotGrouping: 'invoice' });
  // The hospital is missing from the directory at first.
  const partial = path.join(tempDir(), 'structures.csv');
  fs.writeFileSync(partial, text(fixture('directory', 'structures.csv')).split('\n').filter((l) => !l.includes(HOSPITAL)).join('\n'));
  await importDirectory(hub.ledger.directory, partial, fixture('directory', 'services.csv'));
  const flow = (await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true }))!;
  expect(flow.state).toBe('IN_INTEGRE_PARTIEL');
  const first = listFiles(hub.layout.outbox);
  await importDirectory(hub.ledger.directory, fixture('directory', 'structures.csv'), fixture('directory', 'services.csv'));
  await replayFlow(hub, flow.id);
  const added = listFiles(hub.layout.outbox).filter((f) => !first.includes(f) && !f.startsWith('reports'));
  const hospitalId = (await hub.ledger.invoices.ofFlow(flow.id)).find((r) => r.recipient_siret === HOSPITAL)!.id;
  expect(added.sort()).toEqual([
    `recipients/${HOSPITAL}/CPPFacturePivot_${flow.id}_3_r1.xml`,
    `suppliers/${SUPPLIER}/CPPStatut_${flow.id}_${hospitalId}_01_r1.xml`,
    `suppliers/${SUPPLIER}/CPPStatut_${flow.id}_${hospitalId}_03_r1.xml`,
  ]);
  expect([...deliveredInvoices(hub.layout.home).values()]).toEqual([1, 1, 1, 1]);
  expectOfficial(pivotXsd, [path.join(hub.layout.outbox, added[0]!)]);
});

test('a recipient\'s status words and time go to the supplier whole, in their own elements, and the history shows both times', async () => {
  const hub = await trackedHub({ pivotGrouping: 'invoice' });
  await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true });
  const statusFixture = fixture('statuses', 'commune-statuses.xml');
  expect(schemaErrors(ownSchema('CPPStatut.xsd'), statusFixture)).toEqual([]);
  const before = new Set(outFiles(hub, 'suppliers'));
  const flow = (await processFile(hub, statusFixture, { copy: true }))!;
  expect(flow.state).toBe('IN_INTEGRE');
  const sent = outFiles(hub, 'suppliers').filter((f) => !before.has(f));
  expect(sent).toHaveLength(3);
  expectOfficial(statutXsd, sent);
  const all = sent.map(text).join('\n');
  // Every word of the fixture, byte for byte.
  for (const m of text(statusFixture).matchAll(/<(ComplementStatut|Commentaire|Horodatage|IdMandatDP)>([^<]*)</g)) expect(all).toContain(`<${m[1]}>${m[2]}</${m[1]}>`);
  const mandated = sent.find((f) => text(f).includes('<IdStatut>08</IdStatut>'))!;
  expect(text(mandated)).toMatch(/<ComplementStatut>Mandat émis<\/ComplementStatut>\s*<Commentaire>Paiement par virement sous 30 jours\.<\/Commentaire>\s*<Horodatage>2026-11-21T14:02:00\+01:00<\/Horodatage>[\s\S]*<IdMandatDP>MDT-2026-0418<\/IdMandatDP>/);

  const shown = cli(['invoice', 'history', `${SUPPLIER}/FA-2026-0002`, '--json'], { home: hub.layout.home });
  expect(shown.code).toBe(0);
  const events = (JSON.parse(shown.stdout) as { events: { status: string; motif: string | null; comment: string | null; mandate: string | null; producedAt: string | null; receivedAt: string }[] }).events;
  expect(events.find((e) => e.status === '08')).toMatchObject({ motif: 'Mandat émis', comment: 'Paiement par virement sous 30 jours.', mandate: 'MDT-2026-0418', producedAt: '2026-11-21T14:02:00+01:00', receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
  expect(events.find((e) => e.status === '08')!.receivedAt).not.toBe('2026-11-21T14:02:00+01:00');
  const table = cli(['invoice', 'history', `${SUPPLIER}/FA-2026-0002`], { home: hub.layout.home }).stdout;
  expect(table).toMatch(/WHEN\s+RECEIVED\s+STATUS/);
  expect(table).toContain('2026-11-21T14:02:00+01:00');
});

/** A recipient's status file with one invoice status and one flow acknowledgment, words given. */
function wordsFile(pivotFlow: string, invoiceComment: string, ackComplement: string): string {
  const file = path.join(tempDir(), 'words.xml');
  const envelope = '<Enveloppe><EnveloppeUnitaire NumOrdre="1"><Parametres><ParametreIndiv NumOrdre="0001"><Code>DtPrd</Code><Valeurparametre>2026-11-21</Valeurparametre></ParametreIndiv><ParametreIndiv NumOrdre="0002"><Code>IdFlx</Code><Valeurparametre>MAI1</Valeurparametre></ParametreIndiv></Parametres><Partenaires><Recepteur><Id>FFL001</Id></Recepteur><Emetteur><Id>MAI001</Id></Emetteur></Partenaires></EnveloppeUnitaire></Enveloppe>';
  fs.writeFileSync(path.join(path.dirname(file), 'ack.xml'), `<?xml version="1.0" encoding="UTF-8"?><CPPStatut>${envelope}<CPPFluxStatuts compteur="1"><CPPFluxStatutUnitaire NumOrdre="1"><DonneesStatut><IdStatut>92</IdStatut><ComplementStatut>${ackComplement}</ComplementStatut><Horodatage>2026-11-21T10:00:00+01:00</Horodatage><IdFlux>${pivotFlow}</IdFlux></DonneesStatut></CPPFluxStatutUnitaire></CPPFluxStatuts></CPPStatut>`);
  fs.writeFileSync(file, `<?xml version="1.0" encoding="UTF-8"?><CPPStatut>${envelope}<CPPFactureStatuts compteur="1"><CPPFactureStatutUnitaire NumOrdre="1"><Fournisseur><TypeIdentifiant>1</TypeIdentifiant><Identifiant>${SUPPLIER}</Identifiant><RaisonSociale>ACME FOURNITURES SAS</RaisonSociale></Fournisseur><Debiteur><TypeIdentifiant>1</TypeIdentifiant><Identifiant>${COMMUNE}</Identifiant></Debiteur><DonneesStatut><IdStatut>07</IdStatut><Commentaire>${invoiceComment}</Commentaire><Horodatage>2026-11-21T10:00:00+01:00</Horodatage><IdFacture>FA-2026-0002</IdFacture></DonneesStatut></CPPFactureStatutUnitaire></CPPFactureStatuts></CPPStatut>`);
  return file;
}

test('the official limits: an acknowledgment\'s ComplementStatut over 40 characters is refused with its code; an invoice status\'s unbounded Commentaire is carried whole', async () => {
  const hub = await trackedHub();
  const delivered = (await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true }))!;
  const long = `${'Réception conforme, merci '.repeat(200)}fin.`;
  const invoiceFile = wordsFile(delivered.id, long, 'é'.repeat(41));
  const ackFile = path.join(path.dirname(invoiceFile), 'ack.xml');

  const refused = (await processFile(hub, ackFile, { copy: true }))!;
  expect(refused.state).toBe('IN_REJETE');
  const report = readJson(path.join(hub.layout.outbox, 'reports', `${refused.id}.json`));
  expect(report.statusUpdates[0].errors).toEqual([expect.objectContaining({ code: 'STATUS_TEXT_TOO_LONG', message: expect.stringContaining('41 characters long') })]);
  // 40 characters (code points, not bytes) is within the limit.
  fs.writeFileSync(ackFile, text(ackFile).replace('é'.repeat(41), 'é'.repeat(40)));
  expect((await processFile(hub, ackFile, { copy: true }))!.state).toBe('IN_INTEGRE');

  const before = new Set(outFiles(hub, 'suppliers'));
  expect((await processFile(hub, invoiceFile, { copy: true }))!.state).toBe('IN_INTEGRE');
  const [sent] = outFiles(hub, 'suppliers').filter((f) => !before.has(f));
  expect(text(sent!)).toContain(`<Commentaire>${long}</Commentaire>`);
  // A Commentaire alone stays a comment: the ComplementStatut is the status's name.
  expect(text(sent!)).toContain('<ComplementStatut>SERVICE_FAIT</ComplementStatut>');
  expectOfficial(statutXsd, [sent!]);
});

test('the setting takes recipient or invoice only, from the environment like any other', async () => {
  const hub = await trackedHub();
  const home = hub.layout.home;
  const bad = cli(['config', 'show'], { home, env: { FACTFLOW_PIVOT_GROUPING: 'sometimes' } });
  expect(bad.code).toBe(64);
  expect(bad.stderr).toContain('pivotGrouping from environment variable FACTFLOW_PIVOT_GROUPING must be one of recipient, invoice');
  expect(cli(['config', 'show'], { home, env: { FACTFLOW_PIVOT_GROUPING: 'invoice' } }).stdout).toMatch(/pivotGrouping\s+invoice\s+env/);
});
