/** The directory of public structures: import an export, look a structure up. */
import path from 'node:path';
import type { Command } from 'commander';
import { DirectoryImportError, importDirectory } from '../../route/directoryImport.js';
import { EXIT, progress, withHub } from '../context.js';
import { printTable } from '../table.js';

export function registerDirectory(program: Command): void {
  const directory = program.command('directory').description('The directory of public structures.');
  directory
    .command('import')
    .description('Replace the directory with a structures export (and optionally a services export).')
    .requiredOption('--structures <csv>', 'structures export (semicolon-separated, UTF-8 or ISO-8859-1)')
    .option('--services <csv>', 'services export')
    .addHelpText('after', '\nExample:\n  factflow directory import --structures fixtures/directory/structures.csv --services fixtures/directory/services.csv')
    .action(async (opts: { structures: string; services?: string }) => {
      process.exitCode = await withHub(program, false, async (hub) => {
        const bar = progress(2, 'importing');
        try {
          const n = await importDirectory(hub.ledger.directory, path.resolve(opts.structures), opts.services && path.resolve(opts.services), (done, total) => bar.set(done, total));
          bar.done();
          hub.log.info(`directory imported: ${n.structures} structures, ${n.services} services`);
          console.log(`Directory replaced: ${n.structures} structures, ${n.services} services.`);
          return EXIT.OK;
        } catch (e) {
          if (!(e instanceof DirectoryImportError)) throw e;
          console.error(`Directory NOT imported (the previous one is unchanged). Fix these rows and import again:\n${e.message}`);
          return EXIT.DATA;
        }
      });
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
      });
    });
}
