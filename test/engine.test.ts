/**
 * One engine: every path judges and delivers a flow the same way. Regression tests for the
 * defects of the three copies the decision once had, and the same decision through process,
 * validate, replay and the daemon.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { flowReport } from '../src/app/queries.js';
import { replayFlow } from '../src/app/replay.js';
import { processFile } from '../src/app/run.js';
import { validateFile } from '../src/app/validate.js';
import { startDaemon } from '../src/daemon/watcher.js';
import type { IntegrationReport } from '../src/emit/report.js';
import { assertTransition, checkTransition, LIFECYCLE } from '../src/lifecycle/statuses.js';
import { closeLogger } from '../src/log.js';
import { importDirectory } from '../src/route/directoryImport.js';
import { CLI, cli, closeHubs, deliveredInvoices, fixture, FIXTURES, listFiles, ROOT, tempDir, trackedHub } from './helpers.js';

afterEach(closeHubs);

const ACME = '81234567800013';

describe('replay judges like processing', () => {
  test('a flow refused because its partner may not deposit for the supplier stays refused on replay', async () => {
    const hub = await trackedHub();
    await hub.ledger.transaction((tx) => tx.partners.save({ code: 'OTH001', name: 'Other EDI', suppliers: ['53298765400011'], recipients: [] }));
    const flow = (await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true, partner: 'OTH001' }))!;
    expect(flow.state).toBe('IN_REJETE');
    const { plan, flow: after } = await replayFlow(hub, flow.id);
    expect(after.state).toBe('IN_REJETE');
    expect(plan.stillRejected.flatMap((r) => r.codes)).toEqual(Array(4).fill('PARTNER_SUPPLIER_NOT_ALLOWED'));
    expect(deliveredInvoices(hub.layout.home).size).toBe(0);
    // Once the partner may act for ACME, the same replay integrates them, once.
    await hub.ledger.transaction((tx) => tx.partners.save({ code: 'OTH001', name: 'Other EDI', suppliers: [ACME], recipients: [] }));
    expect((await replayFlow(hub, flow.id)).flow.state).toBe('IN_INTEGRE');
    expect([...deliveredInvoices(hub.layout.home).values()]).toEqual([1, 1, 1, 1]);
  });

  test('a flow refused for an unregistered partner folder stays refused on replay', async () => {
    const hub = await trackedHub();
    const flow = (await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true, partner: 'ZZZ999' }))!;
    expect(flow.state).toBe('QP_IRRECEVABLE');
    const { plan, flow: after } = await replayFlow(hub, flow.id);
    expect(after.state).toBe('QP_IRRECEVABLE');
    expect(plan.flowErrors.map((e) => e.code)).toEqual(['FLOW_PARTNER_UNKNOWN']);
    expect(listFiles(path.join(hub.layout.outbox, 'recipients'))).toEqual([]);
  });

  test('two replays of one flow at once: one replays it, the other is told it is taken; nothing twice', async () => {
    const home = tempDir();
    const hub = await trackedHub({}, home);
    const empty = path.join(tempDir(), 'structures.csv');
    fs.writeFileSync(empty, fs.readFileSync(fixture('directory', 'structures.csv'), 'utf8').split('\n')[0] + '\n');
    await importDirectory(hub.ledger.directory, empty);
    const flow = (await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true }))!;
    expect(flow.state).toBe('IN_REJETE');
    await importDirectory(hub.ledger.directory, fixture('directory', 'structures.csv'), fixture('directory', 'services.csv'));
    const run = () => new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, '--home', home, 'replay', flow.id, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('close', (code) => resolve({ code, out }));
    });
    const results = await Promise.all([run(), run()]);
    expect(results.every((r) => r.code === 0 || r.code === 2)).toBe(true);
    const plans = results.map((r) => JSON.parse(r.out)[0]);
    expect(plans.filter((p) => !p.skipped)).toHaveLength(1);
    expect([...deliveredInvoices(home).values()]).toEqual([1, 1, 1, 1]);
    expect((await hub.ledger.flows.replays(flow.id)).map((r) => r.attempt)).toEqual([1]);
  });
});

describe("operators' lifecycle changes are requests, not partners' flows", () => {
  test('invoice status and complete write no report, are not listed as flows, and purge keeps working', async () => {
    const home = tempDir();
    const hub = await trackedHub({}, home);
    const deposit = (await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true }))!;
    expect(cli(['invoice', 'status', `${ACME}/FA-2026-0002`, '06', '--motif', 'BL manquant'], { home }).code).toBe(0);
    const bl = path.join(tempDir(), 'bon-de-livraison.pdf');
    fs.writeFileSync(bl, '%PDF-1.4 bon de livraison');
    expect(cli(['invoice', 'complete', `${ACME}/FA-2026-0002`, '--attach', bl], { home }).code).toBe(0);
    expect(listFiles(path.join(home, 'outbox', 'reports'))).toEqual([`${deposit.id}.json`, `${deposit.id}.xml`]);
    const listed = JSON.parse(cli(['flows', 'list', '--json'], { home }).stdout) as { id: string }[];
    expect(listed.map((f) => f.id)).toEqual([deposit.id]);
    // The supplier got each change as a status file all the same.
    expect(listFiles(path.join(home, 'outbox', 'suppliers', ACME))).toHaveLength(3);
    const purged = cli(['purge', '--older-than', '0d'], { home });
    expect(purged.stderr).not.toMatch(/FOREIGN KEY/);
    expect(purged.code).toBe(0);
  });

  test('a completion is judged by the deposit rules: missing, overlong and oversize attachments are refused with their codes', async () => {
    const home = tempDir();
    const hub = await trackedHub({}, home);
    await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true });
    expect(cli(['invoice', 'status', `${ACME}/FA-2026-0002`, '06', '--motif', 'BL manquant'], { home }).code).toBe(0);
    const missing = cli(['invoice', 'complete', `${ACME}/FA-2026-0002`, '--attach', '/nonexistent/bl.pdf'], { home });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('INPUT_NOT_FOUND');
    expect(missing.stderr).not.toContain('ENOENT:');
    const long = path.join(tempDir(), `${'b'.repeat(60)}.pdf`);
    fs.writeFileSync(long, '%PDF-1.4 x');
    const tooLong = cli(['invoice', 'complete', `${ACME}/FA-2026-0002`, '--attach', long], { home });
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toContain('RULE_ATTACHMENT_NAME_TOO_LONG');
    expect(tooLong.stderr).not.toContain('RULE_ATTACHMENT_EXTENSION');
    const big = path.join(tempDir(), 'bl.pdf');
    fs.writeFileSync(big, Buffer.alloc(5000, 1));
    const tooBig = cli(['--set', 'maxAttachmentBytes=4000', 'invoice', 'complete', `${ACME}/FA-2026-0002`, '--attach', big], { home });
    expect(tooBig.code).toBe(2);
    expect(tooBig.stderr).toContain('RULE_ATTACHMENT_TOO_LARGE');
    // Nothing was delivered again: the invoice is still suspended.
    expect(JSON.parse(cli(['invoice', 'history', `${ACME}/FA-2026-0002`, '--json'], { home }).stdout).invoice.status).toBe('06');
  });

  test('process and validate of a file that does not exist say so with a code and exit 3', () => {
    const home = tempDir();
    for (const args of [['process', '/nonexistent.xml'], ['process', '--json', '/nonexistent.xml'], ['validate', '/nonexistent.xml']]) {
      const r = cli(args, { home });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('INPUT_NOT_FOUND: /nonexistent.xml');
      expect(r.stdout).toBe('');
    }
  });
});

describe('one transition table', () => {
  test("the platform's own statuses are in the table and planned through it", () => {
    expect(LIFECYCLE.find((s) => s.code === '01')!.from).toEqual([null]);
    expect(assertTransition({ number: 'F', from: null, to: '01', producer: 'platform' })).toBe('01');
    expect(assertTransition({ number: 'F', from: '12', to: '03', producer: 'platform' })).toBe('03');
    expect(checkTransition({ number: 'F', from: '06', to: '12', producer: 'supplier' })).toEqual([]);
    expect(() => assertTransition({ number: 'F', from: '06', to: '03', producer: 'platform' })).toThrow(/lifecycle table refuses/);
    expect(checkTransition({ number: 'F', from: null, to: '07', producer: 'recipient' }).map((e) => e.code)).toEqual(['LIFE_TRANSITION_FORBIDDEN']);
  });
});

describe('the daemon survives its workers', () => {
  test('a worker that dies is replaced, the flows it held finish, and stop() ends', async () => {
    const hub = await trackedHub({ workers: 2, stabilityMs: 50, sweepIntervalMs: 200 });
    const daemon = await startDaemon(hub, { waitForLock: false });
    for (const f of ['three-recipients.xml', 'partial.xml', 'routing-errors.xml', 'rule-errors.xml']) fs.copyFileSync(fixture('mixed', f), path.join(hub.layout.inbox, f));
    // Workers ended at arbitrary moments, mid-transaction included (one then held the threads' write lock).
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 40 + 30 * i));
      await daemon.pool!.crashWorker(i % 2);
    }
    // The flows they held are retried after their backoff (1 s, 2 s, 4 s…).
    const deadline = Date.now() + 60_000;
    while ((await hub.ledger.flows.inStage('DONE')).length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const done = await hub.ledger.flows.inStage('DONE');
    expect(done).toHaveLength(4);
    expect(done.every((f) => f.last_error === null)).toBe(true);
    expect([...deliveredInvoices(hub.layout.home).values()].every((n) => n === 1)).toBe(true);
    await daemon.stop();
  }, 90_000);
});

test('a worker holding more than workerMemoryMb is replaced once its flows are done; every flow still finishes once', async () => {
  const hub = await trackedHub({ workers: 1, workerMemoryMb: 1, stabilityMs: 50 });
  const daemon = await startDaemon(hub, { waitForLock: false });
  for (const f of ['three-recipients.xml', 'partial.xml', 'routing-errors.xml']) {
    fs.copyFileSync(fixture('mixed', f), path.join(hub.layout.inbox, f));
    await new Promise((r) => setTimeout(r, 400)); // one group each: each ends in a recycle
  }
  const deadline = Date.now() + 30_000;
  while ((await hub.ledger.flows.inStage('DONE')).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await daemon.stop();
  await closeLogger(hub.log);
  expect((await hub.ledger.flows.inStage('DONE')).map((f) => f.last_error)).toEqual([null, null, null]);
  expect([...deliveredInvoices(hub.layout.home).values()].every((n) => n === 1)).toBe(true);
  const log = fs.readdirSync(hub.layout.log).filter((f) => f.endsWith('.log')).map((f) => fs.readFileSync(path.join(hub.layout.log, f), 'utf8')).join('');
  expect(log.match(/flow worker recycled/g)?.length).toBeGreaterThanOrEqual(2);
  expect(log).not.toContain('flow worker stopped');
}, 60_000);

/** What a report says, without what differs between runs. */
const verdict = (r: IntegrationReport) => ({
  state: r.state,
  errors: r.errors.map((e) => [e.code, e.line, e.element]),
  invoices: r.invoices.map((i) => [i.label, i.number, i.status, i.errors.map((e) => [e.code, e.line])]),
});

describe('the same decision on every path', () => {
  const files = [
    ...['three-recipients.xml', 'partial.xml', 'routing-errors.xml', 'rule-errors.xml', 'schema-invalid.xml', 'counter-mismatch.xml', 'not-well-formed.xml'].map((f) => path.join('mixed', f)),
    path.join('ubl', 'invoice-commune.xml'), path.join('ubl', 'creditnote-hospital.xml'), path.join('cii', 'invoice-etat.xml'),
    path.join('archives', 'twenty-ubl.tar.gz'), path.join('archives', 'mixed-batch.zip'),
    ...fs.readdirSync(path.join(FIXTURES, 'hostile')).filter((f) => f !== 'EXPECTED.json' && fs.lstatSync(path.join(FIXTURES, 'hostile', f)).isFile() && fs.statSync(path.join(FIXTURES, 'hostile', f)).size < 1024 * 1024).map((f) => path.join('hostile', f)),
  ];

  test('process, validate and the daemon give each fixture and hostile file the same verdict', async () => {
    const processed = await trackedHub({ readThreads: 0 });
    const validated = await trackedHub();
    const watched = await trackedHub({ workers: 2, stabilityMs: 50 });
    const viaProcess = new Map<string, ReturnType<typeof verdict>>();
    const viaValidate = new Map<string, ReturnType<typeof verdict>>();
    for (const f of files) {
      viaValidate.set(path.basename(f), verdict(await validateFile(validated, fixture(f))));
      const flow = (await processFile(processed, fixture(f), { copy: true }))!;
      viaProcess.set(path.basename(f), verdict(await flowReport(processed, flow)));
    }
    const daemon = await startDaemon(watched, { waitForLock: false });
    for (const f of files) fs.copyFileSync(fixture(f), path.join(watched.layout.inbox, path.basename(f)));
    await daemon.idle();
    await daemon.stop();
    const viaDaemon = new Map<string, ReturnType<typeof verdict>>();
    for (const flow of await watched.ledger.flows.inStage('DONE')) viaDaemon.set(flow.file_name, verdict(await flowReport(watched, flow)));
    expect(viaValidate).toEqual(viaProcess);
    expect(viaDaemon).toEqual(viaProcess);
    expect(viaProcess.size).toBe(files.length);
  }, 120_000);

  test('a replay after the directory is fixed ends where processing with that directory starts', async () => {
    const empty = path.join(tempDir(), 'structures.csv');
    fs.writeFileSync(empty, fs.readFileSync(fixture('directory', 'structures.csv'), 'utf8').split('\n')[0] + '\n');
    for (const f of ['three-recipients.xml', 'partial.xml', 'routing-errors.xml']) {
      const direct = await trackedHub();
      const expected = verdict(await flowReport(direct, (await processFile(direct, fixture('mixed', f), { copy: true }))!));
      const replayed = await trackedHub();
      await importDirectory(replayed.ledger.directory, empty);
      const flow = (await processFile(replayed, fixture('mixed', f), { copy: true }))!;
      await importDirectory(replayed.ledger.directory, fixture('directory', 'structures.csv'), fixture('directory', 'services.csv'));
      const after = (await replayFlow(replayed, flow.id)).flow;
      expect(verdict(await flowReport(replayed, after))).toEqual(expected);
    }
  });
});

describe('architecture', () => {
  test('no SQL outside src/ledger: nothing else opens or queries the database', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) {
          if (p !== path.join(ROOT, 'src', 'ledger')) walk(p);
        } else if (p.endsWith('.ts') && /better-sqlite3|\.prepare\(|\bsql\(|\.pragma\(|\b(SELECT|INSERT|UPDATE|DELETE)\s+[\w*]+\s+(FROM|INTO|SET)\b/.test(fs.readFileSync(p, 'utf8'))) {
          offenders.push(path.relative(ROOT, p));
        }
      }
    };
    walk(path.join(ROOT, 'src'));
    expect(offenders).toEqual([]);
  });
});
