/** Partners: inbox/<code>/ folders, what each may do, where its reports go. */
import fs from 'node:fs';
import path from 'node:path';
import { invoiceStatusesXml } from '../src/emit/statuses.js';
import { processFile } from '../src/pipeline/pipeline.js';
import { savePartner } from '../src/route/partners.js';
import { cli, closeHubs, fixture, listFiles, readJson, tempDir, trackedHub } from './helpers.js';

afterEach(closeHubs);

test('a partner deposits only for its suppliers; its reports go to outbox/partners/<code>/', () => {
  const hub = trackedHub();
  savePartner(hub.db, { code: 'ACM001', name: 'ACME EDI', suppliers: ['81234567800013'], recipients: [] });
  savePartner(hub.db, { code: 'OTH001', name: 'Other EDI', suppliers: ['53298765400011'], recipients: [] });
  const mine = processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true, partner: 'ACM001' })!;
  expect(mine.state).toBe('IN_INTEGRE');
  expect(listFiles(path.join(hub.layout.outbox, 'partners', 'ACM001'))).toEqual([`${mine.id}.json`, `${mine.id}.xml`]);

  const notMine = processFile(hub, fixture('mixed', 'partial.xml'), { copy: true, partner: 'OTH001' })!;
  expect(notMine.state).toBe('IN_REJETE');
  const report = readJson(path.join(hub.layout.outbox, 'partners', 'OTH001', `${notMine.id}.json`));
  expect(report.invoices.every((i: { errors: { code: string }[] }) => i.errors.some((e) => e.code === 'PARTNER_SUPPLIER_NOT_ALLOWED'))).toBe(true);

  const unknown = processFile(hub, fixture('ubl', 'invoice-commune.xml'), { copy: true, partner: 'ZZZ999' })!;
  expect(unknown.state).toBe('QP_IRRECEVABLE');
  expect(readJson(path.join(hub.layout.outbox, 'reports', `${unknown.id}.json`)).errors[0].code).toBe('FLOW_PARTNER_UNKNOWN');
  // The flat inbox keeps working for a single-partner installation.
  expect(processFile(hub, fixture('cii', 'invoice-etat.xml'), { copy: true })!.state).toBe('IN_INTEGRE');
});

test('a partner sends statuses only for its recipients', () => {
  const hub = trackedHub();
  processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true });
  savePartner(hub.db, { code: 'MAI001', name: 'Mairie EDI', suppliers: [], recipients: ['21450001200015'] });
  const entry = (number: string, siret: string) => ({ supplier: { idType: '1', id: '81234567800013', name: 'ACME' }, recipient: { siret }, status: '07', at: '2026-11-20T10:00:00Z', invoiceNumber: number });
  const file = path.join(tempDir(), 'statuts.xml');
  fs.writeFileSync(file, invoiceStatusesXml('S1', '2026-11-20', { id: 'FFL001' }, { id: 'MAI001' }, [entry('FA-2026-0002', '21450001200015'), entry('FA-2026-0001', '11000201100044')]));
  const flow = processFile(hub, file, { copy: true, partner: 'MAI001' })!;
  const report = readJson(path.join(hub.layout.outbox, 'partners', 'MAI001', `${flow.id}.json`));
  expect(report.statusUpdates.map((u: { number: string; errors: { code: string }[] }) => [u.number, u.errors.map((e) => e.code)])).toEqual([
    ['FA-2026-0002', []],
    ['FA-2026-0001', ['PARTNER_RECIPIENT_NOT_ALLOWED']],
  ]);
});

test('partners add/list/remove from the command line; partner codes are checked', () => {
  const home = tempDir();
  expect(cli(['partners', 'add', 'ACM001', '--name', 'ACME EDI', '--supplier', '81234567800013', '--supplier', '53298765400011'], { home }).code).toBe(0);
  expect(cli(['partners', 'add', 'ACM001', '--name', 'ACME EDI', '--recipient', '21450001200015'], { home }).code).toBe(0);
  expect(JSON.parse(cli(['partners', 'list', '--json'], { home }).stdout)).toEqual([
    { code: 'ACM001', name: 'ACME EDI', suppliers: ['81234567800013', '53298765400011'], recipients: ['21450001200015'] },
  ]);
  expect(cli(['partners', 'add', '../etc', '--name', 'x'], { home }).code).toBe(64);
  expect(cli(['partners', 'remove', 'ACM001'], { home }).code).toBe(0);
  expect(cli(['partners', 'remove', 'ACM001'], { home }).code).toBe(3); // not found
});
