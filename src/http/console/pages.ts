/**
 * The operators' console: server-rendered pages over the same application functions as the
 * command line (queries, replay, dashboard). Operators log in with their token, kept in an
 * HttpOnly SameSite=Strict cookie; every form that changes something carries a CSRF token
 * derived from it, and its Origin, when the browser sends one, must be this server.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { dashboard } from '../../app/dashboard.js';
import { pivotsOf } from '../../app/documents.js';
import { flowDetails, invoiceHistory } from '../../app/queries.js';
import { replayFlow, replaySkipReason } from '../../app/replay.js';
import { authenticate } from '../../app/tokens.js';
import type { FlowError } from '../../errors/catalog.js';
import type { Hub } from '../../hub.js';
import { parseErrors, type FlowRow, type InvoiceRow, type ListedFlow } from '../../ledger/stores.js';
import { STATUS_NAMES } from '../../lifecycle/statuses.js';
import { listWebhooks, webhookDeliveries } from '../../notify/webhooks.js';
import { directoryEntry } from '../api.js';
import { csrfTokenOf, SESSION_COOKIE } from '../auth.js';
import { ApiError } from '../errors.js';
import { hourlyChart } from './chart.js';
import { html, page, stateBadge, when, type Html } from './html.js';

const HTML_PAGE = { tags: ['Console'], produces: ['text/html'] };
const FLOW_PARAMS = { type: 'object', required: ['flowId'], properties: { flowId: { type: 'string', maxLength: 64 } } } as const;
const str = { type: 'string' } as const;

const codesOf = (errors: FlowError[]) => [...new Set(errors.map((e) => e.code))];
const errorList = (errors: FlowError[]) =>
  errors.length
    ? html`<ul class="errs">${errors.map((e) => html`<li><code class="err">${e.code}</code> ${e.message}${e.line ? html` <span class="muted">— line ${e.line}${e.column ? `, column ${e.column}` : ''}</span>` : ''}${e.element ? html`<br><span class="mono muted">${e.element}</span>` : ''}</li>`)}</ul>`
    : html`<span class="muted">none</span>`;
const statusLabel = (s: string | null) => (s ? `${s} ${STATUS_NAMES[s] ?? ''}`.trim() : '—');

export function registerConsole(app: FastifyInstance, hub: Hub): void {
  const send = (req: FastifyRequest, reply: FastifyReply, title: string, nav: string, body: Html) =>
    reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-store').send(page({ title, nav, csrf: csrfTokenOf(req.token!), operator: req.principal?.kind === 'operator' ? req.principal.name : '' }, body));
  /** A form that changes something: same origin, and the CSRF token of this session. */
  const checkForm = (req: FastifyRequest) => {
    const origin = req.headers.origin;
    if (origin && origin !== 'null' && new URL(origin).host !== req.headers.host) throw new ApiError('FORBIDDEN_ACCESS', `a form from ${origin} may not act on this console`);
    if ((req.body as { csrf?: string } | undefined)?.csrf !== csrfTokenOf(req.token!)) throw new ApiError('FORBIDDEN_ACCESS', 'the form\'s CSRF token is missing or stale: reload the page and try again');
  };
  const cfg = { auth: 'operator' as const };

  app.get('/', { config: { auth: 'none' }, schema: { tags: ['Console'], summary: 'Redirects to the console' } }, async (_req, reply) => reply.redirect('/console', 302));

  const loginPage = (reply: FastifyReply, next: string, why?: string) =>
    reply.type('text/html; charset=utf-8').send(page({ title: 'Log in' }, html`<div class="login"><div class="card">
      <h1>Operators' console</h1>
      ${why ? html`<div class="notice bad">${why}</div>` : ''}
      <form method="post" action="/console/login">
        <input type="hidden" name="next" value="${next}">
        <label>Operator token (factflow operators add &lt;name&gt;)<input type="password" name="token" autocomplete="current-password" autofocus required></label>
        <p><button class="primary">Log in · Se connecter</button></p>
      </form></div></div>`));
  const safeNext = (n: unknown) => (typeof n === 'string' && /^\/(console|docs)(\/|\?|$)/.test(n) ? n : '/console');

  app.get('/console/login', { config: { auth: 'none' }, schema: { ...HTML_PAGE, summary: 'Console login page', querystring: { type: 'object', properties: { next: str, why: str } } } }, async (req, reply) => {
    const q = req.query as { next?: string; why?: string };
    return loginPage(reply, safeNext(q.next), q.why);
  });

  app.post('/console/login', {
    config: { auth: 'none' },
    schema: { ...HTML_PAGE, summary: 'Log in with an operator token (sets an HttpOnly SameSite=Strict cookie)', consumes: ['application/x-www-form-urlencoded'], body: { type: 'object', required: ['token'], properties: { token: str, next: str } } },
  }, async (req, reply) => {
    const { token, next } = req.body as { token: string; next?: string };
    const who = await authenticate(hub, token.trim());
    if ('refused' in who) return loginPage(reply.code(401), safeNext(next), `Refused: ${who.refused}.`);
    if (who.kind !== 'operator') return loginPage(reply.code(403), safeNext(next), 'This is a partner\'s token: the console is for operators.');
    hub.log.info(`console: operator ${who.name} logged in`);
    return reply.header('Set-Cookie', `${SESSION_COOKIE}=${encodeURIComponent(token.trim())}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200`).redirect(safeNext(next), 303);
  });

  app.post('/console/logout', { config: cfg, schema: { ...HTML_PAGE, summary: 'Log out (clears the cookie)', consumes: ['application/x-www-form-urlencoded'], body: { type: 'object', properties: { csrf: str } } } }, async (req, reply) => {
    checkForm(req);
    return reply.header('Set-Cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`).redirect('/console/login', 303);
  });

  app.get('/console', { config: cfg, schema: { ...HTML_PAGE, summary: 'Dashboard: the last 24 hours' } }, async (req, reply) => {
    const d = await dashboard(hub);
    const flows = d.perHour.reduce((n, h) => n + h.flows, 0);
    const invoices = d.perHour.reduce((n, h) => n + h.invoices, 0);
    const recent = await hub.ledger.flows.list({ limit: 8 });
    const counts = (rows: { n: number }[], label: (r: never) => Html | string, key: string) =>
      rows.length ? html`<table><tbody>${rows.map((r) => html`<tr><td>${label(r as never)}</td><td class="num">${r.n}</td></tr>`)}</tbody></table>` : html`<p class="muted">No ${key} in the last 24 hours.</p>`;
    const oldest = d.oldestUnfinished;
    return send(req, reply, 'Dashboard', 'dashboard', html`<h1>Dashboard <span class="muted">· last 24 hours</span></h1>
      <div class="grid cols-6">
        <div class="card figure">${flows}<small>flows received</small></div>
        <div class="card figure">${invoices}<small>invoices</small></div>
        <div class="card figure">${d.inboxDepth}<small>files waiting in inbox/</small></div>
        <div class="card figure">${d.spoolDepth}<small>flows in var/spool/</small></div>
        <div class="card figure ${d.faulty ? 'err' : ''}">${d.faulty}<small>flows held by a fault</small></div>
        <div class="card figure">${oldest ? html`<a href="/console/flows/${oldest.id}">${ago(oldest.receivedAt)}</a>` : html`<span class="muted">—</span>`}<small>oldest unfinished flow${oldest ? ` (${oldest.stage})` : ''}</small></div>
      </div>
      <div class="card chart" style="margin-top:14px"><h2>Flows and invoices per hour (UTC)</h2>${hourlyChart(d.perHour)}
        <div class="legend"><span><i style="background:#1f5fae"></i>flows</span><span><i style="background:#7fb2e8"></i>invoices</span></div></div>
      <div class="grid cols-3" style="margin-top:14px">
        <div class="card"><h2>Flows by state</h2>${counts(d.flowsByState, (r: { state: string }) => html`<a href="/console/flows?state=${r.state}">${stateBadge(r.state)}</a>`, 'flows')}</div>
        <div class="card"><h2>Refusals by code</h2>${counts(d.rejectionCodes, (r: { code: string }) => html`<code>${r.code}</code>`, 'refusals')}</div>
        <div class="card"><h2>Invoices by status</h2>${counts(d.invoicesByStatus, (r: { status: string }) => (r.status === 'REJECTED' ? stateBadge('REJECTED') : statusLabel(r.status)), 'invoices')}</div>
      </div>
      <div class="card" style="margin-top:14px"><h2>Latest flows</h2>${flowTable(recent)}</div>`);
  });

  app.get('/console/queue', { config: cfg, schema: { ...HTML_PAGE, summary: 'To process: refused and partly integrated flows, flows held by a fault', querystring: { type: 'object', properties: { done: str } } } }, async (req, reply) => {
    const refused = await hub.ledger.flows.replayable();
    const held = (await hub.ledger.flows.list({ unfinished: true, limit: 200 })).filter((f) => f.last_error);
    const done = (req.query as { done?: string }).done;
    const csrf = csrfTokenOf(req.token!);
    const listed = await Promise.all(refused.reverse().map(async (f) => ({ f, invoices: await hub.ledger.invoices.ofFlow(f.id) })));
    return send(req, reply, 'To process', 'queue', html`<h1>To process · À traiter</h1>
      ${done ? html`<div class="notice">${done}</div>` : ''}
      <div class="card"><h2>Refused or partly integrated (${listed.length})</h2>
      ${listed.length ? html`<div class="scroll"><table><thead><tr><th>Flow</th><th>Received</th><th>File</th><th>State</th><th class="num">Accepted</th><th>Why</th><th></th></tr></thead><tbody>
        ${listed.map(({ f, invoices }) => {
          const codes = codesOf([...parseErrors(f.errors), ...invoices.flatMap((i) => parseErrors(i.errors))]);
          return html`<tr><td><a class="mono" href="/console/flows/${f.id}">${f.id}</a></td><td>${when(f.received_at)}</td><td>${f.file_name}</td><td>${stateBadge(f.state)}</td>
            <td class="num">${invoices.filter((i) => i.accepted).length}/${invoices.length}</td><td>${codes.map((c) => html`<code>${c}</code> `)}</td>
            <td><form method="post" action="/console/flows/${f.id}/replay"><input type="hidden" name="csrf" value="${csrf}"><button class="primary small" title="Judge the refused invoices again, after fixing the cause">Replay</button></form></td></tr>`;
        })}</tbody></table></div>` : html`<p class="muted">Nothing refused: no flow waits for a replay.</p>`}</div>
      <div class="card" style="margin-top:14px"><h2>Held in the spool by a fault (${held.length})</h2>
      ${held.length ? html`<table><thead><tr><th>Flow</th><th>Received</th><th>Stage</th><th class="num">Attempts</th><th>Fault</th></tr></thead><tbody>
        ${held.map((f) => html`<tr><td><a class="mono" href="/console/flows/${f.id}">${f.id}</a></td><td>${when(f.received_at)}</td><td>${stateBadge(f.stage)}</td><td class="num">${f.attempts}</td><td class="err">${f.last_error}</td></tr>`)}</tbody></table>`
        : html`<p class="muted">None: the daemon retries held flows by itself once the cause is gone (factflow doctor says what it is).</p>`}</div>`);
  });

  app.post('/console/flows/:flowId/replay', {
    config: cfg,
    schema: { ...HTML_PAGE, summary: 'Replay a flow from the console (CSRF-checked form)', consumes: ['application/x-www-form-urlencoded'], params: FLOW_PARAMS, body: { type: 'object', properties: { csrf: str } } },
  }, async (req, reply) => {
    checkForm(req);
    const { flowId } = req.params as { flowId: string };
    const flow = await hub.ledger.flows.get(flowId);
    if (!flow) throw new ApiError('MISSING_RESOURCE', `no flow ${flowId}`);
    const skip = replaySkipReason(flow);
    let message: string;
    if (skip) message = `${flowId} was not replayed: ${skip}.`;
    else {
      const { plan, flow: after } = await replayFlow(hub, flowId);
      hub.log.info(`replayed from the console by operator ${req.principal?.kind === 'operator' ? req.principal.name : ''}`, { flowId });
      message = plan.skipped ? `${flowId} was not replayed: ${plan.skipped}.` : `${flowId} replayed: ${plan.wouldAccept} of ${plan.retried} invoice(s) accepted now; the flow is ${after.state}.`;
    }
    return reply.redirect(`/console/queue?done=${encodeURIComponent(message)}`, 303);
  });

  app.get('/console/flows', {
    config: cfg,
    schema: { ...HTML_PAGE, summary: 'Flows, newest first', querystring: { type: 'object', properties: { state: str, supplier: str, recipient: str, offset: { type: 'integer', minimum: 0, default: 0 } } } },
  }, async (req, reply) => {
    const q = req.query as { state?: string; supplier?: string; recipient?: string; offset?: number };
    const filter = Object.fromEntries(Object.entries({ state: q.state, supplier: q.supplier, recipient: q.recipient }).filter(([, v]) => v));
    const rows = await hub.ledger.flows.list({ ...filter, limit: 51, offset: q.offset ?? 0 });
    const next = new URLSearchParams({ ...filter, offset: String((q.offset ?? 0) + 50) });
    return send(req, reply, 'Flows', 'flows', html`<h1>Flows · Flux</h1>
      <form class="inline" method="get" action="/console/flows">
        <label>State<select name="state"><option value="">any</option>${['IN_INTEGRE', 'IN_INTEGRE_PARTIEL', 'IN_REJETE', 'QP_IRRECEVABLE', 'CLAIMED', 'DECIDED'].map((s) => html`<option ${s === q.state ? 'selected' : ''}>${s}</option>`)}</select></label>
        <label>Supplier<input name="supplier" value="${q.supplier ?? ''}" placeholder="SIRET"></label>
        <label>Recipient<input name="recipient" value="${q.recipient ?? ''}" placeholder="SIRET"></label>
        <button class="primary">Filter</button></form>
      <div class="card">${flowTable(rows.slice(0, 50))}${rows.length > 50 ? html`<p><a href="/console/flows?${next.toString()}">Older flows →</a></p>` : ''}</div>`);
  });

  app.get('/console/flows/:flowId', { config: cfg, schema: { ...HTML_PAGE, summary: "A flow's page: report, invoices, errors, downloads", params: FLOW_PARAMS } }, async (req, reply) => {
    const { flowId } = req.params as { flowId: string };
    const flow = await hub.ledger.flows.get(flowId);
    if (!flow) throw new ApiError('MISSING_RESOURCE', `no flow ${flowId}`);
    const d = await flowDetails(hub, flow);
    const rows = await hub.ledger.invoices.ofFlow(flow.id);
    const pivots = pivotsOf(rows);
    const base = `/v1/flows/${encodeURIComponent(flow.id)}`;
    const decided = flow.stage === 'DONE' || flow.stage === 'DECIDED';
    const replayable = !replaySkipReason(flow);
    return send(req, reply, flow.id, 'flows', html`<h1><span class="mono">${flow.id}</span> ${stateBadge(flow.state ?? flow.stage)}</h1>
      <div class="grid cols-2">
        <div class="card"><h2>Flow</h2><dl class="kv">
          <dt>File</dt><dd>${flow.file_name}</dd><dt>Kind</dt><dd>${flow.kind ?? '—'}</dd><dt>Partner</dt><dd>${flow.partner ?? html`<span class="muted">flat inbox</span>`}</dd>
          <dt>Size</dt><dd>${flow.size.toLocaleString('en')} bytes</dd><dt>SHA-256</dt><dd class="mono">${flow.sha256}</dd>
          <dt>Status</dt><dd>${flow.status_code ?? '—'} ${flow.duplicate_of ? html`· duplicate of <a href="/console/flows/${flow.duplicate_of}">${flow.duplicate_of}</a>` : ''}</dd>
          <dt>Received</dt><dd>${when(flow.received_at)}</dd><dt>Decided</dt><dd>${when(flow.decided_at)}</dd><dt>Done</dt><dd>${when(flow.done_at)}</dd>
          ${flow.last_error ? html`<dt>Fault</dt><dd class="err">${flow.last_error} (${flow.attempts} attempt(s))</dd>` : ''}
          ${d.replays.length ? html`<dt>Replays</dt><dd>${d.replays.map((r) => html`#${r.attempt} ${when(r.started_at)}: ${r.accepted} accepted, ${r.still_rejected} still refused<br>`)}</dd>` : ''}
        </dl></div>
        <div class="card"><h2>Downloads</h2><p class="downloads">
          <a href="${base}?docType=Original">Original file</a>
          ${decided ? html`<a href="${base}/report?format=json">Report (JSON)</a><a href="${base}/report?format=xml">Report (CPPStatut XML)</a>` : ''}</p>
          ${pivots.length ? html`<p class="downloads"><b>Pivots</b><br>${pivots.map((p, i) => html`<a href="${base}?docType=Converted&docIndex=${i + 1}">${p.name}</a> <span class="muted">→ ${p.recipient}</span><br>`)}</p>` : ''}
          ${rows.length && flow.kind !== 'statut' ? html`<p class="downloads"><b>Readable PDF</b><br>${rows.map((r, i) => html`<a href="${base}?docType=ReadableView&docIndex=${i + 1}">${r.number}</a> `)}</p>` : ''}
          ${replayable ? html`<form method="post" action="/console/flows/${flow.id}/replay"><input type="hidden" name="csrf" value="${csrfTokenOf(req.token!)}"><button class="primary small">Replay the refused invoices</button></form>` : ''}
        </div>
      </div>
      <div class="card" style="margin-top:14px"><h2>Flow errors</h2>${errorList(d.errors)}</div>
      ${rows.length ? html`<div class="card scroll" style="margin-top:14px"><h2>Invoices (${rows.filter((r) => r.accepted).length}/${rows.length} accepted)</h2>
        <table><thead><tr><th>#</th><th>Number</th><th>Supplier</th><th>Recipient</th><th>Service / EJ</th><th class="num">Amount</th><th>Decision</th><th>Status</th><th>Errors</th></tr></thead><tbody>
        ${rows.map((r) => html`<tr><td class="nowrap">${r.label}</td><td class="nowrap"><a href="/console/invoices/${r.id}">${r.number}</a></td><td>${r.supplier_name}<br><span class="mono muted">${r.supplier_id}</span></td>
          <td>${r.recipient_name ?? ''}<br><span class="mono muted">${r.recipient_siret}</span></td><td class="mono">${r.service_code ?? '—'}<br>${r.engagement ?? ''}</td>
          <td class="num mono nowrap">${r.amount_gross} ${r.currency}</td><td>${stateBadge(r.accepted ? 'ACCEPTED' : 'REJECTED')}</td><td>${statusLabel(r.status)}</td>
          <td>${errorList([...parseErrors(r.errors), ...parseErrors(r.warnings)])}</td></tr>`)}</tbody></table></div>` : ''}
      ${d.statusUpdates?.length ? html`<div class="card" style="margin-top:14px"><h2>Status updates</h2><table><thead><tr><th>#</th><th>Invoice</th><th>Status</th><th>Applied</th><th>Errors</th></tr></thead><tbody>
        ${d.statusUpdates.map((u) => html`<tr><td>${u.label}</td><td>${u.number}</td><td>${statusLabel(u.requestedStatus)}</td><td>${stateBadge(u.status)}</td><td>${errorList(u.errors)}</td></tr>`)}</tbody></table></div>` : ''}`);
  });

  app.get('/console/invoices', {
    config: cfg,
    schema: { ...HTML_PAGE, summary: 'Invoice search', querystring: { type: 'object', properties: { number: str, supplier: str, recipient: str, status: str } } },
  }, async (req, reply) => {
    const q = req.query as { number?: string; supplier?: string; recipient?: string; status?: string };
    const filter = Object.fromEntries(Object.entries(q).filter(([, v]) => v)) as typeof q;
    const rows = await hub.ledger.invoices.search({ ...filter, limit: 200 });
    const statuses = ['REJECTED', ...Object.keys(STATUS_NAMES)];
    return send(req, reply, 'Invoices', 'invoices', html`<h1>Invoices · Factures</h1>
      <form class="inline" method="get" action="/console/invoices">
        <label>Number<input name="number" value="${q.number ?? ''}" placeholder="FA-2026-% for a prefix"></label>
        <label>Supplier<input name="supplier" value="${q.supplier ?? ''}" placeholder="SIRET"></label>
        <label>Recipient<input name="recipient" value="${q.recipient ?? ''}" placeholder="SIRET"></label>
        <label>Status<select name="status"><option value="">any</option>${statuses.map((s) => html`<option value="${s}" ${s === q.status ? 'selected' : ''}>${s === 'REJECTED' ? 'refused at deposit' : statusLabel(s)}</option>`)}</select></label>
        <button class="primary">Search</button></form>
      <div class="card scroll">${rows.length ? invoiceTable(rows) : html`<p class="muted">No invoice matches.</p>`}${rows.length === 200 ? html`<p class="muted">The 200 newest are shown: narrow the search.</p>` : ''}</div>`);
  });

  app.get('/console/invoices/:invoiceId', {
    config: cfg,
    schema: { ...HTML_PAGE, summary: "An invoice and its history", params: { type: 'object', required: ['invoiceId'], properties: { invoiceId: { type: 'integer' } } } },
  }, async (req, reply) => {
    const inv = await hub.ledger.invoices.get((req.params as { invoiceId: number }).invoiceId);
    if (!inv) throw new ApiError('MISSING_RESOURCE', 'no such invoice');
    const { chain, events } = await invoiceHistory(hub, inv);
    return send(req, reply, inv.number, 'invoices', html`<h1>${inv.number} ${stateBadge(inv.accepted ? 'ACCEPTED' : 'REJECTED')} <span class="muted">IdCPRO ${inv.id}</span></h1>
      <div class="grid cols-2">
        <div class="card"><h2>Invoice</h2><dl class="kv">
          <dt>Supplier</dt><dd>${inv.supplier_name} <span class="mono muted">${inv.supplier_id}</span></dd>
          <dt>Recipient</dt><dd>${inv.recipient_name ?? ''} <span class="mono muted">${inv.recipient_siret}</span></dd>
          <dt>Service / EJ</dt><dd class="mono">${inv.service_code ?? '—'} / ${inv.engagement ?? '—'}</dd>
          <dt>Issued</dt><dd>${inv.issue_date}</dd><dt>Type</dt><dd>${inv.type}</dd><dt>Amount</dt><dd class="mono">${inv.amount_gross} ${inv.currency}</dd>
          <dt>Status</dt><dd>${statusLabel(inv.status)}</dd><dt>Flow</dt><dd><a class="mono" href="/console/flows/${inv.flow_id}">${inv.flow_id}</a> (${inv.label})</dd>
        </dl></div>
        <div class="card"><h2>Errors</h2>${errorList([...parseErrors(inv.errors), ...parseErrors(inv.warnings)])}
          ${chain.length > 1 ? html`<h2 style="margin-top:12px">Deliveries</h2>${chain.map((c) => html`<a href="/console/invoices/${c.id}">${c.id}</a> <span class="muted">(${c.role}, flow ${c.flow_id})</span><br>`)}` : ''}</div>
      </div>
      <div class="card" style="margin-top:14px"><h2>History</h2>${events.length ? html`<table><thead><tr><th>When</th><th>Received</th><th>Status</th><th>By</th><th>Motif / comment / mandate</th><th>From flow</th></tr></thead><tbody>
        ${events.map((e) => html`<tr><td>${when(e.producedAt ?? e.at)}</td><td>${when(e.receivedAt)}</td><td>${e.status} ${e.name}</td><td>${e.producer}</td>
          <td>${[e.motif, e.comment, e.mandate].filter(Boolean).join(' / ')}</td><td><a class="mono" href="/console/flows/${e.source_flow}">${e.source_flow}</a></td></tr>`)}</tbody></table>`
        : html`<p class="muted">No lifecycle event${inv.accepted ? '' : ': the invoice was refused at deposit'}.</p>`}</div>`);
  });

  app.get('/console/notifications', {
    config: cfg, schema: { ...HTML_PAGE, summary: 'Webhooks and e-mail: subscriptions and the latest deliveries with their attempts', querystring: { type: 'object', properties: { failed: str } } },
  }, async (req, reply) => {
    const failed = (req.query as { failed?: string }).failed === '1';
    const hooks = await listWebhooks(hub.ledger);
    const deliveries = await webhookDeliveries(hub.ledger, { failed, limit: 100, withAttempts: true });
    return send(req, reply, 'Notifications', 'notifications', html`<h1>Notifications · Webhooks et e-mails</h1>
      <div class="card"><h2>Webhooks (${hooks.length})</h2>${hooks.length ? html`<table><thead><tr><th>Id</th><th>URL</th><th>Events</th><th>Partner</th><th>Since</th></tr></thead><tbody>
        ${hooks.map((h) => html`<tr><td class="mono nowrap">${h.id}</td><td class="mono">${h.url}</td><td>${h.events.length ? h.events.join(', ') : 'all'}</td><td>${h.owner ?? 'operators'}</td><td>${when(h.createdAt)}</td></tr>`)}</tbody></table>`
        : html`<p class="muted">None (factflow webhooks add &lt;url&gt;).</p>`}</div>
      <div class="card"><h2>${failed ? 'Failing deliveries' : 'Latest deliveries'}</h2>
        <p><a href="/console/notifications${failed ? '' : '?failed=1'}">${failed ? 'Show all' : 'Show failing ones only'}</a></p>
        ${deliveries.length ? html`<div class="scroll"><table><thead><tr><th>Created</th><th>Channel</th><th>To</th><th>State</th><th class="num">Attempts</th><th>Last answer</th><th>Next attempt</th></tr></thead><tbody>
        ${deliveries.map((d) => html`<tr><td class="nowrap">${when(d.created_at)}</td><td>${d.channel}</td><td class="mono">${d.address}</td><td>${stateBadge(d.state.toUpperCase())}</td><td class="num">${d.attempts}</td>
          <td>${d.last_status ?? ''} ${d.last_error ? html`<span class="err">${d.last_error}</span>` : ''}</td><td class="nowrap">${d.state === 'pending' ? when(new Date(d.next_at).toISOString()) : ''}</td></tr>`)}</tbody></table></div>`
        : html`<p class="muted">None.</p>`}</div>`);
  });

  app.get('/console/directory', { config: cfg, schema: { ...HTML_PAGE, summary: 'Directory lookup', querystring: { type: 'object', properties: { siret: str } } } }, async (req, reply) => {
    const siret = ((req.query as { siret?: string }).siret ?? '').replace(/\s+/g, '');
    const entry = /^\d{14}$/.test(siret) ? await directoryEntry(hub, siret) : undefined;
    const summary = await hub.ledger.directory.summary();
    const yes = (b: boolean) => (b ? 'yes' : 'no');
    return send(req, reply, 'Directory', 'directory', html`<h1>Directory · Annuaire</h1>
      <form class="inline" method="get" action="/console/directory"><label>SIRET<input name="siret" value="${siret}" pattern="[0-9 ]{14,17}" placeholder="14 digits" required></label><button class="primary">Look up</button>
        <span class="muted">${summary.structures} structures${summary.lastImport ? `, imported ${summary.lastImport.slice(0, 10)}` : ''}</span></form>
      ${siret && !entry ? html`<div class="notice bad">${/^\d{14}$/.test(siret) ? `${siret} is not in the directory: its invoices are refused (ROUTE_RECIPIENT_UNKNOWN).` : 'A SIRET is 14 digits.'}</div>` : ''}
      ${entry ? html`<div class="grid cols-2"><div class="card"><h2>${entry.name}</h2><dl class="kv">
          <dt>SIRET</dt><dd class="mono">${entry.siret}</dd><dt>Active</dt><dd>${yes(entry.active)}</dd><dt>Engagement (EJ) required</dt><dd>${yes(entry.requiresEngagement)}</dd>
          <dt>Service code required</dt><dd>${yes(entry.requiresService)}</dd><dt>Service and EJ required</dt><dd>${yes(entry.requiresServiceAndEngagement)}</dd><dt>Receives EDI</dt><dd>${yes(entry.ediReceiver)}</dd></dl></div>
        <div class="card"><h2>Services (${entry.services.length})</h2>${entry.services.length ? html`<table><thead><tr><th>Code</th><th>Name</th><th>Active</th><th>EJ required</th></tr></thead><tbody>
          ${entry.services.map((s) => html`<tr><td class="mono nowrap">${s.code}</td><td>${s.name}</td><td>${yes(s.active)}</td><td>${yes(s.requiresEngagement)}</td></tr>`)}</tbody></table>` : html`<p class="muted">None.</p>`}</div></div>` : ''}`);
  });
}

function ago(iso: string): string {
  const min = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 60_000));
  return min < 60 ? `${min} min` : min < 2880 ? `${Math.round(min / 60)} h` : `${Math.round(min / 1440)} d`;
}

function flowTable(rows: (ListedFlow | FlowRow)[]): Html {
  if (!rows.length) return html`<p class="muted">No flow yet.</p>`;
  return html`<div class="scroll"><table><thead><tr><th>Flow</th><th>Received</th><th>File</th><th>Partner</th><th>State</th><th class="num">Invoices</th><th>Note</th></tr></thead><tbody>
    ${rows.map((f) => html`<tr><td><a class="mono" href="/console/flows/${f.id}">${f.id}</a></td><td>${when(f.received_at)}</td><td>${f.file_name}</td><td>${f.partner ?? ''}</td>
      <td>${stateBadge(f.state ?? f.stage)}</td><td class="num">${'invoices' in f ? `${f.accepted}/${f.invoices}` : ''}</td>
      <td>${f.duplicate_of ? html`duplicate of <a class="mono" href="/console/flows/${f.duplicate_of}">${f.duplicate_of}</a>` : codesOf(parseErrors(f.errors)).map((c) => html`<code>${c}</code> `)}${f.last_error ? html`<span class="err">${f.last_error}</span>` : ''}</td></tr>`)}
  </tbody></table></div>`;
}

function invoiceTable(rows: InvoiceRow[]): Html {
  return html`<table><thead><tr><th>IdCPRO</th><th>Number</th><th>Issued</th><th>Supplier</th><th>Recipient</th><th class="num">Amount</th><th>Status</th><th>Flow</th></tr></thead><tbody>
    ${rows.map((r) => html`<tr><td><a href="/console/invoices/${r.id}">${r.id}</a></td><td class="nowrap"><a href="/console/invoices/${r.id}">${r.number}</a></td><td class="nowrap">${r.issue_date}</td><td>${r.supplier_name}<br><span class="mono muted">${r.supplier_id}</span></td>
      <td>${r.recipient_name ?? ''}<br><span class="mono muted">${r.recipient_siret}</span></td><td class="num mono nowrap">${r.amount_gross} ${r.currency}</td>
      <td>${r.accepted ? statusLabel(r.status) : stateBadge('REJECTED')}</td><td><a class="mono" href="/console/flows/${r.flow_id}">${r.flow_id}</a></td></tr>`)}
  </tbody></table>`;
}
