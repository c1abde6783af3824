/**
 * The compiled script of a worker thread, next to the module starting it: tests run the
 * TypeScript sources, but a worker thread runs JavaScript, so from src/ it is found in dist/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function workerScript(moduleUrl: string, file: string): string {
  const here = path.dirname(fileURLToPath(moduleUrl));
  const beside = path.join(here, file);
  return fs.existsSync(beside) ? beside : path.resolve(here, '../../dist', path.basename(here), file);
}
