/**
 * Every group of routes the hub's HTTP server registers, in order.
 */
import type { FastifyInstance } from 'fastify';
import type { Hub } from '../hub.js';
import { registerApi, type ApiOptions } from './api.js';
import { registerConsole } from './console/pages.js';
import { registerCircuits } from './circuitRoutes.js';
import { registerDocs } from './docs.js';
import { registerMetrics, registerWebhooks } from './notifyRoutes.js';

export type RouteGroup = (app: FastifyInstance, hub: Hub, opts: ApiOptions) => void;

export const ROUTE_GROUPS: { name: string; register: RouteGroup }[] = [
  { name: 'flow service API (/v1/flows, /v1/healthcheck) and the hub\'s /v1 routes', register: registerApi },
  { name: 'validators\' decisions (/v1/invoices/{id}/validation)', register: registerCircuits },
  { name: 'webhooks (/v1/webhooks…)', register: registerWebhooks },
  { name: 'Prometheus metrics (/metrics)', register: registerMetrics },
  { name: 'operators\' console (/console…)', register: registerConsole },
  { name: 'OpenAPI document (/docs)', register: registerDocs },
];
