/** Running the hub: the daemon, one-shot processing, and validation without side effects. */
import path from 'node:path';
import type { Command } from 'commander';
import { flowReport } from '../../app/queries.js';
import { processFile, resumeUnfinished } from '../../app/run.js';
import { applyDeadlines } from '../../app/requests.js';
import { validateFile } from '../../app/validate.js';
import { closeHub, openHub } from '../../hub.js';
import { closeLogger } from '../../log.js';
import { checkHome, EXIT, existingFiles, flagSettings, homeOf, printReport, UsageError, withHub } from '../context.js';

/**
 * The watcher and the HTTP server (chokidar, fastify, the mailer, the metrics: 40 MB) are
 * loaded by the commands that run them only, not by every one-shot `process` or `validate`.
 */
const daemonModules = async () => ({ ...(await import('../../daemon/watcher.js')), ...(await import('../../http/server.js')) });

const untilSignal = () => new Promise<void>((resolve) => {
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});

export function registerRun(program: Command): void {
  program
    .command('watch')
    .description('Run the hub: watch inbox/ and process every flow dropped there, and serve the API and the console on httpListen (what `npm start` runs).')
    .addHelpText('after', '\nExamples:\n  factflow --home /srv/factflow watch          (console at http://127.0.0.1:8480/console)\n  factflow --set httpListen=off watch          (no HTTP)')
    .action(async () => {
      const hub = openHub(homeOf(program), { console: true, flags: flagSettings(program) });
      const { startDaemon, startHttp } = await daemonModules();
      const daemon = await startDaemon(hub);
      // The daemon goes on without HTTP when the address is taken: the inbox must not stop for a port.
      const http = await startHttp(hub, { onClaimed: (id, size) => daemon.submit(id, size) }).catch((e: unknown) => {
        hub.log.error(`HTTP: cannot listen on ${hub.settings.httpListen} (${e instanceof Error ? e.message : String(e)}); the daemon runs without the API and the console (set httpListen, or off)`);
        return undefined;
      });
      await untilSignal();
      await http?.close();
      await daemon.stop();
      await closeHub(hub);
      await closeLogger(hub.log);
    });

  program
    .command('serve')
    .description('Serve the API and the console alone over this home, without watching inbox/ (flows deposited over HTTP are processed here).')
    .addHelpText('after', '\nExamples:\n  factflow serve\n  factflow --set httpListen=0.0.0.0:8080 serve   (behind a TLS proxy)')
    .action(async () => {
      checkHome(homeOf(program), 'read');
      const hub = openHub(homeOf(program), { console: true, flags: flagSettings(program) });
      if (hub.settings.httpListen === 'off') throw new UsageError('httpListen is off: serve needs an address (--set httpListen=127.0.0.1:8480)');
      const { startHttp } = await daemonModules();
      const http = (await startHttp(hub))!;
      console.log(`factflow: serving ${http.url} (console ${http.url}/console, API ${http.url}/docs); Ctrl-C stops`);
      await untilSignal();
      await http.close();
      await closeHub(hub);
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
      process.exitCode = await withHub(program, !opts.json, async (hub) => {
        let worst: number = EXIT.OK;
        const reports = [];
        for (const file of files) {
          const abs = path.resolve(file);
          const inInbox = abs.startsWith(hub.layout.inbox + path.sep);
          // A file in inbox/<partner>/ comes from that partner, as it would for the daemon.
          const rel = path.relative(hub.layout.inbox, abs).split(path.sep);
          const partner = opts.partner ?? (inInbox && rel.length === 2 ? rel[0] : undefined);
          const flow = await processFile(hub, abs, { copy: !inInbox, partner });
          if (!flow) continue;
          const report = await flowReport(hub, flow);
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
    .description('Finish the flows a crash or a fault left in the spool, and apply the validation deadlines that passed, without starting the daemon (which does both itself).')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExample:\n  factflow resume')
    .action(async (opts: { json?: boolean }) => {
      process.exitCode = await withHub(program, !opts.json, async (hub) => {
        const { done, failed } = await resumeUnfinished(hub);
        const lapsed = await applyDeadlines(hub);
        const deadlines = lapsed ? (await hub.ledger.statusUpdates.ofFlow(lapsed.flow!.id)).filter((u) => u.accepted).length : 0;
        const summary = { done: done.map((f) => ({ id: f.id, state: f.state })), failed: failed.map((f) => ({ id: f.id, stage: f.stage, lastError: f.last_error })), deadlinesPassed: deadlines };
        if (opts.json) console.log(JSON.stringify(summary, null, 2));
        else {
          console.log(`${done.length} flow(s) finished, ${failed.length} still failing.`);
          if (deadlines) console.log(`${deadlines} invoice(s) past their validation deadline (flow ${lapsed!.flow!.id}).`);
          for (const f of failed) console.log(`  ${f.id} (${f.stage}): ${f.last_error} — fix the cause (factflow doctor) and run factflow resume again`);
        }
        return failed.length ? EXIT.SYSTEM : EXIT.OK;
      }, 'existing');
    });

  program
    .command('validate')
    .description('Check a flow as processing would (schema, rules, routing, duplicates) without changing anything; print the report.')
    .argument('<file...>', 'the flows to check; they are left where they are')
    .option('--json', 'print the reports as JSON (same shape as outbox/reports/*.json; an array when several files are given)')
    .option('--partner <code>', 'check as if dropped in inbox/<code>/ (that partner\'s permissions)')
    .addHelpText('after', '\nExample:\n  factflow validate --json fixtures/ubl/invoice-commune.xml')
    .action(async (files: string[], opts: { json?: boolean; partner?: string }) => {
      const paths = existingFiles(files);
      process.exitCode = await withHub(program, false, async (hub) => {
        const reports = [];
        for (const file of paths) reports.push(await validateFile(hub, file, opts.partner));
        if (opts.json) console.log(JSON.stringify(files.length === 1 ? reports[0] : reports, null, 2));
        else reports.forEach((r, i) => printReport(r, files[i]!));
        return reports.every((r) => r.state === 'IN_INTEGRE') ? EXIT.OK : EXIT.DATA;
      }, 'read');
    });
}
