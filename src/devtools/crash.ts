/**
 * `npm run test:crash [-- --nodes 3 --ledger postgres] [--kills N] [--seed N]`: the crash test
 * (test/crash.test.ts) with its long defaults (200 kills). Options become the test's
 * environment (CRASH_NODES, CRASH_LEDGER, CRASH_KILLS, CRASH_SEED) since jest takes no
 * arguments of its own for a test. A PostgreSQL ledger needs FACTFLOW_TEST_PG (a server URL).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const env: NodeJS.ProcessEnv = { ...process.env, CRASH_KILLS: process.env.CRASH_KILLS ?? '200' };
const names: Record<string, string> = { '--nodes': 'CRASH_NODES', '--ledger': 'CRASH_LEDGER', '--kills': 'CRASH_KILLS', '--seed': 'CRASH_SEED' };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const name = names[args[i]!];
  if (!name || args[i + 1] === undefined) {
    console.error(`usage: npm run test:crash -- [--nodes N] [--ledger sqlite|postgres] [--kills N] [--seed N] (got ${args[i]})`);
    process.exit(64);
  }
  env[name] = args[++i];
}
if (env.CRASH_NODES && Number(env.CRASH_NODES) > 1) {
  if ((env.CRASH_LEDGER ?? 'postgres') !== 'postgres') {
    console.error('several nodes share a PostgreSQL ledger: --ledger postgres');
    process.exit(64);
  }
  if (!env.FACTFLOW_TEST_PG) {
    console.error('--nodes needs a PostgreSQL server: set FACTFLOW_TEST_PG=postgres://user@host:port/db (a user that may create databases)');
    process.exit(64);
  }
  env.CRASH_NODE_KILLS = env.CRASH_KILLS;
}
const r = spawnSync(process.execPath, ['--experimental-vm-modules', '--no-warnings', path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--runInBand', 'test/crash.test.ts'], { cwd: root, env, stdio: 'inherit' });
process.exit(r.status ?? 1);
