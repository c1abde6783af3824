/**
 * Hostile inputs dropped into a running daemon (a child process) while normal flows keep
 * flowing: each gets its expected coded outcome, the daemon stays up, nothing is read or
 * written outside the home, no other flow is affected.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { writeHostileCorpus, type HostileCase } from '../src/devtools/hostile.js';
import type { IntegrationReport } from '../src/emit/report.js';
import { CLI, cli, deliveredInvoices, fixture, listFiles, readJson, tempDir } from './helpers.js';

const exited = (child: ChildProcess) => new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));

test('every hostile file gets its coded outcome; the daemon stays up; normal flows are integrated; nothing escapes the home', async () => {
  // The home sits alone in a parent folder, so anything written outside it would show.
  const parent = tempDir('factflow-hostile-');
  const home = path.join(parent, 'home');
  fs.mkdirSync(home);
  expect(cli(['directory', 'import', '--structures', fixture('directory', 'structures.csv'), '--services', fixture('directory', 'services.csv')], { home }).code).toBe(0);
  const expected = readJson<HostileCase[]>(fixture('hostile', 'EXPECTED.json'));
  const generated = path.join(tempDir(), 'generated');
  writeHostileCorpus(generated, { generated: true });

  const child = spawn(process.execPath, [CLI, '--home', home, 'watch'], {
    env: { ...process.env, FACTFLOW_STABILITY_MS: '100', FACTFLOW_SWEEP_INTERVAL_MS: '300', FACTFLOW_MAX_FLOW_BYTES: String(64 * 1024 * 1024), FACTFLOW_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  try {
    const inbox = path.join(home, 'inbox');
    const normal = ['three-recipients.xml', 'partial.xml'];
    // Normal flows first, in the middle and last; hostile ones in between.
    fs.copyFileSync(fixture('mixed', normal[0]!), path.join(inbox, normal[0]!));
    for (const c of expected) {
      const from = c.generate ? path.join(generated, c.file) : fixture('hostile', c.file);
      const to = path.join(inbox, c.file);
      if (fs.lstatSync(from).isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), to);
      else fs.copyFileSync(from, to);
    }
    fs.copyFileSync(fixture('mixed', normal[1]!), path.join(inbox, normal[1]!));

    const reportsDir = path.join(home, 'outbox', 'reports');
    const total = expected.length + normal.length;
    const until = Date.now() + 150_000;
    while (listFiles(reportsDir).filter((f) => f.endsWith('.json')).length < total) {
      if (child.exitCode !== null) throw new Error(`the daemon died: ${stderr}`);
      if (Date.now() > until) throw new Error(`only ${listFiles(reportsDir).filter((f) => f.endsWith('.json')).length} of ${total} reports`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(child.exitCode).toBeNull(); // still up

    const reports = listFiles(reportsDir).filter((f) => f.endsWith('.json')).map((f) => readJson<IntegrationReport>(path.join(reportsDir, f)));
    const byFile = new Map(reports.map((r) => [r.file, r]));
    const outcomes = expected.map((c) => {
      const r = byFile.get(c.file);
      const codes = r ? [...new Set([...r.errors, ...r.invoices.flatMap((i) => i.errors)].map((e) => e.code))].sort() : ['(no report)'];
      return { file: c.file, state: r?.state, codes };
    });
    expect(outcomes).toEqual(expected.map((c) => ({ file: c.file, state: c.state, codes: [...c.codes].sort() })));
    expect(byFile.get('ten-thousand-invoices.xml')!.invoices).toHaveLength(10_000);
    // The normal flows went through untouched by their neighbours.
    expect(byFile.get('three-recipients.xml')).toMatchObject({ state: 'IN_INTEGRE' });
    expect(byFile.get('partial.xml')).toMatchObject({ state: 'IN_INTEGRE_PARTIEL' });
    expect(deliveredInvoices(home).get('81234567800013/FA-2026-0001')).toBe(1);

    // Nothing outside the home, nothing from /etc/passwd anywhere, the inbox and spool empty.
    expect(fs.readdirSync(parent)).toEqual(['home']);
    const passwd = fs.readFileSync('/etc/passwd', 'utf8').split('\n')[0]!;
    for (const f of listFiles(path.join(home, 'outbox'))) {
      if (f.endsWith('.xml') || f.endsWith('.json')) expect(fs.readFileSync(path.join(home, 'outbox', f), 'utf8').includes(passwd)).toBe(false);
    }
    expect(listFiles(path.join(home, 'inbox'))).toEqual([]);
    expect(listFiles(path.join(home, 'var', 'spool'))).toEqual([]);
    // The link was moved (not followed): /etc/passwd is where it was.
    expect(fs.existsSync('/etc/passwd')).toBe(true);
  } finally {
    child.kill('SIGTERM');
    await exited(child);
  }
}, 240_000);
