/**
 * Webhook signatures: HMAC-SHA256, keyed with the subscription's secret, of
 * `<timestamp>.<body>` (the timestamp in Unix seconds, as sent in `X-Factflow-Timestamp`),
 * sent as `X-Factflow-Signature: v1=<hex>`. The timestamp inside the signed text lets a
 * receiver refuse a replayed old call.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const HEADERS = {
  eventId: 'x-factflow-event-id',
  eventType: 'x-factflow-event',
  timestamp: 'x-factflow-timestamp',
  signature: 'x-factflow-signature',
  attempt: 'x-factflow-delivery-attempt',
} as const;

/** A new subscription's secret: 32 random bytes, `whsec_` + base64url. */
export const newSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;

export const sign = (secret: string, timestamp: string | number, body: string | Buffer): string =>
  `v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;

/**
 * For receivers: whether `signature` (the header's value) signs this timestamp and raw body,
 * and the timestamp is within `toleranceSeconds` of now (default 5 minutes; 0 skips the check).
 */
export function verifySignature(secret: string, timestamp: string | number, body: string | Buffer, signature: string, toleranceSeconds = 300, nowMs = Date.now()): boolean {
  const ts = Number(timestamp);
  if (!Number.isFinite(ts)) return false;
  if (toleranceSeconds > 0 && Math.abs(nowMs / 1000 - ts) > toleranceSeconds) return false;
  const expected = Buffer.from(sign(secret, timestamp, body));
  const given = Buffer.from(String(signature));
  return expected.length === given.length && timingSafeEqual(expected, given);
}
