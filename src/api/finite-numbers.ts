import type { FastifyInstance } from 'fastify';
import { badRequest } from './problem.js';

/**
 * Refuses non-finite numbers after validation. Ajv coerces the query string `Infinity` or `1e400` to Infinity and
 * then skips `minimum`/`maximum` for it (it checks them only for finite numbers), and JSON.parse reads `1e400` in
 * a body as Infinity too; the store cannot take either (`LIMIT Infinity` fails).
 */
export function installFiniteNumberGuard(app: FastifyInstance): void {
  app.addHook('preHandler', async (request) => {
    for (const [where, value] of [
      ['querystring', request.query],
      ['params', request.params],
      ['body', request.body],
    ] as const) {
      const path = findNonFinite(value, where, 0);
      if (path) throw badRequest(`${path} must be a finite number`);
    }
  });
}

function findNonFinite(value: unknown, path: string, depth: number): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : path;
  if (depth > 8 || value === null || typeof value !== 'object') return null;
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const found = findNonFinite(item, `${path}/${key}`, depth + 1);
    if (found) return found;
  }
  return null;
}
