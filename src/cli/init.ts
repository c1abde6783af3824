/** `factflow init`: create a home explicitly (read-only commands never create one). */
import fs from 'node:fs';
import type { Command } from 'commander';
import { CONFIG_FILE, layoutOf } from '../config.js';
import { homeOf, withHub } from './context.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('Create the home: inbox/, outbox/, archive/, failed/, var/ and an empty ledger (harmless on an existing home).')
    .addHelpText('after', '\nExample:\n  factflow --home /srv/factflow init')
    .action(async () => {
      const home = homeOf(program);
      const existed = fs.existsSync(layoutOf(home).db);
      await withHub(program, false, (hub) => {
        console.log(`${existed ? 'Home already initialised' : 'Created the home'} at ${hub.layout.home}. Next: factflow directory import, then factflow watch. Settings go in ${CONFIG_FILE} (see factflow config show).`);
      }, 'create');
    });
}
