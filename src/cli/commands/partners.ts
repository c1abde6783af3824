/** EDI partners: who may drop flows in inbox/<code>/ and for whom. */
import type { Command } from 'commander';
import { PIVOT_GROUPINGS, STATUS_FORMATS } from '../../config.js';
import { PARTNER_CODE } from '../../route/partners.js';
import { issueToken, revokeTokens } from '../../app/tokens.js';
import { choice, EXIT, UsageError, withHub } from '../context.js';
import { printTable } from '../table.js';

const collect = (v: string, all: string[]) => [...all, v];
/** `default` drops the partner's own grouping: the pivotGrouping setting applies again. */
const GROUPING_CHOICES = [...PIVOT_GROUPINGS, 'default'] as const;
const FORMAT_CHOICES = [...STATUS_FORMATS, 'default'] as const;

/** An address (a plain check: one @, no spaces), `none` to remove it (''), or undefined when not given. */
function emailOption(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.toLowerCase() === 'none') return '';
  if (!/^[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+$/.test(value)) throw new UsageError(`--email takes an address like edi@acme.example (or none), got "${value}"`);
  return value;
}

export function registerPartners(program: Command): void {
  const partners = program.command('partners').description('EDI partners: inbox/<code>/ folders and what each may do.');
  partners
    .command('add')
    .description('Register a partner (or update it): the suppliers it may deposit for, the recipients it may send statuses for.')
    .argument('<code>', 'partner code, three letters and three digits (AAA999)')
    .requiredOption('--name <name>', 'who the partner is')
    .option('--supplier <id>', 'a supplier identifier it may deposit invoices for (repeatable)', collect, [] as string[])
    .option('--recipient <siret>', 'a recipient SIRET it may send statuses for (repeatable)', collect, [] as string[])
    .option('--validator <id>', 'a validator (main contractor, agent, MOE) it may send validation circuit statuses for (repeatable)', collect, [] as string[])
    .option('--pivot-grouping <grouping>', 'pivots of its recipients and status files of its suppliers: recipient (one file per flow), invoice (one per invoice), or default (the pivotGrouping setting)')
    .option('--email <address>', 'contact address told of refusals and status changes (needs smtpHost); none to remove it')
    .option('--status-format <format>', 'statuses of its suppliers and answers to its flows: cpp (CPPStatut), cdar (CDAR, flow 6), both, or default (the statusFormat setting)')
    .addHelpText('after', '\nExamples:\n  factflow partners add ACM001 --name "ACME EDI" --supplier 81234567800013\n  (then ACME drops its flows in inbox/ACM001/)\n  factflow partners add PAS001 --name "Pastell" --recipient 21450001200015 --pivot-grouping invoice\n  factflow partners add ACM001 --name "ACME EDI" --status-format both')
    .action(async (code: string, opts: { name: string; supplier: string[]; recipient: string[]; validator: string[]; pivotGrouping?: string; email?: string; statusFormat?: string }) => {
      if (!PARTNER_CODE.test(code)) throw new UsageError(`partner codes are three capital letters and three digits, like ACM001 (got "${code}")`);
      const grouping = opts.pivotGrouping === undefined ? undefined : choice('--pivot-grouping', opts.pivotGrouping, GROUPING_CHOICES);
      const email = emailOption(opts.email);
      const format = opts.statusFormat === undefined ? undefined : choice('--status-format', opts.statusFormat, FORMAT_CHOICES);
      await withHub(program, false, async (hub) => {
        const existing = await hub.ledger.partners.get(code);
        // An update keeps the partner's grouping and address unless one is given.
        const pivotGrouping = grouping === undefined ? existing?.pivotGrouping : grouping === 'default' ? undefined : grouping;
        const address = email === undefined ? existing?.email : email || undefined;
        const statusFormat = format === undefined ? existing?.statusFormat : format === 'default' ? undefined : format;
        await hub.ledger.transaction((tx) => tx.partners.save({
          code,
          name: opts.name,
          suppliers: [...new Set([...(existing?.suppliers ?? []), ...opts.supplier])],
          recipients: [...new Set([...(existing?.recipients ?? []), ...opts.recipient])],
          validators: [...new Set([...(existing?.validators ?? []), ...opts.validator])],
          ...(pivotGrouping ? { pivotGrouping } : {}),
          ...(address ? { email: address } : {}),
          ...(statusFormat ? { statusFormat } : {}),
        }));
        console.log(`${existing ? 'Updated' : 'Registered'} partner ${code}; its flows go in inbox/${code}/, its reports come out in outbox/partners/${code}/.`);
      }, 'existing');
    });

  partners
    .command('set')
    .description('Change a registered partner\'s contact address.')
    .argument('<code>')
    .requiredOption('--email <address>', 'contact address told of refusals and status changes (needs smtpHost); none to remove it')
    .addHelpText('after', '\nExamples:\n  factflow partners set ACM001 --email edi@acme.example\n  factflow partners set ACM001 --email none')
    .action(async (code: string, opts: { email: string }) => {
      const email = emailOption(opts.email);
      process.exitCode = await withHub(program, false, async (hub) => {
        const existing = await hub.ledger.partners.get(code);
        if (!existing) {
          console.error(`No partner ${code} (see factflow partners list).`);
          return EXIT.NOT_FOUND;
        }
        const { email: _old, ...rest } = existing;
        await hub.ledger.transaction((tx) => tx.partners.save({ ...rest, ...(email ? { email } : {}) }));
        console.log(email ? `Partner ${code} is told at ${email}.` : `Partner ${code} has no contact address any more.`);
        return EXIT.OK;
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
        else printTable(['CODE', 'NAME', 'SUPPLIERS', 'RECIPIENTS', 'VALIDATORS', 'GROUPING', 'STATUSES', 'EMAIL'], all.map((p) => [p.code, p.name, p.suppliers.join(' '), p.recipients.join(' '), (p.validators ?? []).join(' '), p.pivotGrouping ?? `(${hub.settings.pivotGrouping}, the setting)`, p.statusFormat ?? `(${hub.settings.statusFormat}, the setting)`, p.email]));
      }, 'read');
    });

  partners
    .command('token')
    .description("Issue a bearer token for a partner's use of the HTTP API (shown once; only its hash is kept), or revoke its tokens.")
    .argument('<code>')
    .option('--revoke', 'revoke every token of this partner instead')
    .addHelpText('after', '\nExamples:\n  factflow partners token ACM001              (prints the token once)\n  factflow partners token ACM001 --revoke')
    .action(async (code: string, opts: { revoke?: boolean }) => {
      process.exitCode = await withHub(program, false, async (hub) => {
        if (opts.revoke) {
          const n = await revokeTokens(hub, 'partner', code);
          console.log(`Revoked ${n} token(s) of partner ${code}.`);
          return EXIT.OK;
        }
        if (!(await hub.ledger.partners.get(code))) {
          console.error(`No partner ${code} (see factflow partners list; register it with factflow partners add).`);
          return EXIT.NOT_FOUND;
        }
        const token = await issueToken(hub, 'partner', code);
        console.log(token);
        console.error(`This is partner ${code}'s token, shown once: give it to them over a safe channel (Authorization: Bearer <token>). Revoke with: factflow partners token ${code} --revoke`);
        return EXIT.OK;
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
