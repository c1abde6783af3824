#!/usr/bin/env node
/**
 * factflow's command line. Exit codes: 0 success, 2 data errors (a flow or an update was
 * refused), 1 system error, 64 usage error.
 */
import { CommanderError } from 'commander';
import { registerAdmin } from './commands/admin.js';
import { registerDirectory } from './commands/directory.js';
import { registerFlows } from './commands/flows.js';
import { registerInvoices } from './commands/invoices.js';
import { registerPartners } from './commands/partners.js';
import { registerRun } from './commands/run.js';
import { createProgram, EXIT, UsageError } from './context.js';

const program = createProgram();
registerRun(program);
registerDirectory(program);
registerFlows(program);
registerInvoices(program);
registerPartners(program);
registerAdmin(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  } else if (e instanceof UsageError) {
    console.error(`factflow: ${e.message}`);
    process.exitCode = EXIT.USAGE;
  } else {
    console.error(`factflow: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = EXIT.SYSTEM;
  }
}
