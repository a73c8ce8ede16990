/**
 * Issue 10 (hardening), API side: hostile input never reaches the store as a 500, failed logins are rate
 * limited, a tokenless loopback daemon refuses cross-site writes and foreign Host names, and every response
 * carries the security headers. Against a real store (PGlite and PostgreSQL), through app.inject().
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { buildApp } from '../../src/api/index.js';
import type { ApiToken } from '../../src/config/daemon/index.js';
import type { DaemonControl } from '../../src/api/deps.js';
import type { Finding } from '../../src/engine/types.js';
import type { Store } from '../../src/store/index.js';
import { makeReport } from '../support/report-fixtures.js';
import { openTestStore, STORE_KINDS, type TestStore } from '../support/store.js';

const ADMIN = 'admin-token-0123456789';
const tokens: ApiToken[] = [{ name: 'ops', scope: 'admin', token: ADMIN }];
const auth = { authorization: `Bearer ${ADMIN}` };
const NOW = new Date();

const finding = (fingerprint: string): Finding => ({
  rule: 'table-bloat',
  severity: 'warning',
  title: 't',
  summary: 's',
  object: { type: 'table', schema: 'public', name: fingerprint },
  evidence: {},
  recommendation: { text: 'vacuum' },
  impact: { wasteBytes: 1 },
  fingerprint,
});

function fakeDaemon(store: Store): DaemonControl {
  return {
    replicaId: 'test-replica',
    jobStatus: () => undefined,
    metrics: () => [],
    async startAudit(name, windowMs) {
      const t = await store.targets.findTarget(name);
      if (!t) return undefined;
      return store.audits.findAudit(await store.audits.startAudit(t.id, { trigger: 'api', windowMs }));
    },
    notifications: { destinations: () => [], sendTest: async () => undefined },
  };
}

async function seed(store: Store): Promise<number> {
  const [t] = await store.targets.syncTargets([{ name: 'main', maskedUrl: 'postgres://db/main', intervalMs: 15_000 }]);
  await store.findings.applySample(t!.id, NOW, [finding('a'), finding('b')], []);
  await store.samples.recordSample({
    targetId: t!.id,
    collectedAt: NOW,
    durationMs: 1,
    intervalSeconds: null,
    findings: 2,
    diagnostics: [],
    series: [{ metric: 'connections', object: 'active', value: 1 }],
    statements: [],
    queryTexts: [],
  });
  const page = await store.findings.listFindings({});
  return page.items[0]!.id;
}

const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

interface Probe {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly payload?: Record<string, unknown>;
  /** A word the problem must contain: the parameter it names. */
  readonly names: string;
}

/** Every hostile input, sent to every route and parameter that accepts it. */
function probes(findingId: number): Probe[] {
  const list: Probe[] = [];
  const timestamps = [
    '2026-12-31T23:59:60Z', // leap second: JavaScript has no such instant
    '0000-01-01T00:00:00Z', // year 0: PostgreSQL has none
    '2026-01-01T00:00:00+99:99',
    '2026-01-01T00:00:00+25:00',
    '2026-01-01T00:00:00+23:59', // valid RFC 3339, but no real zone
    '0001-01-01T00:00:00+14:00', // a valid local time whose instant lies in year 0
    '9999-12-31T23:59:59-14:00', // … or in year 10000
  ];
  for (const ts of timestamps) {
    const q = encodeURIComponent(ts);
    list.push({ method: 'GET', url: `/api/v1/findings?since=${q}`, names: 'since' });
    for (const route of ['statements', 'series']) {
      list.push({ method: 'GET', url: `/api/v1/targets/main/${route}?from=${q}`, names: 'from' });
      list.push({ method: 'GET', url: `/api/v1/targets/main/${route}?to=${q}`, names: 'to' });
    }
    list.push({ method: 'POST', url: `/api/v1/findings/${findingId}/snooze`, payload: { until: ts }, names: 'until' });
  }
  // NUL bytes: PostgreSQL text cannot hold them.
  const nul = '%00';
  list.push({ method: 'GET', url: `/api/v1/findings?target=ma${nul}in`, names: 'target' });
  list.push({ method: 'GET', url: `/api/v1/findings?rule=table${nul}bloat`, names: 'rule' });
  list.push({ method: 'GET', url: `/api/v1/targets/main/series?metric=conn${nul}`, names: 'metric' });
  for (const path of ['', '/statements', '/series', '/audits']) {
    list.push({ method: 'GET', url: `/api/v1/targets/ma${nul}in${path}`, names: 'name' });
  }
  list.push({ method: 'POST', url: `/api/v1/targets/ma${nul}in/audits`, payload: {}, names: 'name' });
  list.push({ method: 'POST', url: `/api/v1/destinations/x${nul}/test`, names: 'name' });
  // Path segments that are not percent-encoded UTF-8 (a lone continuation byte, an encoded surrogate).
  for (const bad of ['%C3', '%ED%A0%80']) {
    list.push({ method: 'GET', url: `/api/v1/targets/${bad}`, names: 'path' });
    list.push({ method: 'GET', url: `/api/v1/targets/${bad}/series`, names: 'path' });
    list.push({ method: 'POST', url: `/api/v1/findings/${bad}/acknowledge`, names: 'path' });
  }
  for (const action of ['acknowledge', 'reopen']) {
    list.push({ method: 'POST', url: `/api/v1/findings/${findingId}/${action}`, payload: { note: 'a\u0000b' }, names: 'note' });
  }
  list.push({ method: 'POST', url: `/api/v1/findings/${findingId}/snooze`, payload: { until: '2099-01-01T00:00:00Z', note: 'a\u0000b' }, names: 'note' });
  // Numbers inside a cursor that the compared columns cannot hold.
  for (const c of [
    [1.5, 0, 1],
    [99_999, 0, 1],
    [1, 0, 1e20],
    [1, 0, 2.5],
    [-1, 0, 1],
    [1, 0, -1],
  ]) {
    list.push({ method: 'GET', url: `/api/v1/findings?cursor=${cursor(c)}`, names: 'cursor' });
  }
  list.push({ method: 'GET', url: `/api/v1/findings?cursor=${encodeURIComponent('a b\u0000')}`, names: 'cursor' });
  for (const c of [
    ['2026-12-31T23:59:60Z', 'm', 'o'],
    ['0000-01-01T00:00:00.000Z', 'm', 'o'],
    ['2026-01-01T00:00:00.000Z', 'm\u0000', 'o'],
    [1, 2, 3],
  ]) {
    list.push({ method: 'GET', url: `/api/v1/targets/main/series?cursor=${cursor(c)}`, names: 'cursor' });
  }
  list.push({ method: 'GET', url: '/api/v1/targets/main/series?limit=10001', names: 'limit' });
  // Numbers Ajv coerces to Infinity and then lets past minimum/maximum.
  for (const n of ['Infinity', '-Infinity', '1e400']) {
    list.push({ method: 'GET', url: `/api/v1/findings?limit=${n}`, names: 'limit' });
    list.push({ method: 'GET', url: `/api/v1/targets/main/statements?limit=${n}`, names: 'limit' });
    list.push({ method: 'GET', url: `/api/v1/targets/main/series?limit=${n}`, names: 'limit' });
    list.push({ method: 'GET', url: `/api/v1/findings/${n}`, names: 'id' });
  }
  // Ids beyond int8, and beyond what a JSON number holds exactly.
  for (const id of ['9223372036854775808', '99999999999999999999', '9007199254740993']) {
    list.push({ method: 'GET', url: `/api/v1/findings/${id}`, names: 'id' });
    for (const action of ['acknowledge', 'reopen']) list.push({ method: 'POST', url: `/api/v1/findings/${id}/${action}`, names: 'id' });
    list.push({ method: 'POST', url: `/api/v1/findings/${id}/snooze`, payload: { until: '2099-01-01T00:00:00Z' }, names: 'id' });
  }
  return list;
}

for (const kind of STORE_KINDS) {
  describe(`API hardening on a ${kind} store`, () => {
    let opened: TestStore | undefined;
    let store: Store;
    let app: FastifyInstance;
    let findingId = 0;

    beforeAll(async () => {
      opened = await openTestStore(kind);
      store = opened.store;
      findingId = await seed(store);
      app = await buildApp({
        store,
        rules: allRules,
        tokens,
        daemon: fakeDaemon(store),
        pressure: { maxEventLoopDelayMs: 0 },
        rateLimit: { max: 100_000, windowMs: 60_000 },
      });
    });

    afterAll(async () => {
      await app?.close();
      await opened?.close();
    });

    it('answers every hostile input with a 400 problem naming the parameter, never a 500', async () => {
      const failures: string[] = [];
      for (const p of probes(findingId)) {
        const res = await app.inject({ method: p.method, url: p.url, headers: auth, ...(p.payload ? { payload: p.payload } : {}) });
        const label = `${p.method} ${p.url} ${p.payload ? JSON.stringify(p.payload) : ''}`;
        const ok =
          res.statusCode === 400 &&
          String(res.headers['content-type']).startsWith('application/problem+json') &&
          res.json().status === 400 &&
          res.body.includes(p.names);
        if (!ok) failures.push(`${label} → ${res.statusCode} ${res.body.slice(0, 160)}`);
      }
      expect(failures).toEqual([]);
      // The finding the actions were aimed at is untouched, and the store still answers.
      const after = await app.inject({ url: `/api/v1/findings/${findingId}`, headers: auth });
      expect(after.json()).toMatchObject({ id: findingId, status: 'open', events: [{ kind: 'opened' }] });
    });

    it('runs at most one audit per target: concurrent POSTs get one 202 and 409s naming it', async () => {
      const post = () => app.inject({ method: 'POST', url: '/api/v1/targets/main/audits', headers: auth, payload: { window: '0' } });
      const responses = await Promise.all(Array.from({ length: 15 }, post));
      const started = responses.filter((r) => r.statusCode === 202);
      expect(started).toHaveLength(1);
      const runningId = started[0]!.json().id as number;
      for (const res of responses.filter((r) => r.statusCode !== 202)) {
        expect(res.statusCode).toBe(409);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(res.json()).toMatchObject({ status: 409, type: 'https://pg-advisor.dev/problems/audit-running', auditId: runningId });
      }
      const t = (await store.targets.findTarget('main'))!;
      expect((await store.audits.listAudits(t.id)).filter((a) => a.status === 'running').map((a) => a.id)).toEqual([runningId]);
      // Once it finished, the next one starts.
      await store.audits.finishAudit(runningId, { report: makeReport([]) });
      const next = await post();
      expect(next.statusCode).toBe(202);
      expect(next.json().id).not.toBe(runningId);
      if (opened?.database) {
        // An audit left running by a dead process longer than any audit takes no longer blocks.
        await opened.database.admin.query(`update audits set requested_at = now() - interval '31 minutes' where id = $1`, [next.json().id]);
        expect((await post()).statusCode).toBe(202);
      }
      await store.audits.abandonStaleAudits(0);
    });

    it('serves series newest first, flags truncation and pages back to the oldest point', async () => {
      const [t] = await store.targets
        .syncTargets([
          { name: 'main', maskedUrl: 'postgres://db/main', intervalMs: 15_000 },
          { name: 'paged', maskedUrl: 'postgres://db/paged', intervalMs: 15_000 },
        ])
        .then((all) => all.filter((x) => x.name === 'paged'));
      const T = Date.parse('2026-11-20T10:00:00Z');
      for (let i = 0; i < 7; i++) {
        await store.samples.recordSample({
          targetId: t!.id,
          collectedAt: new Date(T + i * 60_000),
          durationMs: 1,
          intervalSeconds: 60,
          findings: 0,
          diagnostics: [],
          series: [
            { metric: 'connections', object: 'active', value: i },
            { metric: 'connections', object: 'idle', value: 10 + i },
            { metric: 'xid_age', object: 'db', value: 100 + i },
          ],
          statements: [],
          queryTexts: [],
        });
      }
      type Page = { truncated: boolean; nextCursor: string | null; series: { metric: string; object: string; points: [string, number][] }[] };
      const get = async (query: string): Promise<Page> => {
        const res = await app.inject({ url: `/api/v1/targets/paged/series?${query}`, headers: auth });
        expect(res.statusCode, `${query} ${res.body}`).toBe(200);
        return res.json() as Page;
      };
      const all = await get('');
      expect(all).toMatchObject({ truncated: false, nextCursor: null });
      expect(all.series.map((x) => [x.metric, x.object, x.points.length])).toEqual([
        ['connections', 'active', 7],
        ['connections', 'idle', 7],
        ['xid_age', 'db', 7],
      ]);

      // limit=5: the first page holds the newest points (not the oldest), and says it is truncated.
      const first = await get('limit=5');
      expect(first.truncated).toBe(true);
      const newest = new Date(T + 6 * 60_000).toISOString();
      expect(first.series.flatMap((x) => x.points.map((p) => p[0]))).toContain(newest);
      expect(first.series.flatMap((x) => x.points.map((p) => p[0]))).not.toContain(new Date(T).toISOString());
      // Following nextCursor returns every point exactly once, newest page first, each series ascending in a page.
      const seen: string[] = [];
      let page: Page = first;
      let pages = 1;
      for (;;) {
        for (const x of page.series) {
          const times = x.points.map((p) => p[0]);
          expect([...times].sort()).toEqual(times);
          for (const [at, value] of x.points) seen.push(`${x.metric}/${x.object}@${at}=${value}`);
        }
        if (!page.nextCursor) break;
        page = await get(`limit=5&cursor=${page.nextCursor}`);
        pages++;
      }
      expect(pages).toBe(5);
      expect(new Set(seen).size).toBe(21);
      expect(seen).toHaveLength(21);
      expect(page.truncated).toBe(false);
      // Paging keeps the range and metric filter.
      const ranged = await get(`metric=xid_age&limit=2&from=${new Date(T + 60_000).toISOString()}&to=${new Date(T + 4 * 60_000).toISOString()}`);
      expect(ranged.series).toEqual([
        {
          metric: 'xid_age',
          object: 'db',
          points: [
            [new Date(T + 3 * 60_000).toISOString(), 103],
            [new Date(T + 4 * 60_000).toISOString(), 104],
          ],
        },
      ]);
      const older = await get(
        `metric=xid_age&limit=2&from=${new Date(T + 60_000).toISOString()}&to=${new Date(T + 4 * 60_000).toISOString()}&cursor=${ranged.nextCursor}`,
      );
      expect(older).toMatchObject({
        truncated: false,
        nextCursor: null,
        series: [
          {
            points: [
              [new Date(T + 60_000).toISOString(), 101],
              [new Date(T + 2 * 60_000).toISOString(), 102],
            ],
          },
        ],
      });
    });

    it('still accepts the edge values that are valid', async () => {
      for (const url of [
        `/api/v1/findings?since=${encodeURIComponent('0001-01-01T00:00:00Z')}`,
        `/api/v1/findings?since=${encodeURIComponent('2026-01-01T00:00:00.123456+14:00')}`,
        `/api/v1/targets/main/series?to=${encodeURIComponent('9999-12-31T23:59:59Z')}`,
        `/api/v1/findings/${Number.MAX_SAFE_INTEGER}`,
      ]) {
        const res = await app.inject({ url, headers: auth });
        expect([200, 404], `${url} ${res.body}`).toContain(res.statusCode);
      }
    });
  });
}

describe('API hardening: rate limits, cross-site requests, Host names, headers', () => {
  let opened: TestStore | undefined;
  let store: Store;
  let findingId = 0;
  const apps: FastifyInstance[] = [];
  const build = async (options: { tokens?: ApiToken[]; max?: number; host?: string } = {}) => {
    const app = await buildApp({
      store,
      rules: allRules,
      tokens: options.tokens ?? [],
      daemon: fakeDaemon(store),
      host: options.host,
      pressure: { maxEventLoopDelayMs: 0 },
      rateLimit: { max: options.max ?? 100_000, windowMs: 60_000 },
    });
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    opened = await openTestStore('pglite');
    store = opened.store;
    findingId = await seed(store);
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await opened?.close();
  });

  it('counts requests with a wrong token against the rate limit', async () => {
    const app = await build({ tokens, max: 5 });
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) {
      codes.push((await app.inject({ url: '/api/v1/targets', headers: { authorization: 'Bearer wrong-token-0123456789' } })).statusCode);
    }
    expect(codes).toEqual([...Array<number>(5).fill(401), ...Array<number>(7).fill(429)]);
    const limited = await app.inject({ url: '/api/v1/targets', headers: auth });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toContain('application/problem+json');
    expect((await app.inject('/healthz')).statusCode).toBe(200);
  });

  it('refuses cross-site state-changing requests with 403 and changes nothing', async () => {
    const app = await build({ host: '127.0.0.1' });
    const host = { host: '127.0.0.1:8080' };
    const attempts: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { origin: 'http://127.0.0.1:9999' }, // another port is another origin
      { 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of attempts) {
      for (const url of [`/api/v1/findings/${findingId}/acknowledge`, '/api/v1/targets/main/audits']) {
        const res = await app.inject({ method: 'POST', url, headers: { ...host, ...headers } });
        expect(res.statusCode, `${url} ${JSON.stringify(headers)}`).toBe(403);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(res.json()).toMatchObject({ status: 403, type: 'https://pg-advisor.dev/problems/cross-site-request' });
      }
    }
    expect((await store.findings.findFinding(findingId))?.status).toBe('open');
    expect(await store.audits.listAudits((await store.targets.findTarget('main'))!.id)).toEqual([]);
    // Reads are not refused; a same-origin page and a client without Origin (curl, scripts) may act.
    expect((await app.inject({ url: '/api/v1/targets', headers: { ...host, origin: 'https://evil.example' } })).statusCode).toBe(200);
    const same = await app.inject({
      method: 'POST',
      url: `/api/v1/findings/${findingId}/acknowledge`,
      headers: { ...host, origin: 'http://127.0.0.1:8080', 'sec-fetch-site': 'same-origin' },
    });
    expect(same.statusCode).toBe(200);
    const curl = await app.inject({ method: 'POST', url: `/api/v1/findings/${findingId}/reopen`, headers: host });
    expect(curl.statusCode).toBe(200);
    const defaultPort = await app.inject({
      method: 'POST',
      url: `/api/v1/findings/${findingId}/acknowledge`,
      headers: { host: 'localhost:80', origin: 'http://localhost' },
    });
    expect(defaultPort.statusCode).toBe(200);
  });

  it('without tokens answers only loopback names and the bound address in Host (DNS rebinding)', async () => {
    const app = await build({ host: '192.0.2.10' });
    for (const host of ['evil.example', 'evil.example:8080', 'localhost.evil.example', '10.0.0.1']) {
      const res = await app.inject({ url: '/api/v1/targets', headers: { host } });
      expect(res.statusCode, host).toBe(421);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ status: 421 });
    }
    for (const host of ['localhost:8080', 'LOCALHOST', '127.0.0.1:8080', '127.0.0.2', '[::1]:8080', '192.0.2.10:8080']) {
      expect((await app.inject({ url: '/api/v1/targets', headers: { host } })).statusCode, host).toBe(200);
    }
    // With tokens the bearer token is the defence; any name reaching the daemon is answered.
    const withTokens = await build({ tokens });
    expect((await withTokens.inject({ url: '/api/v1/targets', headers: { host: 'evil.example', ...auth } })).statusCode).toBe(200);
  });

  it('sends security headers on every response; no-store on /api; the docs UI keeps working', async () => {
    const app = await build();
    for (const url of ['/api/v1/rules', '/api/v1/nothing', '/api/v1/findings?limit=0', '/api/v1/targets/%C3', '/healthz', '/openapi.json']) {
      const res = await app.inject(url);
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['x-frame-options'], url).toBe('DENY');
      expect(res.headers['referrer-policy'], url).toBe('no-referrer');
      expect(res.headers['content-security-policy'], url).toBe("default-src 'none'; frame-ancestors 'none'");
      if (url.startsWith('/api/')) expect(res.headers['cache-control'], url).toBe('no-store');
    }
    const ui = await app.inject('/docs/');
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toContain('text/html');
    expect(ui.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(ui.headers['content-security-policy']).not.toContain("default-src 'none'");
    const scripts = [...ui.body.matchAll(/src="\.?\/?([^"]+\.js)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      const res = await app.inject(`/docs/${script.replace(/^docs\//, '')}`);
      expect(res.statusCode, script).toBe(200);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });
});
