/**
 * The Flow Service API (AFNOR XP Z12-013 1.3.0) over the hub: deposit, search, get a flow and its
 * documents, the health check; and, in the same style, what the hub has beyond the standard
 * (reports, invoices and their history, the directory, replay). Each route calls the same
 * application functions as the command line.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { depositFlow } from '../app/deposit.js';
import { originalOf, pivotDocument, pivotsOf, readableOf, reportFileOf, type Document } from '../app/documents.js';
import { flowReport, invoiceHistory } from '../app/queries.js';
import { planReplay, replayFlow } from '../app/replay.js';
import type { Principal } from '../app/tokens.js';
import type { Hub } from '../hub.js';
import type { FlowRow, HoldRow, InvoiceRow } from '../ledger/stores.js';
import { validatorAt, validatorsOf } from '../lifecycle/circuits.js';
import { depositAs, flowView, heldFor, invoiceVisible, pivotVisible, visibilityOf, whoIs, type FlowView } from './access.js';
import { ApiError, errorResponses } from './errors.js';
import { ACK_STATES, flowInfo } from './flowInfo.js';
import { boundaryOf, parseMultipart } from './multipart.js';

export interface ApiOptions {
  /** A deposit was claimed: run it (the daemon's pool, or here). */
  onClaimed(flowId: string, size: number): void;
}

const str = { type: 'string' } as const;
const FLOW_ID = { type: 'string', maxLength: 64, description: 'Flow identifier (FF…)' } as const;
const REQUEST_HEADERS = {
  type: 'object',
  properties: {
    'request-id': { type: 'string', description: 'Correlates logs; echoed back' },
    'organization-id': { type: 'string', description: 'The partner acted for: an operator depositing for a partner (a partner may only name itself)' },
  },
} as const;
export const SECURITY = [{ BearerAuth: [] }];

export interface VisibleFlow {
  flow: FlowRow;
  view: Exclude<FlowView, 'none'>;
  /** The invoices the caller may see. */
  invoices: InvoiceRow[];
  all: InvoiceRow[];
}

/** A flow the caller may see (in full or in part), or the error saying why not. */
export async function visibleFlow(hub: Hub, p: Principal, flowId: string): Promise<VisibleFlow> {
  const flow = await hub.ledger.flows.get(flowId);
  if (!flow || flow.channel !== 'edi') throw new ApiError('MISSING_RESOURCE', `no flow ${flowId}`);
  const all = await hub.ledger.invoices.ofFlow(flow.id);
  const view = flowView(p, flow, all);
  if (view === 'none') throw new ApiError('FORBIDDEN_ACCESS', `flow ${flowId} is not visible to ${whoIs(p)}: it did not deposit it, and none of its invoices is from a supplier it represents or for a recipient it serves`);
  return { flow, view, invoices: all.filter((i) => invoiceVisible(p, i, flow)), all };
}

function sendDocument(reply: FastifyReply, doc: Document | undefined, what: string) {
  if (!doc) throw new ApiError('MISSING_RESOURCE', `${what} is not available (not produced, or purged)`);
  return reply.type(doc.contentType).header('Content-Disposition', `attachment; filename="${doc.name.replace(/["\\\r\n]/g, '_')}"`).send(doc.bytes);
}

function pickIndex(count: number, docIndex: number | undefined, what: string): number {
  const index = docIndex ?? 1;
  if (index < 1 || index > count) throw new ApiError('MISSING_RESOURCE', count ? `docIndex ${index} is out of range: this flow has ${count} ${what} (docIndex 1 to ${count})` : `this flow has no ${what} you may see`);
  return index - 1;
}

async function flowDocument(hub: Hub, v: VisibleFlow, docType: string, docIndex: number | undefined, p: Principal, reply: FastifyReply) {
  const { flow } = v;
  if (docType === 'Original') {
    if (v.view !== 'full') throw new ApiError('FORBIDDEN_ACCESS', `the original of flow ${flow.id} holds other parties' invoices; ${whoIs(p)} may get the pivots and readable views of its own`);
    return sendDocument(reply, originalOf(hub, flow), `the original file of flow ${flow.id}`);
  }
  if (docType === 'Converted') {
    const pivots = pivotsOf(v.all).filter((pv) => pivotVisible(p, flow, v.all.filter((i) => i.pivot_path === pv.path)));
    return sendDocument(reply, pivotDocument(pivots[pickIndex(pivots.length, docIndex, 'pivot file(s)')]!), `pivot file of flow ${flow.id}`);
  }
  const inv = v.invoices[pickIndex(v.invoices.length, docIndex, 'invoice(s)')]!;
  return sendDocument(reply, readableOf(hub, flow, inv), `the readable view of invoice ${inv.number}`);
}

const encodeCursor = (offset: number, until: string) => Buffer.from(JSON.stringify({ o: offset, u: until })).toString('base64url');
function decodeCursor(cursor: string): { o: number; u: string } {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o: number; u: string };
    if (Number.isSafeInteger(c.o) && c.o >= 0 && typeof c.u === 'string') return c;
  } catch {
    // below
  }
  throw new ApiError('INVALID_REQUEST', 'the cursor is not one this hub returned (use nextCursor as it came)');
}

interface SearchBody {
  limit?: number;
  cursor?: string;
  where: { updatedAfter?: string; updatedBefore?: string; trackingId?: string; ackStatus?: 'Pending' | 'Ok' | 'Error'; flowType?: string[]; processingRule?: string[]; flowDirection?: string[] };
}

export function registerApi(app: FastifyInstance, hub: Hub, opts: ApiOptions): void {
  const principal = (req: FastifyRequest) => req.principal!;
  const tags = ['Flow'];

  app.get('/v1/healthcheck', {
    config: { auth: 'none' },
    schema: { tags: ['Supervisor'], summary: 'Whether the API is up (no token needed)', headers: REQUEST_HEADERS, response: { 200: { type: 'object', properties: { status: str } }, ...errorResponses(503) } },
  }, async () => {
    const problem = hub.ledger.fileProblem();
    if (problem) throw new ApiError('UNAVAILABLE', 'the ledger is not usable', problem);
    return { status: 'UP' };
  });

  app.post('/v1/flows', {
    schema: {
      tags, summary: 'Deposit a flow (multipart: flowInfo + file; or the raw file with ?name=)', security: SECURITY, headers: REQUEST_HEADERS,
      consumes: ['multipart/form-data', 'application/xml', 'application/pdf', 'application/zip', 'application/gzip', 'application/octet-stream'],
      querystring: { type: 'object', properties: { name: { ...str, description: 'file name, for a raw body' }, trackingId: { ...str, maxLength: 64 }, sha256: { type: 'string', pattern: '^[a-f0-9]{64}$' } } },
      response: {
        202: {
          description: 'Accepted: the flow is claimed and will be processed; follow it with GET /v1/flows/{flowId}',
          type: 'object',
          properties: { flowId: str, submittedAt: str, name: str, trackingId: str, sha256: str, flowSyntax: str, processingRule: str, flowProfile: str, alreadyReceived: { type: 'boolean' } },
        },
        ...errorResponses(400, 401, 403, 409, 413, 415, 422),
      },
    },
  }, async (req, reply) => {
    const p = principal(req);
    const as = depositAs(p, req.headers['organization-id'] as string | undefined);
    if ('forbidden' in as) throw new ApiError('FORBIDDEN_ACCESS', as.forbidden);
    if (as.partner && !(await hub.ledger.partners.get(as.partner))) throw new ApiError('FORBIDDEN_ACCESS', `${as.partner} is not a registered partner`);
    const q = req.query as { name?: string; trackingId?: string; sha256?: string };
    const { bytes, info } = depositBody(req, q);
    if (!bytes.length) throw new ApiError('INVALID_REQUEST', 'the file is empty');
    if (info.sha256) {
      // Checked before the claim: bytes that are not what the client sent are refused, never processed.
      const actual = createHash('sha256').update(bytes).digest('hex');
      if (info.sha256.toLowerCase() !== actual) throw new ApiError('CHECKSUM_MISMATCH', `the file's SHA-256 is ${actual}, not the ${info.sha256} given; nothing was deposited`);
    }
    const result = await depositFlow(hub, { partner: as.partner, name: info.name ?? '', bytes, trackingId: info.trackingId });
    if (!result.ok) throw new ApiError(result.reason === 'conflict' ? 'TRACKING_ID_CONFLICT' : 'INVALID_REQUEST', result.message);
    if (result.created) opts.onClaimed(result.flowId, bytes.length);
    hub.log.info(`${result.created ? 'deposited' : 'deposit retried'} over HTTP by ${whoIs(p)}`, { flowId: result.flowId });
    return reply.code(202).send({
      flowId: result.flowId, submittedAt: result.receivedAt, name: info.name, ...(info.trackingId ? { trackingId: info.trackingId } : {}), sha256: result.sha256,
      ...(info.flowSyntax ? { flowSyntax: info.flowSyntax } : {}), processingRule: 'B2G', alreadyReceived: !result.created,
    });
  });

  app.post('/v1/flows/search', {
    schema: {
      tags, summary: 'Flows matching criteria, newest first; page with nextCursor', security: SECURITY, headers: REQUEST_HEADERS,
      body: {
        type: 'object', required: ['where'],
        properties: {
          limit: { type: 'integer', minimum: 1, maximum: 100, default: 25 },
          cursor: str,
          where: {
            type: 'object',
            properties: {
              updatedAfter: { type: 'string', format: 'date-time' }, updatedBefore: { type: 'string', format: 'date-time' }, trackingId: { ...str, maxLength: 64 },
              ackStatus: { type: 'string', enum: ['Pending', 'Ok', 'Error'] },
              flowType: { type: 'array', items: str }, processingRule: { type: 'array', items: str }, flowDirection: { type: 'array', items: str },
            },
          },
        },
      },
      response: { 200: { type: 'object', properties: { limit: { type: 'integer' }, nextCursor: str, filters: { type: 'object', additionalProperties: true }, results: { type: 'array', items: { $ref: 'Flow#' } } } }, ...errorResponses(400, 401) },
    },
  }, async (req) => {
    const p = principal(req);
    const body = req.body as SearchBody;
    const limit = body.limit ?? 25;
    const { o: offset, u: until } = body.cursor ? decodeCursor(body.cursor) : { o: 0, u: new Date().toISOString() };
    const w = body.where;
    // Every hub flow is B2G, deposited (direction Out): other values match nothing.
    const impossible = (w.processingRule && !w.processingRule.includes('B2G')) || (w.flowDirection && !w.flowDirection.includes('Out'));
    const rows = impossible ? [] : await hub.ledger.flows.list({
      until, limit: limit + 1, offset,
      ...(w.updatedAfter ? { updatedAfter: new Date(w.updatedAfter).toISOString() } : {}),
      ...(w.updatedBefore ? { updatedBefore: new Date(w.updatedBefore).toISOString() } : {}),
      ...(w.trackingId ? { trackingId: w.trackingId } : {}),
      ...(w.ackStatus === 'Pending' ? { unfinished: true } : w.ackStatus ? { states: ACK_STATES[w.ackStatus] } : {}),
      ...(visibilityOf(p) ? { visibleTo: visibilityOf(p) } : {}),
    });
    const results = [];
    for (const row of rows.slice(0, limit)) {
      const all = await hub.ledger.invoices.ofFlow(row.id);
      const full = flowView(p, row, all) === 'full';
      const info = flowInfo(row, all.filter((i) => invoiceVisible(p, i, row)), (await hub.ledger.deposits.ofFlow(row.id))?.tracking_id ?? undefined, full);
      if (!w.flowType || w.flowType.includes(info.flowType)) results.push(info);
    }
    return { limit, ...(rows.length > limit ? { nextCursor: encodeCursor(offset + limit, until) } : {}), filters: w, results };
  });

  app.get('/v1/flows/:flowId', {
    schema: {
      tags, summary: 'A flow: its metadata (default), its original file, its pivots (Converted) or an invoice\'s readable PDF (ReadableView)', security: SECURITY, headers: REQUEST_HEADERS,
      params: { type: 'object', required: ['flowId'], properties: { flowId: FLOW_ID } },
      querystring: {
        type: 'object',
        properties: {
          docType: { type: 'string', enum: ['Metadata', 'Original', 'Converted', 'ReadableView'], default: 'Metadata' },
          docIndex: { type: 'integer', minimum: 1, description: 'Converted: which pivot file; ReadableView: which invoice (1 = first you may see)' },
        },
      },
      response: { 200: { description: 'The Flow object (Metadata), or the file as an attachment', $ref: 'Flow#' }, ...errorResponses(400, 401, 403, 404) },
    },
  }, async (req, reply) => {
    const p = principal(req);
    const { flowId } = req.params as { flowId: string };
    const { docType = 'Metadata', docIndex } = req.query as { docType?: string; docIndex?: number };
    const v = await visibleFlow(hub, p, flowId);
    if (docType !== 'Metadata') return flowDocument(hub, v, docType, docIndex, p, reply);
    return flowInfo(v.flow, v.invoices, (await hub.ledger.deposits.ofFlow(v.flow.id))?.tracking_id ?? undefined, v.view === 'full');
  });

  app.get('/v1/flows/:flowId/report', {
    schema: {
      tags: ['Hub'], summary: "A flow's integration report (JSON as in outbox/reports/, or its CPPStatut XML)", security: SECURITY,
      params: { type: 'object', required: ['flowId'], properties: { flowId: FLOW_ID } },
      querystring: { type: 'object', properties: { format: { type: 'string', enum: ['json', 'xml'], default: 'json' } } },
      response: { 200: { description: 'The report', type: 'object', additionalProperties: true }, ...errorResponses(401, 403, 404) },
    },
  }, async (req, reply) => {
    const p = principal(req);
    const v = await visibleFlow(hub, p, (req.params as { flowId: string }).flowId);
    if (v.view !== 'full') throw new ApiError('FORBIDDEN_ACCESS', `the report of flow ${v.flow.id} covers other parties' invoices; see GET /v1/flows/${v.flow.id} for yours`);
    if (v.flow.stage !== 'DONE' && v.flow.stage !== 'DECIDED') throw new ApiError('MISSING_RESOURCE', `flow ${v.flow.id} is not decided yet (stage ${v.flow.stage})`);
    if ((req.query as { format?: string }).format === 'xml') return sendDocument(reply, await reportFileOf(hub, v.flow, 'xml'), `the report of flow ${v.flow.id}`);
    return flowReport(hub, v.flow);
  });

  app.post('/v1/flows/:flowId/replay', {
    schema: {
      tags: ['Hub'], summary: 'Replay a refused or partly integrated flow after fixing the cause (operators)', security: SECURITY,
      params: { type: 'object', required: ['flowId'], properties: { flowId: FLOW_ID } },
      querystring: { type: 'object', properties: { dryRun: { type: 'boolean', default: false } } },
      response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses(401, 403, 404) },
    },
    config: { auth: 'operator' },
  }, async (req) => {
    const { flowId } = req.params as { flowId: string };
    const flow = await hub.ledger.flows.get(flowId);
    if (!flow) throw new ApiError('MISSING_RESOURCE', `no flow ${flowId}`);
    if ((req.query as { dryRun?: boolean }).dryRun) return { dryRun: true, ...(await planReplay(hub, flow)) };
    const { plan, flow: after } = await replayFlow(hub, flowId);
    hub.log.info(`replayed over HTTP by ${whoIs(req.principal!)}`, { flowId });
    return { ...plan, stateAfter: after.state };
  });

  const INVOICE = { type: 'object', additionalProperties: true } as const;
  app.get('/v1/invoices', {
    schema: {
      tags: ['Hub'], summary: 'Find invoices (newest first)', security: SECURITY,
      querystring: {
        type: 'object',
        properties: {
          number: str, supplier: str, recipient: str, status: { ...str, description: 'a lifecycle status code (01, 03, …) or REJECTED' },
          from: { ...str, format: 'date', description: 'issue date from' }, to: { ...str, format: 'date' }, limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
        },
      },
      response: { 200: { type: 'object', properties: { results: { type: 'array', items: INVOICE } } }, ...errorResponses(401) },
    },
  }, async (req) => {
    const q = req.query as { number?: string; supplier?: string; recipient?: string; status?: string; from?: string; to?: string; limit?: number };
    const vis = visibilityOf(principal(req));
    const rows = await hub.ledger.invoices.search({ ...q, limit: q.limit ?? 100, ...(vis ? { visibleTo: vis } : {}) });
    return { results: rows.map(invoiceJson) };
  });

  const invoiceOf = async (req: FastifyRequest) => {
    const { invoiceId } = req.params as { invoiceId: number };
    const inv = await hub.ledger.invoices.get(invoiceId);
    if (!inv) throw new ApiError('MISSING_RESOURCE', `no invoice ${invoiceId}`);
    const flow = (await hub.ledger.flows.get(inv.flow_id))!;
    const hold = (await hub.ledger.circuits.ofInvoices([inv.id])).get(inv.id);
    if (!invoiceVisible(principal(req), inv, flow) && !heldFor(principal(req), hold)) {
      throw new ApiError('FORBIDDEN_ACCESS', `invoice ${invoiceId} is not visible to ${whoIs(principal(req))}: not from a supplier it represents, not for a recipient it serves, not held for a validator it acts for, not in a flow it deposited`);
    }
    return { inv, hold };
  };
  /** An invoice held in a validation circuit says where it stands: the level awaited (or last awaited), by whom, until when (null once decided). */
  const circuitJson = (hold: HoldRow | undefined) =>
    hold ? { circuit: { cadre: hold.cadre, level: hold.level, validator: validatorAt(hold, hold.level) ?? null, validators: validatorsOf(hold), dueAt: hold.due_at } } : {};
  const INVOICE_PARAMS = { type: 'object', required: ['invoiceId'], properties: { invoiceId: { type: 'integer', description: 'hub id (IdCPRO)' } } } as const;
  app.get('/v1/invoices/:invoiceId', {
    schema: { tags: ['Hub'], summary: 'One invoice by hub id', security: SECURITY, params: INVOICE_PARAMS, response: { 200: INVOICE, ...errorResponses(401, 403, 404) } },
  }, async (req) => {
    const { inv, hold } = await invoiceOf(req);
    return { ...invoiceJson(inv), ...circuitJson(hold) };
  });

  app.get('/v1/invoices/:invoiceId/history', {
    schema: {
      tags: ['Hub'], summary: "An invoice's timeline: statuses set by the hub and sent back by its recipient", security: SECURITY, params: INVOICE_PARAMS,
      response: { 200: { type: 'object', properties: { invoice: INVOICE, chain: { type: 'array', items: INVOICE }, events: { type: 'array', items: { type: 'object', additionalProperties: true } } } }, ...errorResponses(401, 403, 404) },
    },
  }, async (req) => {
    const { inv, hold } = await invoiceOf(req);
    const { chain, events } = await invoiceHistory(hub, inv);
    return {
      invoice: { ...invoiceJson(inv), ...circuitJson(hold) }, chain: chain.map(invoiceJson),
      events: events.map((e) => ({ status: e.status, name: e.name, at: e.at, producer: e.producer, producedAt: e.producedAt, motif: e.motif, comment: e.comment, mandate: e.mandate, sourceFlow: e.source_flow, attempt: e.attempt })),
    };
  });

  app.get('/v1/directory/:siret', {
    schema: {
      tags: ['Hub'], summary: 'A public structure of the directory and its services', security: SECURITY,
      params: { type: 'object', required: ['siret'], properties: { siret: { type: 'string', pattern: '^[0-9]{14}$' } } },
      response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses(401, 404) },
    },
  }, async (req) => {
    const { siret } = req.params as { siret: string };
    const found = await directoryEntry(hub, siret);
    if (!found) throw new ApiError('MISSING_RESOURCE', `SIRET ${siret} is not in the directory`);
    return found;
  });
}

export async function directoryEntry(hub: Hub, siret: string) {
  const structure = (await hub.ledger.directory.structures([siret])).get(siret);
  return structure ? { ...structure, services: await hub.ledger.directory.servicesOf(siret) } : undefined;
}

export const invoiceJson = (i: InvoiceRow) => ({
  id: i.id, flowId: i.flow_id, label: i.label, number: i.number, supplier: i.supplier_id, supplierName: i.supplier_name, recipient: i.recipient_siret,
  recipientName: i.recipient_name, serviceCode: i.service_code, engagement: i.engagement, issueDate: i.issue_date, type: i.type, amountGross: i.amount_gross,
  currency: i.currency, accepted: !!i.accepted, status: i.status, errors: JSON.parse(i.errors) as unknown[], role: i.role,
});

interface DepositInfo {
  name?: string;
  trackingId?: string;
  sha256?: string;
  flowSyntax?: string;
}

/** The file and its flowInfo, from a multipart body or a raw one (?name=…). */
function depositBody(req: FastifyRequest, q: { name?: string; trackingId?: string; sha256?: string }): { bytes: Buffer; info: DepositInfo } {
  const type = String(req.headers['content-type'] ?? '');
  const body = req.body as Buffer | undefined;
  if (!Buffer.isBuffer(body)) throw new ApiError('INVALID_REQUEST', 'send the flow as multipart/form-data (flowInfo, file) or as the raw file with ?name=');
  if (!/^multipart\/form-data/i.test(type)) {
    if (!q.name) throw new ApiError('INVALID_REQUEST', 'a raw deposit names its file: POST /v1/flows?name=<file name>');
    return { bytes: body, info: { name: q.name, trackingId: q.trackingId, sha256: q.sha256 } };
  }
  const boundary = boundaryOf(type);
  if (!boundary) throw new ApiError('INVALID_REQUEST', 'multipart/form-data without a boundary');
  let parts;
  try {
    parts = parseMultipart(body, boundary);
  } catch (e) {
    throw new ApiError('INVALID_REQUEST', `malformed multipart body: ${(e as Error).message}`);
  }
  const file = parts.find((p) => p.name === 'file');
  if (!file) throw new ApiError('INVALID_REQUEST', 'the multipart body has no "file" part');
  const infoPart = parts.find((p) => p.name === 'flowInfo');
  let info: DepositInfo = {};
  if (infoPart) {
    try {
      info = JSON.parse(infoPart.data.toString('utf8')) as DepositInfo;
    } catch (e) {
      throw new ApiError('INVALID_REQUEST', `flowInfo is not JSON: ${(e as Error).message}`);
    }
    if (typeof info !== 'object' || info === null) throw new ApiError('INVALID_REQUEST', 'flowInfo must be a JSON object');
  }
  for (const k of ['name', 'trackingId', 'sha256', 'flowSyntax'] as const) if (info[k] !== undefined && typeof info[k] !== 'string') throw new ApiError('INVALID_REQUEST', `flowInfo.${k} must be a string`);
  if (info.trackingId && info.trackingId.length > 64) throw new ApiError('INVALID_REQUEST', 'flowInfo.trackingId is at most 64 characters');
  const name = info.name ?? file.filename ?? q.name;
  if (!name) throw new ApiError('INVALID_REQUEST', 'flowInfo.name (the file name) is required');
  return { bytes: file.data, info: { ...info, name, trackingId: info.trackingId ?? q.trackingId, sha256: info.sha256 ?? q.sha256 } };
}
