/** Directory import: the real export layout, encodings, booleans, and all-or-nothing replacement. */
import fs from 'node:fs';
import path from 'node:path';
import { DirectoryImportError, importDirectory } from '../src/route/directoryImport.js';
import { sqliteDirectory } from '../src/route/sqliteDirectory.js';
import { closeHubs, fixture, tempDir, trackedHub } from './helpers.js';

afterEach(closeHubs);

const HEADER = 'TypeIdentifiant;Identifiant;RaisonSociale;EmetteurEdi;RecepteurEdi;GestionStatutMiseEnPaiement;GestionEngagement;GestionService;GestionServiceEngagement;EstMOA;EstMOAUniquement;StructureActive;Adresse;ComplementAdresse1;ComplementAdresse2;CodePostal;Ville;NumTelephone;Courriel;CodePays;LibellePays';
const row = (siret: string, name: string, flags: string) => `SIRET;${siret};${name};${flags};;;;75001;Paris;;;FR;France`;

test('the fixture directory is loaded with each structure and service requirement', () => {
  const hub = trackedHub();
  const dir = sqliteDirectory(hub.db);
  expect(dir.structure('11000201100044')).toMatchObject({ name: 'ETAT', active: true, requiresServiceAndEngagement: true });
  expect(dir.structure('26750000100016')).toMatchObject({ name: 'CENTRE HOSPITALIER DE DÉMONSTRATION', requiresService: true, requiresEngagement: false });
  expect(dir.structure('26450001300018')).toMatchObject({ active: false });
  expect(dir.service('26750000100016', 'PHARMACIE')).toMatchObject({ active: true, requiresEngagement: true });
  expect(dir.service('26750000100016', 'ANCIEN-LABO')).toMatchObject({ active: false });
  expect(dir.structure('44100002200018')).toBeUndefined();
});

test('an ISO-8859-1 export with Oui/Non and 1/0 booleans and quoted fields is read correctly', () => {
  const hub = trackedHub();
  const file = path.join(tempDir(), 'latin1.csv');
  const text = [HEADER, row('21450001200015', '"Commune d\'Évry; annexe"', 'Non;Oui;Non;Oui;0;Non;Non;Non;Oui')].join('\r\n') + '\r\n';
  fs.writeFileSync(file, Buffer.from(text, 'latin1'));
  expect(importDirectory(hub.db, file)).toEqual({ structures: 1, services: 0 });
  expect(sqliteDirectory(hub.db).structure('21450001200015')).toEqual({
    siret: '21450001200015', name: "Commune d'Évry; annexe", active: true, requiresEngagement: true, requiresService: false, requiresServiceAndEngagement: false,
  });
});

test('a malformed row is reported with its line number and the previous directory stays', () => {
  const hub = trackedHub();
  const file = path.join(tempDir(), 'bad.csv');
  fs.writeFileSync(file, [HEADER, row('21450001200015', 'OK', 'false;true;false;false;false;false;false;false;true'), row('21330001100011', 'BAD', 'false;true;false;peut-être;false;false;false;false;true'), 'SIRET;123;too few fields'].join('\n'));
  let error: DirectoryImportError | undefined;
  try {
    importDirectory(hub.db, file);
  } catch (e) {
    error = e as DirectoryImportError;
  }
  expect(error).toBeInstanceOf(DirectoryImportError);
  expect(error!.problems).toEqual([
    { file, line: 3, message: 'GestionEngagement is "peut-être", expected true/false, 1/0 or Oui/Non' },
    { file, line: 4, message: '3 fields where the header has 21' },
  ]);
  // Unchanged: the fixture directory is still there.
  expect(sqliteDirectory(hub.db).structure('11000201100044')?.name).toBe('ETAT');
});

test('a header without the required columns is refused', () => {
  const hub = trackedHub();
  const file = path.join(tempDir(), 'header.csv');
  fs.writeFileSync(file, 'Identifiant;Nom\n21450001200015;X\n');
  expect(() => importDirectory(hub.db, file)).toThrow(/line 1|:1: missing column\(s\) RaisonSociale/);
});

test('re-importing replaces the whole directory: structures absent from the new export are gone', () => {
  const hub = trackedHub();
  const file = path.join(tempDir(), 'one.csv');
  fs.writeFileSync(file, [HEADER, row('21450001200015', 'SEULE', 'false;true;false;false;false;false;false;false;true')].join('\n'));
  importDirectory(hub.db, file);
  const dir = sqliteDirectory(hub.db);
  expect(dir.structure('21450001200015')?.name).toBe('SEULE');
  expect(dir.structure('11000201100044')).toBeUndefined();
  expect(dir.service('26750000100016', 'PHARMACIE')).toBeUndefined();
  expect(fixture('directory', 'structures.csv')).toBeTruthy();
});
