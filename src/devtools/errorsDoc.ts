/** Renders the error catalog as docs/ERRORS.md (`npm run docs`); a test keeps the file current. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERRORS, type Scope } from '../errors/catalog.js';
import { BINARY_FORMATS, XML_FORMATS } from '../pipeline/formats.js';

const REFUSES: Record<Scope, string> = { flow: 'whole flow (93)', invoice: 'this invoice / update', system: 'nothing: a fault, retried', warning: 'nothing: a warning in the report' };

export function errorsMarkdown(): string {
  const rows = Object.entries(ERRORS).map(([code, spec]) => {
    const rule = (spec as { rule?: string }).rule;
    return `| \`${code}\` | ${rule ? `\`${rule}\`` : ''} | ${spec.stage} | ${REFUSES[spec.scope]} | ${spec.message.replace(/\|/g, '\\|')} |`;
  });
  return [
    '# factflow error codes',
    '',
    'Generated from `src/errors/catalog.ts` by `npm run docs`. Every error in a report (XML `CodeErreur`, JSON `code`) is one of these.',
    'A *whole flow* error refuses the flow (state `QP_IRRECEVABLE`, status 93); the others refuse one invoice or one status update and let the rest through.',
    'A *system* code is not a refusal: the flow stays in the spool with that code as its fault (`flows list`, `flows show`) and is retried with backoff.',
    '',
    'The *rule* column gives the official rule id a code is (BR-FR-CPRO-… of the B2G rules) where a published source numbers it; errors carry it as `rule` (JSON) and in `DescriptionErreur` (XML).',
    '',
    '| code | rule | stage | refuses | message |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

/** The format table (pipeline/formats) as docs/FORMATS.md. */
export function formatsMarkdown(): string {
  return [
    '# factflow input formats',
    '',
    'Generated from `src/pipeline/formats.ts` by `npm run docs`. Formats are recognized by content, never by file name.',
    '',
    '| kind | what | recognized by | schema | in archives |',
    '|---|---|---|---|---|',
    ...XML_FORMATS.map((f) => `| \`${f.kind}\` | ${f.label} | root \`${f.root}\`${f.ns ? ` in \`${f.ns}\`` : ' (no namespace)'} | \`${f.schema}\` | ${f.inArchives ? 'yes' : 'no'} |`),
    ...BINARY_FORMATS.map((f) => `| \`${f.kind}\` | ${f.label} | leading bytes | ${f.validatedBy} | ${f.channels.includes('edi') ? '-' : `only from: ${f.channels.join(', ')}`} |`),
    '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const docs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs');
  fs.mkdirSync(docs, { recursive: true });
  fs.writeFileSync(path.join(docs, 'ERRORS.md'), errorsMarkdown());
  fs.writeFileSync(path.join(docs, 'FORMATS.md'), formatsMarkdown());
  console.log(`wrote ${docs}/ERRORS.md and FORMATS.md`);
}
