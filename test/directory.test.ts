/** Directory import: the real export layout, encodings, booleans, and all-or-nothing replacement. */
import fs from 'node:fs';
import path from 'node:path';
import { DirectoryImportError, importDirectory } from '../src/route/directoryImport.js';
import type { Hub } from '../src/hub.js';
import { closeHubs, fixture, tempDir, trackedHub } from './helpers.js';

afterEach(closeHubs);

const structure = async (hub: Hub, siret: string) => (await hub.ledger.directory.structures([siret])).get(siret);
const service = async (hub: Hub, siret: string, code: string) => (await hub.ledger.directory.services([`${siret}\u0000${code}`])).get(`${siret}\u0000${code}`);

const HEADER = 'TypeIdentifiant;Identifiant;RaisonSociale;EmetteurEdi;RecepteurEdi;GestionStatutMiseEnPaiement;GestionEngagement;GestionService;GestionServiceEngagement;EstMOA;EstMOAUniquement;StructureActive;Adresse;ComplementAdresse1;ComplementAdresse2;CodePostal;Ville;NumTelephone;Courriel;CodePays;LibellePays';
const row = (siret: string, name: string, flags: string) => `SIRET;${siret};${name};${flags};;;;75001;Paris;;;FR;France`;

test('the fixture directory is loaded with each structure and service requirement', async () => {
  const hub = await trackedHub();
  expect(await structure(hub, '11000201100044')).toMatchObject({ name: 'ETAT', active: true, requiresServiceAndEngagement: true });
  expect(await structure(hub, '26750000100016')).toMatchObject({ name: 'CENTRE HOSPITALIER DE DÉMONSTRATION', requiresService: true, requiresEngagement: false });
  expect(await structure(hub, '26450001300018')).toMatchObject({ active: false });
  expect(await service(hub, '26750000100016', 'PHARMACIE')).toMatchObject({ active: true, requiresEngagement: true });
  expect(await service(hub, '26750000100016', 'ANCIEN-LABO')).toMatchObject({ active: false });
  expect(await structure(hub, '44100002200018')).toBeUndefined();
});

test('an ISO-8859-1 export with Oui/Non and 1/0 booleans and quoted fields is read correctly', async () => {
  const hub = await trackedHub();
  const file = path.join(tempDir(), 'latin1.csv');
  const text = [HEADER, row('21450001200015', '"Commune d\'Évry; annexe"', 'Non;Oui;Non;Oui;0;Non;Non;Non;Oui')].join('\r\n') + '\r\n';
  fs.writeFileSync(file, Buffer.from(text, 'latin1'));
  expect(await importDirectory(hub.ledger.directory, file)).toEqual({ structures: 1, services: 0 });
  expect(await structure(hub, '21450001200015')).toEqual({
    siret: '21450001200015', name: "Commune d'Évry; annexe", active: true, requiresEngagement: true, requiresService: false, requiresServiceAndEngagement: false, idType: 'SIRET', ediReceiver: true, moa: false, moaOnly: false,
  });
});

test('a malformed row is reported with its line number and the previous directory stays', async () => {
  const hub = await trackedHub();
  const file = path.join(tempDir(), 'bad.csv');
  fs.writeFileSync(file, [HEADER, row('21450001200015', 'OK', 'false;true;false;false;false;false;false;false;true'), row('21330001100011', 'BAD', 'false;true;false;peut-être;false;false;false;false;true'), 'SIRET;123;too few fields'].join('\n'));
  let error: DirectoryImportError | undefined;
  try {
    await importDirectory(hub.ledger.directory, file);
  } catch (e) {
    error = e as DirectoryImportError;
  }
  expect(error).toBeInstanceOf(DirectoryImportError);
  expect(error!.problems).toEqual([
    { file, line: 3, message: 'GestionEngagement is "peut-être", expected true/false, 1/0 or Oui/Non' },
    { file, line: 4, message: '3 fields where the header has 21' },
  ]);
  // Unchanged: the fixture directory is still there.
  expect((await structure(hub, '11000201100044'))?.name).toBe('ETAT');
});

test('a header without the required columns is refused', async () => {
  const hub = await trackedHub();
  const file = path.join(tempDir(), 'header.csv');
  fs.writeFileSync(file, 'Identifiant;Nom\n21450001200015;X\n');
  await expect(importDirectory(hub.ledger.directory, file)).rejects.toThrow(/line 1|:1: missing column\(s\) RaisonSociale/);
});

test('re-importing replaces the whole directory: structures absent from the new export are gone', async () => {
  const hub = await trackedHub();
  const file = path.join(tempDir(), 'one.csv');
  fs.writeFileSync(file, [HEADER, row('21450001200015', 'SEULE', 'false;true;false;false;false;false;false;false;true')].join('\n'));
  await importDirectory(hub.ledger.directory, file);
  expect((await structure(hub, '21450001200015'))?.name).toBe('SEULE');
  expect(await structure(hub, '11000201100044')).toBeUndefined();
  expect(await service(hub, '26750000100016', 'PHARMACIE')).toBeUndefined();
  expect(fixture('directory', 'structures.csv')).toBeTruthy();
});
