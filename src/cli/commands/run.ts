/** Running the hub: the daemon, one-shot processing, and validation without side effects. */
import path from 'node:path';
import type { Command } from 'commander';
import { closeHub, openHub } from '../../hub.js';
import { startDaemon } from '../../ingest/watcher.js';
import { closeLogger } from '../../log.js';
import { buildReport } from '../../pipeline/deliver.js';
import { processFile, resumeUnfinished } from '../../pipeline/pipeline.js';
import { previewReport } from '../../pipeline/preview.js';
import { EXIT, existingFiles, flagSettings, homeOf, printReport, withHub } from '../context.js';

export function registerRun(program: Command): void {
  program
    .command('watch')
    .description('Run the hub: watch inbox/ and process every flow dropped there (what `npm start` runs).')
    .addHelpText('after', '\nExample:\n  factflow --home /srv/factflow watch')
    .action(async () => {
      const hub = openHub(homeOf(program), { console: true, flags: flagSettings(program) });
      const daemon = await startDaemon(hub);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await daemon.stop();
      closeHub(hub);
      await closeLogger(hub.log);
    });

  program
    .command('process')
    .description('Process flows once, through the same pipeline as the daemon, and print their outcome.')
    .argument('<file...>', 'flow files; files outside inbox/ are copied, files inside it are moved')
    .option('--json', 'print the integration reports as JSON')
    .option('--partner <code>', 'process as if dropped in inbox/<code>/ (checks that partner\'s permissions)')
    .addHelpText('after', '\nExample:\n  factflow process fixtures/mixed/three-recipients.xml')
    .action(async (files: string[], opts: { json?: boolean; partner?: string }) => {
      existingFiles(files);
      process.exitCode = await withHub(program, !opts.json, (hub) => {
        let worst: number = EXIT.OK;
        const reports = [];
        for (const file of files) {
          const abs = path.resolve(file);
          const inInbox = abs.startsWith(hub.layout.inbox + path.sep);
          // A file in inbox/<partner>/ comes from that partner, as it would for the daemon.
          const rel = path.relative(hub.layout.inbox, abs).split(path.sep);
          const partner = opts.partner ?? (inInbox && rel.length === 2 ? rel[0] : undefined);
          const flow = processFile(hub, abs, { copy: !inInbox, partner });
          if (!flow) continue;
          const report = buildReport(hub, flow.id);
          reports.push(report);
          if (flow.state !== 'IN_INTEGRE') worst = EXIT.DATA;
          if (!opts.json) printReport(report, file);
        }
        if (opts.json) console.log(JSON.stringify(reports, null, 2));
        return worst;
      }, 'create');
    });

  program
    .command('resume')
    .description('Finish the flows a crash or a fault left in the spool, without starting the daemon (which does this itself).')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExample:\n  factflow resume')
    .action(async (opts: { json?: boolean }) => {
      process.exitCode = await withHub(program, !opts.json, (hub) => {
        const { done, failed } = resumeUnfinished(hub);
        const summary = { done: done.map((f) => ({ id: f.id, state: f.state })), failed: failed.map((f) => ({ id: f.id, stage: f.stage, lastError: f.last_error })) };
        if (opts.json) console.log(JSON.stringify(summary, null, 2));
        else {
          console.log(`${done.length} flow(s) finished, ${failed.length} still failing.`);
          for (const f of failed) console.log(`  ${f.id} (${f.stage}): ${f.last_error} — fix the cause (factflow doctor) and run factflow resume again`);
        }
        return failed.length ? EXIT.SYSTEM : EXIT.OK;
      }, 'existing');
    });

  program
    .command('validate')
    .description('Check a flow as processing would (schema, rules, routing, duplicates) without changing anything; print the report.')
    .argument('<file>', 'the flow to check; it is left where it is')
    .option('--json', 'print the report as JSON (same shape as outbox/reports/*.json)')
    .addHelpText('after', '\nExample:\n  factflow validate --json fixtures/ubl/invoice-commune.xml')
    .action(async (file: string, opts: { json?: boolean }) => {
      const [abs] = existingFiles([file]);
      process.exitCode = await withHub(program, false, (hub) => {
        const report = previewReport(hub, abs!);
        if (opts.json) console.log(JSON.stringify(report, null, 2));
        else printReport(report, file);
        return report.state === 'IN_INTEGRE' ? EXIT.OK : EXIT.DATA;
      }, 'read');
    });
}
