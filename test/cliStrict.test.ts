/**
 * The command line without surprises (issue 18), through the built CLI in child processes:
 * installable as a command, strict options and settings, exit codes, a directory import that
 * cannot hurt, lists and purge an operator can use.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { cli, fixture, listFiles, ROOT, tempDir } from './helpers.js';

const STRUCTURES = fixture('directory', 'structures.csv');
const SERVICES = fixture('directory', 'services.csv');
const json = (r: { stdout: string }) => JSON.parse(r.stdout);
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

/** One home for the read-only checks: the fixture directory, a partly integrated flow, a refused one. */
let home: string;
beforeAll(() => {
  home = tempDir();
  expect(cli(['directory', 'import', '--structures', STRUCTURES, '--services', SERVICES], { home }).code).toBe(0);
  expect(cli(['process', fixture('mixed', 'three-recipients.xml'), fixture('mixed', 'partial.xml'), fixture('mixed', 'schema-invalid.xml')], { home }).code).toBe(2);
});

describe('installable like a real tool', () => {
  test('npm install -g of the project folder, offline, gives a factflow command that answers --version and --help from any folder', () => {
    const prefix = tempDir('factflow-prefix-');
    // --offline and an unreachable registry: any attempt to use the network fails the install.
    // The folder is installed as a link (nothing copied, nothing written in the project);
    // --ignore-scripts because dist/ is already built (prepare would only rebuild it).
    const npm = spawnSync('npm', ['install', '-g', '--prefix', prefix, ROOT, '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
      encoding: 'utf8',
      cwd: os.tmpdir(),
      env: { ...process.env, npm_config_registry: 'http://127.0.0.1:9/', npm_config_update_notifier: 'false' },
      timeout: 120_000,
    });
    expect(npm.stderr).not.toMatch(/ENOTCACHED|ECONNREFUSED|network/i);
    expect(npm.status).toBe(0);
    const bin = path.join(prefix, 'bin', 'factflow');
    expect(fs.existsSync(bin)).toBe(true);

    const elsewhere = tempDir('factflow-cwd-');
    const run = (...args: string[]) => spawnSync(bin, args, { encoding: 'utf8', cwd: elsewhere, env: { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH}` } });
    const version = run('--version');
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe(pkg.version);
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: factflow /);
    expect(help.stdout).toContain('init');
    expect(fs.readdirSync(elsewhere)).toEqual([]); // --version and --help create no home
  });
});

test('a reader that stops early (| head) ends the command quietly', () => {
  const r = spawnSync('sh', ['-c', `"${process.execPath}" "${path.join(ROOT, 'dist', 'cli', 'main.js')}" --help | head -1`], { encoding: 'utf8' });
  expect(r.stdout).toMatch(/^Usage: factflow/);
  expect(r.stderr).toBe('');
});

describe('strict options', () => {
  test('enumerated values are checked case-insensitively, with the accepted list in the error', () => {
    const bogus = cli(['flows', 'list', '--state', 'bogus'], { home });
    expect(bogus.code).toBe(64);
    expect(bogus.stderr).toContain('--state "bogus" is not one of: IN_INTEGRE, IN_INTEGRE_PARTIEL, IN_REJETE, QP_IRRECEVABLE');
    const lower = json(cli(['flows', 'list', '--state', 'in_integre', '--json'], { home }));
    expect(lower.map((f: { file: string; state: string }) => [f.file, f.state])).toEqual([['three-recipients.xml', 'IN_INTEGRE']]);

    const nope = cli(['invoices', 'search', '--status', 'NOPE'], { home });
    expect(nope.code).toBe(64);
    expect(nope.stderr).toMatch(/--status "NOPE" is not one of: DEPOSEE, .*SERVICE_FAIT.*, REJECTED \(or a status code/);
    expect(json(cli(['invoices', 'search', '--status', 'mise_a_disposition', '--json'], { home }))).toHaveLength(5);
    expect(json(cli(['invoices', 'search', '--status', '3', '--json'], { home }))).toHaveLength(5);
    expect(json(cli(['invoices', 'search', '--status', 'rejected', '--json'], { home }))).toHaveLength(2);
    expect(cli(['invoices', 'search', '--limit', 'many'], { home }).code).toBe(64);

    const as = cli(['invoice', 'status', '81234567800013/FA-2026-0101', 'SERVICE_FAIT', '--as', 'boss'], { home });
    expect(as.code).toBe(64);
    expect(as.stderr).toContain('--as "boss" is not one of: recipient, accountant, supplier');
    const status = cli(['invoice', 'status', '81234567800013/FA-2026-0101', 'DONE_AND_DUSTED'], { home });
    expect(status.code).toBe(64);
    expect(status.stderr).toContain('<status> "DONE_AND_DUSTED" is not one of');
    expect(cli(['flows', 'list', '--since', 'yesterday'], { home }).code).toBe(64);
  });

  test('unknown settings are refused wherever they come from, naming the source; so are values of the wrong type', () => {
    const h = tempDir();
    cli(['init'], { home: h });
    const flag = cli(['--set', 'bogus=1', 'config', 'show'], { home: h });
    expect(flag.code).toBe(64);
    expect(flag.stderr).toMatch(/unknown setting "bogus" \(--set bogus=…\); known settings: stabilityMs, /);
    const env = cli(['config', 'show'], { home: h, env: { FACTFLOW_STABILTY_MS: '2000' } });
    expect(env.code).toBe(64);
    expect(env.stderr).toContain('unknown environment variable FACTFLOW_STABILTY_MS');
    const notNumber = cli(['config', 'show'], { home: h, env: { FACTFLOW_STABILITY_MS: 'abc' } });
    expect(notNumber.code).toBe(64);
    expect(notNumber.stderr).toContain('stabilityMs from environment variable FACTFLOW_STABILITY_MS must be a non-negative whole number, got "abc"');
    expect(cli(['--set', 'workers=abc', 'config', 'show'], { home: h }).stderr).toContain('workers from --set workers must be a non-negative whole number, got "abc"');

    const file = path.join(h, 'factflow.config.json');
    fs.writeFileSync(file, JSON.stringify({ stabilityMs: 2000, stabiltyMs: 10 }));
    const unknownKey = cli(['config', 'show'], { home: h });
    expect(unknownKey.code).toBe(64);
    expect(unknownKey.stderr).toContain(`unknown setting "stabiltyMs" (in ${file})`);
    fs.writeFileSync(file, JSON.stringify({ stabilityMs: 'fast' }));
    expect(cli(['config', 'show'], { home: h }).stderr).toContain(`stabilityMs from ${file} must be a non-negative whole number, got "fast"`);
    fs.writeFileSync(file, '{\n  "stabilityMs": 2000,\n  "workers": 2,\n}\n');
    const bad = cli(['config', 'show'], { home: h });
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain(`${file}: invalid JSON at line 4, column 1`);
    fs.writeFileSync(file, JSON.stringify({ stabilityMs: 2000 }));
    expect(json(cli(['config', 'show', '--json'], { home: h })).settings).toContainEqual({ key: 'stabilityMs', value: 2000, from: 'file' });
  });

  test('a home that does not exist is refused, and nothing is created; init and process create one', () => {
    const parent = tempDir();
    const typo = path.join(parent, 'typo-home');
    for (const args of [['flows', 'list'], ['stats'], ['config', 'show'], ['directory', 'import', '--structures', STRUCTURES, '--services', SERVICES], ['partners', 'add', 'ACM001', '--name', 'x']]) {
      const r = cli(args, { home: typo });
      expect({ args, code: r.code }).toEqual({ args, code: 64 });
      expect(r.stderr).toContain(`the home ${typo} does not exist`);
    }
    expect(fs.readdirSync(parent)).toEqual([]);
    // An existing folder that is not a home: reading commands refuse it too and create nothing.
    const notHome = tempDir();
    expect(cli(['flows', 'list'], { home: notHome })).toMatchObject({ code: 64, stderr: expect.stringContaining('is not a factflow home') });
    expect(fs.readdirSync(notHome)).toEqual([]);

    expect(cli(['init'], { home: typo }).code).toBe(0);
    expect(fs.existsSync(path.join(typo, 'var', 'factflow.db'))).toBe(true);
    expect(cli(['flows', 'list', '--json'], { home: typo })).toMatchObject({ code: 0, stdout: '[]\n' });
    const byProcess = path.join(parent, 'made-by-process');
    expect(cli(['process', fixture('mixed', 'schema-invalid.xml')], { home: byProcess }).code).toBe(2);
    expect(fs.existsSync(path.join(byProcess, 'inbox'))).toBe(true);
  });

  test('not found exits 3 for every command naming a missing thing; a rejected invoice is shown; --help lists the exit codes', () => {
    for (const args of [['flows', 'show', 'NOPE'], ['invoices', 'show', 'NOPE'], ['invoice', 'history', '81234567800013/NOPE'], ['directory', 'lookup', '44100002200018'],
      ['directory', 'lookup', '11000201100044', '--service', 'NOPE'], ['partners', 'remove', 'ACM009'], ['replay', 'FFNOPE'], ['process', 'no-such-file.xml'], ['validate', 'no-such-file.xml']]) {
      expect({ args, code: cli(args, { home }).code }).toEqual({ args, code: 3 });
    }
    // FA-2026-0102 was refused at deposit (unknown recipient): it is in the ledger, so it is shown.
    const rejected = cli(['invoices', 'show', '81234567800013/FA-2026-0102'], { home });
    expect(rejected.code).toBe(0);
    expect(rejected.stdout).toContain('rejected at deposit');
    expect(rejected.stdout).toContain('ROUTE_RECIPIENT_UNKNOWN');
    expect(json(cli(['invoices', 'show', 'FA-2026-0103', '--json'], { home }))).toMatchObject({ number: 'FA-2026-0103', accepted: 0 });
    // Lifecycle commands still need an accepted invoice.
    expect(cli(['invoice', 'status', '81234567800013/FA-2026-0102', 'SERVICE_FAIT'], { home }).code).toBe(3);

    for (const args of [['--help'], ['flows', 'list', '--help'], ['directory', 'import', '--help'], ['invoice', 'status', '--help'], ['purge', '--help']]) {
      const help = cli(args);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/Exit codes:\n {2}0 {3}success\n {2}1 {3}system error[^\n]*\n {2}2 {3}data error[^\n]*\n {2}3 {3}not found[^\n]*\n {2}64 {2}usage error/);
    }
  });
});

describe('directory import that cannot hurt', () => {
  const HEADER = 'TypeIdentifiant;Identifiant;RaisonSociale;EmetteurEdi;RecepteurEdi;GestionStatutMiseEnPaiement;GestionEngagement;GestionService;GestionServiceEngagement;EstMOA;EstMOAUniquement;StructureActive';
  const FLAGS = 'false;true;false;false;false;false;false;false;true';
  const structureRow = (siret: string, name: string) => `SIRET;${siret};${name};${FLAGS}`;

  test('--dry-run shows what would be added, changed and removed, and changes nothing', () => {
    const h = tempDir();
    cli(['directory', 'import', '--structures', STRUCTURES, '--services', SERVICES], { home: h });
    const dir = tempDir();
    const structures = path.join(dir, 'structures.csv');
    // The State renamed, the commune gone, a new structure; services unchanged but the commune's.
    const text = fs.readFileSync(STRUCTURES, 'utf8').replace(';ETAT;', ';ETAT FRANÇAIS;').split('\n').filter((l) => !l.includes('21450001200015')).join('\n');
    fs.writeFileSync(structures, `${text.trimEnd()}\n${structureRow('21750001600019', 'VILLE NOUVELLE')};;;;;;;;;\n`);
    const dry = cli(['directory', 'import', '--structures', structures, '--services', SERVICES, '--dry-run', '--json'], { home: h });
    expect(dry.code).toBe(0);
    expect(json(dry)).toMatchObject({
      dryRun: true,
      imported: false,
      servicesFrom: 'file',
      encodings: { structures: 'UTF-8', services: 'UTF-8' },
      structures: { total: 5, added: 1, changed: 1, removed: 1, unchanged: 3, firstAdded: ['21750001600019'], firstChanged: ['11000201100044'], firstRemoved: ['21450001200015'] },
      services: { total: 5, added: 0, changed: 0, removed: 0, unchanged: 5 },
    });
    const text2 = cli(['directory', 'import', '--structures', structures, '--services', SERVICES, '--dry-run'], { home: h });
    expect(text2.stdout).toContain('Dry run, nothing was changed');
    expect(text2.stdout).toContain('Structures: 1 added, 1 changed, 1 removed, 3 unchanged.');
    expect(text2.stdout).toMatch(/removed +21450001200015/);
    // Nothing changed: the commune is still there.
    expect(cli(['directory', 'lookup', '21450001200015'], { home: h }).code).toBe(0);
  });

  test('structures without --services: refused while services are loaded, unless --keep-services or --drop-services', () => {
    const h = tempDir();
    cli(['directory', 'import', '--structures', STRUCTURES, '--services', SERVICES], { home: h });
    const refused = cli(['directory', 'import', '--structures', STRUCTURES], { home: h });
    expect(refused.code).toBe(64);
    expect(refused.stderr).toContain('the 5 service(s) in the current directory would all be dropped');
    expect(refused.stderr).toContain('--keep-services');
    expect(cli(['directory', 'import', '--structures', STRUCTURES, '--services', SERVICES, '--drop-services'], { home: h }).code).toBe(64);

    const kept = cli(['directory', 'import', '--structures', STRUCTURES, '--keep-services', '--json'], { home: h });
    expect(kept.code).toBe(0);
    expect(json(kept)).toMatchObject({ servicesFrom: 'kept', services: { total: 5, unchanged: 5 } });
    expect(json(cli(['directory', 'lookup', '26750000100016', '--json'], { home: h })).services).toHaveLength(3);

    const dropped = cli(['directory', 'import', '--structures', STRUCTURES, '--drop-services', '--json'], { home: h });
    expect(json(dropped)).toMatchObject({ servicesFrom: 'dropped', services: { total: 0, removed: 5 } });
    expect(json(cli(['directory', 'lookup', '26750000100016', '--json'], { home: h })).services).toEqual([]);
  });

  test('SIRET and SIREN errors abort with their line; services of unknown structures are warnings with their line', () => {
    const h = tempDir();
    cli(['directory', 'import', '--structures', STRUCTURES, '--services', SERVICES], { home: h });
    const dir = tempDir();
    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, [HEADER, structureRow('21450001200015', 'OK'), structureRow('2145000120001', 'TREIZE'), structureRow('21450001200016', 'LUHN'), structureRow('214500012', 'SIREN'), 'RIDET;1234567;NOUMEA;' + FLAGS].join('\n'));
    const r = cli(['directory', 'import', '--structures', bad, '--drop-services'], { home: h });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad.csv:3: Identifiant "2145000120001" is not a SIRET: expected 14 digits, got 13 digits');
    expect(r.stderr).toContain('bad.csv:4: Identifiant 21450001200016 fails the SIRET check digit');
    expect(r.stderr).toContain('bad.csv:5: Identifiant 214500012 is a SIREN (9 digits)');
    expect(r.stderr).not.toContain('bad.csv:6'); // not a SIRET type: no check digit to verify
    expect(json(cli(['directory', 'lookup', '11000201100044', '--json'], { home: h })).services).toHaveLength(2); // unchanged

    const services = path.join(dir, 'services.csv');
    const orphan = '44100002200018;INCONNU;COMPTA;Comptabilité;false;true';
    fs.writeFileSync(services, `${fs.readFileSync(SERVICES, 'utf8').trimEnd()}\n${orphan};;;;;;;\n`);
    const w = cli(['directory', 'import', '--structures', STRUCTURES, '--services', services], { home: h });
    expect(w.code).toBe(0);
    expect(w.stderr).toContain('warning: ');
    expect(w.stderr).toContain('services.csv:7: service COMPTA belongs to 44100002200018, which is not in structures.csv: not imported');
    expect(w.stdout).toContain('5 structures, 5 services');
  });

  test('Windows-1252 is detected beside UTF-8 and ISO-8859-1; directory lookup --json is camelCase with booleans', () => {
    const h = tempDir();
    cli(['init'], { home: h });
    const dir = tempDir();
    const file = path.join(dir, 'cp1252.csv');
    // "Œuvre d’entraide – 5 €": 0x8C, 0x92, 0x96, 0x80 are Windows-1252 characters, control codes in ISO-8859-1.
    const name = Buffer.concat([Buffer.from([0x8c]), Buffer.from('uvre d', 'latin1'), Buffer.from([0x92]), Buffer.from('entraide ', 'latin1'), Buffer.from([0x96]), Buffer.from(' 5 ', 'latin1'), Buffer.from([0x80]), Buffer.from(' à Évry', 'latin1')]);
    fs.writeFileSync(file, Buffer.concat([Buffer.from(`${HEADER}\nSIRET;21450001200015;`, 'latin1'), name, Buffer.from(`;${FLAGS}\n`, 'latin1')]));
    const r = cli(['directory', 'import', '--structures', file, '--json'], { home: h });
    expect(r.code).toBe(0);
    expect(json(r).encodings.structures).toBe('Windows-1252');
    const lookup = json(cli(['directory', 'lookup', '21450001200015', '--json'], { home: h }));
    expect(lookup.structure).toEqual({
      siret: '21450001200015', idType: 'SIRET', name: 'Œuvre d’entraide – 5 € à Évry', active: true,
      requiresEngagement: false, requiresService: false, requiresServiceAndEngagement: false, ediReceiver: true, moa: false, moaOnly: false,
    });
    // ISO-8859-1 (no byte 0x80–0x9F) stays ISO-8859-1.
    fs.writeFileSync(file, Buffer.from(`${HEADER}\n${structureRow('21450001200015', 'Mairie d\'Évry')}\n`, 'latin1'));
    expect(json(cli(['directory', 'import', '--structures', file, '--json'], { home: h })).encodings.structures).toBe('ISO-8859-1');
    expect(json(cli(['directory', 'lookup', '21450001200015', '--json'], { home: h })).structure.name).toBe("Mairie d'Évry");

    const state = json(cli(['directory', 'lookup', '11000201100044', '--json'], { home }));
    expect(state.structure).toMatchObject({ siret: '11000201100044', requiresServiceAndEngagement: true, active: true });
    expect(state.services[0]).toEqual({ siret: '11000201100044', code: 'DIR-ANCIENNE', name: 'Direction supprimée', active: false, requiresEngagement: true });
  });
});

describe('lists and purge', () => {
  test('flows list pages with --limit/--offset (default stated in help) and shows the error codes of refused flows in NOTE', () => {
    const all = json(cli(['flows', 'list', '--json'], { home }));
    expect(all.map((f: { file: string }) => f.file)).toEqual(['schema-invalid.xml', 'partial.xml', 'three-recipients.xml']);
    expect(all.map((f: { errorCodes: string[] }) => f.errorCodes)).toEqual([['SCHEMA_INVALID'], ['ROUTE_RECIPIENT_UNKNOWN', 'RULE_AMOUNT_TTC_MISMATCH'], []]);
    const page = json(cli(['flows', 'list', '--limit', '1', '--offset', '1', '--json'], { home }));
    expect(page.map((f: { file: string }) => f.file)).toEqual(['partial.xml']);
    const table = cli(['flows', 'list', '--limit', '2'], { home });
    expect(table.stdout).toMatch(/schema-invalid\.xml .*QP_IRRECEVABLE .*SCHEMA_INVALID/);
    expect(table.stdout).toMatch(/partial\.xml .*ROUTE_RECIPIENT_UNKNOWN, RULE_AMOUNT_TTC_MISMATCH/);
    expect(table.stderr).toContain('the next ones with --offset 2');
    expect(cli(['flows', 'list', '--limit', '0'], { home }).code).toBe(64);
    expect(cli(['flows', 'list', '--help']).stdout).toContain('(default 100)');
  });

  test('purge --dry-run lists the flows it would remove; --older-than takes the duration grammar of --since', () => {
    const h = tempDir();
    cli(['directory', 'import', '--structures', STRUCTURES, '--services', SERVICES], { home: h });
    cli(['process', fixture('mixed', 'partial.xml')], { home: h });
    const [flow] = json(cli(['flows', 'list', '--json'], { home: h }));
    const dry = cli(['purge', '--older-than', '0m', '--dry-run'], { home: h });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`^FLOW +FILE +DONE\\n${flow.id} +partial\\.xml +\\d{4}-\\d{2}-\\d{2}T`));
    expect(json(cli(['purge', '--older-than', '0m', '--dry-run', '--json'], { home: h })).flows).toEqual([{ id: flow.id, file: 'partial.xml', doneAt: expect.any(String) }]);
    for (const d of ['1h', '30m', '2d', '10y']) expect(json(cli(['purge', '--older-than', d, '--dry-run', '--json'], { home: h })).flows).toEqual([]);
    const bad = cli(['purge', '--older-than', '1 week'], { home: h });
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('--older-than takes a duration like 30m, 12h, 7d or 10y');
    expect(listFiles(path.join(h, 'archive'))).toHaveLength(1); // dry runs removed nothing
  });
});
