/**
 * The operators' console in a real browser (Debian's Chromium through puppeteer-core) over a
 * real server, ledger and files. Screenshots go to /tmp/factflow-console-*.png. Skipped when
 * /usr/bin/chromium is absent.
 */
import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { processFile } from '../src/app/run.js';
import { issueToken } from '../src/app/tokens.js';
import type { Hub } from '../src/hub.js';
import { buildServer } from '../src/http/server.js';
import { closeHubs, fixture, tempDir, trackedHub } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const maybe = fs.existsSync(CHROMIUM) ? describe : describe.skip;

maybe('console in Chromium', () => {
  let hub: Hub;
  let app: FastifyInstance;
  let base: string;
  let token: string;
  let browser: import('puppeteer-core').Browser;
  let page: import('puppeteer-core').Page;
  const flows: Record<string, string> = {};

  beforeAll(async () => {
    hub = await trackedHub();
    for (const [key, file] of [['three', ['mixed', 'three-recipients.xml']], ['partial', ['mixed', 'partial.xml']], ['routing', ['mixed', 'routing-errors.xml']], ['schema', ['mixed', 'schema-invalid.xml']], ['ubl', ['ubl', 'invoice-commune.xml']]] as const) {
      flows[key] = (await processFile(hub, fixture(...file), { copy: true }))!.id;
    }
    token = await issueToken(hub, 'operator', 'alice');
    app = await buildServer(hub);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    const puppeteer = (await import('puppeteer-core')).default;
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${tempDir('chromium-')}`],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1366, height: 768 });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await closeHubs();
  });

  const shot = (name: string) => page.screenshot({ path: `/tmp/factflow-console-${name}.png`, fullPage: true });
  const text = () => page.evaluate(() => document.body.innerText);

  test('login: a wrong token is refused; an operator token opens the dashboard', async () => {
    await page.goto(`${base}/console`);
    expect(page.url()).toContain('/console/login');
    await page.type('input[name=token]', 'ff_wrong');
    await Promise.all([page.waitForNavigation(), page.click('button.primary')]);
    expect(await text()).toContain('Refused');
    await page.type('input[name=token]', token);
    await Promise.all([page.waitForNavigation(), page.click('button.primary')]);
    expect(new URL(page.url()).pathname).toBe('/console');
    const cookie = (await browser.cookies()).find((c) => c.name === 'factflow_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const body = await text();
    expect(body).toMatch(/flows by state/i);
    expect(body).toContain('ROUTE_RECIPIENT_UNKNOWN');
    expect(await page.$$eval('.chart svg rect', (r) => r.length)).toBe(48);
    await shot('dashboard');
  }, 60_000);

  test('the queue lists refused and partial flows; replay is a CSRF-checked form', async () => {
    await page.goto(`${base}/console/queue`);
    const body = await text();
    for (const key of ['partial', 'routing']) expect(body).toContain(flows[key]);
    expect(body).not.toContain(flows.three);
    await shot('queue');
    // A form without the CSRF token (another site's) is refused.
    const forged = await page.evaluate(async (url) => (await fetch(url, { method: 'POST', body: new URLSearchParams({ csrf: 'x' }) })).status, `${base}/console/flows/${flows.partial}/replay`);
    expect(forged).toBe(403);
    await Promise.all([page.waitForNavigation(), page.click(`form[action="/console/flows/${flows.partial}/replay"] button`)]);
    expect(await text()).toMatch(new RegExp(`${flows.partial} replayed: 0 of 2 invoice\\(s\\) accepted now`));
  }, 60_000);

  test("a flow's page: invoices, errors with line and element, downloads", async () => {
    await page.goto(`${base}/console/flows/${flows.partial}`);
    const body = await text();
    expect(body).toContain('RULE_AMOUNT_TTC_MISMATCH');
    expect(body).toMatch(/line \d+/);
    const links = await page.$$eval('.downloads a', (as) => as.map((a) => (a as HTMLAnchorElement).href));
    expect(links.some((l) => l.includes('docType=Original'))).toBe(true);
    expect(links.some((l) => l.includes('docType=Converted'))).toBe(true);
    expect(links.some((l) => l.includes('docType=ReadableView'))).toBe(true);
    await shot('flow');
    const pivot = await page.evaluate(async (url) => (await fetch(url)).text(), links.find((l) => l.includes('docType=Converted'))!);
    expect(pivot).toContain('CPPFacturePivot');
    await page.goto(`${base}/console/flows/${flows.schema}`);
    expect(await text()).toContain('SCHEMA_INVALID');
  }, 60_000);

  test('invoice search, an invoice history, the directory', async () => {
    await page.goto(`${base}/console/invoices?supplier=81234567800013`);
    expect(await text()).toContain('FA-2026-0001');
    await shot('invoices');
    await Promise.all([page.waitForNavigation(), page.click('table a[href^="/console/invoices/"]')]);
    const history = await text();
    expect(history).toContain('DEPOSEE');
    expect(history).toContain('MISE_A_DISPOSITION');
    await shot('invoice');
    await page.goto(`${base}/console/directory?siret=11000201100044`);
    expect(await text()).toContain('SGAMI-SUD');
    await shot('directory');
    await page.goto(`${base}/console/directory?siret=44100002200018`);
    expect(await text()).toContain('not in the directory');
    await page.goto(`${base}/docs`);
    expect(await text()).toContain('/v1/flows/search');
    await shot('docs');
  }, 60_000);

  test('notifications: the webhooks and their deliveries, with the last error', async () => {
    const { addWebhook } = await import('../src/notify/webhooks.js');
    const { webhook } = await addWebhook(hub.ledger, { url: 'http://127.0.0.1:9/down', events: ['flow.refused'] });
    await hub.ledger.transaction(async (tx) => {
      await tx.notify.add([{ id: 'ev-console-1', type: 'flow.refused', at: new Date().toISOString(), seq: 1, flowId: flows.schema!, invoiceId: null, partner: null, suppliers: [], recipients: [], payload: {} }]);
      await tx.notify.fanOut('ev-console-1', [{ id: 'dl-console-1', eventId: 'ev-console-1', channel: 'webhook', target: webhook.id, address: webhook.url, nextAt: Date.now() + 60_000, createdAt: new Date().toISOString() }]);
      await tx.notify.recordAttempt({ deliveryId: 'dl-console-1', attempt: 1, at: new Date().toISOString(), ok: false, error: 'connect ECONNREFUSED 127.0.0.1:9', nextAt: Date.now() + 60_000, state: 'pending' });
    });
    await page.goto(`${base}/console/notifications?failed=1`);
    const body = await text();
    expect(body).toContain(webhook.id);
    expect(body).toContain('http://127.0.0.1:9/down');
    expect(body).toContain('ECONNREFUSED');
    await shot('notifications');
  }, 60_000);
});
