/**
 * Every route says who may call it (`config.auth`): `none` (the health check, the console's
 * login page), `token` (a partner's or an operator's), or `operator`. The token comes as
 * `Authorization: Bearer …`, or, for the console's pages and GET requests, in its HttpOnly
 * cookie (never for an API POST: a cookie is sent by the browser on its own, a header is not).
 */
import crypto from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, type Principal } from '../app/tokens.js';
import type { Hub } from '../hub.js';
import { ApiError } from './errors.js';

export type AuthLevel = 'none' | 'token' | 'operator';
export const SESSION_COOKIE = 'factflow_session';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /** The raw token the request came with (the console derives its CSRF token from it). */
    token?: string;
  }
  interface FastifyContextConfig {
    auth?: AuthLevel;
  }
}

export function cookieOf(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** The console's forms carry this; a page of another site cannot know it. */
export const csrfTokenOf = (token: string): string => crypto.createHash('sha256').update(`csrf\u0000${token}`).digest('base64url').slice(0, 32);

const isConsole = (url: string) => url === '/' || url.startsWith('/console') || url.startsWith('/docs');

export function authHook(hub: Hub) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const level = req.routeOptions.config?.auth ?? 'token';
    if (level === 'none') return;
    const header = req.headers.authorization;
    const bearer = header && /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const cookie = !bearer && (req.method === 'GET' || isConsole(req.url)) ? cookieOf(req, SESSION_COOKIE) : undefined;
    const token = bearer || cookie;
    const consolePage = isConsole(req.url) && !bearer && /text\/html/.test(String(req.headers.accept ?? ''));
    if (!token) {
      if (consolePage && req.method === 'GET') return void reply.redirect(`/console/login?next=${encodeURIComponent(req.url)}`, 303);
      reply.header('WWW-Authenticate', 'Bearer realm="factflow"');
      throw new ApiError('MISSING_TOKEN', header ? 'the Authorization header must be "Bearer <token>"' : 'this route needs a token: Authorization: Bearer <token> (factflow partners token <code>, factflow operators add <name>)');
    }
    const who = await authenticate(hub, token);
    if ('refused' in who) {
      if (consolePage && req.method === 'GET') return void reply.redirect(`/console/login?next=${encodeURIComponent(req.url)}&why=${encodeURIComponent(who.refused)}`, 303);
      reply.header('WWW-Authenticate', 'Bearer realm="factflow", error="invalid_token"');
      throw new ApiError('INVALID_TOKEN', who.refused);
    }
    if (level === 'operator' && who.kind !== 'operator') throw new ApiError('FORBIDDEN_ACCESS', `only operators may do this; the token is partner ${who.partner.code}'s`);
    if (cookie && who.kind !== 'operator') throw new ApiError('FORBIDDEN_ACCESS', 'the console is for operators; partners use the API with their bearer token');
    req.principal = who;
    req.token = token;
  };
}
