/**
 * The dispatcher (run by the daemon): fans each outbox event out to the webhooks and partner
 * e-mail addresses it concerns, one durable delivery per pair, then makes the deliveries that
 * are due: a signed POST, or an e-mail. A failed attempt is retried with capped exponential
 * backoff; every attempt is logged in the ledger. A delivery is marked done only after its
 * receiver accepted it, so a crash or a restart sends it again: at least once, and the event
 * id in every call lets receivers drop a repeat.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type { Hub } from '../hub.js';
import type { DueDelivery, NewDelivery, NotifyEventRow } from '../ledger/stores.js';
import type { Partner } from '../route/partners.js';
import { attemptCounts } from '../metrics/counters.js';
import { retryDelay, type RetryPolicy } from './backoff.js';
import { concerns, eventBody } from './events.js';
import { mailOf, mailWanted } from './mail.js';
import { HEADERS, sign } from './signature.js';

const FAN_OUT_BATCH = 200;
const SEND_BATCH = 50;
const PARALLEL_SENDS = 4;

export interface Dispatcher {
  /** Runs a cycle now (after a change the caller knows of). */
  poke(): void;
  /** Resolves when every due delivery has been tried and no event waits to be fanned out (tests). */
  idle(): Promise<void>;
  /** Finishes the cycle under way and stops. */
  stop(): Promise<void>;
}

interface Outcome {
  ok: boolean;
  status?: number;
  error?: string;
  /** The delivery cannot be made any more (its hook or address is gone). */
  cancel?: boolean;
}

export function smtpTransport(hub: Hub): Transporter | undefined {
  const s = hub.settings;
  if (s.smtpHost === 'off') return undefined;
  const auth = s.smtpUser !== 'none' ? { user: s.smtpUser, pass: process.env.FACTFLOW_SMTP_PASSWORD ?? '' } : undefined;
  return nodemailer.createTransport({ host: s.smtpHost, port: s.smtpPort, secure: s.smtpSecure, ...(auth ? { auth } : {}), connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 });
}

/** The deliveries an event makes: each hook of its type that may see it, each partner address that should hear of it. */
export function deliveriesOf(e: NotifyEventRow, hooks: { id: string; url: string; events: string[]; owner: string | null; createdAt: string }[], partners: Partner[], mail: boolean, nowMs: number): NewDelivery[] {
  const byCode = new Map(partners.map((p) => [p.code, p]));
  const createdAt = new Date(nowMs).toISOString();
  const out: NewDelivery[] = [];
  for (const h of hooks) {
    if (h.events.length && !h.events.includes(e.type)) continue;
    // A hook hears of what happened after it was made.
    if (h.createdAt > e.at) continue;
    if (h.owner) {
      const owner = byCode.get(h.owner);
      if (!owner || !concerns(owner, e)) continue;
    }
    out.push({ id: `${e.id}:webhook:${h.id}`, eventId: e.id, channel: 'webhook', target: h.id, address: h.url, nextAt: nowMs, createdAt });
  }
  if (mail && mailWanted(e.type, JSON.parse(e.payload))) {
    for (const p of partners) {
      if (p.email && concerns(p, e)) out.push({ id: `${e.id}:email:${p.code}`, eventId: e.id, channel: 'email', target: p.code, address: p.email, nextAt: nowMs, createdAt });
    }
  }
  return out;
}

export function startDispatcher(hub: Hub): Dispatcher {
  const { ledger, log, settings } = hub;
  const policy: RetryPolicy = { baseMs: settings.notifyRetryBaseMs, maxMs: settings.notifyRetryMaxMs, maxAttempts: Math.max(1, settings.notifyMaxAttempts) };
  const transport = smtpTransport(hub);
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let problem: string | undefined;
  let idleWaiters: (() => void)[] = [];

  async function fanOut(): Promise<boolean> {
    const events = await ledger.notify.unfanned(FAN_OUT_BATCH);
    if (!events.length) return false;
    const [hooks, partners] = await Promise.all([ledger.webhooks.list(), ledger.partners.list()]);
    const now = Date.now();
    await ledger.transaction(async (tx) => {
      for (const e of events) await tx.notify.fanOut(e.id, deliveriesOf(e, hooks, partners, !!transport, now));
    });
    return events.length === FAN_OUT_BATCH;
  }

  async function post(d: DueDelivery, attempt: number): Promise<Outcome> {
    const hook = await ledger.webhooks.get(d.target);
    if (!hook) return { ok: false, error: 'the webhook was removed', cancel: true };
    const body = eventBody(d);
    const timestamp = String(Math.floor(Date.now() / 1000));
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'factflow-webhooks',
          [HEADERS.eventId]: d.event_id,
          [HEADERS.eventType]: d.event_type,
          [HEADERS.timestamp]: timestamp,
          [HEADERS.signature]: sign(hook.secret, timestamp, body),
          [HEADERS.attempt]: String(attempt),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(settings.webhookTimeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      return res.ok ? { ok: true, status: res.status } : { ok: false, status: res.status, error: `HTTP ${res.status} ${res.statusText}`.trim() };
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      return { ok: false, error: cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e)) };
    }
  }

  async function mail(d: DueDelivery): Promise<Outcome> {
    const partner = await ledger.partners.get(d.target);
    if (!partner?.email) return { ok: false, error: 'the partner or its e-mail address was removed', cancel: true };
    if (!transport) return { ok: false, error: 'SMTP is off (smtpHost)' };
    const m = mailOf(d.event_id, d.event_type, JSON.parse(d.payload));
    try {
      await transport.sendMail({ from: settings.smtpFrom, to: partner.email, subject: m.subject, text: m.text, html: m.html, headers: { 'X-Factflow-Event-Id': d.event_id, 'X-Factflow-Event': d.event_type } });
      return { ok: true };
    } catch (e) {
      const err = e as { responseCode?: number; message?: string };
      return { ok: false, ...(err.responseCode ? { status: err.responseCode } : {}), error: err.message ?? String(e) };
    }
  }

  async function attempt(d: DueDelivery): Promise<void> {
    const n = d.attempts + 1;
    const outcome = d.channel === 'webhook' ? await post(d, n) : await mail(d);
    const at = new Date().toISOString();
    const delay = outcome.ok || outcome.cancel ? undefined : retryDelay(policy, n);
    const state = outcome.ok ? 'delivered' : outcome.cancel ? 'cancelled' : delay === undefined ? 'failed' : 'pending';
    await ledger.transaction(async (tx) => {
      await tx.notify.recordAttempt({ deliveryId: d.id, attempt: n, at, ok: outcome.ok, status: outcome.status, error: outcome.error, nextAt: delay === undefined ? undefined : Date.now() + delay, state });
      if (!outcome.cancel) await tx.counters.add(attemptCounts(d.channel, outcome.ok ? 'delivered' : state === 'failed' ? 'failed' : 'retry'));
    });
    const fields = { eventId: d.event_id, event: d.event_type, channel: d.channel, target: d.target, attempt: n };
    if (outcome.ok) log.debug(`${d.channel} delivered to ${d.address}`, fields);
    else if (state === 'pending') log.warn(`${d.channel} to ${d.address} failed (${outcome.error}); retry in ${Math.round(delay! / 1000)} s`, fields);
    else log.warn(`${d.channel} to ${d.address} ${state === 'failed' ? `given up after ${n} attempts` : 'cancelled'}: ${outcome.error}`, fields);
  }

  async function sendDue(): Promise<boolean> {
    const due = await ledger.notify.due(Date.now(), SEND_BATCH);
    for (let i = 0; i < due.length && !stopped; i += PARALLEL_SENDS) await Promise.all(due.slice(i, i + PARALLEL_SENDS).map(attempt));
    return due.length === SEND_BATCH;
  }

  async function cycle(): Promise<void> {
    do {
      again = false;
      try {
        const moreEvents = await fanOut();
        const moreDue = await sendDue();
        again ||= moreEvents || moreDue;
        if (problem) log.info('notifications: the ledger answers again'), (problem = undefined);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        if (problem !== message) log.warn(`notifications: ${message}`);
        problem = message;
      }
    } while (again && !stopped);
    if (!stopped) await wakeIdle();
  }

  /** Idle waiters are released once nothing is fanned out and nothing pending is due now. */
  async function wakeIdle(): Promise<void> {
    if (!idleWaiters.length) return;
    const next = await ledger.notify.nextDue().catch(() => undefined);
    const unfanned = await ledger.notify.unfanned(1).catch(() => []);
    if (unfanned.length || (next !== undefined && next <= Date.now())) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    waiters.forEach((w) => w());
  }

  const run = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = cycle().finally(() => (running = undefined));
  };
  const timer = setInterval(run, Math.max(50, settings.notifyIntervalMs));
  run();

  return {
    poke: run,
    idle: () => new Promise<void>((resolve) => {
      idleWaiters.push(resolve);
      run();
    }),
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      transport?.close();
    },
  };
}
