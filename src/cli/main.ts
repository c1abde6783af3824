#!/usr/bin/env node
/**
 * factflow's command line. Exit codes (EXIT, listed in every --help): 0 success, 1 system
 * error, 2 data errors (a flow or an update was refused), 3 not found, 64 usage error.
 */
import './heap.js';
import { CommanderError } from 'commander';
import { ConfigError } from '../config.js';
import { registerAdmin } from './commands/admin.js';
import { registerDirectory } from './commands/directory.js';
import { registerFlows } from './commands/flows.js';
import { registerInvoices } from './commands/invoices.js';
import { registerNodes } from './commands/nodes.js';
import { registerNotify } from './commands/notify.js';
import { registerOperators } from './commands/operators.js';
import { registerPartners } from './commands/partners.js';
import { registerRun } from './commands/run.js';
import { createProgram, EXIT, NotFoundError, UsageError } from './context.js';
import { registerInit } from './init.js';

// `factflow flows list | head`: a reader that stops early ends the command quietly, not with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.OK);
    throw e;
  });
}

const program = createProgram();
registerInit(program);
registerRun(program);
registerDirectory(program);
registerFlows(program);
registerInvoices(program);
registerPartners(program);
registerNotify(program);
registerOperators(program);
registerAdmin(program);
registerNodes(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  } else if (e instanceof UsageError || e instanceof ConfigError) {
    console.error(`factflow: ${e.message}`);
    process.exitCode = EXIT.USAGE;
  } else if (e instanceof NotFoundError) {
    console.error(`factflow: ${e.message}`);
    process.exitCode = EXIT.NOT_FOUND;
  } else {
    console.error(`factflow: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = EXIT.SYSTEM;
  }
}
