import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiDeps } from '../app.js';
import { actorOf } from '../auth.js';
import { parseInstant, parseOptionalInstant } from '../params.js';
import { badRequest, notFound } from '../problem.js';
import { writable, ActionBody, FindingDetail, FindingPage, FindingsQuery, Finding, IdParams, Problem, SnoozeBody } from '../schemas.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem };

/** /api/v1/findings: list (filters, cursor pagination, severity then impact), detail with events, actions. */
export const findingRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  const { findings } = deps.store;

  app.get(
    '/findings',
    {
      schema: {
        tags: ['findings'],
        summary: 'Findings sorted by severity (critical first), then impact',
        description: 'Pass `nextCursor` back as `cursor` for the next page. Repeat `severity` / `status` to select several.',
        querystring: FindingsQuery,
        response: { 200: FindingPage, ...errors },
      },
    },
    async (request) => {
      const q = request.query;
      // The registered rules are only known at build time, so this enum is checked here, not in the schema.
      if (q.rule !== undefined && !deps.rules.some((r) => r.id === q.rule)) {
        const valid = deps.rules.map((r) => r.id).join(', ');
        throw badRequest(`querystring/rule ${q.rule} is not a registered rule; must be one of: ${valid}`, 'GET /api/v1/rules lists the rules');
      }
      return writable(
        await findings.listFindings(
          { target: q.target, rule: q.rule, severity: q.severity, status: q.status, since: parseOptionalInstant(q.since, 'since') },
          { cursor: q.cursor, limit: q.limit },
        ),
      );
    },
  );

  app.get(
    '/findings/:id',
    { schema: { tags: ['findings'], summary: 'One finding with its event history', params: IdParams, response: { 200: FindingDetail, ...errors } } },
    async (request) => {
      const found = await findings.findFinding(request.params.id);
      if (!found) throw notFound(`no finding ${request.params.id}`);
      return writable(found);
    },
  );

  // A POST without a body (curl -X POST) is an empty note, not a validation error.
  const emptyBody = (request: { body: unknown }, _reply: unknown, done: () => void) => {
    request.body ??= {};
    done();
  };
  const action = { tags: ['findings'], params: IdParams, response: { 200: Finding, ...errors }, security: [{ bearer: [] }] };

  app.post(
    '/findings/:id/acknowledge',
    { schema: { ...action, summary: 'Acknowledge (admin)', body: ActionBody }, config: { scope: 'admin' }, preValidation: emptyBody },
    async (request) => {
      const done = await findings.acknowledge(request.params.id, { actor: actorOf(request), note: request.body.note });
      if (!done) throw notFound(`no finding ${request.params.id}`);
      return writable(done);
    },
  );

  app.post(
    '/findings/:id/snooze',
    { schema: { ...action, summary: 'Snooze until a time (admin); it reopens early if its severity escalates', body: SnoozeBody }, config: { scope: 'admin' } },
    async (request) => {
      const until = parseInstant(request.body.until, 'until');
      if (until.getTime() <= Date.now()) throw badRequest(`until ${request.body.until} is not in the future`);
      const done = await findings.snooze(request.params.id, until, { actor: actorOf(request), note: request.body.note });
      if (!done) throw notFound(`no finding ${request.params.id}`);
      return writable(done);
    },
  );

  app.post(
    '/findings/:id/reopen',
    { schema: { ...action, summary: 'Reopen (admin)', body: ActionBody }, config: { scope: 'admin' }, preValidation: emptyBody },
    async (request) => {
      const done = await findings.reopen(request.params.id, { actor: actorOf(request), note: request.body.note });
      if (!done) throw notFound(`no finding ${request.params.id}`);
      return writable(done);
    },
  );
};
