/** What a directory import changes (or would change, with --dry-run), for people and for --json. */
import path from 'node:path';
import type { ChangeSet, ImportPlan, ImportProblem } from '../route/directoryImport.js';
import { UsageError } from './context.js';

/** The first few of each change are listed; the counts are always complete. */
export const FIRST = 5;

export interface ServicesChoice {
  services?: string;
  keepServices?: boolean;
  dropServices?: boolean;
}

/** --services, --keep-services and --drop-services exclude each other. */
export function servicesChoice(opts: ServicesChoice): 'file' | 'keep' | 'drop' | 'unspecified' {
  const given = [opts.services !== undefined && '--services', opts.keepServices && '--keep-services', opts.dropServices && '--drop-services'].filter(Boolean);
  if (given.length > 1) throw new UsageError(`${given.join(' and ')} exclude each other: give one`);
  return opts.services !== undefined ? 'file' : opts.keepServices ? 'keep' : opts.dropServices ? 'drop' : 'unspecified';
}

/** A structures-only import would silently lose the services loaded now: the operator must choose. */
export function refuseSilentDrop(plan: ImportPlan): void {
  throw new UsageError(
    `no --services file: the ${plan.currentServices} service(s) in the current directory would all be dropped. ` +
      'Give the services export with --services <csv>, or --keep-services to keep the current services (of the structures still present), or --drop-services to remove them.',
  );
}

const changeJson = (c: ChangeSet) => ({
  total: c.total, added: c.added.length, changed: c.changed.length, removed: c.removed.length, unchanged: c.unchanged,
  firstAdded: c.added.slice(0, FIRST), firstChanged: c.changed.slice(0, FIRST), firstRemoved: c.removed.slice(0, FIRST),
});

export const problemJson = (p: ImportProblem) => ({ file: p.file, line: p.line, message: p.message });

export function planJson(plan: ImportPlan, dryRun: boolean) {
  return {
    dryRun,
    imported: !dryRun,
    files: plan.files,
    encodings: plan.encodings,
    servicesFrom: plan.servicesFrom,
    structures: changeJson(plan.structures),
    services: changeJson(plan.services),
    warnings: plan.warnings.map(problemJson),
  };
}

export const problemText = (p: ImportProblem) => (p.line ? `${p.file}:${p.line}: ${p.message}` : `${p.file}: ${p.message}`);

export function printPlan(plan: ImportPlan, dryRun: boolean): void {
  const enc = [`${path.basename(plan.files.structures)} ${plan.encodings.structures}`, plan.files.services && `${path.basename(plan.files.services)} ${plan.encodings.services}`].filter(Boolean).join(', ');
  const n = plan.next;
  console.log(dryRun
    ? `Dry run, nothing was changed. The import would give ${n.structures.length} structures and ${n.services.length} services (${enc}; services ${plan.servicesFrom === 'file' ? 'from the file' : plan.servicesFrom}).`
    : `Directory replaced: ${n.structures.length} structures, ${n.services.length} services (${enc}; services ${plan.servicesFrom === 'file' ? 'from the file' : plan.servicesFrom}).`);
  for (const [what, c] of [['Structures', plan.structures], ['Services', plan.services]] as const) {
    console.log(`${what}: ${c.added.length} added, ${c.changed.length} changed, ${c.removed.length} removed, ${c.unchanged} unchanged.`);
    for (const kind of ['added', 'changed', 'removed'] as const) {
      if (!c[kind].length) continue;
      const more = c[kind].length > FIRST ? ` … and ${c[kind].length - FIRST} more` : '';
      console.log(`  ${kind.padEnd(8)} ${c[kind].slice(0, FIRST).join(', ')}${more}`);
    }
  }
  for (const w of plan.warnings) console.error(`warning: ${problemText(w)}`);
}
