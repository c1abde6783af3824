/** Renders the error catalog as docs/ERRORS.md (`npm run docs`); a test keeps the file current. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERRORS } from '../errors/catalog.js';

export function errorsMarkdown(): string {
  const rows = Object.entries(ERRORS).map(([code, spec]) => `| \`${code}\` | ${spec.stage} | ${spec.scope === 'flow' ? 'whole flow (93)' : 'this invoice / update'} | ${spec.message.replace(/\|/g, '\\|')} |`);
  return [
    '# factflow error codes',
    '',
    'Generated from `src/errors/catalog.ts` by `npm run docs`. Every error in a report (XML `CodeErreur`, JSON `code`) is one of these.',
    'A *whole flow* error refuses the flow (state `QP_IRRECEVABLE`, status 93); the others refuse one invoice or one status update and let the rest through.',
    '',
    '| code | stage | refuses | message |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const target = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/ERRORS.md');
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, errorsMarkdown());
  console.log(`wrote ${target}`);
}
