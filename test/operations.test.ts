/** Operators' commands, run as an operator runs them (the built CLI), with their JSON and exit codes. */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, openDb, SCHEMA_VERSION } from '../src/ledger/db.js';
import { cli, deliveredInvoices, fixture, ledgerSql, listFiles, tempDir } from './helpers.js';

const json = (r: { stdout: string }) => JSON.parse(r.stdout);

function homeWithPartialDirectory(): string {
  const home = tempDir();
  // The hospital (26750000100016) is missing from last night's directory.
  const partial = path.join(home, 'structures-partial.csv');
  fs.writeFileSync(partial, fs.readFileSync(fixture('directory', 'structures.csv'), 'utf8').split('\n').filter((l) => !l.includes('26750000100016')).join('\n'));
  expect(cli(['directory', 'import', '--structures', partial, '--services', fixture('directory', 'services.csv')], { home }).code).toBe(0);
  return home;
}

test('a flow failed for a missing recipient: found with one command, explained with a second, integrated with a third, nothing emitted twice', () => {
  const home = homeWithPartialDirectory();
  expect(cli(['process', fixture('mixed', 'three-recipients.xml')], { home }).code).toBe(2);
  expect(cli(['process', fixture('mixed', 'routing-errors.xml')], { home }).code).toBe(2);

  // 1. Find it.
  const found = json(cli(['flows', 'list', '--state', 'IN_INTEGRE_PARTIEL', '--recipient', '21450001200015', '--json'], { home }));
  expect(found).toHaveLength(1);
  const flowId = found[0].id;
  // 2. Explain it.
  const shown = cli(['flows', 'show', flowId, '--json'], { home });
  expect(shown.code).toBe(0);
  const details = json(shown);
  const rejected = details.invoices.filter((i: { accepted: boolean }) => !i.accepted);
  expect(rejected).toEqual([expect.objectContaining({ number: 'FA-2026-0003', errors: [expect.objectContaining({ code: 'ROUTE_RECIPIENT_UNKNOWN', line: expect.any(Number) })] })]);
  expect(details.outputs.map((o: { kind: string }) => o.kind).sort()).toEqual(['pivot', 'pivot', 'report', 'report', 'supplier-status']);
  // The fix: a complete directory.
  cli(['directory', 'import', '--structures', fixture('directory', 'structures.csv'), '--services', fixture('directory', 'services.csv')], { home });
  const before = deliveredInvoices(home);
  // Dry run first: counts, nothing changed.
  const plan = json(cli(['replay', '--failed', '--dry-run', '--json'], { home }));
  expect(plan.find((p: { flowId: string }) => p.flowId === flowId)).toMatchObject({ retried: 1, wouldAccept: 1, stillRejected: [] });
  expect(deliveredInvoices(home)).toEqual(before);
  // 3. Replay it.
  const replayed = cli(['replay', flowId, '--json'], { home });
  expect(replayed.code).toBe(0);
  expect(json(replayed)[0]).toMatchObject({ flowId, wouldAccept: 1, stateAfter: 'IN_INTEGRE' });

  const after = deliveredInvoices(home);
  expect(after.size).toBe(before.size + 1);
  expect([...after.values()].every((n) => n === 1)).toBe(true);
  expect(fs.existsSync(path.join(home, 'outbox', 'recipients', '26750000100016', `CPPFacturePivot_${flowId}_r1.xml`))).toBe(true);
  // A second replay does nothing.
  expect(json(cli(['replay', flowId, '--json'], { home }))[0].skipped).toBe('already IN_INTEGRE');
  expect(deliveredInvoices(home)).toEqual(after);
  const history = json(cli(['flows', 'show', flowId, '--json'], { home }));
  expect(history.state).toBe('IN_INTEGRE');
  expect(history.replays).toEqual([expect.objectContaining({ attempt: 1, accepted: 1, still_rejected: 0 })]);
  // The supplier got 01 and 03 for the recovered invoice in the replay's own status file.
  const statusFile = path.join(home, 'outbox', 'suppliers', '81234567800013', `CPPStatut_${flowId}_r1.xml`);
  expect([...fs.readFileSync(statusFile, 'utf8').matchAll(/<IdStatut>(\d+)<\/IdStatut>/g)].map((m) => m[1])).toEqual(['01', '03']);
});

test('replay --failed replays what is still refused; a flow refused whole leaves failed/ once it integrates', () => {
  const home = tempDir();
  cli(['directory', 'import', '--structures', fixture('directory', 'structures.csv'), '--services', fixture('directory', 'services.csv')], { home });
  // Refused whole: over a (too small) flow size limit.
  expect(cli(['--set', 'maxFlowBytes=1000', 'process', fixture('mixed', 'partial.xml')], { home }).code).toBe(2);
  const [flow] = json(cli(['flows', 'list', '--json'], { home }));
  expect(flow.state).toBe('QP_IRRECEVABLE');
  expect(listFiles(path.join(home, 'failed'))).toEqual([`${flow.id}__partial.xml`, `${flow.id}__partial.xml.report.json`, `${flow.id}__partial.xml.report.xml`]);
  // Still refused with the small limit: the replay records nothing new.
  const again = json(cli(['--set', 'maxFlowBytes=1000', 'replay', '--failed', '--json'], { home }));
  expect(again[0].flowErrors[0].code).toBe('FLOW_TOO_LARGE');
  // With the default limit it integrates what it can (1 of 3), and moves to archive/.
  const r = cli(['replay', '--failed', '--json'], { home });
  expect(r.code).toBe(2);
  expect(json(r)[0]).toMatchObject({ wouldAccept: 1, stateAfter: 'IN_INTEGRE_PARTIEL' });
  expect(listFiles(path.join(home, 'failed'))).toEqual([]);
  expect(listFiles(path.join(home, 'archive'))).toEqual([expect.stringContaining(`${flow.id}__partial.xml`)]);
});

test('invoices search/show, directory lookup, stats, doctor and config show answer in parseable JSON', () => {
  const home = tempDir();
  cli(['directory', 'import', '--structures', fixture('directory', 'structures.csv'), '--services', fixture('directory', 'services.csv')], { home });
  cli(['process', fixture('mixed', 'three-recipients.xml'), fixture('mixed', 'partial.xml')], { home });

  const found = json(cli(['invoices', 'search', '--supplier', '81234567800013', '--number', 'FA-2026-01%', '--json'], { home }));
  expect(found.map((i: { number: string; accepted: boolean }) => [i.number, i.accepted])).toEqual([['FA-2026-0103', false], ['FA-2026-0102', false], ['FA-2026-0101', true]]);
  expect(json(cli(['invoices', 'search', '--status', 'REJECTED', '--json'], { home }))).toHaveLength(2);
  expect(json(cli(['invoices', 'search', '--status', 'MISE_A_DISPOSITION', '--recipient', '21450001200015', '--json'], { home }))).toHaveLength(3);
  const shown = json(cli(['invoices', 'show', '81234567800013/FA-2026-0001', '--json'], { home }));
  expect(shown).toMatchObject({ number: 'FA-2026-0001', recipient_siret: '11000201100044', status: '03' });
  expect(shown.events.map((e: { status: string }) => e.status)).toEqual(['01', '03']);
  expect(cli(['invoices', 'show', 'NOPE'], { home }).code).toBe(3); // not found

  const lookup = json(cli(['directory', 'lookup', '11000201100044', '--json'], { home }));
  expect(lookup.requires).toEqual(['service code AND engagement number']);
  expect(lookup.services.map((s: { code: string }) => s.code)).toEqual(['DIR-ANCIENNE', 'SGAMI-SUD']);
  expect(cli(['directory', 'lookup', '44100002200018'], { home }).code).toBe(3); // not found

  const stats = json(cli(['stats', '--json'], { home }));
  expect(stats.flows).toEqual(expect.arrayContaining([{ state: 'IN_INTEGRE', n: 1 }, { state: 'IN_INTEGRE_PARTIEL', n: 1 }]));
  expect(stats.rejectionCodes).toEqual(expect.arrayContaining([{ code: 'ROUTE_RECIPIENT_UNKNOWN', n: 1 }, { code: 'RULE_AMOUNT_TTC_MISMATCH', n: 1 }]));

  const doctor = cli(['doctor', '--json'], { home });
  expect(doctor.code).toBe(0);
  expect(json(doctor).filter((c: { result: string }) => c.result === 'FAIL')).toEqual([]);
  const empty = tempDir();
  const emptyDoctor = cli(['doctor', '--json'], { home: empty });
  expect(emptyDoctor.code).toBe(1);
  // Not a home yet (no ledger): the doctor says so, and creates nothing.
  expect(json(emptyDoctor).find((c: { check: string }) => c.check === 'home').result).toBe('FAIL');
  expect(fs.readdirSync(empty)).toEqual([]);

  fs.writeFileSync(path.join(home, 'factflow.config.json'), JSON.stringify({ sweepIntervalMs: 1234, stabilityMs: 10 }));
  const config = json(cli(['--set', 'platformPartnerId=HUB042', 'config', 'show', '--json'], { home, env: { FACTFLOW_STABILITY_MS: '777' } }));
  const setting = (k: string) => config.settings.find((s: { key: string }) => s.key === k);
  expect(setting('sweepIntervalMs')).toEqual({ key: 'sweepIntervalMs', value: 1234, from: 'file' });
  expect(setting('stabilityMs')).toEqual({ key: 'stabilityMs', value: 777, from: 'env' });
  expect(setting('platformPartnerId')).toEqual({ key: 'platformPartnerId', value: 'HUB042', from: 'flag' });
  expect(setting('maxAttachmentBytes')).toMatchObject({ from: 'default' });
});

test('purge removes finished flows past retention (rows and archived files), never unfinished ones', () => {
  const home = tempDir();
  cli(['directory', 'import', '--structures', fixture('directory', 'structures.csv')], { home });
  cli(['process', fixture('mixed', 'partial.xml'), fixture('mixed', 'schema-invalid.xml')], { home });
  // An unfinished flow: claimed, not yet decided (as after a crash).
  ledgerSql(home, "INSERT INTO flows (id, file_name, size, sha256, stage, received_at, spool_path) VALUES ('FFUNFINISHED', 'x.xml', 1, 'abc', 'CLAIMED', '2000-01-01T00:00:00Z', ?)", path.join(home, 'var', 'spool', 'FFUNFINISHED'));

  const dry = json(cli(['purge', '--older-than', '0d', '--dry-run', '--json'], { home }));
  expect(dry.flows).toHaveLength(2);
  expect(json(cli(['flows', 'list', '--json'], { home }))).toHaveLength(3);
  expect(json(cli(['purge', '--older-than', '10y', '--json'], { home })).flows).toEqual([]);
  expect(json(cli(['purge', '--dry-run', '--json'], { home })).flows).toEqual([]); // default retention: 10 years
  expect(json(cli(['--set', 'retentionDays=0', 'purge', '--dry-run', '--json'], { home })).flows).toHaveLength(2);

  const done = json(cli(['purge', '--older-than', '0d', '--json'], { home }));
  expect(done.flows).toHaveLength(2);
  expect(done.files).toBe(4); // two sources, and the report pair beside the failed one
  expect(json(cli(['flows', 'list', '--json'], { home })).map((f: { id: string }) => f.id)).toEqual(['FFUNFINISHED']);
  expect(listFiles(path.join(home, 'archive'))).toEqual([]);
  expect(listFiles(path.join(home, 'failed'))).toEqual([]);
  expect(cli(['purge', '--older-than', 'forever'], { home }).code).toBe(64);
});

test('ledger migrations: a version-1 ledger is migrated at start-up without losing data', () => {
  const file = path.join(tempDir(), 'old.db');
  const old = new Database(file);
  old.exec(MIGRATIONS[0]!);
  old.exec("INSERT INTO flows (id, file_name, size, sha256, stage, received_at, spool_path) VALUES ('FFOLD', 'old.xml', 10, 'aa', 'DONE', '2025-01-01T00:00:00Z', '')");
  old.pragma('user_version = 1');
  old.close();

  const migrated = openDb(file);
  expect(migrated.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
  expect(migrated.prepare('SELECT id, file_name, replays FROM flows').all()).toEqual([{ id: 'FFOLD', file_name: 'old.xml', replays: 0 }]);
  const columns = (migrated.prepare("SELECT name FROM pragma_table_info('invoices')").all() as { name: string }[]).map((c) => c.name);
  expect(columns).toContain('role');
  migrated.close();
  // A ledger newer than this factflow is refused rather than damaged.
  const newer = new Database(file);
  newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  newer.close();
  expect(() => openDb(file)).toThrow(/newer than this factflow/);
});
