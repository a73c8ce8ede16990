import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { describeRule } from '../../report/rules.js';
import type { ApiDeps } from '../app.js';
import { Problem, RuleList, writable } from '../schemas.js';

/** /api/v1/rules: every rule with its thresholds and docs. */
export const ruleRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  const body = writable({ items: deps.rules.map(describeRule) });
  app.get('/rules', { schema: { tags: ['rules'], summary: 'Rules, thresholds and docs', response: { 200: RuleList, 401: Problem } } }, async () => body);
};
