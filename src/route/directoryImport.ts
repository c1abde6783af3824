/**
 * Importing the public directory export (domain §2): semicolon-separated files, UTF-8 or
 * ISO-8859-1, booleans spelled true/false, 1/0 or Oui/Non. The whole file is checked first;
 * any malformed row aborts the import with its line number and the previous directory stays.
 * Otherwise the directory is replaced in one transaction.
 */
import fs from 'node:fs';
import type { DirectoryStore } from '../ledger/stores.js';
import type { Service, Structure } from './directory.js';

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

/** UTF-8 when the bytes are valid UTF-8, ISO-8859-1 otherwise; BOM dropped. */
export function decodeText(bytes: Buffer): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = bytes.toString('latin1');
  }
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
  header: string[];
  rows: { line: number; get(column: string): string }[];
  problems: ImportProblem[];
}

function readTable(file: string, required: string[]): Table {
  const lines = decodeText(fs.readFileSync(file)).split(/\r\n|\n|\r/);
  const header = parseCsvLine(lines[0] ?? '').map((h) => h.toLowerCase());
  const problems: ImportProblem[] = [];
  const missing = required.filter((c) => !header.includes(c.toLowerCase()));
  if (missing.length) return { file, header, rows: [], problems: [{ file, line: 1, message: `missing column(s) ${missing.join(', ')} in the header` }] };
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
  return { file, header, rows, problems };
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

export function readStructures(file: string): { structures: (Structure & { idType: string; ediReceiver: boolean })[]; problems: ImportProblem[] } {
  const t = readTable(file, ['Identifiant', 'RaisonSociale', 'GestionEngagement', 'GestionService', 'GestionServiceEngagement', 'StructureActive']);
  const seen = new Map<string, number>();
  const structures = t.rows.map((r) => {
    const siret = required(t, r, 'Identifiant');
    if (seen.has(siret)) t.problems.push({ file, line: r.line, message: `Identifiant ${siret} already appears on line ${seen.get(siret)}` });
    seen.set(siret, r.line);
    // Flags factflow does not route on are still checked: a bad value means a bad export.
    for (const column of ['EmetteurEdi', 'GestionStatutMiseEnPaiement', 'EstMOA', 'EstMOAUniquement']) optionalBool(t, r, column);
    return {
      siret,
      idType: r.get('TypeIdentifiant') || 'SIRET',
      name: r.get('RaisonSociale'),
      active: bool(t, r, 'StructureActive'),
      requiresEngagement: bool(t, r, 'GestionEngagement'),
      requiresService: bool(t, r, 'GestionService'),
      requiresServiceAndEngagement: bool(t, r, 'GestionServiceEngagement'),
      ediReceiver: optionalBool(t, r, 'RecepteurEdi'),
    };
  });
  return { structures, problems: t.problems };
}

export function readServices(file: string): { services: Service[]; problems: ImportProblem[] } {
  const t = readTable(file, ['Identifiant', 'Code', 'GestionEGMT', 'ServiceActif']);
  const seen = new Map<string, number>();
  const services = t.rows.map((r) => {
    const siret = required(t, r, 'Identifiant');
    const code = required(t, r, 'Code');
    const key = `${siret};${code}`;
    if (seen.has(key)) t.problems.push({ file, line: r.line, message: `service ${code} of ${siret} already appears on line ${seen.get(key)}` });
    seen.set(key, r.line);
    return { siret, code, name: r.get('Nom'), active: bool(t, r, 'ServiceActif'), requiresEngagement: bool(t, r, 'GestionEGMT') };
  });
  return { services, problems: t.problems };
}

const byLine = (a: ImportProblem, b: ImportProblem) => a.line - b.line;

/** Checks both files, then replaces the directory in one transaction. */
export async function importDirectory(store: DirectoryStore, structuresFile: string, servicesFile?: string, onRow?: (done: number, total: number) => void): Promise<{ structures: number; services: number }> {
  const s = readStructures(structuresFile);
  const v = servicesFile ? readServices(servicesFile) : { services: [], problems: [] };
  const problems = [...s.problems.sort(byLine), ...v.problems.sort(byLine)];
  if (problems.length) throw new DirectoryImportError(problems);
  await store.replace(s.structures, v.services, { structuresFile, servicesFile }, onRow);
  return { structures: s.structures.length, services: v.services.length };
}
