/**
 * Notifications through the real pieces: the daemon and its dispatcher on a real ledger, a
 * webhook receiver (a node http server on a loopback port), an SMTP server (smtp-server), and
 * the metrics text after processing fixture flows.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { processFile } from '../src/app/run.js';
import { startDaemon } from '../src/daemon/watcher.js';
import type { Hub } from '../src/hub.js';
import { metricsText } from '../src/metrics/metrics.js';
import { retryDelay } from '../src/notify/backoff.js';
import { startDispatcher } from '../src/notify/dispatcher.js';
import { HEADERS, sign, verifySignature } from '../src/notify/signature.js';
import { addWebhook, listWebhooks, removeWebhook, webhookDeliveries } from '../src/notify/webhooks.js';
import { cli, closeHubs, fixture, ROOT, tempDir, trackedHub } from './helpers.js';

afterEach(closeHubs);

const SUPPLIER = '81234567800013';
const FAST = { stabilityMs: 100, sweepIntervalMs: 300, notifyIntervalMs: 100, notifyRetryBaseMs: 150, notifyRetryMaxMs: 600, workers: 0 };

interface Call {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: { id: string; type: string; at: string; data: Record<string, any> };
}

/** A webhook receiver answering 204 to every call, keeping what it got. */
async function receiver(port = 0): Promise<{ url: string; port: number; calls: Call[]; close(): Promise<void> }> {
  const calls: Call[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      calls.push({ url: req.url ?? '', headers: req.headers, body, json: JSON.parse(body) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/hook`,
    port: actual,
    calls,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const drop = (hub: Hub, name: string, source: string) => fs.copyFileSync(source, path.join(hub.layout.inbox, name));
const signed = (secret: string, c: Call) => verifySignature(secret, String(c.headers[HEADERS.timestamp]), c.body, String(c.headers[HEADERS.signature]));

test('signatures: HMAC-SHA256 of timestamp.body; a changed body, secret or old timestamp does not verify', () => {
  const now = Date.now();
  const ts = String(Math.floor(now / 1000));
  const s = sign('whsec_x', ts, '{"a":1}');
  expect(s).toMatch(/^v1=[0-9a-f]{64}$/);
  expect(verifySignature('whsec_x', ts, '{"a":1}', s, 300, now)).toBe(true);
  expect(verifySignature('whsec_x', ts, Buffer.from('{"a":1}'), s, 300, now)).toBe(true);
  expect(verifySignature('whsec_x', ts, '{"a":2}', s, 300, now)).toBe(false);
  expect(verifySignature('whsec_y', ts, '{"a":1}', s, 300, now)).toBe(false);
  expect(verifySignature('whsec_x', ts, '{"a":1}', s, 300, now + 301_000)).toBe(false);
  expect(verifySignature('whsec_x', ts, '{"a":1}', 'v1=00', 300, now)).toBe(false);
});

test('the README\'s receiver check in Node accepts the hub\'s signature and refuses a forged one', async () => {
  const { createHmac, timingSafeEqual } = await import('node:crypto');
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const code = /```js\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## Webhooks, e-mail and metrics')))![1]!.replace(/^import .*$/m, '');
  const verify = new Function('createHmac', 'timingSafeEqual', `${code}\nreturn verify;`)(createHmac, timingSafeEqual) as (secret: string, headers: Record<string, string>, body: Buffer) => boolean;
  const body = Buffer.from('{"id":"e1","type":"flow.done","at":"2026-12-02T00:00:00.000Z","data":{}}');
  const ts = String(Math.floor(Date.now() / 1000));
  const headers = { [HEADERS.timestamp]: ts, [HEADERS.signature]: sign('whsec_r', ts, body) };
  expect(verify('whsec_r', headers, body)).toBe(true);
  expect(verify('whsec_other', headers, body)).toBe(false);
  expect(verify('whsec_r', headers, Buffer.from('{}'))).toBe(false);
});

test('retries back off exponentially, capped, with jitter between half and all of the delay, and stop after the last attempt', () => {
  const policy = { baseMs: 1000, maxMs: 8000, maxAttempts: 6 };
  expect([1, 2, 3, 4, 5].map((n) => retryDelay(policy, n, () => 1))).toEqual([1000, 2000, 4000, 8000, 8000]);
  expect([1, 2, 3, 4, 5].map((n) => retryDelay(policy, n, () => 0))).toEqual([500, 1000, 2000, 4000, 4000]);
  expect(retryDelay(policy, 6)).toBeUndefined();
});

test('a webhook receiver gets each event once per attempt, signed; down, its deliveries are retried and arrive after a daemon restart', async () => {
  const hub = await trackedHub(FAST);
  const rx = await receiver();
  const { webhook, secret } = await addWebhook(hub.ledger, { url: rx.url });
  let daemon = await startDaemon(hub);
  try {
    drop(hub, 'three.xml', fixture('mixed', 'three-recipients.xml'));
    await until('flow.done', async () => rx.calls.some((c) => c.json.type === 'flow.done'));
    await daemon.notifications.idle();
    const calls = [...rx.calls];
    // Four invoices deposited (01) and made available (03), then the flow done: once each.
    expect(calls.map((c) => c.json.type).sort()).toEqual(['flow.done', ...Array(8).fill('invoice.status')]);
    expect(calls.filter((c) => c.json.type === 'invoice.status').map((c) => c.json.data.status).sort()).toEqual(['01', '01', '01', '01', '03', '03', '03', '03']);
    expect(new Set(calls.map((c) => c.json.id)).size).toBe(calls.length);
    for (const c of calls) {
      expect(signed(secret, c)).toBe(true);
      expect(c.headers[HEADERS.eventId]).toBe(c.json.id);
      expect(c.headers[HEADERS.eventType]).toBe(c.json.type);
      expect(c.headers[HEADERS.attempt]).toBe('1');
      expect(c.headers['content-type']).toBe('application/json');
    }
    const done = calls.find((c) => c.json.type === 'flow.done')!.json.data;
    expect(done).toMatchObject({ file: 'three.xml', state: 'IN_INTEGRE', statusCode: '90', invoices: { total: 4, accepted: 4, rejected: 0 } });
    const status = calls.find((c) => c.json.type === 'invoice.status' && c.json.data.number === 'FA-2026-0002')!.json.data;
    expect(status).toMatchObject({ supplier: SUPPLIER, recipient: '21450001200015', producer: 'platform', flowId: done.flowId });

    // The receiver goes down: the next flow's deliveries fail and are retried.
    await rx.close();
    drop(hub, 'partial.xml', fixture('mixed', 'partial.xml'));
    await until('retried deliveries', async () => {
      const failed = await webhookDeliveries(hub.ledger, { failed: true, withAttempts: true });
      return failed.length >= 3 && failed.every((d) => d.state === 'pending') && failed.some((d) => d.attempts >= 2) && failed;
    });
    const log = (await webhookDeliveries(hub.ledger, { failed: true, withAttempts: true }))[0]!.attemptLog!;
    expect(log[0]).toMatchObject({ attempt: 1, ok: 0, error: 'ECONNREFUSED' });
    expect(log[0]!.next_at).toBeGreaterThan(Date.parse(log[0]!.at));
    await daemon.stop();

    // Back up, and a new daemon: what was pending arrives, each event once.
    const back = await receiver(rx.port);
    try {
      daemon = await startDaemon(hub);
      await until('the partial flow delivered', async () => back.calls.some((c) => c.json.type === 'flow.done'));
      await until('every delivery made', async () => !(await webhookDeliveries(hub.ledger, { state: 'pending' })).length);
      const later = back.calls;
      expect(later.map((c) => c.json.type).sort()).toEqual(['flow.done', 'invoice.status', 'invoice.status']);
      expect(new Set(later.map((c) => c.json.id)).size).toBe(later.length);
      for (const c of later) {
        expect(signed(secret, c)).toBe(true);
        expect(Number(c.headers[HEADERS.attempt])).toBeGreaterThan(1);
        expect(calls.map((x) => x.json.id)).not.toContain(c.json.id);
      }
      expect(later.find((c) => c.json.type === 'flow.done')!.json.data).toMatchObject({
        file: 'partial.xml', state: 'IN_INTEGRE_PARTIEL', statusCode: '96', invoices: { total: 3, accepted: 1, rejected: 2 },
        rejected: [{ number: 'FA-2026-0102', errors: [{ code: 'ROUTE_RECIPIENT_UNKNOWN' }] }, { number: 'FA-2026-0103', errors: [{ code: 'RULE_AMOUNT_TTC_MISMATCH' }] }],
      });
      const all = await webhookDeliveries(hub.ledger, { webhookId: webhook.id });
      expect(all).toHaveLength(12);
      expect(all.every((d) => d.state === 'delivered')).toBe(true);
    } finally {
      await back.close();
    }
  } finally {
    await daemon.stop();
    await rx.close().catch(() => undefined);
  }
});

test('a partner\'s hook sees only its flows and its invoices; an operator\'s sees everything; a removed hook gets nothing more', async () => {
  const hub = await trackedHub(FAST);
  await hub.ledger.transaction(async (tx) => {
    await tx.partners.save({ code: 'ACM001', name: 'ACME', suppliers: [SUPPLIER], recipients: [] });
    await tx.partners.save({ code: 'OTH001', name: 'Other', suppliers: ['99999999900018'], recipients: [] });
  });
  const rx = await receiver();
  const url = (who: string) => `${rx.url}?${who}`;
  const acme = await addWebhook(hub.ledger, { url: url('acme'), owner: 'ACM001' });
  const other = await addWebhook(hub.ledger, { url: url('other'), owner: 'OTH001', events: ['flow.done', 'flow.refused'] });
  const operator = await addWebhook(hub.ledger, { url: url('operator'), events: ['flow.refused'] });
  expect((await listWebhooks(hub.ledger, 'ACM001')).map((h) => h.id)).toEqual([acme.webhook.id]);
  expect(JSON.stringify(await listWebhooks(hub.ledger))).not.toContain('whsec_');
  const dispatcher = startDispatcher(hub);
  try {
    await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true, partner: 'ACM001' });
    // ACME's invoices sent through the other partner's folder: refused whole, that partner's flow.
    const refused = await processFile(hub, fixture('ubl', 'invoice-commune.xml'), { copy: true, partner: 'OTH001' });
    expect(refused!.state).toBe('IN_REJETE');
    // A recipient's statuses about ACME's invoices, from the flat inbox.
    await processFile(hub, fixture('statuses', 'commune-statuses.xml'), { copy: true });
    await dispatcher.idle();
    const deliveries = await webhookDeliveries(hub.ledger, { limit: 1000 });
    const to = (id: string) => deliveries.filter((d) => d.target === id);
    // Each call is found by the URL it came to.
    const eventsOf = (who: string, id: string) => {
      const calls = rx.calls.filter((c) => c.url === `/hook?${who}`).map((c) => c.json);
      expect(calls.map((c) => c.id).sort()).toEqual(to(id).map((d) => d.event_id).sort());
      return calls;
    };
    const acmeEvents = eventsOf('acme', acme.webhook.id);
    const otherEvents = eventsOf('other', other.webhook.id);
    const operatorEvents = eventsOf('operator', operator.webhook.id);
    // ACME: its flow (done), its 4 invoices' 01 and 03, the 3 statuses on them, and the statuses' flow (flat inbox, about its invoices): not the other partner's flow.
    expect(acmeEvents.filter((e) => e.type === 'invoice.status')).toHaveLength(11);
    expect(acmeEvents.filter((e) => e.type !== 'invoice.status').map((e) => e.data.file).sort()).toEqual(['commune-statuses.xml', 'three-recipients.xml']);
    expect(acmeEvents.every((e) => e.data.partner !== 'OTH001')).toBe(true);
    // The other partner: its own refused flow only (done and refused), nothing about ACME's invoices.
    expect(otherEvents.map((e) => e.type).sort()).toEqual(['flow.done', 'flow.refused']);
    expect(otherEvents.every((e) => e.data.file === 'invoice-commune.xml' && e.data.state === 'IN_REJETE')).toBe(true);
    expect(otherEvents[0]!.data.rejected[0].errors[0].code).toBe('PARTNER_SUPPLIER_NOT_ALLOWED');
    // The operator's hook, for refusals: the refused flow.
    expect(operatorEvents.map((e) => [e.type, e.data.file])).toEqual([['flow.refused', 'invoice-commune.xml']]);

    // Removed (a partner may remove only its own): nothing more is delivered to it.
    expect(await removeWebhook(hub.ledger, acme.webhook.id, 'OTH001')).toBe(false);
    expect(await removeWebhook(hub.ledger, acme.webhook.id, 'ACM001')).toBe(true);
    const before = rx.calls.length;
    await processFile(hub, fixture('mixed', 'partial.xml'), { copy: true, partner: 'ACM001' });
    await dispatcher.idle();
    expect(rx.calls.length).toBe(before);
    expect((await webhookDeliveries(hub.ledger, { owner: 'ACM001' })).every((d) => d.target !== acme.webhook.id || d.state === 'delivered')).toBe(true);
  } finally {
    await dispatcher.stop();
    await rx.close();
  }
});

/** A message's text with quoted-printable soft breaks and escapes undone. */
const decodeQp = (raw: string) => Buffer.from(raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');

test('a partner\'s contact address gets an e-mail, in French and English, on refusals and on its invoices\' status changes', async () => {
  const mails: { from: string; to: string[]; raw: string }[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw: decodeQp(Buffer.concat(chunks).toString('latin1')) });
        callback();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  const port = (smtp.server.address() as AddressInfo).port;
  const hub = await trackedHub({ ...FAST, smtpHost: '127.0.0.1', smtpPort: port, smtpFrom: 'hub@factflow.example' });
  await hub.ledger.transaction(async (tx) => {
    await tx.partners.save({ code: 'ACM001', name: 'ACME', suppliers: [SUPPLIER], recipients: [], email: 'edi@acme.example' });
    await tx.partners.save({ code: 'OTH001', name: 'Other', suppliers: ['99999999900018'], recipients: [], email: 'edi@other.example' });
  });
  const dispatcher = startDispatcher(hub);
  try {
    await processFile(hub, fixture('mixed', 'partial.xml'), { copy: true, partner: 'ACM001' });
    await processFile(hub, fixture('ubl', 'invoice-commune.xml'), { copy: true, partner: 'OTH001' });
    await dispatcher.idle();
    await until('the mails', async () => mails.length >= 4);
    const toAcme = mails.filter((m) => m.to.includes('edi@acme.example'));
    const toOther = mails.filter((m) => m.to.includes('edi@other.example'));
    expect(mails.every((m) => m.from === 'hub@factflow.example' && m.to.length === 1)).toBe(true);
    // ACME: the partly integrated flow (its refused invoices) and the accepted invoice's 01 and 03.
    expect(toAcme).toHaveLength(3);
    const partial = toAcme.find((m) => m.raw.includes('intégré en partie'))!;
    expect(partial.raw).toContain('was partly integrated: 1 of 3 invoice(s); 2 refused.');
    expect(partial.raw).toContain('ROUTE_RECIPIENT_UNKNOWN');
    expect(partial.raw).toContain('RULE_AMOUNT_TTC_MISMATCH');
    expect(partial.raw).toMatch(/Content-Type: text\/html/);
    const statuses = toAcme.filter((m) => m.raw.includes('a changé de statut') && m.raw.includes('changed status'));
    expect(statuses).toHaveLength(2);
    expect(statuses.some((m) => m.raw.includes('FA-2026-0101') && m.raw.includes('01 DEPOSEE, par la plateforme') && m.raw.includes('01 DEPOSEE, set by the platform'))).toBe(true);
    expect(toAcme.some((m) => m.raw.includes('FA-2026-0101') && m.raw.includes('03 MISE_A_DISPOSITION'))).toBe(true);
    // The other partner: its refused flow, and nothing about ACME.
    expect(toOther).toHaveLength(1);
    expect(toOther[0]!.raw).toContain('a été refusé : IN_REJETE (93)');
    expect(toOther[0]!.raw).toContain('was refused: IN_REJETE (93)');
    expect(toOther[0]!.raw).toContain('PARTNER_SUPPLIER_NOT_ALLOWED');
    const sent = await webhookDeliveries(hub.ledger, { limit: 100 });
    expect(sent.filter((d) => d.channel === 'email').every((d) => d.state === 'delivered')).toBe(true);
  } finally {
    await dispatcher.stop();
    await new Promise<void>((r) => smtp.close(() => r()));
  }
});

/** Prometheus text format, line by line: comments, or a sample `name{labels} value`. */
function parseProm(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) {
      if (line) expect(line).toMatch(/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* \S/);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|\+Inf|NaN)$/.exec(line);
    expect(m).not.toBeNull();
    samples.set(`${m![1]}${m![2] ?? ''}`, Number(m![3]));
  }
  return samples;
}

test('metricsText parses as Prometheus text and counts what processing the fixtures did', async () => {
  const hub = await trackedHub(FAST);
  const rx = await receiver();
  await addWebhook(hub.ledger, { url: rx.url, events: ['flow.done'] });
  await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true });
  await processFile(hub, fixture('mixed', 'partial.xml'), { copy: true });
  await processFile(hub, fixture('statuses', 'commune-statuses.xml'), { copy: true });
  await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true }); // a duplicate
  fs.writeFileSync(path.join(hub.layout.inbox, 'waiting.xml'), '<x/>');
  fs.mkdirSync(path.join(hub.layout.inbox, 'ACM001'));
  fs.writeFileSync(path.join(hub.layout.inbox, 'ACM001', 'waiting.xml'), '<x/>');
  fs.writeFileSync(path.join(hub.layout.inbox, 'ACM001', 'upload.xml.part'), '<x/>');
  const dispatcher = startDispatcher(hub);
  await dispatcher.idle();
  await dispatcher.stop();
  await rx.close();

  const { contentType, body } = await metricsText(hub);
  expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  const m = parseProm(body);
  expect(m.get('factflow_flows_total{state="IN_INTEGRE"}')).toBe(2);
  expect(m.get('factflow_flows_total{state="IN_INTEGRE_PARTIEL"}')).toBe(1);
  expect(m.get('factflow_flows_total{state="QP_IRRECEVABLE"}')).toBe(1);
  expect(m.get('factflow_invoices_total{outcome="accepted"}')).toBe(5);
  expect(m.get('factflow_invoices_total{outcome="rejected"}')).toBe(2);
  expect(m.get('factflow_rejections_total{code="ROUTE_RECIPIENT_UNKNOWN"}')).toBe(1);
  expect(m.get('factflow_rejections_total{code="RULE_AMOUNT_TTC_MISMATCH"}')).toBe(1);
  expect(m.get('factflow_rejections_total{code="FLOW_DUPLICATE"}')).toBe(1);
  expect(m.get('factflow_invoice_status_changes_total{status="01",name="DEPOSEE"}')).toBe(5);
  expect(m.get('factflow_invoice_status_changes_total{status="03",name="MISE_A_DISPOSITION"}')).toBe(5);
  expect(m.get('factflow_invoice_status_changes_total{status="08",name="MANDATEE"}')).toBe(1);
  expect(m.get('factflow_flow_processing_seconds_count')).toBe(4);
  expect(m.get('factflow_flow_processing_seconds_bucket{le="+Inf"}')).toBe(4);
  expect(m.get('factflow_flow_decision_seconds_count')).toBe(4);
  // Buckets are cumulative.
  const buckets = [...m].filter(([k]) => k.startsWith('factflow_flow_processing_seconds_bucket')).map(([, v]) => v);
  expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
  expect(m.get('factflow_inbox_files')).toBe(2);
  expect(m.get('factflow_spool_files')).toBe(0);
  expect(m.get('factflow_flows_unfinished')).toBe(0);
  expect(m.get('factflow_oldest_unfinished_flow_age_seconds')).toBe(0);
  expect(m.get('factflow_notify_attempts_total{channel="webhook",outcome="ok"}')).toBe(4);
  expect(m.get('factflow_notify_deliveries_total{channel="webhook",outcome="delivered"}')).toBe(4);
  expect(m.get('factflow_notify_deliveries{state="pending"}')).toBe(0);
});

test('CLI: webhooks add, list, deliveries and remove; partners set --email; metrics', async () => {
  const home = tempDir();
  expect(cli(['init'], { home }).code).toBe(0);
  expect(cli(['partners', 'add', 'ACM001', '--name', 'ACME', '--supplier', SUPPLIER], { home }).code).toBe(0);
  const set = cli(['partners', 'set', 'ACM001', '--email', 'edi@acme.example'], { home });
  expect(set).toMatchObject({ code: 0 });
  expect(JSON.parse(cli(['partners', 'list', '--json'], { home }).stdout)[0]).toMatchObject({ code: 'ACM001', email: 'edi@acme.example' });
  expect(cli(['partners', 'set', 'ACM001', '--email', 'not an address'], { home }).code).toBe(64);
  expect(cli(['partners', 'set', 'NOP001', '--email', 'a@b.example'], { home }).code).toBe(3);

  const added = cli(['webhooks', 'add', 'https://erp.example/hook', '--partner', 'ACM001', '--events', 'flow.refused,invoice.status'], { home });
  expect(added.code).toBe(0);
  expect(added.stdout).toMatch(/Secret \(shown once.*\): whsec_\S+/);
  const id = /webhook (wh_[0-9a-f]+)/.exec(added.stdout)![1]!;
  expect(cli(['webhooks', 'add', 'ftp://x.example/', '--events', 'flow.done'], { home }).code).toBe(64);
  expect(cli(['webhooks', 'add', 'https://x.example/', '--events', 'flow.exploded'], { home }).stderr).toContain('unknown event type flow.exploded');
  expect(cli(['webhooks', 'add', 'https://x.example/', '--partner', 'NOP001'], { home }).code).toBe(64);
  const listed = JSON.parse(cli(['webhooks', 'list', '--json'], { home }).stdout);
  expect(listed).toEqual([expect.objectContaining({ id, url: 'https://erp.example/hook', owner: 'ACM001', events: ['flow.refused', 'invoice.status'] })]);
  expect(JSON.stringify(listed)).not.toContain('whsec_');
  expect(cli(['webhooks', 'deliveries', '--failed'], { home }).stdout).toContain('(none)');
  expect(cli(['webhooks', 'remove', id], { home }).code).toBe(0);
  expect(cli(['webhooks', 'remove', id], { home }).code).toBe(3);
  const metrics = cli(['metrics'], { home });
  expect(metrics.code).toBe(0);
  expect(metrics.stdout).toContain('# TYPE factflow_flows_total counter');
  expect(metrics.stdout).toContain('factflow_inbox_files 0');
});

test('purge removes old notification events once their deliveries are finished, and keeps those still pending', async () => {
  const hub = await trackedHub({ ...FAST, notifyRetryBaseMs: 60_000 });
  const up = await receiver();
  const down = await receiver();
  await down.close();
  await addWebhook(hub.ledger, { url: up.url, events: ['flow.done'] });
  await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true });
  const dispatcher = startDispatcher(hub);
  await dispatcher.idle();
  // A hook that cannot be reached, for the next flow only.
  await addWebhook(hub.ledger, { url: down.url, events: ['flow.done'] });
  await processFile(hub, fixture('mixed', 'partial.xml'), { copy: true });
  await dispatcher.idle();
  await dispatcher.stop();
  await up.close();
  const pending = await webhookDeliveries(hub.ledger, { state: 'pending' });
  expect(pending).toHaveLength(1);
  const { purgeNotifications } = await import('../src/app/maintenance.js');
  // 8 + 2 status events, the first flow's done event: finished; the second's flow.done still has a delivery pending.
  expect(await purgeNotifications(hub, new Date(Date.now() + 1000).toISOString())).toBe(11);
  // That event is kept whole: its pending delivery, and the one made to the other hook.
  const kept = await webhookDeliveries(hub.ledger, { limit: 100 });
  expect(kept.map((d) => d.state).sort()).toEqual(['delivered', 'pending']);
  expect(new Set(kept.map((d) => d.event_id))).toEqual(new Set([pending[0]!.event_id]));
  expect((await webhookDeliveries(hub.ledger, { failed: true, withAttempts: true }))[0]!.attemptLog).toHaveLength(1);
});
