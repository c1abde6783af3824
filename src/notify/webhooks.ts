/**
 * Webhook subscriptions, for the command line and the HTTP API alike. A hook owned by a
 * partner receives only the events its permissions cover (see events.concerns); a hook
 * without owner is an operator's and receives every event of its types. The secret signing
 * its calls is returned once, by addWebhook, and never listed.
 */
import { randomBytes } from 'node:crypto';
import type { DeliveryRow, DeliveryState, Ledger, Webhook } from '../ledger/stores.js';
import { EVENT_TYPES } from './events.js';
import { newSecret } from './signature.js';

/** A subscription that cannot be made as asked (bad URL, unknown event type or partner). */
export class WebhookSpecError extends Error {}

export interface WebhookSpec {
  url: string;
  /** Event types; empty or absent: all of them. */
  events?: string[];
  /** A partner code, or absent for an operator's hook. */
  owner?: string | null;
}

export async function addWebhook(ledger: Ledger, spec: WebhookSpec): Promise<{ webhook: Webhook; secret: string }> {
  let url: URL;
  try {
    url = new URL(spec.url);
  } catch {
    throw new WebhookSpecError(`not a URL: "${spec.url}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WebhookSpecError(`a webhook URL is http:// or https://, got "${spec.url}"`);
  if (url.username || url.password) throw new WebhookSpecError('a webhook URL may not carry a user name or password (the signature authenticates the hub)');
  const events = [...new Set(spec.events ?? [])];
  const unknown = events.filter((e) => !(EVENT_TYPES as readonly string[]).includes(e));
  if (unknown.length) throw new WebhookSpecError(`unknown event type ${unknown.join(', ')}; known: ${EVENT_TYPES.join(', ')}`);
  const owner = spec.owner ?? null;
  if (owner && !(await ledger.partners.get(owner))) throw new WebhookSpecError(`no partner ${owner} (factflow partners add)`);
  const webhook: Webhook = { id: `wh_${randomBytes(8).toString('hex')}`, url: url.toString(), events, owner, createdAt: new Date().toISOString() };
  const secret = newSecret();
  await ledger.transaction((tx) => tx.webhooks.add({ ...webhook, secret }));
  return { webhook, secret };
}

/** Every hook, or a partner's own. */
export const listWebhooks = (ledger: Ledger, owner?: string): Promise<Webhook[]> => ledger.webhooks.list(owner);

/** Removes a hook (a partner may remove only its own) and cancels its pending deliveries; false when there is none. */
export const removeWebhook = (ledger: Ledger, id: string, owner?: string): Promise<boolean> => ledger.transaction((tx) => tx.webhooks.remove(id, owner));

export interface DeliveriesFilter {
  /** Only deliveries whose last attempt failed (retried later, or given up). */
  failed?: boolean;
  state?: DeliveryState;
  /** A partner sees the deliveries of its own hooks and its e-mails only. */
  owner?: string;
  webhookId?: string;
  eventId?: string;
  limit?: number;
  /** Each delivery's attempt log (status, error, next attempt). */
  withAttempts?: boolean;
}

export type DeliveryView = DeliveryRow & { attemptLog?: Awaited<ReturnType<Ledger['notify']['attempts']>> };

/** Deliveries, newest first, with their attempt log when asked. */
export async function webhookDeliveries(ledger: Ledger, filter: DeliveriesFilter = {}): Promise<DeliveryView[]> {
  let targets: string[] | undefined;
  if (filter.owner) targets = [...(await ledger.webhooks.list(filter.owner)).map((h) => h.id), filter.owner];
  if (filter.webhookId) targets = targets ? targets.filter((t) => t === filter.webhookId) : [filter.webhookId];
  const rows = await ledger.notify.deliveries({ failed: filter.failed, state: filter.state, targets, eventId: filter.eventId, limit: filter.limit });
  if (!filter.withAttempts) return rows;
  return Promise.all(rows.map(async (r) => ({ ...r, attemptLog: await ledger.notify.attempts(r.id) })));
}
