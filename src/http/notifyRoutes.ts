/**
 * Webhook subscriptions over HTTP (the AFNOR standard's /v1/webhooks, in the hub's terms) and
 * the Prometheus scrape. Both call the same functions as the command line (src/notify/webhooks,
 * src/metrics/metrics): a partner's token manages and sees only its own hooks.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../app/tokens.js';
import type { Hub } from '../hub.js';
import { metricsText } from '../metrics/metrics.js';
import { addWebhook, listWebhooks, removeWebhook, webhookDeliveries, WebhookSpecError } from '../notify/webhooks.js';
import { EVENT_TYPES } from '../notify/events.js';
import { SECURITY } from './api.js';
import { ApiError, errorResponses } from './errors.js';

/** The partner whose hooks a request may touch; undefined for an operator (every hook). */
const ownerOf = (req: FastifyRequest): string | undefined => {
  const p = req.principal as Principal;
  return p.kind === 'partner' ? p.partner.code : undefined;
};

const WEBHOOK = {
  type: 'object',
  properties: {
    id: { type: 'string' }, url: { type: 'string' }, events: { type: 'array', items: { type: 'string' } },
    owner: { type: ['string', 'null'] }, createdAt: { type: 'string' },
  },
} as const;

export function registerWebhooks(app: FastifyInstance, hub: Hub): void {
  app.post('/v1/webhooks', {
    schema: {
      tags: ['Webhooks'], summary: 'Subscribe a URL to events (flow.done, flow.refused, invoice.status); the signing secret is in this answer only', security: SECURITY,
      body: {
        type: 'object', additionalProperties: false,
        properties: {
          url: { type: 'string', maxLength: 2000 },
          callbackUrl: { type: 'string', maxLength: 2000, description: 'the standard\'s name for url' },
          events: { type: 'array', items: { type: 'string', enum: [...EVENT_TYPES] } },
          flowTypes: { type: 'array', items: { type: 'string' } }, flowDirection: { type: 'string' }, ackStatus: { type: 'string' },
        },
      },
      response: { 201: { type: 'object', properties: { ...WEBHOOK.properties, webhookId: { type: 'string' }, callbackUrl: { type: 'string' }, secret: { type: 'string' } } }, ...errorResponses(400, 401) },
    },
  }, async (req, reply) => {
    const body = req.body as { url?: string; callbackUrl?: string; events?: string[]; flowTypes?: unknown; flowDirection?: unknown; ackStatus?: unknown };
    // The standard's body (callbackUrl) is taken; its filters are not the hub's: it filters by event type.
    const filters = (['flowTypes', 'flowDirection', 'ackStatus'] as const).filter((k) => body[k] !== undefined);
    if (filters.length) throw new ApiError('INVALID_REQUEST', `${filters.join(', ')}: the hub filters webhooks by events (${EVENT_TYPES.join(', ')}), not by ${filters.length > 1 ? 'these' : 'this'}; flow.refused is a flow whose acknowledgement is Error`);
    if (body.url !== undefined && body.callbackUrl !== undefined && body.url !== body.callbackUrl) throw new ApiError('INVALID_REQUEST', 'url and callbackUrl differ: give one');
    const url = body.url ?? body.callbackUrl;
    if (url === undefined) throw new ApiError('INVALID_REQUEST', 'body must have the property url (or callbackUrl)');
    try {
      const { webhook, secret } = await addWebhook(hub.ledger, { url, events: body.events, owner: ownerOf(req) ?? null });
      return reply.code(201).send({ ...webhook, webhookId: webhook.id, callbackUrl: webhook.url, secret });
    } catch (e) {
      if (e instanceof WebhookSpecError) throw new ApiError('INVALID_REQUEST', e.message);
      throw e;
    }
  });

  app.get('/v1/webhooks', {
    schema: { tags: ['Webhooks'], summary: 'The webhooks this token may manage (a partner\'s own; an operator\'s: all)', security: SECURITY, response: { 200: { type: 'array', items: WEBHOOK }, ...errorResponses(401) } },
  }, async (req) => listWebhooks(hub.ledger, ownerOf(req)));

  app.delete('/v1/webhooks/:id', {
    schema: {
      tags: ['Webhooks'], summary: 'Remove a webhook; its pending deliveries are cancelled', security: SECURITY,
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
      response: { 204: { type: 'null' }, ...errorResponses(401, 404) },
    },
  }, async (req, reply) => {
    const { id } = req.params as { id: string };
    if (!(await removeWebhook(hub.ledger, id, ownerOf(req)))) throw new ApiError('MISSING_RESOURCE', `no webhook ${id} that this token may remove`);
    return reply.code(204).send();
  });

  app.get('/v1/webhooks/deliveries', {
    schema: {
      tags: ['Webhooks'], summary: 'Deliveries of events to webhooks and e-mail addresses, newest first, with their attempts', security: SECURITY,
      querystring: { type: 'object', properties: { failed: { type: 'boolean' }, webhookId: { type: 'string' }, eventId: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
      response: { 200: { type: 'array', items: { type: 'object', additionalProperties: true } }, ...errorResponses(401) },
    },
  }, async (req) => {
    const q = req.query as { failed?: boolean; webhookId?: string; eventId?: string; limit?: number };
    return webhookDeliveries(hub.ledger, { ...q, owner: ownerOf(req), withAttempts: true });
  });
}

export function registerMetrics(app: FastifyInstance, hub: Hub): void {
  app.get('/metrics', {
    schema: { tags: ['Monitoring'], summary: 'Prometheus metrics (text format); operators\' token', security: SECURITY, response: { 200: { type: 'string' }, ...errorResponses(401, 403) } },
    config: { auth: 'operator' },
  }, async (_req, reply) => {
    const { contentType, body } = await metricsText(hub);
    return reply.type(contentType).send(body);
  });
}
