import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiDeps } from '../app.js';
import { notFound } from '../problem.js';
import { DestinationList, NameParams, Problem, TestDelivery } from '../schemas.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem };

/**
 * Chat destinations of audits: list them (URLs masked) and send a test message (admin). Registered
 * when the daemon has notifications wired (serve always has). Audit deliveries are listed with the
 * audits (`GET /targets/{name}/audits`).
 */
export const auditRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  const notifications = deps.daemon?.notifications;
  if (!notifications) return;

  app.get(
    '/destinations',
    { schema: { tags: ['audits'], summary: 'Chat destinations of audits (URLs masked)', response: { 200: DestinationList, ...errors } } },
    async () => ({ items: [...notifications.destinations()] }),
  );

  app.post(
    '/destinations/:name/test',
    {
      schema: {
        tags: ['audits'],
        summary: 'Send a test message to a destination now (admin)',
        params: NameParams,
        response: { 200: TestDelivery, ...errors },
        security: [{ bearer: [] }],
      },
      config: { scope: 'admin' },
    },
    async (request) => {
      const result = await notifications.sendTest(request.params.name);
      if (!result) throw notFound(`no destination ${request.params.name}`);
      return { destination: request.params.name, status: result.status, attempts: result.attempts, httpStatus: result.httpStatus, error: result.lastError };
    },
  );
};
