/**
 * Edges a new API user trips over: the text of conflicts and rate limits, the case of the auth scheme,
 * health routes marked public in OpenAPI, a started audit that says where to find it, and a /metrics
 * exposition whose families and types a Prometheus parser accepts.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import type { DaemonControl } from '../../src/api/deps.js';
import { buildApp } from '../../src/api/index.js';
import type { Finding } from '../../src/engine/types.js';
import { createStore, SERIES_METRICS, type Store } from '../../src/store/index.js';
import { makeReport } from '../support/report-fixtures.js';
import { packageVersion } from '../../src/version.js';

const ADMIN = 'admin-token-0123456789';
const auth = (token = ADMIN, scheme = 'Bearer') => ({ authorization: `${scheme} ${token}` });

const finding: Finding = {
  rule: 'table-bloat',
  severity: 'warning',
  title: 't',
  summary: 'bloated',
  object: { type: 'table', schema: 'public', name: 'orders' },
  evidence: {},
  recommendation: { text: 'vacuum' },
  impact: {},
  fingerprint: 'fp-edge-1',
};

describe('API edges', () => {
  let store: Store;
  let app: FastifyInstance;
  let limited: FastifyInstance;

  beforeAll(async () => {
    store = createStore({ dataDir: 'memory://' });
    await store.migrate();
    const [main] = await store.targets.syncTargets([{ name: 'main', maskedUrl: 'postgres://db/main', intervalMs: 15_000 }]);
    await store.findings.applySample(main!.id, new Date(), [finding], []);
    const daemon: DaemonControl = {
      replicaId: 'edge',
      jobStatus: () => undefined,
      metrics: () => [{ target: 'main', samples: 2, errors: 1, durationSecondsSum: 1.5, lastDurationSeconds: 0.7 }],
      async startAudit(name, windowMs) {
        const t = await store.targets.findTarget(name);
        return t ? store.audits.findAudit(await store.audits.startAudit(t.id, { trigger: 'api', windowMs })) : undefined;
      },
    };
    const tokens = [{ name: 'ops', scope: 'admin' as const, token: ADMIN }];
    app = await buildApp({ store, rules: allRules, tokens, daemon, pressure: { maxEventLoopDelayMs: 0 } });
    limited = await buildApp({ store, rules: allRules, tokens, daemon, pressure: { maxEventLoopDelayMs: 0 }, rateLimit: { max: 2, windowMs: 60_000 } });
  });

  afterAll(async () => {
    await app?.close();
    await limited?.close();
    await store?.close();
  });

  it('says which action a finding in the wrong state refuses, in plain words', async () => {
    const id = ((await app.inject({ url: '/api/v1/findings', headers: auth() })).json().items as { id: number }[])[0]!.id;
    const res = await app.inject({ method: 'POST', url: `/api/v1/findings/${id}/reopen`, headers: auth(), payload: {} });
    expect(res.statusCode).toBe(409);
    expect(res.json().detail).toMatch(/; reopen needs status/);
    expect(res.json().detail).not.toMatch(/reopene\b/);
  });

  it('accepts the auth scheme in any case (RFC 6749), and still refuses a wrong token', async () => {
    expect((await app.inject({ url: '/api/v1/targets', headers: auth(ADMIN, 'bearer') })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/v1/targets', headers: auth(ADMIN, 'BEARER') })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/v1/targets', headers: auth('wrong-token-0123456789', 'bearer') })).statusCode).toBe(401);
  });

  it('names the configured window in the 429, not the time left in it', async () => {
    const statuses: number[] = [];
    let last = '';
    for (let i = 0; i < 4; i++) {
      const res = await limited.inject({ url: '/api/v1/targets', headers: auth() });
      statuses.push(res.statusCode);
      if (res.statusCode === 429) last = res.json().detail as string;
    }
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(statuses.slice(2)).toEqual([429, 429]);
    expect(last).toMatch(/^rate limit of 2 requests per 60 s exceeded; retry in /);
  });

  it('marks /healthz and /readyz as public in OpenAPI while the API routes need a token', async () => {
    const doc = (await app.inject('/openapi.json')).json() as { paths: Record<string, { get?: { security?: unknown[] } }>; security?: unknown[] };
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/healthz']!.get!.security).toEqual([]);
    expect(doc.paths['/readyz']!.get!.security).toEqual([]);
    expect(doc.paths['/api/v1/targets']!.get!.security).toBeUndefined(); // inherits the document's bearer requirement
  });

  it('answers a started audit with a Location that serves it', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/targets/main/audits', headers: auth(), payload: { window: '0' } });
    expect(res.statusCode).toBe(202);
    const location = res.headers.location as string;
    expect(location).toBe(`/api/v1/targets/main/audits/${res.json().id}`);
    await store.audits.finishAudit(res.json().id as number, { report: makeReport([finding]) });
    const one = await app.inject({ url: location, headers: auth() });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ id: res.json().id, target: 'main', status: 'done', deliveries: [] });
    expect((await app.inject({ url: '/api/v1/targets/main/audits/999999', headers: auth() })).statusCode).toBe(404);
  });

  it('exposes /metrics as consistent families: one TYPE each, a summary for durations, _total only on counters, build info', async () => {
    const res = await app.inject({ url: '/metrics', headers: auth() });
    expect(res.statusCode).toBe(200);
    const types = new Map<string, string>();
    const helps = new Set<string>();
    const samples: { name: string; labels: string; value: string }[] = [];
    for (const line of res.body.split('\n').filter((l) => l !== '')) {
      const type = /^# TYPE (\S+) (counter|gauge|summary|histogram|untyped)$/.exec(line);
      const help = /^# HELP (\S+) /.exec(line);
      if (type) {
        expect(types.has(type[1] ?? ''), `second TYPE line for ${type[1]}`).toBe(false);
        types.set(type[1] ?? '', type[2] ?? '');
      } else if (help) {
        expect(helps.has(help[1] ?? ''), `second HELP line for ${help[1]}`).toBe(false);
        helps.add(help[1] ?? '');
      } else {
        const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
        expect(sample, `not a sample line: ${line}`).not.toBeNull();
        samples.push({ name: sample?.[1] ?? '', labels: sample?.[2] ?? '', value: sample?.[3] ?? '' });
      }
    }
    const familyOf = (name: string): string | undefined => {
      if (types.has(name)) return name;
      const base = name.replace(/_(sum|count|bucket)$/, '');
      return types.get(base) === 'summary' || types.get(base) === 'histogram' ? base : undefined;
    };
    for (const s of samples) expect(familyOf(s.name), `${s.name} has no TYPE line`).toBeDefined();
    for (const [name, type] of types) {
      expect(helps.has(name), `${name} has no HELP`).toBe(true);
      expect(name.endsWith('_total'), `${name} is a ${type}`).toBe(type === 'counter');
      expect(types.has(`${name}_sum`) || types.has(`${name}_count`), `${name} split into separate families`).toBe(false);
    }
    expect(types.get('pg_advisor_sample_duration_seconds')).toBe('summary');
    expect(samples).toContainEqual({ name: 'pg_advisor_sample_duration_seconds_sum', labels: '{target="main"}', value: '1.5' });
    expect(samples).toContainEqual({ name: 'pg_advisor_sample_duration_seconds_count', labels: '{target="main"}', value: '2' });
    expect(types.get('pg_advisor_outbox_messages')).toBe('gauge');
    expect(types.has('pg_advisor_deliveries_total')).toBe(false);
    expect(samples).toContainEqual({ name: 'pg_advisor_build_info', labels: `{version="${packageVersion()}"}`, value: '1' });
  });

  it('answers a bad enum value with 400 problem+json listing the allowed values', async () => {
    const cases: [string, string, string[]][] = [
      ['/api/v1/findings?severity=bogus', 'querystring/severity/0', ['info', 'warning', 'critical']],
      ['/api/v1/findings?status=open&status=nope', 'querystring/status/1', ['open', 'acknowledged', 'snoozed', 'resolved']],
      ['/api/v1/targets/main/series?resolution=day', 'querystring/resolution', ['raw', 'hour']],
      ['/api/v1/targets/main/statements?orderBy=x', 'querystring/orderBy', ['total', 'calls', 'mean']],
      ['/api/v1/targets/main/series?metric=nope', 'querystring/metric/0', [...SERIES_METRICS]],
    ];
    for (const [url, path, allowed] of cases) {
      const res = await app.inject({ url, headers: auth() });
      expect(res.statusCode, url).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      const body = res.json() as { detail: string; errors: { path: string; message: string }[] };
      expect(body.errors, url).toEqual([{ path, message: `must be one of: ${allowed.join(', ')}` }]);
      expect(body.detail).toBe(`${path} must be one of: ${allowed.join(', ')}`);
    }
  });

  it('answers an unknown rule filter with 400 naming the registered rules, a known one with 200', async () => {
    const res = await app.inject({ url: '/api/v1/findings?rule=no-such-rule', headers: auth() });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const detail = res.json().detail as string;
    expect(detail).toContain('no-such-rule');
    for (const rule of allRules) expect(detail).toContain(rule.id);
    const known = await app.inject({ url: '/api/v1/findings?rule=table-bloat', headers: auth() });
    expect(known.statusCode).toBe(200);
    expect(known.json().items).toHaveLength(1);
    expect((await app.inject({ url: '/api/v1/targets/main/series?metric=xid_age&metric=connections', headers: auth() })).statusCode).toBe(200);
  });
});
