/** Webhooks (subscriptions and their deliveries) and the metrics text, without the HTTP server. */
import type { Command } from 'commander';
import { EVENT_TYPES } from '../../notify/events.js';
import { addWebhook, listWebhooks, removeWebhook, webhookDeliveries, WebhookSpecError } from '../../notify/webhooks.js';
import { PARTNER_CODE } from '../../route/partners.js';
import { EXIT, UsageError, withHub } from '../context.js';
import { printTable } from '../table.js';

const positive = (flag: string, v: string) => {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`${flag} takes a whole number of at least 1, got "${v}"`);
  return Number(v);
};

export function registerNotify(program: Command): void {
  const hooks = program.command('webhooks').description('Webhooks: signed HTTP calls on flow.done, flow.refused and invoice.status events, made by the daemon.');
  hooks
    .command('add')
    .description('Subscribe a URL; prints the secret its calls are signed with, once.')
    .argument('<url>', 'http:// or https:// URL receiving POSTs of JSON events')
    .option('--partner <code>', 'the partner it belongs to: it then receives only events about that partner\'s flows and invoices')
    .option('--events <types>', `comma-separated event types (${EVENT_TYPES.join(', ')}); all when absent`)
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExamples:\n  factflow webhooks add https://erp.example/hooks/factflow\n  factflow webhooks add https://acme.example/in --partner ACM001 --events flow.refused,invoice.status')
    .action(async (url: string, opts: { partner?: string; events?: string; json?: boolean }) => {
      if (opts.partner !== undefined && !PARTNER_CODE.test(opts.partner)) throw new UsageError(`partner codes are three capital letters and three digits, like ACM001 (got "${opts.partner}")`);
      const events = opts.events === undefined ? [] : opts.events.split(',').map((e) => e.trim().toLowerCase()).filter(Boolean);
      await withHub(program, false, async (hub) => {
        let added;
        try {
          added = await addWebhook(hub.ledger, { url, events, owner: opts.partner });
        } catch (e) {
          if (e instanceof WebhookSpecError) throw new UsageError(e.message);
          throw e;
        }
        const { webhook, secret } = added;
        if (opts.json) console.log(JSON.stringify({ ...webhook, secret }, null, 2));
        else {
          console.log(`Added webhook ${webhook.id}: ${webhook.url} (${webhook.events.length ? webhook.events.join(', ') : 'all events'}${webhook.owner ? `, partner ${webhook.owner}` : ''}).`);
          console.log(`Secret (shown once; verify X-Factflow-Signature with it): ${secret}`);
        }
      }, 'existing');
    });

  hooks
    .command('list')
    .description('Subscriptions (without their secrets).')
    .option('--partner <code>', 'only this partner\'s')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExample:\n  factflow webhooks list --json')
    .action(async (opts: { partner?: string; json?: boolean }) => {
      await withHub(program, false, async (hub) => {
        const all = await listWebhooks(hub.ledger, opts.partner);
        if (opts.json) console.log(JSON.stringify(all, null, 2));
        else printTable(['ID', 'URL', 'EVENTS', 'PARTNER', 'CREATED'], all.map((h) => [h.id, h.url, h.events.join(',') || '(all)', h.owner ?? '(operator)', h.createdAt]));
      }, 'read');
    });

  hooks
    .command('remove')
    .description('Unsubscribe; its deliveries still pending are cancelled.')
    .argument('<id>')
    .addHelpText('after', '\nExample:\n  factflow webhooks remove wh_0123456789abcdef')
    .action(async (id: string) => {
      process.exitCode = await withHub(program, false, async (hub) => {
        if (await removeWebhook(hub.ledger, id)) {
          console.log(`Removed webhook ${id}.`);
          return EXIT.OK;
        }
        console.error(`No webhook ${id} (see factflow webhooks list).`);
        return EXIT.NOT_FOUND;
      }, 'existing');
    });

  hooks
    .command('deliveries')
    .description('Webhook calls and e-mails, newest first: state, attempts, last status or error, next attempt.')
    .option('--failed', 'only those whose last attempt failed (retried later, or given up)')
    .option('--webhook <id>', 'only this webhook\'s')
    .option('--partner <code>', 'only this partner\'s hooks and e-mails')
    .option('--event <id>', 'only this event\'s')
    .option('--attempts', 'with each attempt (JSON output)')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExample:\n  factflow webhooks deliveries --failed')
    .action(async (opts: { failed?: boolean; webhook?: string; partner?: string; event?: string; attempts?: boolean; limit: string; json?: boolean }) => {
      const limit = positive('--limit', opts.limit);
      await withHub(program, false, async (hub) => {
        const rows = await webhookDeliveries(hub.ledger, { failed: opts.failed, webhookId: opts.webhook, owner: opts.partner, eventId: opts.event, limit, withAttempts: opts.attempts });
        if (opts.json || opts.attempts) {
          console.log(JSON.stringify(rows.map((r) => ({
            id: r.id, eventId: r.event_id, channel: r.channel, target: r.target, address: r.address, state: r.state, attempts: r.attempts,
            nextAttemptAt: r.state === 'pending' ? new Date(r.next_at).toISOString() : null, lastStatus: r.last_status, lastError: r.last_error, createdAt: r.created_at, doneAt: r.done_at,
            ...(r.attemptLog ? { attemptLog: r.attemptLog.map((a) => ({ attempt: a.attempt, at: a.at, ok: !!a.ok, status: a.status, error: a.error, nextAttemptAt: a.next_at ? new Date(a.next_at).toISOString() : null })) } : {}),
          })), null, 2));
        } else {
          printTable(['CREATED', 'EVENT', 'CHANNEL', 'TO', 'STATE', 'ATTEMPTS', 'LAST', 'NEXT'], rows.map((r) => [
            r.created_at, r.event_id, r.channel, r.address, r.state, r.attempts, r.last_error ?? (r.last_status ? String(r.last_status) : ''), r.state === 'pending' ? new Date(r.next_at).toISOString() : '',
          ]));
        }
      }, 'read');
    });

  program
    .command('metrics')
    .description('Print the metrics in Prometheus text format, as GET /metrics serves them.')
    .addHelpText('after', '\nExample:\n  factflow metrics | grep factflow_flows_total')
    .action(async () => {
      await withHub(program, false, async (hub) => process.stdout.write((await (await import('../../metrics/metrics.js')).metricsText(hub)).body), 'read');
    });
}
