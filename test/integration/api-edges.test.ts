/**
 * Edges a new API user trips over: the text of conflicts and rate limits, the case of the auth scheme,
 * health routes marked public in OpenAPI, and a started audit that says where to find it.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import type { DaemonControl } from '../../src/api/deps.js';
import { buildApp } from '../../src/api/index.js';
import type { Finding } from '../../src/engine/types.js';
import { createStore, type Store } from '../../src/store/index.js';
import { makeReport } from '../support/report-fixtures.js';

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
      metrics: () => [],
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
});
