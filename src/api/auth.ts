import { createHash, timingSafeEqual } from 'node:crypto';
import bearerAuth from '@fastify/bearer-auth';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiToken, TokenScope } from '../config/daemon/index.js';
import { must } from '../errors/must.js';
import { forbidden } from './problem.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Scope and name of the token that authenticated the request (null when auth is off). */
    principal: { readonly name: string; readonly scope: TokenScope } | null;
  }
  interface FastifyContextConfig {
    /** Scope a route needs; default read. */
    scope?: TokenScope;
  }
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** The token matching `presented`, compared in constant time over fixed-length digests; every token is compared. */
export function findToken(tokens: readonly ApiToken[], presented: string): ApiToken | undefined {
  const p = digest(presented);
  let match: ApiToken | undefined;
  for (const t of tokens) if (timingSafeEqual(digest(t.token), p) && !match) match = t;
  return match;
}

/**
 * Bearer-token auth for the routes registered in `scope`: a read token may read, an admin token may
 * also act. With no tokens configured auth is off (serve refuses to bind a non-loopback address then).
 */
export async function installAuth(scope: FastifyInstance, tokens: readonly ApiToken[]): Promise<void> {
  if (tokens.length === 0) {
    scope.decorateRequest('principal', null);
    return;
  }
  await scope.register(bearerAuth, {
    keys: tokens.map((t) => t.token),
    addHook: false,
    // RFC 6749: the scheme name is case-insensitive (`bearer …` from some clients is as valid as `Bearer …`).
    specCompliance: 'rfc6749',
    verifyErrorLogLevel: 'debug',
    auth: (key: string, request: FastifyRequest) => {
      const token = findToken(tokens, key);
      if (token) request.principal = { name: token.name, scope: token.scope };
      return token !== undefined;
    },
  });
  scope.decorateRequest('principal', null);
  // preParsing, not onRequest: the rate limiter (a route-level onRequest hook, which runs after every
  // instance-level onRequest hook) must count failed attempts too, or a flood of wrong tokens is never
  // limited. Still before the body is read, so an unauthenticated body is never parsed.
  scope.addHook('preParsing', (request, reply, payload, done) => {
    const verifyBearerAuth = must(scope.verifyBearerAuth, 'the verifyBearerAuth decorator of @fastify/bearer-auth');
    verifyBearerAuth(request, reply, (error?: Error) => {
      if (error) return done(error);
      const needs = request.routeOptions.config.scope ?? 'read';
      if (needs === 'admin' && request.principal?.scope !== 'admin')
        return done(forbidden(`this action needs the admin scope; token ${request.principal?.name ?? '?'} has ${request.principal?.scope ?? 'none'}`));
      done(null, payload);
    });
  });
}

/** Who performed an action, for finding events. */
export function actorOf(request: FastifyRequest): string {
  return request.principal?.name ?? 'anonymous';
}
