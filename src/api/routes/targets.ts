import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { parseDuration } from '../../config/duration.js';
import type { LeaseState, TargetRecord } from '../../store/index.js';
import type { ApiDeps } from '../app.js';
import { parseOptionalInstant } from '../params.js';
import { presentedState } from '../target-state.js';
import { badRequest, HttpProblem, notFound } from '../problem.js';
import { auditRoutes } from './audits.js';
import {
  Audit,
  AuditBody,
  AuditList,
  AuditWithDeliveries,
  NameIdParams,
  NameParams,
  Problem,
  SeriesList,
  SeriesQuery,
  StatementList,
  StatementsQuery,
  Target,
} from '../schemas.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem };
/** Series listed by metric, then object (code-point order: the same on every store). */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** /api/v1/targets and per-target history: statements, series, audits. */
export const targetRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  const { store, daemon } = deps;
  // Destinations of audits (list, test message) live beside the audits.
  await app.register(auditRoutes, { deps });
  const withJob = (t: TargetRecord, leases: readonly LeaseState[]) => {
    const job = daemon?.jobStatus(t.name);
    const lease = leases.find((l) => l.target === t.name);
    return {
      ...t,
      state: presentedState(t, lease, daemon?.replicaId),
      leaseExpiresAt: lease?.expiresAt ?? null,
      circuit: job?.circuit ?? null,
      running: job?.running ?? false,
    };
  };
  const targetOr404 = async (name: string): Promise<TargetRecord> => {
    const t = await store.targets.findTarget(name);
    if (!t) throw notFound(`no target ${name}`);
    return t;
  };
  const range = (q: { from?: string; to?: string; resolution: 'raw' | 'hour' }) => {
    const from = parseOptionalInstant(q.from, 'from');
    const to = parseOptionalInstant(q.to, 'to');
    if (from && to && from > to) throw badRequest('from is after to');
    return { from, to, resolution: q.resolution };
  };

  app.get(
    '/targets',
    { schema: { tags: ['targets'], summary: 'Targets and their sampling status', response: { 200: Type.Object({ items: Type.Array(Target) }), ...errors } } },
    async () => {
      const leases = await store.leases.listLeaseStates();
      return { items: (await store.targets.listTargets()).map((t) => withJob(t, leases)) };
    },
  );

  app.get(
    '/targets/:name',
    { schema: { tags: ['targets'], summary: 'One target and its sampling status', params: NameParams, response: { 200: Target, ...errors } } },
    async (request) => withJob(await targetOr404(request.params.name), await store.leases.listLeaseStates()),
  );

  app.get(
    '/targets/:name/statements',
    {
      schema: {
        tags: ['history'],
        summary: 'Top statements over a time range by total time, calls or mean time',
        params: NameParams,
        querystring: StatementsQuery,
        response: { 200: StatementList, ...errors },
      },
    },
    async (request) => {
      const t = await targetOr404(request.params.name);
      const q = request.query;
      return { items: await store.samples.topStatements(t.id, { ...range(q), orderBy: q.orderBy, limit: q.limit }) };
    },
  );

  app.get(
    '/targets/:name/series',
    {
      schema: {
        tags: ['history'],
        summary: 'Time series: connections by state, slot utilisation, xid/mxid age, dead tuples and bloat per relation, database size',
        description:
          'The newest `limit` points of the range, each series in ascending time order. When older points of the range ' +
          'remain, `truncated` is true and `nextCursor` fetches the next older page (pass it back as `cursor`).',
        params: NameParams,
        querystring: SeriesQuery,
        response: { 200: SeriesList, ...errors },
      },
    },
    async (request) => {
      const t = await targetOr404(request.params.name);
      const q = request.query;
      const page = await store.samples.listSeriesPage(t.id, { ...range(q), metrics: q.metric, limit: q.limit, cursor: q.cursor });
      const grouped = new Map<string, { metric: string; object: string; points: [string, number][] }>();
      for (const p of page.points) {
        const key = `${p.metric}\u0000${p.object}`;
        let s = grouped.get(key);
        if (!s) grouped.set(key, (s = { metric: p.metric, object: p.object, points: [] }));
        s.points.push([p.at, p.value]);
      }
      const series = [...grouped.values()].sort((a, b) => compare(a.metric, b.metric) || compare(a.object, b.object));
      return { truncated: page.nextCursor !== null, nextCursor: page.nextCursor, series };
    },
  );

  app.get(
    '/targets/:name/audits',
    { schema: { tags: ['audits'], summary: 'Audit history, newest first', params: NameParams, response: { 200: AuditList, ...errors } } },
    async (request) => {
      const t = await targetOr404(request.params.name);
      const audits = await store.audits.listAudits(t.id);
      const deliveries = await store.outbox.listDeliveries(audits.map((a) => a.id));
      return { items: audits.map((a) => ({ ...a, deliveries: deliveries.filter((d) => d.auditId === a.id) })) };
    },
  );

  app.post(
    '/targets/:name/audits',
    {
      schema: {
        tags: ['audits'],
        summary: 'Run an audit now (admin); poll the audit list for its report',
        description: 'At most one audit per target runs at a time: while one runs, this answers 409 with its id in `auditId`.',
        params: NameParams,
        body: AuditBody,
        response: { 202: Audit, ...errors, 409: Problem, 503: Problem },
        security: [{ bearer: [] }],
      },
      config: { scope: 'admin' },
      preValidation: (request, _reply, done) => {
        request.body ??= {};
        done();
      },
    },
    async (request, reply) => {
      await targetOr404(request.params.name);
      if (!daemon) throw new HttpProblem(503, 'unavailable', 'Service Unavailable', 'audits need a running daemon');
      let windowMs: number | null = null;
      if (request.body.window !== undefined) {
        const parsed = parseDuration(request.body.window, { minMs: 1000, maxMs: 600_000, allowZero: true });
        if (!parsed.ok) throw badRequest(parsed.problem);
        windowMs = parsed.ms;
      }
      const audit = await daemon.startAudit(request.params.name, windowMs);
      if (!audit) throw notFound(`target ${request.params.name} is not sampled by this daemon`);
      return reply
        .code(202)
        .header('location', `/api/v1/targets/${encodeURIComponent(request.params.name)}/audits/${audit.id}`)
        .send(audit);
    },
  );

  app.get(
    '/targets/:name/audits/:id',
    {
      schema: {
        tags: ['audits'],
        summary: 'One audit of the target with its report and deliveries (what the Location of a started audit points at)',
        params: NameIdParams,
        response: { 200: AuditWithDeliveries, ...errors },
      },
    },
    async (request) => {
      const t = await targetOr404(request.params.name);
      const audit = await store.audits.findAudit(request.params.id);
      if (!audit || audit.target !== t.name) throw notFound(`target ${t.name} has no audit ${request.params.id}`);
      const deliveries = await store.outbox.listDeliveries([audit.id]);
      return { ...audit, deliveries };
    },
  );
};
