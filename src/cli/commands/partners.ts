/** EDI partners: who may drop flows in inbox/<code>/ and for whom. */
import type { Command } from 'commander';
import { PARTNER_CODE } from '../../route/partners.js';
import { EXIT, UsageError, withHub } from '../context.js';
import { printTable } from '../table.js';

const collect = (v: string, all: string[]) => [...all, v];

export function registerPartners(program: Command): void {
  const partners = program.command('partners').description('EDI partners: inbox/<code>/ folders and what each may do.');
  partners
    .command('add')
    .description('Register a partner (or update it): the suppliers it may deposit for, the recipients it may send statuses for.')
    .argument('<code>', 'partner code, three letters and three digits (AAA999)')
    .requiredOption('--name <name>', 'who the partner is')
    .option('--supplier <id>', 'a supplier identifier it may deposit invoices for (repeatable)', collect, [] as string[])
    .option('--recipient <siret>', 'a recipient SIRET it may send statuses for (repeatable)', collect, [] as string[])
    .addHelpText('after', '\nExample:\n  factflow partners add ACM001 --name "ACME EDI" --supplier 81234567800013\n  (then ACME drops its flows in inbox/ACM001/)')
    .action(async (code: string, opts: { name: string; supplier: string[]; recipient: string[] }) => {
      if (!PARTNER_CODE.test(code)) throw new UsageError(`partner codes are three capital letters and three digits, like ACM001 (got "${code}")`);
      await withHub(program, false, async (hub) => {
        const existing = await hub.ledger.partners.get(code);
        await hub.ledger.transaction((tx) => tx.partners.save({
          code,
          name: opts.name,
          suppliers: [...new Set([...(existing?.suppliers ?? []), ...opts.supplier])],
          recipients: [...new Set([...(existing?.recipients ?? []), ...opts.recipient])],
        }));
        console.log(`${existing ? 'Updated' : 'Registered'} partner ${code}; its flows go in inbox/${code}/, its reports come out in outbox/partners/${code}/.`);
      }, 'existing');
    });

  partners
    .command('list')
    .description('Registered partners.')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExample:\n  factflow partners list --json')
    .action(async (opts: { json?: boolean }) => {
      await withHub(program, false, async (hub) => {
        const all = await hub.ledger.partners.list();
        if (opts.json) console.log(JSON.stringify(all, null, 2));
        else printTable(['CODE', 'NAME', 'SUPPLIERS', 'RECIPIENTS'], all.map((p) => [p.code, p.name, p.suppliers.join(' '), p.recipients.join(' ')]));
      }, 'read');
    });

  partners
    .command('remove')
    .description('Unregister a partner; flows still dropped in its folder are then refused.')
    .argument('<code>')
    .addHelpText('after', '\nExample:\n  factflow partners remove ACM001')
    .action(async (code: string) => {
      process.exitCode = await withHub(program, false, async (hub) => {
        if (await hub.ledger.transaction((tx) => tx.partners.remove(code))) {
          console.log(`Removed partner ${code}.`);
          return EXIT.OK;
        }
        console.error(`No partner ${code} (see factflow partners list).`);
        return EXIT.NOT_FOUND;
      }, 'existing');
    });
}
