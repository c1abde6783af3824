/** The directory of public structures: import an export, look a structure up. */
import type { Command } from 'commander';
import { DirectoryImportError, planImport, replaceDirectory } from '../../route/directoryImport.js';
import { EXIT, existingFiles, progress, withHub } from '../context.js';
import { planJson, printPlan, problemJson, problemText, refuseSilentDrop, servicesChoice } from '../directoryReport.js';
import { printTable } from '../table.js';

export function registerDirectory(program: Command): void {
  const directory = program.command('directory').description('The directory of public structures.');
  directory
    .command('import')
    .description('Replace the directory with a structures export and a services export (or keep or drop the current services).')
    .requiredOption('--structures <csv>', 'structures export (semicolon-separated; UTF-8, Windows-1252 or ISO-8859-1, detected)')
    .option('--services <csv>', 'services export')
    .option('--keep-services', 'no services file: keep the current services of the structures still present')
    .option('--drop-services', 'no services file: remove every service')
    .option('--dry-run', 'show what would be added, changed and removed; change nothing')
    .option('--json', 'JSON output')
    .addHelpText('after', `
Without --services, one of --keep-services or --drop-services is required when services are
loaded now: a structures-only import never drops them silently.
Errors abort the import and keep the previous directory (exit 2): a malformed row, a bad
boolean, a duplicate, a SIRET that is not 14 digits or fails its check digit, a SIREN (9 digits)
given as a SIRET. Warnings are printed with their line and the import goes on: a service of a
structure absent from the structures file (not imported), a kept service whose structure is gone.

Examples:
  factflow directory import --structures fixtures/directory/structures.csv --services fixtures/directory/services.csv --dry-run
  factflow directory import --structures structures.csv --keep-services`)
    .action(async (opts: { structures: string; services?: string; keepServices?: boolean; dropServices?: boolean; dryRun?: boolean; json?: boolean }) => {
      const choice = servicesChoice(opts);
      const [structuresFile, servicesFile] = existingFiles([opts.structures, ...(opts.services !== undefined ? [opts.services] : [])]);
      process.exitCode = await withHub(program, false, async (hub) => {
        let plan;
        try {
          plan = planImport(await hub.ledger.directory.all(), structuresFile!, choice === 'file' ? { file: servicesFile! } : choice === 'keep' ? 'keep' : 'drop');
        } catch (e) {
          if (!(e instanceof DirectoryImportError)) throw e;
          if (opts.json) console.log(JSON.stringify({ dryRun: !!opts.dryRun, imported: false, errors: e.problems.map(problemJson) }, null, 2));
          console.error(`Directory NOT imported (the previous one is unchanged). Fix these rows and import again:\n${e.problems.map(problemText).join('\n')}`);
          return EXIT.DATA;
        }
        if (choice === 'unspecified' && plan.currentServices > 0) refuseSilentDrop(plan);
        if (!opts.dryRun) {
          const bar = progress(2, 'importing');
          await replaceDirectory(hub.ledger.directory, plan, (done, total) => bar.set(done, total));
          bar.done();
          hub.log.info(`directory imported: ${plan.next.structures.length} structures, ${plan.next.services.length} services`);
        }
        if (opts.json) {
          console.log(JSON.stringify(planJson(plan, !!opts.dryRun), null, 2));
          for (const w of plan.warnings) console.error(`warning: ${problemText(w)}`);
        } else printPlan(plan, !!opts.dryRun);
        return EXIT.OK;
      }, 'existing');
    });

  directory
    .command('lookup')
    .description('Show a structure, its services, and which routing data it requires.')
    .argument('<siret>', 'the structure SIRET')
    .option('--service <code>', 'only this service')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExample:\n  factflow directory lookup 11000201100044 --service SGAMI-SUD')
    .action(async (siret: string, opts: { service?: string; json?: boolean }) => {
      process.exitCode = await withHub(program, false, async (hub) => {
        const structure = (await hub.ledger.directory.structures([siret])).get(siret);
        if (!structure) {
          console.error(`${siret} is not in the directory (${(await hub.ledger.directory.summary()).structures} structures loaded). Import a newer export with factflow directory import.`);
          return EXIT.NOT_FOUND;
        }
        const services = await hub.ledger.directory.servicesOf(siret, opts.service);
        if (opts.service && !services.length) {
          console.error(`${siret} has no service ${opts.service} (see factflow directory lookup ${siret}).`);
          return EXIT.NOT_FOUND;
        }
        const requires = [
          structure.requiresServiceAndEngagement ? 'service code AND engagement number' : undefined,
          structure.requiresService ? 'service code' : undefined,
          structure.requiresEngagement ? 'engagement number' : undefined,
        ].filter(Boolean);
        if (opts.json) {
          console.log(JSON.stringify({ structure, requires, services }, null, 2));
          return EXIT.OK;
        }
        console.log(`${structure.siret}  ${structure.name}  ${structure.active ? 'ACTIVE' : 'INACTIVE'}`);
        console.log(`Requires: ${requires.length ? requires.join('; ') : 'nothing beyond the SIRET'}`);
        printTable(['SERVICE', 'NAME', 'ACTIVE', 'REQUIRES EJ'], services.map((v) => [v.code, v.name, v.active ? 'yes' : 'no', v.requiresEngagement ? 'yes' : 'no']));
        return EXIT.OK;
      }, 'read');
    });
}
