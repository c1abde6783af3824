/**
 * Importing the public directory export (domain §2): semicolon-separated files, UTF-8,
 * Windows-1252 or ISO-8859-1, booleans spelled true/false, 1/0 or Oui/Non. Both files are read
 * and checked first, then compared with the current directory (what a dry run shows); any
 * error aborts the import with its line number and the previous directory stays. Otherwise the
 * directory is replaced in one transaction (the directory store's `replace`).
 *
 * Errors (abort): a malformed row, a bad boolean, a duplicate, a SIRET that is not 14 digits,
 * a SIREN (9 digits) where a SIRET is expected, a wrong SIRET check digit.
 * Warnings (the import goes on): a service whose structure is not in the structures file (not
 * imported), a kept service whose structure is gone (dropped).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DirectoryStore } from '../ledger/stores.js';
import { isValidSiret } from '../validate/identifiers.js';
import type { ImportedStructure, Service, Structure } from './directory.js';

export type { ImportedStructure };

export interface ImportProblem {
  file: string;
  line: number;
  message: string;
}

export class DirectoryImportError extends Error {
  constructor(readonly problems: ImportProblem[]) {
    super(problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('\n'));
  }
}

export type Encoding = 'UTF-8' | 'Windows-1252' | 'ISO-8859-1';

/** Windows-1252's printable characters at 0x80–0x9F (0x81, 0x8D, 0x8F, 0x90, 0x9D are unassigned). */
const CP1252_HIGH: Record<number, string> = {
  0x80: '€', 0x82: '‚', 0x83: 'ƒ', 0x84: '„', 0x85: '…', 0x86: '†', 0x87: '‡', 0x88: 'ˆ', 0x89: '‰', 0x8a: 'Š', 0x8b: '‹', 0x8c: 'Œ', 0x8e: 'Ž',
  0x91: '‘', 0x92: '’', 0x93: '“', 0x94: '”', 0x95: '•', 0x96: '–', 0x97: '—', 0x98: '˜', 0x99: '™', 0x9a: 'š', 0x9b: '›', 0x9c: 'œ', 0x9e: 'ž', 0x9f: 'Ÿ',
};

/**
 * UTF-8 when the bytes are valid UTF-8; otherwise Windows-1252 when a byte 0x80–0x9F is one of
 * its printable characters (in ISO-8859-1 these are control codes no export contains);
 * ISO-8859-1 otherwise.
 */
export function detectEncoding(bytes: Buffer): Encoding {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return 'UTF-8';
  } catch {
    return bytes.some((b) => CP1252_HIGH[b] !== undefined) ? 'Windows-1252' : 'ISO-8859-1';
  }
}

/** Decodes as detected; BOM dropped. */
export function decodeText(bytes: Buffer, encoding = detectEncoding(bytes)): string {
  let text = encoding === 'UTF-8' ? bytes.toString('utf8') : bytes.toString('latin1');
  if (encoding === 'Windows-1252') text = text.replace(/[\x80-\x9f]/g, (c) => CP1252_HIGH[c.charCodeAt(0)] ?? c);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Semicolon-separated values with optional double quotes ("" inside quotes is a quote). */
export function parseCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (c === ';') {
      cells.push(cell.trim());
      cell = '';
    } else cell += c;
  }
  cells.push(cell.trim());
  return cells;
}

const TRUE = new Set(['true', '1', 'oui', 'o', 'yes', 'y', 'vrai', 'actif', 'active']);
const FALSE = new Set(['false', '0', 'non', 'n', 'no', 'faux', 'inactif', 'inactive', '']);

interface Table {
  file: string;
  encoding: Encoding;
  header: string[];
  rows: { line: number; get(column: string): string }[];
  problems: ImportProblem[];
}

function readTable(file: string, required: string[]): Table {
  const bytes = fs.readFileSync(file);
  const encoding = detectEncoding(bytes);
  const lines = decodeText(bytes, encoding).split(/\r\n|\n|\r/);
  const header = parseCsvLine(lines[0] ?? '').map((h) => h.toLowerCase());
  const problems: ImportProblem[] = [];
  const missing = required.filter((c) => !header.includes(c.toLowerCase()));
  if (missing.length) return { file, encoding, header, rows: [], problems: [{ file, line: 1, message: `missing column(s) ${missing.join(', ')} in the header` }] };
  const index = new Map(header.map((h, i) => [h, i]));
  const rows: Table['rows'] = [];
  lines.slice(1).forEach((text, i) => {
    const line = i + 2;
    if (text.trim() === '') return;
    const cells = parseCsvLine(text);
    if (cells.length !== header.length) {
      problems.push({ file, line, message: `${cells.length} fields where the header has ${header.length}` });
      return;
    }
    rows.push({ line, get: (column) => cells[index.get(column.toLowerCase())!] ?? '' });
  });
  return { file, encoding, header, rows, problems };
}

function bool(t: Table, row: Table['rows'][number], column: string): boolean {
  const v = row.get(column).toLowerCase();
  if (TRUE.has(v)) return true;
  if (!FALSE.has(v)) t.problems.push({ file: t.file, line: row.line, message: `${column} is "${row.get(column)}", expected true/false, 1/0 or Oui/Non` });
  return false;
}

/** A boolean column that an export may omit. */
function optionalBool(t: Table, row: Table['rows'][number], column: string): boolean {
  return t.header.includes(column.toLowerCase()) ? bool(t, row, column) : false;
}

function required(t: Table, row: Table['rows'][number], column: string): string {
  const v = row.get(column);
  if (!v) t.problems.push({ file: t.file, line: row.line, message: `${column} is empty` });
  return v;
}

/** Why an identifier of type SIRET is not one, or undefined when it is. */
export function siretProblem(id: string): string | undefined {
  if (/^\d{9}$/.test(id)) return `Identifiant ${id} is a SIREN (9 digits), not a SIRET: a structure of type SIRET needs its 14-digit SIRET`;
  if (!/^\d{14}$/.test(id)) return `Identifiant "${id}" is not a SIRET: expected 14 digits, got ${/^\d+$/.test(id) ? `${id.length} digits` : 'other characters'}`;
  if (!isValidSiret(id)) return `Identifiant ${id} fails the SIRET check digit (Luhn): a typo in the export?`;
  return undefined;
}


export function readStructures(file: string): { structures: ImportedStructure[]; problems: ImportProblem[]; encoding: Encoding } {
  const t = readTable(file, ['Identifiant', 'RaisonSociale', 'GestionEngagement', 'GestionService', 'GestionServiceEngagement', 'StructureActive']);
  const seen = new Map<string, number>();
  const structures = t.rows.map((r) => {
    const siret = required(t, r, 'Identifiant');
    if (seen.has(siret)) t.problems.push({ file, line: r.line, message: `Identifiant ${siret} already appears on line ${seen.get(siret)}` });
    seen.set(siret, r.line);
    const idType = r.get('TypeIdentifiant') || 'SIRET';
    // Other identifier types (RIDET, TAHITI, foreign ids) have no check digit to verify.
    const bad = siret && idType.toUpperCase() === 'SIRET' ? siretProblem(siret) : undefined;
    if (bad) t.problems.push({ file, line: r.line, message: bad });
    // Flags factflow does not route on are still checked: a bad value means a bad export.
    for (const column of ['EmetteurEdi', 'GestionStatutMiseEnPaiement']) optionalBool(t, r, column);
    return {
      siret,
      idType,
      name: r.get('RaisonSociale'),
      active: bool(t, r, 'StructureActive'),
      requiresEngagement: bool(t, r, 'GestionEngagement'),
      requiresService: bool(t, r, 'GestionService'),
      requiresServiceAndEngagement: bool(t, r, 'GestionServiceEngagement'),
      ediReceiver: optionalBool(t, r, 'RecepteurEdi'),
      // Routing honours them (works statements); an export without EstMOA leaves it unchecked.
      ...(t.header.includes('estmoa') ? { moa: bool(t, r, 'EstMOA') } : {}),
      moaOnly: optionalBool(t, r, 'EstMOAUniquement'),
    };
  });
  return { structures, problems: t.problems, encoding: t.encoding };
}

export function readServices(file: string): { services: (Service & { line: number })[]; problems: ImportProblem[]; encoding: Encoding } {
  const t = readTable(file, ['Identifiant', 'Code', 'GestionEGMT', 'ServiceActif']);
  const seen = new Map<string, number>();
  const services = t.rows.map((r) => {
    const siret = required(t, r, 'Identifiant');
    const code = required(t, r, 'Code');
    const key = `${siret};${code}`;
    if (seen.has(key)) t.problems.push({ file, line: r.line, message: `service ${code} of ${siret} already appears on line ${seen.get(key)}` });
    seen.set(key, r.line);
    return { siret, code, name: r.get('Nom'), active: bool(t, r, 'ServiceActif'), requiresEngagement: bool(t, r, 'GestionEGMT'), line: r.line };
  });
  return { services, problems: t.problems, encoding: t.encoding };
}

const byLine = (a: ImportProblem, b: ImportProblem) => a.line - b.line;

export interface DirectoryContent {
  structures: ImportedStructure[];
  services: Service[];
}

/** What to do with the services when no services file is given. */
export type ServicesSource = { file: string } | 'keep' | 'drop';

export interface ChangeSet {
  total: number;
  added: string[];
  changed: string[];
  removed: string[];
  unchanged: number;
}

export interface ImportPlan {
  next: DirectoryContent;
  files: { structures: string; services: string | null };
  encodings: { structures: Encoding; services: Encoding | null };
  servicesFrom: 'file' | 'kept' | 'dropped';
  structures: ChangeSet;
  services: ChangeSet;
  warnings: ImportProblem[];
  /** Services in the current directory (a structures-only import would lose them). */
  currentServices: number;
}

const structureKey = (s: Structure) => s.siret;
const serviceKey = (s: Service) => `${s.siret}/${s.code}`;

/** Added, changed and removed entries by key, compared field by field. */
export function diffEntries<T extends object>(current: T[], next: T[], key: (t: T) => string): ChangeSet {
  const before = new Map(current.map((c) => [key(c), c]));
  const same = (a: T, b: T) => (Object.keys(a) as (keyof T)[]).every((k) => a[k] === b[k]);
  const set: ChangeSet = { total: next.length, added: [], changed: [], removed: [], unchanged: 0 };
  const seen = new Set<string>();
  for (const n of next) {
    const k = key(n);
    seen.add(k);
    const c = before.get(k);
    if (!c) set.added.push(k);
    else if (same(c, n)) set.unchanged++;
    else set.changed.push(k);
  }
  for (const k of before.keys()) if (!seen.has(k)) set.removed.push(k);
  return set;
}

/**
 * Reads and checks the files, decides the services (from the file, kept or dropped), and
 * compares the result with the current directory. Throws DirectoryImportError on any error.
 */
export function planImport(current: DirectoryContent, structuresFile: string, services: ServicesSource): ImportPlan {
  const servicesFile = typeof services === 'object' ? services.file : null;
  const s = readStructures(structuresFile);
  const v = servicesFile ? readServices(servicesFile) : undefined;
  const problems = [...s.problems.sort(byLine), ...(v?.problems ?? []).sort(byLine)];
  if (problems.length) throw new DirectoryImportError(problems);
  const known = new Set(s.structures.map((x) => x.siret));
  const warnings: ImportProblem[] = [];
  let next: Service[];
  if (v) {
    next = [];
    for (const { line, ...x } of v.services) {
      if (known.has(x.siret)) next.push(x);
      else warnings.push({ file: servicesFile!, line, message: `service ${x.code} belongs to ${x.siret}, which is not in ${path.basename(structuresFile)}${siretProblem(x.siret) ? ' (not a valid SIRET either)' : ''}: not imported` });
    }
  } else if (services === 'keep') {
    next = current.services.filter((x) => known.has(x.siret));
    const gone = current.services.filter((x) => !known.has(x.siret));
    for (const x of gone) warnings.push({ file: '(current directory)', line: 0, message: `kept service ${x.code} belongs to ${x.siret}, which is not in ${path.basename(structuresFile)}: dropped` });
  } else next = [];
  return {
    next: { structures: s.structures, services: next },
    files: { structures: structuresFile, services: servicesFile },
    encodings: { structures: s.encoding, services: v?.encoding ?? null },
    servicesFrom: v ? 'file' : services === 'keep' ? 'kept' : 'dropped',
    structures: diffEntries(current.structures, s.structures, structureKey),
    services: diffEntries(current.services, next, serviceKey),
    warnings,
    currentServices: current.services.length,
  };
}

/** Checks both files, then replaces the directory in one transaction (no services file: none kept). */
export async function importDirectory(store: DirectoryStore, structuresFile: string, servicesFile?: string, onRow?: (done: number, total: number) => void): Promise<{ structures: number; services: number }> {
  const plan = planImport(await store.all(), structuresFile, servicesFile ? { file: servicesFile } : 'drop');
  await replaceDirectory(store, plan, onRow);
  return { structures: plan.next.structures.length, services: plan.next.services.length };
}

/** Replaces the whole directory with the plan's content in one transaction, and records the import. */
export function replaceDirectory(store: DirectoryStore, plan: ImportPlan, onRow?: (done: number, total: number) => void): Promise<void> {
  return store.replace(plan.next.structures, plan.next.services, { structuresFile: plan.files.structures, servicesFile: plan.files.services ?? undefined }, onRow);
}
