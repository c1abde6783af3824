/** The command line as an operator runs it: exit codes, outputs, JSON. */
import fs from 'node:fs';
import path from 'node:path';
import { cli, fixture, ledgerSql, tempDir } from './helpers.js';

const importFixtures = (home: string) =>
  cli(['directory', 'import', '--structures', fixture('directory', 'structures.csv'), '--services', fixture('directory', 'services.csv')], { home });

test('directory import, process with exit codes 0 and 2, flows list as table and JSON', () => {
  const home = tempDir();
  const imported = importFixtures(home);
  expect(imported).toMatchObject({ code: 0 });
  expect(imported.stdout).toContain('5 structures, 5 services');

  const ok = cli(['process', fixture('mixed', 'three-recipients.xml')], { home });
  expect(ok.code).toBe(0);
  expect(ok.stdout).toMatch(/IN_INTEGRE \(90\).*4\/4 invoices integrated/);
  // The source outside the inbox is left where it was (copied, not moved).
  expect(fs.existsSync(fixture('mixed', 'three-recipients.xml'))).toBe(true);

  const partial = cli(['process', '--json', fixture('mixed', 'partial.xml')], { home });
  expect(partial.code).toBe(2);
  const [report] = JSON.parse(partial.stdout);
  expect(report).toMatchObject({ file: 'partial.xml', state: 'IN_INTEGRE_PARTIEL', statusCode: '96' });

  const list = cli(['flows', 'list', '--json'], { home });
  expect(list.code).toBe(0);
  const flows = JSON.parse(list.stdout);
  expect(flows.map((f: { file: string; state: string; invoices: number; accepted: number }) => [f.file, f.state, f.invoices, f.accepted])).toEqual([
    ['partial.xml', 'IN_INTEGRE_PARTIEL', 3, 1],
    ['three-recipients.xml', 'IN_INTEGRE', 4, 4],
  ]);
  const table = cli(['flows', 'list', '--state', 'IN_INTEGRE'], { home });
  expect(table.stdout.split('\n')[0]).toMatch(/^FLOW\s+FILE\s+STATE/);
  expect(table.stdout).toContain('three-recipients.xml');
  expect(table.stdout).not.toContain('partial.xml');

  // One JSON line per event in var/log, each about a flow carrying its id.
  const logs = fs.readdirSync(path.join(home, 'var', 'log')).filter((f) => /^factflow-\d{4}-\d{2}-\d{2}\.log$/.test(f));
  expect(logs).toHaveLength(1);
  const lines = fs.readFileSync(path.join(home, 'var', 'log', logs[0]!), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const aboutFlows = lines.filter((l) => /^(claimed|done|pivot|invoice)/.test(l.message));
  expect(aboutFlows.length).toBeGreaterThan(4);
  expect(aboutFlows.every((l) => /^FF\d{14}[0-9A-F]{6}$/.test(l.flowId))).toBe(true);
  // A rejected invoice is logged with its number.
  expect(lines).toContainEqual(expect.objectContaining({ invoice: 'FA-2026-0103', message: expect.stringContaining('RULE_AMOUNT_TTC_MISMATCH') }));
});

test('a malformed directory export exits 2, names the line, and keeps the previous directory', () => {
  const home = tempDir();
  importFixtures(home);
  const bad = path.join(home, 'bad.csv');
  fs.writeFileSync(bad, fs.readFileSync(fixture('directory', 'structures.csv'), 'utf8').replace('ETAT;false;true', 'ETAT;maybe;true'));
  const r = cli(['directory', 'import', '--structures', bad], { home });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('bad.csv:2: EmetteurEdi is "maybe"');
  expect(cli(['process', fixture('mixed', 'three-recipients.xml')], { home }).code).toBe(0);
});

test('usage errors exit 64; --help exits 0 with an example', () => {
  expect(cli(['frobnicate']).code).toBe(64);
  expect(cli(['directory', 'import']).code).toBe(64);
  const help = cli(['process', '--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('Example:');
});

test('docs/ERRORS.md lists every code of the catalog (regenerate with npm run docs)', async () => {
  const { errorsMarkdown } = await import('../src/devtools/errorsDoc.js');
  expect(fs.readFileSync(path.join(fixture('..'), 'docs', 'ERRORS.md'), 'utf8')).toBe(errorsMarkdown());
});

test('docs/FORMATS.md lists every format of the format table (regenerate with npm run docs)', async () => {
  const { formatsMarkdown } = await import('../src/devtools/errorsDoc.js');
  expect(fs.readFileSync(path.join(fixture('..'), 'docs', 'FORMATS.md'), 'utf8')).toBe(formatsMarkdown());
});

test('factflow resume finishes a flow a crash left in the spool', async () => {
  const home = tempDir();
  cli(['directory', 'import', '--structures', fixture('directory', 'structures.csv')], { home });
  const { openHub, closeHub } = await import('../src/hub.js');
  const { claimFile } = await import('../src/ingest/claim.js');
  const hub = openHub(home);
  const id = (await claimFile(hub, fixture('mixed', 'partial.xml'), { copy: true }))!;
  await closeHub(hub);
  ledgerSql(home, 'UPDATE flows SET owner_pid = 999999 WHERE id = ?', id); // its process died
  const r = cli(['resume', '--json'], { home });
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual({ done: [{ id, state: 'IN_INTEGRE_PARTIEL' }], failed: [], deadlinesPassed: 0 });
});
