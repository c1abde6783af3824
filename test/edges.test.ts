/** Nothing outside the home is ever read, moved or written: links dropped into the inbox are not followed. */
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon } from '../src/daemon/watcher.js';
import { cli, closeHubs, fixture, listFiles, tempDir, trackedHub } from './helpers.js';

afterEach(closeHubs);

test('a link to a folder outside the home, dropped in the inbox, is refused as a link; the folder and its files stay untouched', async () => {
  const outside = tempDir('factflow-outside-');
  fs.copyFileSync(fixture('mixed', 'three-recipients.xml'), path.join(outside, 'precious.xml'));
  fs.writeFileSync(path.join(outside, 'notes.txt'), 'not yours');
  const hub = await trackedHub({ stabilityMs: 50, sweepIntervalMs: 200, workers: 0 });
  const daemon = await startDaemon(hub, { waitForLock: false });
  // As a flat entry (a link named like a flow) and as a partner folder (inbox/ACM001 → outside).
  fs.symlinkSync(outside, path.join(hub.layout.inbox, 'looks-like-a-flow.xml'));
  fs.symlinkSync(`${outside}/.`, path.join(hub.layout.inbox, 'ACM001')); // another target text: not a duplicate of the first
  await new Promise((r) => setTimeout(r, 1500));
  await daemon.idle();
  await daemon.stop();
  expect(listFiles(outside)).toEqual(['notes.txt', 'precious.xml']);
  expect(fs.readFileSync(path.join(outside, 'notes.txt'), 'utf8')).toBe('not yours');
  const flows = [...(await hub.ledger.flows.inStage('DONE'))];
  expect(flows.map((f) => [f.file_name, f.state, JSON.parse(f.errors).map((e: { code: string }) => e.code)]).sort()).toEqual(
    [['ACM001', 'QP_IRRECEVABLE', ['FLOW_NOT_REGULAR_FILE']], ['looks-like-a-flow.xml', 'QP_IRRECEVABLE', ['FLOW_NOT_REGULAR_FILE']]],
  );
  expect(listFiles(path.join(hub.layout.outbox, 'recipients'))).toEqual([]);
});

/** The day's log lines (JSON), as an operator's tools read them. */
function logLines(home: string): Record<string, unknown>[] {
  const dir = path.join(home, 'var', 'log');
  return fs.readdirSync(dir).filter((f) => f.endsWith('.log')).flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>));
}

test('refusals are logged at warn with code, file and flow id as fields; status flows as updates; lifecycle changes logged', () => {
  const home = tempDir();
  expect(cli(['directory', 'import', '--structures', fixture('directory', 'structures.csv'), '--services', fixture('directory', 'services.csv')], { home }).code).toBe(0);
  expect(cli(['process', fixture('mixed', 'partial.xml'), fixture('mixed', 'three-recipients.xml')], { home }).code).toBe(2);
  expect(cli(['process', fixture('statuses', 'commune-statuses.xml')], { home }).code).toBe(0);
  expect(cli(['invoice', 'status', '81234567800013/FA-2026-0001', 'SERVICE_FAIT'], { home }).code).toBe(0);
  const lines = logLines(home);
  const refusal = lines.find((l) => l.code === 'ROUTE_RECIPIENT_UNKNOWN');
  expect(refusal).toMatchObject({ level: 'warn', file: 'partial.xml', invoice: 'FA-2026-0102', flowId: expect.stringMatching(/^FF/) });
  expect(lines.some((l) => /^done: IN_INTEGRE \(3\/3 updates applied\)$/.test(String(l.message)))).toBe(true);
  expect(lines.some((l) => /^invoice status FA-2026-0001 07: done$/.test(String(l.message)))).toBe(true);
});
