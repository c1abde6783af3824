/**
 * Validation circuits through the real hub: real ledger, real files, real schemas. A held
 * invoice reaches its recipient only once validated (or past its deadline), exactly once, with
 * every step in its history and in the supplier's status files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import { decideFlows } from '../src/app/decide.js';
import { replayFlow } from '../src/app/replay.js';
import { applyDeadlines, decideValidation } from '../src/app/requests.js';
import { processFile, resumeUnfinished } from '../src/app/run.js';
import { claimFile } from '../src/ingest/claim.js';
import { startDaemon } from '../src/daemon/watcher.js';
import { closeHub, openHub, type Hub } from '../src/hub.js';
import type { Settings } from '../src/config.js';
import type { InvoiceRow } from '../src/ledger/stores.js';
import { importDirectory } from '../src/route/directoryImport.js';
import { AIFE, cli, deliveredInvoices, fixture, hasShared, ledgerSql, listFiles, ownSchema, schemaErrors, tempDir, waitFor } from './helpers.js';

const hubs: Hub[] = [];
afterEach(async () => {
  while (hubs.length) await closeHub(hubs.pop()!);
});

const F = (name: string) => fixture('circuits', name);

async function circuitHub(flags: Partial<Settings> = {}, home = tempDir()): Promise<Hub> {
  const hub = openHub(home, { flags: { workers: 0, ...flags } });
  hubs.push(hub);
  await importDirectory(hub.ledger.directory, F('structures.csv'));
  return hub;
}

/** Fixtures are copied into the spool, never moved. */
const run = (hub: Hub, file: string) => processFile(hub, file, { copy: true });
const invoiceOf = async (hub: Hub, supplier: string, number: string): Promise<InvoiceRow> => (await hub.ledger.invoices.bySupplierNumber(supplier, number))[0]!;
const historyOf = async (hub: Hub, id: number) => (await hub.ledger.events.ofInvoices([id])).map((e) => e.status);
const filesUnder = (hub: Hub, ...dir: string[]) => listFiles(path.join(hub.layout.outbox, ...dir));
const readAll = (hub: Hub, ...dir: string[]) => filesUnder(hub, ...dir).map((f) => fs.readFileSync(path.join(hub.layout.outbox, ...dir, f), 'utf8')).join('\n');

/** Every pivot, validator copy and status file valid against our schemas and, when present, the official ones (CDAR against ours). */
function expectValidOutputs(hub: Hub): void {
  for (const [dir, own, official] of [['recipients', 'CPPFacturePivot.xsd', 'CPPFacturePivot_V2_02.xsd'], ['validators', 'CPPFacturePivot.xsd', 'CPPFacturePivot_V2_02.xsd'], ['suppliers', 'CPPStatut.xsd', 'CPPStatutPivot_V1_19.xsd']] as const) {
    for (const f of filesUnder(hub, dir)) {
      const file = path.join(hub.layout.outbox, dir, f);
      // A supplier whose format is cdar also has CDAR messages (checked in full by cdar.test.ts).
      if (path.basename(f).startsWith('CDAR_')) {
        expect([f, schemaErrors(ownSchema('CDAR-hub.xsd'), file)]).toEqual([f, []]);
        continue;
      }
      expect([f, schemaErrors(ownSchema(own), file)]).toEqual([f, []]);
      if (hasShared) expect([f, schemaErrors(path.join(AIFE, official), file)]).toEqual([f, []]);
    }
  }
}

describe('subcontractor (A9): the main contractor approves first', () => {
  test('held, made available to its validator, delivered to the buyer only once approved', async () => {
    const hub = await circuitHub();
    const deposit = (await run(hub, F('subcontractor.xml')))!;
    expect(deposit.state).toBe('IN_INTEGRE');
    const inv = await invoiceOf(hub, '52345678000015', 'ST-2026-0001');
    expect(inv.status).toBe('13');
    expect(filesUnder(hub, 'recipients')).toEqual([]);
    expect(filesUnder(hub, 'validators')).toEqual([`81234567800013/CPPFacturePivot_${deposit.id}_${inv.id}.xml`]);
    expect(readAll(hub, 'suppliers')).toMatch(/<IdStatut>13<\/IdStatut>\s*<ComplementStatut>A_VALIDER_1<\/ComplementStatut>/);

    const approval = (await run(hub, F('main-contractor-approves.xml')))!;
    expect(approval.state).toBe('IN_INTEGRE');
    expect(await historyOf(hub, inv.id)).toEqual(['01', '13', '16', '03']);
    expect(filesUnder(hub, 'recipients')).toEqual([`21450001200015/CPPFacturePivot_${approval.id}.xml`]);
    const pivot = readAll(hub, 'recipients');
    expect(pivot).toContain(`<IdCPRO>${inv.id}</IdCPRO>`);
    expect(pivot).not.toContain('DateMiseADispositionMOE');
    // The supplier is told of the approval and of the delivery.
    expect(fs.readFileSync(path.join(hub.layout.outbox, 'suppliers', '52345678000015', `CPPStatut_${approval.id}.xml`), 'utf8')).toMatch(/<IdStatut>16<\/IdStatut>[\s\S]*<IdStatut>03<\/IdStatut>/);
    expect(deliveredInvoices(hub.layout.home).get('52345678000015/ST-2026-0001')).toBe(1);
    expectValidOutputs(hub);
  });

  test('a supplier whose status format is cdar still learns it is held, then refused, in CPPStatut (CDAR has no code for them)', async () => {
    const hub = await circuitHub({ statusFormat: 'cdar' });
    const deposit = (await run(hub, F('subcontractor.xml')))!;
    const inv = await invoiceOf(hub, '52345678000015', 'ST-2026-0001');
    const refusal = (await run(hub, F('main-contractor-refuses.xml')))!;
    expect(await historyOf(hub, inv.id)).toEqual(['01', '13', '15']);
    const dir = path.join(hub.layout.outbox, 'suppliers', '52345678000015');
    // 01 goes in CDAR (200) only; the circuit's 13 and 15 in CPPStatut.
    expect(listFiles(dir).sort()).toEqual([`CDAR_${deposit.id}_${inv.id}_200.xml`, `CPPStatut_${deposit.id}.xml`, `CPPStatut_${refusal.id}.xml`].sort());
    const held = fs.readFileSync(path.join(dir, `CPPStatut_${deposit.id}.xml`), 'utf8');
    expect(held.match(/<IdStatut>(\d+)<\/IdStatut>/g)).toEqual(['<IdStatut>13</IdStatut>']);
    expect(held).toContain('<CPPFactureStatuts compteur="1">');
    expect(fs.readFileSync(path.join(dir, `CPPStatut_${refusal.id}.xml`), 'utf8')).toMatch(/<IdStatut>15<\/IdStatut>\s*<ComplementStatut>Montant supérieur/);
    expectValidOutputs(hub);
  });

  test('refused: back to the supplier with the motif, never delivered; the recipient cannot act meanwhile', async () => {
    const hub = await circuitHub();
    await run(hub, F('subcontractor.xml'));
    const inv = await invoiceOf(hub, '52345678000015', 'ST-2026-0001');
    // The commune may not set 07 on an invoice that awaits validation.
    const early = await cli(['invoice', 'status', String(inv.id), 'SERVICE_FAIT'], { home: hub.layout.home });
    expect([early.code, early.stderr]).toEqual([2, expect.stringContaining('LIFE_TRANSITION_FORBIDDEN')]);
    const refusal = (await run(hub, F('main-contractor-refuses.xml')))!;
    expect(refusal.state).toBe('IN_INTEGRE');
    expect(await historyOf(hub, inv.id)).toEqual(['01', '13', '15']);
    expect(filesUnder(hub, 'recipients')).toEqual([]);
    expect(readAll(hub, 'suppliers')).toContain('<ComplementStatut>Montant supérieur au montant sous-traité (acte spécial n° 3)</ComplementStatut>');
    // Refused is final: a late approval is refused by the lifecycle table.
    const late = await run(hub, F('main-contractor-approves.xml'));
    expect((await hub.ledger.statusUpdates.ofFlow(late!.id))[0]!.errors).toContain('LIFE_TRANSITION_FORBIDDEN');
    expectValidOutputs(hub);
  });

  test('a wrong validator is refused with its code, by status file and on the command line; a refusal needs its reason', async () => {
    const hub = await circuitHub();
    await run(hub, F('subcontractor.xml'));
    const inv = await invoiceOf(hub, '52345678000015', 'ST-2026-0001');
    const stranger = (await run(hub, F('stranger-approves.xml')))!;
    expect(stranger.state).toBe('IN_REJETE');
    expect(JSON.parse((await hub.ledger.statusUpdates.ofFlow(stranger.id))[0]!.errors)[0].code).toBe('VALIDATION_NOT_VALIDATOR');
    const cliWrong = cli(['invoice', 'validate', String(inv.id), '--as', 'validator', '--validator', '49123456000028'], { home: hub.layout.home });
    expect([cliWrong.code, cliWrong.stderr]).toEqual([2, expect.stringContaining('VALIDATION_NOT_VALIDATOR')]);
    const noReason = cli(['invoice', 'refuse', String(inv.id), '--as', 'validator', '--reason', ' '], { home: hub.layout.home });
    expect([noReason.code, noReason.stderr]).toEqual([2, expect.stringContaining('LIFE_MOTIF_REQUIRED')]);
    const asRecipient = cli(['invoice', 'validate', String(inv.id), '--as', 'recipient'], { home: hub.layout.home });
    expect(asRecipient.code).toBe(64);
    expect((await hub.ledger.invoices.get(inv.id))!.status).toBe('13');
    // The named validator, on the command line.
    const ok = cli(['invoice', 'refuse', String(inv.id), '--as', 'validator', '--wrong-validator', '--reason', 'Nous ne sommes pas titulaires de ce marché'], { home: hub.layout.home });
    expect([ok.code, ok.stdout]).toEqual([0, expect.stringContaining('14 ERREUR_FOURNISSEUR_SUR_VALIDEUR')]);
    expect(filesUnder(hub, 'recipients')).toEqual([]);
  });

  test("a partner acts only for the validators it is registered for", async () => {
    const hub = await circuitHub();
    await run(hub, F('subcontractor.xml'));
    await hub.ledger.transaction((tx) => tx.partners.save({ code: 'ACM001', name: 'ACME', suppliers: [], recipients: [], validators: [] }));
    const inbox = path.join(hub.layout.inbox, 'ACM001');
    fs.mkdirSync(inbox, { recursive: true });
    fs.copyFileSync(F('main-contractor-approves.xml'), path.join(inbox, 'approves.xml'));
    const refused = (await processFile(hub, path.join(inbox, 'approves.xml'), { partner: 'ACM001' }))!;
    expect(JSON.parse((await hub.ledger.statusUpdates.ofFlow(refused.id))[0]!.errors)[0].code).toBe('PARTNER_VALIDATOR_NOT_ALLOWED');
    expect(cli(['partners', 'add', 'ACM001', '--name', 'ACME', '--validator', '81234567800013'], { home: hub.layout.home }).code).toBe(0);
    fs.copyFileSync(F('main-contractor-approves.xml'), path.join(inbox, 'approves-again.xml'));
    // A different file (the bytes differ) from the same partner.
    fs.appendFileSync(path.join(inbox, 'approves-again.xml'), '\n');
    const applied = (await processFile(hub, path.join(inbox, 'approves-again.xml'), { partner: 'ACM001' }))!;
    expect(applied.state).toBe('IN_INTEGRE');
    expect(deliveredInvoices(hub.layout.home).get('52345678000015/ST-2026-0001')).toBe(1);
  });
});

describe('deadlines', () => {
  test('past its deadline, silence counts as approval: ABSENCE_VALIDATION_1_HORS_DELAI, then delivered once', async () => {
    const hub = await circuitHub({ validationDeadlineDays: 0 });
    await run(hub, F('subcontractor.xml'));
    const inv = await invoiceOf(hub, '52345678000015', 'ST-2026-0001');
    const lapse = (await applyDeadlines(hub))!;
    expect(lapse.errors).toEqual([]);
    expect(await historyOf(hub, inv.id)).toEqual(['01', '13', '17', '03']);
    expect(readAll(hub, 'suppliers')).toContain('ABSENCE_VALIDATION_1_HORS_DELAI');
    // Nothing more is due; a late approval is refused.
    expect(await applyDeadlines(hub)).toBeUndefined();
    expect(deliveredInvoices(hub.layout.home).get('52345678000015/ST-2026-0001')).toBe(1);
    expectValidOutputs(hub);
  });

  test('not yet due: nothing is declared, and the platform cannot declare it early', async () => {
    const hub = await circuitHub();
    await run(hub, F('subcontractor.xml'));
    expect(await applyDeadlines(hub)).toBeUndefined();
    const inv = await invoiceOf(hub, '52345678000015', 'ST-2026-0001');
    const { lapsedRequest } = await import('../src/app/requests.js');
    const { requestBytes } = await import('../src/formats/request.js');
    const file = path.join(tempDir(), 'early.json');
    fs.writeFileSync(file, requestBytes(lapsedRequest([{ ...inv, level: 1 }])));
    const early = (await processFile(hub, file, { channel: 'operator', name: 'early' }))!;
    expect(JSON.parse((await hub.ledger.statusUpdates.ofFlow(early.id))[0]!.errors)[0].code).toBe('VALIDATION_DEADLINE_NOT_REACHED');
    expect((await hub.ledger.invoices.get(inv.id))!.status).toBe('13');
  });

  test('a daemon restarted in the middle of a circuit applies the deadline at start, once', async () => {
    const home = tempDir();
    const first = await circuitHub({}, home);
    const d1 = await startDaemon(first);
    fs.copyFileSync(F('subcontractor.xml'), path.join(first.layout.inbox, 'subcontractor.xml'));
    const inv = await waitFor('the invoice held', () => fs.existsSync(path.join(first.layout.outbox, 'validators', '81234567800013')) && listFiles(path.join(first.layout.outbox, 'suppliers')).length > 0);
    expect(inv).toBeTruthy();
    await d1.stop();
    await closeHub(hubs.pop()!);
    // Restarted with a deadline that has passed meanwhile.
    const second = openHub(home, { flags: { workers: 0, validationDeadlineDays: 0 } });
    hubs.push(second);
    // The due time was fixed at deposit (15 days): bring it to now, as 15 days passing would.
    const held = await invoiceOf(second, '52345678000015', 'ST-2026-0001');
    await second.ledger.transaction((tx) => tx.circuits.setLevel(held.id, 1, new Date(Date.now() - 1000).toISOString()));
    const d2 = await startDaemon(second);
    try {
      await waitFor('the release', () => filesUnder(second, 'recipients').length > 0);
      await d2.idle();
    } finally {
      await d2.stop();
    }
    expect(await historyOf(second, held.id)).toEqual(['01', '13', '17', '03']);
    expect(deliveredInvoices(home).get('52345678000015/ST-2026-0001')).toBe(1);
  });
});

describe('works statements through the MOE', () => {
  test('A4: the MOE approves, the MOA receives it with DateMiseADispositionMOE', async () => {
    const hub = await circuitHub();
    const deposit = (await run(hub, F('works-statement.xml')))!;
    const inv = await invoiceOf(hub, '81234567800013', 'DM-2026-0011');
    expect(filesUnder(hub, 'validators')).toEqual([`49123456000028/CPPFacturePivot_${deposit.id}_${inv.id}.xml`]);
    expect(readAll(hub, 'validators')).toMatch(/<DateMiseADispositionMOE>\d{4}-\d\d-\d\d<\/DateMiseADispositionMOE>/);
    await run(hub, F('moe-approves.xml'));
    expect(await historyOf(hub, inv.id)).toEqual(['01', '13', '16', '03']);
    const pivot = readAll(hub, 'recipients');
    expect(pivot).toMatch(/<DateReception>(\d{4}-\d\d-\d\d)<\/DateReception>\s*<DateMiseADispositionMOE>\d{4}-\d\d-\d\d<\/DateMiseADispositionMOE>/);
    expect(pivot).toContain('<Cadre>A4</Cadre>');
    expectValidOutputs(hub);
  });

  test("A13: the co-contractors' agent, then the MOE (level 2), then the MOA", async () => {
    const hub = await circuitHub();
    await run(hub, F('cotraitant-statement.xml'));
    const inv = await invoiceOf(hub, '33456789000010', 'CT-2026-0004');
    const first = await decideValidation(hub, inv, { approve: true });
    expect(first.errors).toEqual([]);
    expect(await historyOf(hub, inv.id)).toEqual(['01', '13', '16', '18']);
    expect(filesUnder(hub, 'validators').filter((f) => f.startsWith('49123456000028/'))).toEqual([`49123456000028/CPPFacturePivot_${first.flow!.id}_${inv.id}.xml`]);
    // The agent cannot decide level 2.
    const again = await decideValidation(hub, (await hub.ledger.invoices.get(inv.id))!, { approve: true, validator: '81234567800013' });
    expect(again.errors.map((e) => e.code)).toEqual(['VALIDATION_NOT_VALIDATOR']);
    const second = await decideValidation(hub, (await hub.ledger.invoices.get(inv.id))!, { approve: true });
    expect(second.errors).toEqual([]);
    expect(await historyOf(hub, inv.id)).toEqual(['01', '13', '16', '18', '21', '03']);
    expect(readAll(hub, 'recipients')).toContain('<DateMiseADispositionMOE>');
    expectValidOutputs(hub);
  });

  test('EstMOA and EstMOAUniquement are honoured in routing; the MOE must be named', async () => {
    const hub = await circuitHub();
    const toCommune = path.join(tempDir(), 'works-to-commune.xml');
    fs.writeFileSync(toCommune, fs.readFileSync(F('works-statement.xml'), 'utf8').replaceAll('21330001100011', '21450001200015').replace('DÉPARTEMENT EXEMPLE', 'COMMUNE DE SAINT-EXEMPLE'));
    const notMoa = (await processFile(hub, toCommune))!;
    expect(JSON.parse((await hub.ledger.invoices.ofFlow(notMoa.id))[0]!.errors)[0].code).toBe('ROUTE_RECIPIENT_NOT_MOA');
    const plain = path.join(tempDir(), 'plain-to-moa-only.xml');
    fs.writeFileSync(plain, fs.readFileSync(F('works-statement.xml'), 'utf8').replace('<Cadre>A4</Cadre>', '<Cadre>A1</Cadre>'));
    const moaOnly = (await processFile(hub, plain))!;
    expect(JSON.parse((await hub.ledger.invoices.ofFlow(moaOnly.id))[0]!.errors)[0].code).toBe('ROUTE_RECIPIENT_MOA_ONLY');
    const noMoe = path.join(tempDir(), 'no-moe.xml');
    fs.writeFileSync(noMoe, fs.readFileSync(F('works-statement.xml'), 'utf8').replace(/<MaitreOeuvre>[\s\S]*?<\/MaitreOeuvre>\s*/, '').replace('DM-2026-0011', 'DM-2026-0012'));
    const missing = (await processFile(hub, noMoe))!;
    expect(JSON.parse((await hub.ledger.invoices.ofFlow(missing.id))[0]!.errors)[0].code).toBe('RULE_CADRE_MOE_MISSING');
  });
});

describe('replays and crashes in the middle of a circuit', () => {
  test('a replay of the deposit flow delivers the refused invoice and leaves the held one in its circuit', async () => {
    const hub = await circuitHub();
    const deposit = (await run(hub, F('subcontractor-and-hospital.xml')))!;
    expect(deposit.state).toBe('IN_INTEGRE_PARTIEL'); // the hospital is not in this directory
    const held = await invoiceOf(hub, '52345678000015', 'ST-2026-0002');
    await importDirectory(hub.ledger.directory, fixture('directory', 'structures.csv'), fixture('directory', 'services.csv'));
    const { flow } = await replayFlow(hub, deposit.id);
    expect(flow.state).toBe('IN_INTEGRE');
    expect(deliveredInvoices(hub.layout.home).get('52345678000015/ST-2026-0003')).toBe(1);
    expect(deliveredInvoices(hub.layout.home).get('52345678000015/ST-2026-0002')).toBeUndefined();
    expect(await historyOf(hub, held.id)).toEqual(['01', '13']);
    expect(filesUnder(hub, 'validators')).toHaveLength(1);
    expect((await decideValidation(hub, held, { approve: true })).errors).toEqual([]);
    expect(deliveredInvoices(hub.layout.home).get('52345678000015/ST-2026-0002')).toBe(1);
  });

  test('an approval decided but not delivered (a crash) is released at resume, once', async () => {
    const hub = await circuitHub();
    await run(hub, F('subcontractor.xml'));
    const inv = await invoiceOf(hub, '52345678000015', 'ST-2026-0001');
    // The approval's decision is committed; the process dies before its delivery.
    const id = (await claimFile(hub, F('main-contractor-approves.xml'), { copy: true }))!;
    await decideFlows(hub, [(await hub.ledger.flows.get(id))!]);
    expect((await hub.ledger.invoices.get(inv.id))!.status).toBe('16');
    expect(filesUnder(hub, 'recipients')).toEqual([]);
    ledgerSql(hub.layout.home, 'UPDATE flows SET owner_pid = 999999999 WHERE id = ?', id); // its process died
    const { done } = await resumeUnfinished(hub);
    expect(done.map((f) => f.id)).toEqual([id]);
    expect(await historyOf(hub, inv.id)).toEqual(['01', '13', '16', '03']);
    // Resumed again (nothing left): nothing is delivered twice.
    expect((await resumeUnfinished(hub)).done).toEqual([]);
    expect(deliveredInvoices(hub.layout.home).get('52345678000015/ST-2026-0001')).toBe(1);
  });
});

describe('validators act through the API', () => {
  test('only a partner registered for the awaited validator may approve; the approval releases the invoice once', async () => {
    const { buildServer } = await import('../src/http/server.js');
    const { issueToken } = await import('../src/app/tokens.js');
    const hub = await circuitHub();
    await run(hub, F('subcontractor.xml'));
    const inv = await invoiceOf(hub, '52345678000015', 'ST-2026-0001');
    await hub.ledger.transaction(async (tx) => {
      await tx.partners.save({ code: 'MAI001', name: 'Main contractor', suppliers: [], recipients: [], validators: ['81234567800013'] });
      await tx.partners.save({ code: 'OTH001', name: 'Someone else', suppliers: [], recipients: [], validators: ['49123456000028'] });
    });
    const main = await issueToken(hub, 'partner', 'MAI001');
    const other = await issueToken(hub, 'partner', 'OTH001');
    const app = await buildServer(hub);
    try {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const addr = app.server.address();
      const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/v1/invoices/${inv.id}/validation`;
      const post = (token: string, body: unknown) => fetch(url, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      // The validator's partner sees what awaits it (and until when); another validator's does not.
      const get = (token: string, suffix = '') => fetch(url.replace(/\/validation$/, suffix), { headers: { Authorization: `Bearer ${token}` } });
      expect((await get(other)).status).toBe(403);
      expect((await get(other, '/history')).status).toBe(403);
      const seen = await get(main);
      expect(seen.status).toBe(200);
      const held = await seen.json();
      expect(held).toMatchObject({ id: inv.id, status: '13', circuit: { cadre: 'A9', level: 1, validator: '81234567800013', validators: ['81234567800013'] } });
      expect(Date.parse(held.circuit.dueAt)).toBeGreaterThan(Date.now());
      expect((await (await get(main, '/history')).json()).events.map((e: { status: string }) => e.status)).toEqual(['01', '13']);
      expect((await post(other, { decision: 'approve' })).status).toBe(403);
      expect((await post(main, { decision: 'refuse' })).status).toBe(400);
      const ok = await post(main, { decision: 'approve', comment: 'travaux conformes' });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ invoiceId: inv.id, status: '03', accepted: true });
      expect(await historyOf(hub, inv.id)).toEqual(['01', '13', '16', '03']);
      expect(deliveredInvoices(hub.layout.home).get('52345678000015/ST-2026-0001')).toBe(1);
      // Decided: still visible to its validator, no deadline running.
      expect((await (await get(main)).json()).circuit).toMatchObject({ level: 1, dueAt: null });
      const again = await (await post(main, { decision: 'approve' })).json();
      expect(again.accepted).toBe(false);
      expect(deliveredInvoices(hub.layout.home).get('52345678000015/ST-2026-0001')).toBe(1);
    } finally {
      await app.close();
    }
  });
});
