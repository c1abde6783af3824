/** Operators of the console and the API: their bearer tokens (shown once, only a hash kept). */
import type { Command } from 'commander';
import { issueToken, operators, revokeTokens } from '../../app/tokens.js';
import { EXIT, UsageError, withHub } from '../context.js';
import { printTable } from '../table.js';

const OPERATOR_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export function registerOperators(program: Command): void {
  const ops = program.command('operators').description('Operators: who may use the console and see or replay every flow over HTTP.');
  ops
    .command('add')
    .description('Issue a token for an operator (a new one each time; shown once).')
    .argument('<name>', 'who the operator is (letters, digits, . _ @ -)')
    .addHelpText('after', '\nExample:\n  factflow operators add alice        (log in to http://127.0.0.1:8480/console with the token printed)')
    .action(async (name: string) => {
      if (!OPERATOR_NAME.test(name)) throw new UsageError(`operator names are letters, digits and . _ @ - (got "${name}")`);
      await withHub(program, false, async (hub) => {
        const token = await issueToken(hub, 'operator', name);
        console.log(token);
        console.error(`This is operator ${name}'s token, shown once. Revoke with: factflow operators revoke ${name}`);
      }, 'read');
    });
  ops
    .command('revoke')
    .description("Revoke every token of an operator.")
    .argument('<name>')
    .addHelpText('after', '\nExample:\n  factflow operators revoke alice')
    .action(async (name: string) => {
      process.exitCode = await withHub(program, false, async (hub) => {
        const n = await revokeTokens(hub, 'operator', name);
        if (!n) {
          console.error(`Operator ${name} has no live token (see factflow operators list).`);
          return EXIT.NOT_FOUND;
        }
        console.log(`Revoked ${n} token(s) of operator ${name}.`);
        return EXIT.OK;
      }, 'read');
    });
  ops
    .command('list')
    .description('Operators and their tokens (live and revoked).')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExample:\n  factflow operators list')
    .action(async (opts: { json?: boolean }) => {
      await withHub(program, false, async (hub) => {
        const all = await operators(hub);
        if (opts.json) console.log(JSON.stringify(all, null, 2));
        else printTable(['NAME', 'LIVE TOKENS', 'TOKENS', 'SINCE'], all.map((o) => [o.name, String(o.live), String(o.tokens), o.since]));
      }, 'read');
    });
}
