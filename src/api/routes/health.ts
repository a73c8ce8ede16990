import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiDeps } from '../app.js';
import { Health, Problem } from '../schemas.js';
import { HttpProblem } from '../problem.js';

/** Liveness and readiness: public, not rate limited. */
export const healthRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    '/healthz',
    { schema: { tags: ['health'], summary: 'Liveness', response: { 200: Health }, security: [] }, config: { rateLimit: false } },
    async () => ({
      status: 'ok',
    }),
  );
  app.get(
    '/readyz',
    {
      schema: { tags: ['health'], summary: 'Readiness: the store answers', response: { 200: Health, 503: Problem }, security: [] },
      config: { rateLimit: false },
    },
    async () => {
      try {
        await deps.store.ping();
      } catch {
        throw new HttpProblem(503, 'unavailable', 'Service Unavailable', 'the store does not answer');
      }
      return { status: 'ready' };
    },
  );
};
