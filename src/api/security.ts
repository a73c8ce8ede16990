import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiToken } from '../config/daemon/index.js';
import { isLoopback } from './bind.js';
import { applySecurityHeaders } from './headers.js';
import { HttpProblem } from './problem.js';

export interface SecurityOptions {
  readonly tokens: readonly ApiToken[];
  /** The address the API is bound to (serve's api.host); with no tokens, the only non-loopback Host accepted. */
  readonly host?: string;
}

/** Methods that change state; every other method must be safe (RFC 9110 §9.2.1). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Browser-facing defences, installed before any route:
 * - a state-changing request that a browser marks as cross-site (`Sec-Fetch-Site: cross-site`) or that carries
 *   an `Origin` other than the Host it was sent to is refused with 403 (a tokenless loopback daemon is otherwise
 *   open to any web page the operator visits: a form POST needs no CORS preflight);
 * - with auth off, a Host that is not loopback or the bound address is refused with 421 (DNS rebinding: a page
 *   on evil.example whose name now resolves to 127.0.0.1 sends `Host: evil.example`);
 * - security headers on every response; `Cache-Control: no-store` on /api and /metrics.
 */
export function installSecurity(app: FastifyInstance, options: SecurityOptions): void {
  const checkHost = options.tokens.length === 0;
  const boundHost = options.host ? hostnameOf(options.host) : null;
  app.addHook('onRequest', async (request) => {
    if (checkHost) {
      const host = request.headers.host;
      if (host !== undefined && !isLoopback(hostnameOf(host)) && hostnameOf(host) !== boundHost) {
        throw new HttpProblem(
          421,
          'misdirected-request',
          'Misdirected Request',
          `this daemon does not answer for host ${JSON.stringify(host.slice(0, 100))}`,
          'without API tokens the daemon answers only requests addressed to a loopback name (localhost, ' +
            '127.0.0.1, [::1]); configure api.tokens to serve other names',
        );
      }
    }
    if (!SAFE_METHODS.has(request.method)) refuseCrossSite(request);
  });
  app.addHook('onSend', async (request, reply, payload) => {
    applySecurityHeaders(reply, request.url);
    return payload;
  });
}

function refuseCrossSite(request: FastifyRequest): void {
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site') throw crossSite('the browser marked it Sec-Fetch-Site: cross-site');
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let originHost: string | null = null;
  try {
    originHost = origin === 'null' ? null : new URL(origin).host.toLowerCase(); // URL drops a default port
  } catch {
    originHost = null; // not a URL: treated like the opaque origin "null"
  }
  if (originHost === null || originHost !== withoutDefaultPort((request.headers.host ?? '').toLowerCase())) {
    throw crossSite(`its Origin ${JSON.stringify(origin.slice(0, 100))} is not this API's own origin`);
  }
}

const crossSite = (why: string) =>
  new HttpProblem(
    403,
    'cross-site-request',
    'Forbidden',
    `a state-changing request from another site is refused: ${why}`,
    'call the API from a script, curl or a server (they send no Origin), or from a page served by this daemon',
  );

/** `Host: localhost:80` names the same origin as `Origin: http://localhost`. */
const withoutDefaultPort = (host: string): string => host.replace(/:(80|443)$/, '');

/** Host header or address without its port, lowercase (`[::1]:8080` → `[::1]`, `Example.com:80` → `example.com`). */
function hostnameOf(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1 || undefined);
  // A bare IPv6 address (a bind address, never a Host header) has several colons.
  return h.split(':').length > 2 ? `[${h}]` : (h.split(':')[0] ?? h);
}
