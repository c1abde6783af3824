/** Shared test helpers: real homes in temp folders, real fixtures, real schemas. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { XmlDocument } from 'libxml2-wasm';
import { closeHub, openHub, type Hub } from '../src/hub.js';
import { createDatabase } from '../src/ledger/postgres.js';
import type { Settings } from '../src/config.js';
import { importDirectory } from '../src/route/directoryImport.js';
import { helpersReady } from '../src/pipeline/parallel.js';
import { readFlowFile, type ReadResult } from '../src/pipeline/read.js';
import { schemaFromFile, SCHEMA_DIR } from '../src/xml/schemas.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = path.join(ROOT, 'fixtures');
export const fixture = (...p: string[]) => path.join(FIXTURES, ...p);
export const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');

/** ../shared beside the project: official schemas and real samples, when present. */
export const SHARED = path.resolve(ROOT, '..', 'shared');
export const AIFE = path.join(SHARED, 'reference', 'aife');
export const hasShared = fs.existsSync(AIFE);

export function tempDir(prefix = 'factflow-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * The ledgers tests run on: SQLite always; PostgreSQL when FACTFLOW_TEST_PG names a server
 * (a URL whose user may create databases: `.ci/run` starts a throw-away one), else its cases
 * are skipped, and reported so.
 */
export const TEST_PG = process.env.FACTFLOW_TEST_PG;
export interface Backend {
  name: 'sqlite' | 'postgres';
  /** Absent PostgreSQL: the cases of this backend are skipped. */
  available: boolean;
  /** The settings of a fresh, empty ledger of this backend (a new database for PostgreSQL). */
  fresh(): Promise<Partial<Settings>>;
}
let databases = 0;
/** A new empty database on the test server; its URL. */
export async function freshPgDatabase(): Promise<string> {
  return createDatabase(TEST_PG!, `ff_test_${process.pid}_${Date.now().toString(36)}_${++databases}`);
}
export const BACKENDS: Backend[] = [
  { name: 'sqlite', available: true, fresh: async () => ({}) },
  { name: 'postgres', available: !!TEST_PG, fresh: async () => ({ ledger: await freshPgDatabase() }) },
];
/** `describe` once per backend (`name [sqlite]`, `name [postgres]`); an absent backend's cases are skipped. */
export function eachLedger(name: string, fn: (backend: Backend) => void): void {
  for (const b of BACKENDS) (b.available ? describe : describe.skip)(`${name} [${b.name}]`, () => fn(b));
}
/**
 * FACTFLOW_TEST_LEDGER=postgres runs a whole test file's homes on PostgreSQL (each on a fresh
 * database of FACTFLOW_TEST_PG): `.ci/run` runs the ledger-heavy files so a second time.
 */
const defaultBackend = process.env.FACTFLOW_TEST_LEDGER === 'postgres' ? BACKENDS[1]! : BACKENDS[0]!;

/** A fresh home with the fixture directory imported. */
export async function newHub(flags: Partial<Settings> = {}, home = tempDir()): Promise<Hub> {
  const hub = openHub(home, { flags: { ...(flags.ledger ? {} : await defaultBackend.fresh()), ...flags } });
  await importDirectory(hub.ledger.directory, fixture('directory', 'structures.csv'), fixture('directory', 'services.csv'));
  return hub;
}

export const openHubs: Hub[] = [];
/** A fresh home closed by `closeHubs` (afterEach). */
export async function trackedHub(flags: Partial<Settings> = {}, home?: string): Promise<Hub> {
  const hub = await newHub(flags, home);
  openHubs.push(hub);
  return hub;
}
export async function closeHubs(): Promise<void> {
  while (openHubs.length) await closeHub(openHubs.pop()!);
}

/**
 * Raw SQL on a home's ledger file, for tests that stage a situation the hub itself never
 * writes (a dead owner's pid) or count rows: a connection of its own, closed at once.
 */
export function ledgerSql<T = unknown>(home: string, text: string, ...params: unknown[]): T[] {
  const db = new Database(path.join(home, 'var', 'factflow.db'));
  try {
    db.pragma('busy_timeout = 10000');
    const s = db.prepare(text);
    return (s.reader ? s.all(...params) : (s.run(...params), [])) as T[];
  } finally {
    db.close();
  }
}

/** Every file below `dir`, relative to it, sorted. */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath ?? (d as unknown as { path: string }).path, d.name)))
    .sort();
}

/** Validates a file against an XSD (ours or an official one); returns the error messages. */
export function schemaErrors(xsdFile: string, xmlFile: string): string[] {
  const doc = XmlDocument.fromBuffer(fs.readFileSync(xmlFile));
  try {
    return schemaFromFile(xsdFile).check(doc, 50).map((e) => `${e.message} (line ${e.line})`);
  } finally {
    doc.dispose();
  }
}
export const ownSchema = (name: string) => path.join(SCHEMA_DIR, name);

/** Copies a fixture with string replacements applied (for variants of a flow). */
export function variant(source: string, target: string, replacements: [string | RegExp, string][] = []): string {
  let text = fs.readFileSync(source, 'utf8');
  for (const [from, to] of replacements) text = text.replace(from, to);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, text);
  return target;
}

export function readJson<T = any>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** Runs the built CLI. */
export function cli(args: string[], opts: { home?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...(opts.home ? ['--home', opts.home] : []), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Counts the invoices (by supplier + number) across every pivot under outbox/recipients. */
export function deliveredInvoices(home: string): Map<string, number> {
  const counts = new Map<string, number>();
  const dir = path.join(home, 'outbox', 'recipients');
  for (const rel of listFiles(dir)) {
    const xml = fs.readFileSync(path.join(dir, rel), 'utf8');
    for (const m of xml.matchAll(/<CPPFacturePivotUnitaire[\s\S]*?<Identifiant>([^<]*)<\/Identifiant>[\s\S]*?<DonneesFacture>\s*<Id>([^<]*)<\/Id>/g)) {
      const key = `${m[1]}/${m[2]}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

/** Polls `probe` until it gives a value (files appearing, a daemon catching up); fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Reads a file with one helper thread until the helper has taken part. Whether it gets a batch
 * of a short archive depends on the scheduler (on a loaded machine this thread may finish
 * first), and a read in which it took no part proves nothing about sharing.
 */
export async function readShared(file: string, settings: Settings, tries = 20): Promise<ReadResult> {
  await helpersReady(1);
  let read = readFlowFile(file, { ...settings, readThreads: 1 });
  for (let i = 1; i < tries && !read.readByHelpers; i++) read = readFlowFile(file, { ...settings, readThreads: 1 });
  return read;
}
