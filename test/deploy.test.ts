/** The operations kit: the systemd unit verified by systemd itself, the Dockerfile's invariants, the licence. */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT } from './helpers.js';

const UNIT = path.join(ROOT, 'deploy', 'factflow.service');
const DOCKERFILE = path.join(ROOT, 'deploy', 'Dockerfile');
const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

/** The unit's settings as key → values (a key may repeat). */
function unitSettings(text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) settings.set(m[1]!, [...(settings.get(m[1]!) ?? []), m[2]!]);
  }
  return settings;
}

// Skipped, and reported as skipped, where systemd is not installed.
(hasSystemdAnalyze ? test : test.skip)('systemd-analyze verify accepts deploy/factflow.service without a warning', () => {
  const r = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8' });
  // verify exits 0 on unknown keys or bad values and only warns: any line about the unit fails the test.
  const aboutUnit = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes('factflow.service'));
  expect(aboutUnit).toEqual([]);
  expect(r.status).toBe(0);
});

test('the systemd unit runs the daemon as a dedicated user on its home, stops gracefully and is hardened', () => {
  const s = unitSettings(fs.readFileSync(UNIT, 'utf8'));
  const one = (k: string) => s.get(k)?.[0];
  expect(one('User')).toBe('factflow');
  const home = one('WorkingDirectory')!;
  expect(one('ExecStart')).toMatch(new RegExp(`factflow --home ${home} watch$`));
  expect(one('Restart')).toBe('on-failure');
  expect(one('KillSignal')).toBe('SIGTERM');
  expect(Number(one('TimeoutStopSec'))).toBeGreaterThanOrEqual(120);
  expect(one('NoNewPrivileges')).toBe('yes');
  expect(one('ProtectSystem')).toBe('strict');
  expect(one('ReadWritePaths')).toBe(home);
});

test('the Dockerfile builds from the lockfile, runs factflow watch as a non-root user on a home volume, with a doctor health check', () => {
  const text = fs.readFileSync(DOCKERFILE, 'utf8');
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const instructions = (name: string) => lines.filter((l) => l.toUpperCase().startsWith(`${name} `)).map((l) => l.slice(name.length + 1).trim());
  const from = instructions('FROM');
  expect(from.length).toBeGreaterThan(0);
  for (const image of from.map((f) => f.split(/\s+/)[0]!)) {
    expect(image).toMatch(/^node:20[\w.-]*$/); // node 20, a tag always given
    expect(image).not.toMatch(/latest/);
  }
  expect(text).toMatch(/COPY [^\n]*package-lock\.json/);
  expect(instructions('RUN').some((r) => /\bnpm ci\b/.test(r))).toBe(true);
  expect(instructions('RUN').some((r) => /\bnpm install\b/.test(r))).toBe(false);
  const users = instructions('USER');
  expect(users.length).toBeGreaterThan(0);
  expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
  const volume = instructions('VOLUME').join(' ');
  expect(volume).toContain('/srv/factflow');
  expect(text).toMatch(/FACTFLOW_HOME=\/srv\/factflow/);
  expect(instructions('CMD').at(-1)).toBe('["factflow", "watch"]');
  expect(instructions('HEALTHCHECK').at(-1)).toMatch(/CMD \["factflow", "doctor"\]$/);
});

test('LICENSE is the MIT licence package.json declares', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { license: string };
  expect(pkg.license).toBe('MIT');
  const license = fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8');
  expect(license).toMatch(/^MIT License/);
  expect(license).toContain('Copyright (c) 2026 factflow contributors');
});
