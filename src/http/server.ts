/**
 * The hub's HTTP server (fastify): the Flow Service API, the operators' console and the OpenAPI
 * document, over one home. `factflow watch` runs it beside the daemon (deposits go to the
 * daemon's workers); `factflow serve` runs it alone (deposits run here). Bodies are capped at
 * maxFlowBytes, like files; errors answer in the standard's shape.
 */
import fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { parseListen } from '../config.js';
import type { Hub } from '../hub.js';
import { runFlow } from '../app/run.js';
import { operators } from '../app/tokens.js';
import { authHook } from './auth.js';
import { ApiError, ERROR_SCHEMA } from './errors.js';
import { FLOW_SCHEMA } from './flowInfo.js';
import { ROUTE_GROUPS } from './routes.js';
import { packageVersion } from '../cli/context.js';

export interface ServerOptions {
  /** Runs a claimed deposit (the daemon's `submit`); without it, flows run in this process, one at a time. */
  onClaimed?: (flowId: string, size: number) => void;
}

const RAW_TYPES = ['application/xml', 'text/xml', 'application/pdf', 'application/zip', 'application/gzip', 'application/x-gzip', 'application/octet-stream', 'multipart/form-data'];

export async function buildServer(hub: Hub, opts: ServerOptions = {}): Promise<FastifyInstance> {
  const app = fastify({ bodyLimit: Math.max(1, hub.settings.maxFlowBytes), logger: false, return503OnClosing: true, ajv: { customOptions: { removeAdditional: false } } });
  let queue: Promise<unknown> = Promise.resolve();
  const onClaimed = opts.onClaimed ?? ((flowId: string) => {
    // faults are recorded on the flow and logged by runFlows; the flow stays in the spool
    queue = queue.then(() => runFlow(hub, flowId)).catch(() => undefined);
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, body === '' ? {} : JSON.parse(body as string));
    } catch (e) {
      done(new ApiError('INVALID_REQUEST', `the body is not JSON: ${(e as Error).message}`), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));
  app.addContentTypeParser(RAW_TYPES, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string; validation?: unknown }, req, reply) => {
    let e: ApiError;
    if (error instanceof ApiError) e = error;
    else if (error.validation) e = new ApiError('INVALID_REQUEST', error.message);
    else if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') e = new ApiError('FILE_SIZE_EXCEEDED', `the body is over the maxFlowBytes limit (${hub.settings.maxFlowBytes} bytes)`);
    else if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') e = new ApiError('UNSUPPORTED_MEDIA_TYPE', `${String(req.headers['content-type'])} is not accepted here`);
    else if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) e = new ApiError('INVALID_REQUEST', error.message);
    else {
      hub.log.error(`HTTP ${req.method} ${req.url}: ${error.message}`, { fault: error.message });
      e = new ApiError('INTERNAL_ERROR', 'the request failed on the hub side; the log says why');
    }
    return reply.code(e.statusCode).type('application/json').send(e.body);
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(new ApiError('MISSING_RESOURCE', `no route ${req.method} ${req.url.split('?')[0]}`).body));
  app.addHook('onRequest', async (req, reply) => {
    const id = req.headers['request-id'];
    if (typeof id === 'string' && id.length <= 128) reply.header('Request-Id', id);
    reply.header('X-Content-Type-Options', 'nosniff');
  });
  app.addHook('onRequest', authHook(hub));

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'factflow Flow Service API', version: packageVersion(),
        description: 'AFNOR XP Z12-013 Flow Service 1.3.0 over the factflow hub (deposit, search, get a flow and its documents), plus the hub\'s own routes (reports, invoices, history, directory, replay).',
      },
      components: { securitySchemes: { BearerAuth: { type: 'http', scheme: 'bearer', description: 'factflow partners token <code>, or factflow operators add <name>' } } },
      tags: [{ name: 'Flow' }, { name: 'Supervisor' }, { name: 'Hub' }, { name: 'Console' }, { name: 'Docs' }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  const routes: { method: string; url: string }[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) if (method !== 'HEAD') routes.push({ method, url: r.url });
  });
  ROUTES.set(app, routes);
  app.addSchema(ERROR_SCHEMA);
  app.addSchema(FLOW_SCHEMA);
  for (const group of ROUTE_GROUPS) group.register(app, hub, { onClaimed });
  await app.ready();
  return app;
}

const ROUTES = new WeakMap<FastifyInstance, { method: string; url: string }[]>();
/** Every route the server registered (HEAD twins of GET routes aside). */
export const registeredRoutes = (app: FastifyInstance) => ROUTES.get(app) ?? [];

export interface RunningServer {
  app: FastifyInstance;
  /** Where it listens, as http://host:port. */
  url: string;
  close(): Promise<void>;
}

/** Starts the server on the httpListen setting (undefined when it is `off`). */
export async function startHttp(hub: Hub, opts: ServerOptions = {}): Promise<RunningServer | undefined> {
  if (hub.settings.httpListen === 'off') return undefined;
  const where = parseListen(hub.settings.httpListen)!;
  const app = await buildServer(hub, opts);
  await app.listen({ host: where.host, port: where.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : where.port;
  const url = `http://${where.host.includes(':') ? `[${where.host}]` : where.host}:${port}`;
  hub.log.info(`HTTP: the API and the console listen on ${url} (console: ${url}/console, API description: ${url}/docs)`);
  // A first start: nobody can log in to the console yet; say how to get in.
  if (!(await operators(hub)).some((o) => o.live > 0)) hub.log.warn('HTTP: no operator has a live token yet, so nobody can log in to the console: factflow operators add <name> prints one');
  return { app, url, close: () => app.close() };
}
