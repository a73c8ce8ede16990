import type { FastifyReply } from 'fastify';

/** The API's own responses: JSON and text, never a document that loads anything or may be framed. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'";
/** The docs UI loads its own scripts and styles (@fastify/swagger-ui); it still may not be framed. */
const DOCS_CSP = "frame-ancestors 'none'";

/**
 * Security headers of every response: no MIME sniffing, no framing, no referrer, a CSP (strict but for the docs
 * UI, unless a route set its own), and `Cache-Control: no-store` on /api and /metrics (data, possibly private).
 */
export function applySecurityHeaders(reply: FastifyReply, url: string): void {
  const path = url.split('?')[0] ?? '';
  reply.header('x-content-type-options', 'nosniff');
  reply.header('x-frame-options', 'DENY');
  reply.header('referrer-policy', 'no-referrer');
  const docs = path === '/docs' || path.startsWith('/docs/');
  if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', docs ? DOCS_CSP : API_CSP);
  if (path.startsWith('/api/') || path === '/metrics') reply.header('cache-control', 'no-store');
}
