/** The HTTP API through a real server on a loopback port, a real ledger and real files. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { issueToken } from '../src/app/tokens.js';
import type { Hub } from '../src/hub.js';
import { buildServer, registeredRoutes } from '../src/http/server.js';
import { CLI, cli, closeHubs, fixture, tempDir, trackedHub, variant } from './helpers.js';

let hub: Hub;
let app: FastifyInstance;
let base: string;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  hub = await trackedHub({ maxFlowBytes: 200_000 });
  await hub.ledger.transaction(async (tx) => {
    await tx.partners.save({ code: 'ACM001', name: 'ACME EDI', suppliers: ['81234567800013'], recipients: [] });
    await tx.partners.save({ code: 'OTH001', name: 'Other EDI', suppliers: ['53298765400011'], recipients: [] });
    await tx.partners.save({ code: 'MAI001', name: 'Mairie', suppliers: [], recipients: ['21450001200015'] });
  });
  for (const code of ['ACM001', 'OTH001', 'MAI001']) tokens[code] = await issueToken(hub, 'partner', code);
  tokens.op = await issueToken(hub, 'operator', 'alice');
  app = await buildServer(hub);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(async () => {
  await app?.close();
  await closeHubs();
});

const call = (path: string, opts: { token?: string; method?: string; body?: BodyInit; headers?: Record<string, string> } = {}) =>
  fetch(`${base}${path}`, { method: opts.method ?? 'GET', body: opts.body, headers: { ...(opts.token ? { Authorization: `Bearer ${opts.token}` } : {}), ...opts.headers } });
const json = async (r: Response) => (await r.json()) as any;

function depositForm(file: string, info: Record<string, string>) {
  const form = new FormData();
  form.append('flowInfo', new Blob([JSON.stringify(info)], { type: 'application/json' }));
  form.append('file', new Blob([fs.readFileSync(file)], { type: 'application/xml' }), info.name);
  return form;
}
const deposit = (token: string, file: string, info: Record<string, string>, headers: Record<string, string> = {}) =>
  call('/v1/flows', { token, method: 'POST', body: depositForm(file, info), headers });

async function finished(flowId: string, token = tokens.op!) {
  const until = Date.now() + 60_000;
  for (;;) {
    const meta = await json(await call(`/v1/flows/${flowId}`, { token }));
    if (meta.acknowledgement?.status !== 'Pending') return meta;
    if (Date.now() > until) throw new Error(`flow ${flowId} still pending`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('the health check needs no token; everything else answers 401 without one, or with a bad one', async () => {
  expect(await json(await call('/v1/healthcheck'))).toEqual({ status: 'UP' });
  const none = await call('/v1/flows/search', { method: 'POST', body: '{"where":{}}', headers: { 'content-type': 'application/json' } });
  expect(none.status).toBe(401);
  expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
  expect((await json(none)).errorCode).toBe('MISSING_TOKEN');
  const bad = await call('/v1/flows/FF1', { token: 'ff_not-a-token' });
  expect(bad.status).toBe(401);
  expect(await json(bad)).toEqual({ errorCode: 'INVALID_TOKEN', errorMessage: 'the token is not one this hub issued' });
  for (const path of ['/v1/invoices', '/v1/directory/21450001200015', '/docs/json']) expect((await call(path)).status).toBe(401);
  expect((await call('/v1/nope', { token: tokens.op })).status).toBe(404);
});

test('deposit → report → pivot download: the same claim and pipeline as the inbox', async () => {
  const file = fixture('ubl', 'invoice-commune.xml');
  const r = await deposit(tokens.ACM001!, file, { name: 'invoice-commune.xml', flowSyntax: 'UBL', trackingId: 'acme-0001' }, { 'Request-Id': 'req-1' });
  expect(r.status).toBe(202);
  expect(r.headers.get('request-id')).toBe('req-1');
  const created = await json(r);
  expect(created).toMatchObject({ name: 'invoice-commune.xml', trackingId: 'acme-0001', alreadyReceived: false });
  expect(created.flowId).toMatch(/^FF\d{14}[0-9A-F]{6}$/);

  const meta = await finished(created.flowId, tokens.ACM001);
  expect(meta).toMatchObject({ flowId: created.flowId, flowSyntax: 'UBL', trackingId: 'acme-0001', acknowledgement: { status: 'Ok' }, hub: { state: 'IN_INTEGRE', partner: 'ACM001' } });
  const row = (await hub.ledger.flows.get(created.flowId))!;
  expect(row).toMatchObject({ partner: 'ACM001', channel: 'edi', stage: 'DONE', file_name: 'invoice-commune.xml' });

  const report = await json(await call(`/v1/flows/${created.flowId}/report`, { token: tokens.ACM001 }));
  expect(report).toMatchObject({ flowId: created.flowId, state: 'IN_INTEGRE', statusCode: '90' });
  const pivot = await call(`/v1/flows/${created.flowId}?docType=Converted`, { token: tokens.ACM001 });
  expect(pivot.status).toBe(200);
  expect(pivot.headers.get('content-disposition')).toMatch(/^attachment; filename="CPPFacturePivot_/);
  expect(await pivot.text()).toContain('CPPFacturePivot');
  const original = Buffer.from(await (await call(`/v1/flows/${created.flowId}?docType=Original`, { token: tokens.ACM001 })).arrayBuffer());
  expect(original.equals(fs.readFileSync(file))).toBe(true);
  const pdf = Buffer.from(await (await call(`/v1/flows/${created.flowId}?docType=ReadableView`, { token: tokens.ACM001 })).arrayBuffer());
  expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
  expect((await call(`/v1/flows/${created.flowId}?docType=Converted&docIndex=2`, { token: tokens.ACM001 })).status).toBe(404);

  // The recipient's partner sees the flow in part: its invoice and pivot, not the original.
  expect((await call(`/v1/flows/${created.flowId}?docType=Converted`, { token: tokens.MAI001 })).status).toBe(200);
  const denied = await call(`/v1/flows/${created.flowId}?docType=Original`, { token: tokens.MAI001 });
  expect(denied.status).toBe(403);
  expect((await json(denied)).errorMessage).toMatch(/other parties/);

  const search = await json(await call('/v1/flows/search', { token: tokens.ACM001, method: 'POST', body: JSON.stringify({ where: { trackingId: 'acme-0001' } }), headers: { 'content-type': 'application/json' } }));
  expect(search.results.map((f: { flowId: string }) => f.flowId)).toEqual([created.flowId]);
  const history = await json(await call(`/v1/invoices/${row ? (await hub.ledger.invoices.ofFlow(row.id))[0]!.id : 0}/history`, { token: tokens.ACM001 }));
  expect(history.events.map((e: { status: string }) => e.status)).toEqual(['01', '03']);
});

test('a retried deposit is one flow: by trackingId, by content, and in parallel', async () => {
  const file = fixture('cii', 'invoice-etat.xml');
  const info = { name: 'invoice-etat.xml', trackingId: 'retry-1' };
  const first = await json(await deposit(tokens.op!, file, info));
  const again = await json(await deposit(tokens.op!, file, info));
  expect(again).toMatchObject({ flowId: first.flowId, alreadyReceived: true });
  const parallel = await Promise.all([1, 2, 3].map(() => deposit(tokens.op!, file, { name: 'invoice-etat.xml' }).then(json)));
  expect(new Set(parallel.map((p) => p.flowId)).size).toBe(1);
  await finished(first.flowId);
  await finished(parallel[0].flowId);
  // Same trackingId, other bytes: refused, not taken for the first flow.
  const conflict = await deposit(tokens.op!, fixture('ubl', 'creditnote-hospital.xml'), { ...info, name: 'other.xml' });
  expect(conflict.status).toBe(409);
  const flows = await hub.ledger.flows.list({});
  expect(flows.filter((f) => f.id === first.flowId)).toHaveLength(1);
  expect(flows.filter((f) => f.file_name === 'invoice-etat.xml')).toHaveLength(2); // with and without trackingId
});

test('a partner cannot see or deposit for another partner (403, saying why)', async () => {
  const mine = await json(await deposit(tokens.ACM001!, fixture('mixed', 'three-recipients.xml'), { name: 'three.xml' }));
  await finished(mine.flowId);
  const peek = await call(`/v1/flows/${mine.flowId}`, { token: tokens.OTH001 });
  expect(peek.status).toBe(403);
  expect(await json(peek)).toMatchObject({ errorCode: 'FORBIDDEN_ACCESS', errorMessage: expect.stringContaining('not visible to partner OTH001') });
  expect((await call(`/v1/flows/${mine.flowId}/report`, { token: tokens.OTH001 })).status).toBe(403);
  const asOther = await deposit(tokens.OTH001!, fixture('mixed', 'partial.xml'), { name: 'p.xml' }, { 'Organization-Id': 'ACM001' });
  expect(asOther.status).toBe(403);
  expect((await json(asOther)).errorMessage).toMatch(/OTH001 may not deposit for ACM001/);
  const search = await json(await call('/v1/flows/search', { token: tokens.OTH001, method: 'POST', body: '{"where":{}}', headers: { 'content-type': 'application/json' } }));
  expect(search.results.map((f: { flowId: string }) => f.flowId)).not.toContain(mine.flowId);
  const invoices = await json(await call('/v1/invoices?supplier=81234567800013', { token: tokens.OTH001 }));
  expect(invoices.results).toEqual([]);
  // An invoice for a supplier the partner does not represent is refused by the judge, as from its inbox folder.
  const notMine = variant(fixture('ubl', 'invoice-commune.xml'), `${tempDir()}/not-mine.xml`, [[/UBL-2026-001/g, 'UBL-2026-901']]);
  const theirs = await json(await deposit(tokens.OTH001!, notMine, { name: 'not-mine.xml' }));
  const meta = await finished(theirs.flowId, tokens.OTH001);
  expect(meta.acknowledgement.details.map((d: { reasonCode: string }) => d.reasonCode)).toContain('PARTNER_SUPPLIER_NOT_ALLOWED');
  // Replay is for operators.
  expect((await call(`/v1/flows/${theirs.flowId}/replay`, { token: tokens.OTH001, method: 'POST' })).status).toBe(403);
  const dry = await json(await call(`/v1/flows/${theirs.flowId}/replay?dryRun=true`, { token: tokens.op, method: 'POST' }));
  expect(dry).toMatchObject({ dryRun: true, flowId: theirs.flowId, retried: 1, wouldAccept: 0 });
});

test('bodies are capped at maxFlowBytes; bad requests answer in the standard error shape', async () => {
  const big = await call('/v1/flows?name=big.xml', { token: tokens.ACM001, method: 'POST', body: Buffer.alloc(300_000, 0x20), headers: { 'content-type': 'application/xml' } });
  expect(big.status).toBe(413);
  expect((await json(big)).errorCode).toBe('FILE_SIZE_EXCEEDED');
  const noName = await call('/v1/flows', { token: tokens.ACM001, method: 'POST', body: '<x/>', headers: { 'content-type': 'application/xml' } });
  expect(noName.status).toBe(400);
  expect((await json(noName)).errorMessage).toMatch(/name/);
  const dotted = await call('/v1/flows?name=../x.xml', { token: tokens.ACM001, method: 'POST', body: '<x/>', headers: { 'content-type': 'application/xml' } });
  expect(dotted.status).toBe(400);
  const search = await call('/v1/flows/search', { token: tokens.op, method: 'POST', body: '{"where":{"ackStatus":"Maybe"}}', headers: { 'content-type': 'application/json' } });
  expect(search.status).toBe(400);
  expect((await json(search)).errorCode).toBe('INVALID_REQUEST');
});

test('a sha256 that is not the file\'s is refused before the claim: nothing is deposited', async () => {
  const file = variant(fixture('ubl', 'invoice-commune.xml'), `${tempDir('sha-')}/checked.xml`, [['UBL-2026-001', 'UBL-2026-SHA']]);
  const right = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  const wrong = await deposit(tokens.ACM001!, file, { name: 'checked.xml', trackingId: 'sha-1', sha256: '0'.repeat(64) });
  expect(wrong.status).toBe(422);
  expect((await json(wrong)).errorCode).toBe('CHECKSUM_MISMATCH');
  const raw = await call(`/v1/flows?name=checked.xml&sha256=${'f'.repeat(64)}`, { token: tokens.ACM001, method: 'POST', body: fs.readFileSync(file), headers: { 'content-type': 'application/xml' } });
  expect(raw.status).toBe(422);
  expect((await hub.ledger.flows.list({})).filter((f) => f.file_name === 'checked.xml')).toHaveLength(0);
  // The same trackingId with the right checksum is a first deposit, not a conflict.
  const ok = await deposit(tokens.ACM001!, file, { name: 'checked.xml', trackingId: 'sha-1', sha256: right });
  expect(ok.status).toBe(202);
  expect(await json(ok)).toMatchObject({ sha256: right, alreadyReceived: false });
  await finished((await hub.ledger.flows.list({})).find((f) => f.file_name === 'checked.xml')!.id);
});

test('the OpenAPI document at /docs lists every route', async () => {
  const doc = await json(await call('/docs/json', { token: tokens.op }));
  const documented = Object.entries(doc.paths as Record<string, object>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
  const routes = registeredRoutes(app).map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
  expect(routes.length).toBeGreaterThan(15);
  expect(documented.sort()).toEqual([...new Set(routes)].sort());
  for (const p of ['/v1/flows', '/v1/flows/search', '/v1/flows/{flowId}', '/v1/healthcheck']) expect(doc.paths[p]).toBeDefined();
  const page = await call('/docs', { token: tokens.op, headers: { accept: 'text/html' } });
  expect(await page.text()).toContain('/v1/flows/search');
});

test('tokens from the command line: shown once, hashed in the ledger, revocable', async () => {
  const home = tempDir();
  expect(cli(['init'], { home }).code).toBe(0);
  expect(cli(['partners', 'add', 'ACM001', '--name', 'ACME'], { home }).code).toBe(0);
  const issued = cli(['partners', 'token', 'ACM001'], { home });
  expect(issued.code).toBe(0);
  const token = issued.stdout.trim();
  expect(token).toMatch(/^ff_[A-Za-z0-9_-]{43}$/);
  expect(fs.readFileSync(`${home}/var/factflow.db`).includes(Buffer.from(token))).toBe(false);
  expect(cli(['partners', 'token', 'NOP001'], { home }).code).toBe(3);
  expect(cli(['operators', 'add', 'alice'], { home }).stdout.trim()).toMatch(/^ff_/);
  expect(JSON.parse(cli(['operators', 'list', '--json'], { home }).stdout)).toMatchObject([{ name: 'alice', live: 1, tokens: 1 }]);
  expect(cli(['operators', 'revoke', 'alice'], { home }).code).toBe(0);
  expect(cli(['operators', 'revoke', 'alice'], { home }).code).toBe(3);
  expect(cli(['partners', 'token', 'ACM001', '--revoke'], { home }).stdout).toMatch(/Revoked 1 token/);
  const { authenticate } = await import('../src/app/tokens.js');
  const { openHub, closeHub } = await import('../src/hub.js');
  const h = openHub(home);
  try {
    expect(await authenticate(h, token)).toEqual({ refused: expect.stringMatching(/^the token was revoked at /) });
  } finally {
    await closeHub(h);
  }
});

/** An initialised home with the fixture directory, for the daemon's and the HTTP server's own processes. */
function homeWithDirectory(): string {
  const home = tempDir();
  expect(cli(['init'], { home }).code).toBe(0);
  expect(cli(['directory', 'import', '--structures', fixture('directory', 'structures.csv'), '--services', fixture('directory', 'services.csv')], { home }).code).toBe(0);
  return home;
}

test('factflow watch serves the API: a deposit runs in the daemon like a file in the inbox', async () => {
  const home = homeWithDirectory();
  const op = cli(['operators', 'add', 'bob'], { home }).stdout.trim();
  const child = spawn(process.execPath, [CLI, '--home', home, 'watch'], { env: { ...process.env, FACTFLOW_HTTP_LISTEN: '127.0.0.1:0', FACTFLOW_STABILITY_MS: '100' }, stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    let out = '';
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const until = Date.now() + 60_000;
    let url: string | undefined;
    while (!(url = /listen on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1])) {
      if (Date.now() > until || child.exitCode !== null) throw new Error(`watch did not listen: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const form = depositForm(fixture('mixed', 'three-recipients.xml'), { name: 'three.xml' });
    const created = await (await fetch(`${url}/v1/flows`, { method: 'POST', body: form, headers: { Authorization: `Bearer ${op}` } })).json() as { flowId: string };
    let meta: any;
    while ((meta = await (await fetch(`${url}/v1/flows/${created.flowId}`, { headers: { Authorization: `Bearer ${op}` } })).json()).acknowledgement.status === 'Pending') {
      if (Date.now() > until) throw new Error('the deposit was not processed');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(meta.hub).toMatchObject({ state: 'IN_INTEGRE', stage: 'DONE' });
    expect(fs.readdirSync(`${home}/var/spool`)).toEqual([]);
    expect(fs.readdirSync(`${home}/var/uploads`)).toEqual([]);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}, 120_000);

test('factflow watch on a taken address says so and goes on processing the inbox without HTTP', async () => {
  const home = homeWithDirectory();
  const squatter = net.createServer();
  await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', () => r()));
  const port = (squatter.address() as { port: number }).port;
  const child = spawn(process.execPath, [CLI, '--home', home, 'watch'], { env: { ...process.env, FACTFLOW_HTTP_LISTEN: `127.0.0.1:${port}`, FACTFLOW_STABILITY_MS: '100' }, stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    let out = '';
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const until = Date.now() + 60_000;
    const waitFor = async (what: RegExp) => {
      while (!what.test(out)) {
        if (Date.now() > until || child.exitCode !== null) throw new Error(`no ${what} from watch: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await waitFor(new RegExp(`HTTP: cannot listen on 127\\.0\\.0\\.1:${port} \\(.*EADDRINUSE.*\\); the daemon runs without the API`));
    await waitFor(/watching/);
    fs.copyFileSync(fixture('ubl', 'invoice-commune.xml'), `${home}/inbox/commune.xml`);
    await waitFor(/done: IN_INTEGRE/);
    expect(out).not.toMatch(/listen on http/);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await new Promise((r) => squatter.close(r));
  }
}, 120_000);

test('factflow serve runs the HTTP side alone and processes what is deposited; with httpListen off it refuses to start', async () => {
  const home = homeWithDirectory();
  const off = cli(['serve'], { home, env: { FACTFLOW_HTTP_LISTEN: 'off' } });
  expect(off.code).toBe(64);
  expect(off.stderr).toMatch(/httpListen is off/);
  const child = spawn(process.execPath, [CLI, '--home', home, 'serve'], { env: { ...process.env, FACTFLOW_HTTP_LISTEN: '127.0.0.1:0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const until = Date.now() + 60_000;
    let url: string | undefined;
    while (!(url = /serving (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1])) {
      if (Date.now() > until || child.exitCode !== null) throw new Error(`serve did not listen: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await (await fetch(`${url}/v1/healthcheck`)).json()).toEqual({ status: 'UP' });
    // A first start says how to get a console token; one issued while the server runs works at once.
    // (the log is on stderr, the "serving" line on stdout: either may come first)
    while (!/no operator has a live token yet/.test(out)) {
      if (Date.now() > until || child.exitCode !== null) throw new Error(`serve did not say how to get a token: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(out).toMatch(/no operator has a live token yet.*factflow operators add <name>/);
    const op = cli(['operators', 'add', 'carol'], { home }).stdout.trim();
    const created = await (await fetch(`${url}/v1/flows`, { method: 'POST', body: depositForm(fixture('ubl', 'invoice-commune.xml'), { name: 'commune.xml' }), headers: { Authorization: `Bearer ${op}` } })).json() as { flowId: string };
    let meta: any;
    while ((meta = await (await fetch(`${url}/v1/flows/${created.flowId}`, { headers: { Authorization: `Bearer ${op}` } })).json()).acknowledgement.status === 'Pending') {
      if (Date.now() > until) throw new Error(`the deposit was not processed: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(meta.hub).toMatchObject({ state: 'IN_INTEGRE', stage: 'DONE' });
    const pivot = await fetch(`${url}/v1/flows/${created.flowId}?docType=Converted`, { headers: { Authorization: `Bearer ${op}` } });
    expect(pivot.status).toBe(200);
    expect(await pivot.text()).toMatch(/<CPPFacturePivot>/);
    // Nothing watches inbox/: serve is the HTTP side alone.
    expect(out).not.toMatch(/watching/);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}, 120_000);

test('webhooks over HTTP: a partner subscribes and sees only its own hooks; an operator sees all; /metrics needs an operator', async () => {
  const bad = await call('/v1/webhooks', { token: tokens.ACM001, method: 'POST', body: JSON.stringify({ url: 'ftp://x.example/' }), headers: { 'content-type': 'application/json' } });
  expect(bad.status).toBe(400);
  expect((await json(bad)).errorCode).toBe('INVALID_REQUEST');
  const made = await call('/v1/webhooks', { token: tokens.ACM001, method: 'POST', body: JSON.stringify({ url: 'https://acme.example/hook', events: ['flow.refused'] }), headers: { 'content-type': 'application/json' } });
  expect(made.status).toBe(201);
  const hook = await json(made);
  expect(hook).toMatchObject({ url: 'https://acme.example/hook', events: ['flow.refused'], owner: 'ACM001' });
  expect(hook.secret).toEqual(expect.any(String));
  expect((await json(await call('/v1/webhooks', { token: tokens.ACM001 }))).map((h: any) => h.id)).toEqual([hook.id]);
  expect(await json(await call('/v1/webhooks', { token: tokens.OTH001 }))).toEqual([]);
  expect((await json(await call('/v1/webhooks', { token: tokens.op }))).map((h: any) => h.id)).toContain(hook.id);
  expect((await json(await call('/v1/webhooks', { token: tokens.op })))[0].secret).toBeUndefined();
  expect((await call(`/v1/webhooks/${hook.id}`, { token: tokens.OTH001, method: 'DELETE' })).status).toBe(404);
  expect((await call('/v1/webhooks/deliveries', { token: tokens.ACM001 })).status).toBe(200);
  expect((await call(`/v1/webhooks/${hook.id}`, { token: tokens.ACM001, method: 'DELETE' })).status).toBe(204);
  expect(await json(await call('/v1/webhooks', { token: tokens.ACM001 }))).toEqual([]);
  // The standard's body: callbackUrl; its answer names webhookId and callbackUrl. Its filters are refused, saying why.
  const post = (body: unknown) => call('/v1/webhooks', { token: tokens.ACM001, method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const std = await post({ callbackUrl: 'https://acme.example/std' });
  expect(std.status).toBe(201);
  const stdHook = await json(std);
  expect(stdHook).toMatchObject({ webhookId: stdHook.id, callbackUrl: 'https://acme.example/std', url: 'https://acme.example/std', owner: 'ACM001' });
  const filtered = await post({ callbackUrl: 'https://acme.example/std2', ackStatus: 'Error' });
  expect(filtered.status).toBe(400);
  expect((await json(filtered)).errorMessage).toMatch(/ackStatus: the hub filters webhooks by events/);
  expect((await post({ events: ['flow.done'] })).status).toBe(400);
  expect((await call(`/v1/webhooks/${stdHook.id}`, { token: tokens.ACM001, method: 'DELETE' })).status).toBe(204);

  expect((await call('/metrics')).status).toBe(401);
  expect((await call('/metrics', { token: tokens.ACM001 })).status).toBe(403);
  const metrics = await call('/metrics', { token: tokens.op });
  expect(metrics.status).toBe(200);
  expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
  expect(await metrics.text()).toMatch(/^# HELP factflow_/m);
});
