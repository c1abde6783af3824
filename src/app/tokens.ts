/**
 * Bearer tokens of the HTTP API. A token is 32 random bytes, shown once when issued; the ledger
 * keeps only its SHA-256, so a copy of the ledger gives no access. A partner's token acts as that
 * partner (its permissions, read at each request); an operator's sees everything.
 */
import crypto from 'node:crypto';
import type { Hub } from '../hub.js';
import type { TokenRow } from '../ledger/stores.js';
import type { Partner } from '../route/partners.js';

export type Principal = { kind: 'operator'; name: string } | { kind: 'partner'; partner: Partner };

export const hashToken = (token: string): string => crypto.createHash('sha256').update(token, 'utf8').digest('hex');

/** Issues a new token for a partner or an operator; the caller shows it once. */
export async function issueToken(hub: Hub, kind: TokenRow['kind'], subject: string): Promise<string> {
  const token = `ff_${crypto.randomBytes(32).toString('base64url')}`;
  await hub.ledger.transaction((tx) => tx.tokens.add({ hash: hashToken(token), kind, subject, created_at: new Date().toISOString() }));
  return token;
}

export const revokeTokens = (hub: Hub, kind: TokenRow['kind'], subject: string): Promise<number> =>
  hub.ledger.transaction((tx) => tx.tokens.revoke(kind, subject, new Date().toISOString()));

/** Who a token is, or why it is refused. */
export async function authenticate(hub: Hub, token: string): Promise<Principal | { refused: string }> {
  const row = await hub.ledger.tokens.get(hashToken(token));
  if (!row) return { refused: 'the token is not one this hub issued' };
  if (row.revoked_at) return { refused: `the token was revoked at ${row.revoked_at}` };
  if (row.kind === 'operator') return { kind: 'operator', name: row.subject };
  const partner = await hub.ledger.partners.get(row.subject);
  if (!partner) return { refused: `the token's partner ${row.subject} is no longer registered` };
  return { kind: 'partner', partner };
}

/** Operators: names with at least one token, live or revoked. */
export async function operators(hub: Hub): Promise<{ name: string; tokens: number; live: number; since: string }[]> {
  const byName = new Map<string, { name: string; tokens: number; live: number; since: string }>();
  for (const t of await hub.ledger.tokens.list('operator')) {
    const o = byName.get(t.subject) ?? { name: t.subject, tokens: 0, live: 0, since: t.created_at };
    o.tokens++;
    if (!t.revoked_at) o.live++;
    byName.set(t.subject, o);
  }
  return [...byName.values()];
}
