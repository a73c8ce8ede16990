import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { assertSafeBind, buildApp } from '../../src/api/index.js';
import type { ApiToken } from '../../src/config/daemon/index.js';
import type { DaemonControl } from '../../src/api/deps.js';
import type { Finding, Severity } from '../../src/engine/types.js';
import { UsageError } from '../../src/errors/errors.js';
import { createStore, type Store } from '../../src/store/index.js';

const ADMIN = 'admin-token-0123456789';
const READ = 'read-token-0123456789ab';
const tokens: ApiToken[] = [
  { name: 'ops', scope: 'admin', token: ADMIN },
  { name: 'grafana', scope: 'read', token: READ },
];
const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const T0 = Date.parse('2026-11-20T10:00:00Z');
const at = (min: number) => new Date(T0 + min * 60_000);
const SEVERITIES: Severity[] = ['info', 'warning', 'critical'];

function finding(i: number): Finding {
  return {
    rule: i % 2 ? 'table-bloat' : 'vacuum-lag',
    severity: SEVERITIES[i % 3]!,
    title: 't',
    summary: `finding ${i}`,
    object: { type: 'table', schema: 'public', name: `t${i}` },
    evidence: { deadTuples: i * 10, nested: { a: [1, 'x'] } },
    recommendation: { text: 'vacuum', sql: `VACUUM public.t${i}` },
    impact: { wasteBytes: (i % 4) * 1000 },
    fingerprint: `fp-${i}`,
  };
}

describe('REST API', () => {
  let store: Store;
  let app: FastifyInstance;
  let mainId = 0;

  beforeAll(async () => {
    store = createStore({ dataDir: 'memory://' });
    await store.migrate();
    const targets = await store.targets.syncTargets([
      { name: 'main', maskedUrl: 'postgres://app:***@db/main', intervalMs: 15_000 },
      { name: 'other', maskedUrl: 'postgres://db/other', intervalMs: 60_000 },
    ]);
    mainId = targets.find((t) => t.name === 'main')!.id;
    const otherId = targets.find((t) => t.name === 'other')!.id;
    await store.findings.applySample(
      mainId,
      at(0),
      Array.from({ length: 30 }, (_, i) => finding(i)),
      [],
    );
    await store.findings.applySample(otherId, at(0), [finding(101)], []);
    for (let s = 0; s < 3; s++) {
      await store.samples.recordSample({
        targetId: mainId,
        collectedAt: at(s),
        durationMs: 50,
        intervalSeconds: s ? 60 : null,
        findings: 30,
        diagnostics: [],
        series: [
          { metric: 'connections', object: 'active', value: s + 1 },
          { metric: 'connections', object: 'idle', value: 5 },
          { metric: 'xid_age', object: 'main', value: 1000 + s },
        ],
        statements: [
          { queryId: '1', userName: 'app', toplevel: true, calls: 1000, rows: 1000, totalExecTimeMs: 100, sharedBlks: 5 },
          { queryId: '2', userName: 'app', toplevel: true, calls: 2, rows: 2, totalExecTimeMs: 500, sharedBlks: 5 },
        ],
        queryTexts: [
          { queryId: '1', text: 'select * from users where id = $1' },
          { queryId: '2', text: 'select count(*) from events' },
        ],
      });
    }
    const daemon: DaemonControl = {
      replicaId: 'test-replica',
      jobStatus: () => undefined,
      metrics: () => [{ target: 'main', samples: 3, errors: 1, durationSecondsSum: 0.15, lastDurationSeconds: 0.05 }],
      async startAudit(name, windowMs) {
        const t = await store.targets.findTarget(name);
        if (!t) return undefined;
        return store.audits.findAudit(await store.audits.startAudit(t.id, { trigger: 'api', windowMs }));
      },
    };
    // Load shedding is tested on its own below; the shared test machine must not trip it here.
    app = await buildApp({ store, rules: allRules, tokens, daemon, version: '1.2.3', pressure: { maxEventLoopDelayMs: 0 } });
  });

  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('serves health and readiness without a token', async () => {
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });
  });

  it('publishes an OpenAPI 3.1 document covering every route, and the docs UI', async () => {
    const res = await app.inject('/openapi.json');
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'pg-advisor', version: '1.2.3' });
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const paths = Object.keys(doc.paths).sort();
    expect(paths).toEqual(
      [
        '/api/v1/findings',
        '/api/v1/findings/{id}',
        '/api/v1/findings/{id}/acknowledge',
        '/api/v1/findings/{id}/reopen',
        '/api/v1/findings/{id}/snooze',
        '/api/v1/rules',
        '/api/v1/targets',
        '/api/v1/targets/{name}',
        '/api/v1/targets/{name}/audits',
        '/api/v1/targets/{name}/audits/{id}',
        '/api/v1/targets/{name}/series',
        '/api/v1/targets/{name}/statements',
        '/healthz',
        '/metrics',
        '/readyz',
      ].sort(),
    );
    // Every operation documents a 2xx response with a schema; every $ref resolves.
    for (const [path, ops] of Object.entries<Record<string, { responses: Record<string, unknown> }>>(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(
          Object.keys(op.responses).some((c) => c.startsWith('2')),
          `${method} ${path}`,
        ).toBe(true);
      }
    }
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    for (const ref of refs) {
      const pointer = ref.slice(9, -1).replace(/^#\//, '').split('/');
      let node: unknown = doc;
      for (const part of pointer) node = (node as Record<string, unknown>)?.[part];
      expect(node, ref).toBeDefined();
    }
    // The formal OpenAPI 3.1 JSON schema (spec.openapis.org/oas/3.1/schema), with every $ref resolved.
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? [], 'OpenAPI 3.1 schema violations').toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(() => validator.resolveRefs()).not.toThrow();
    const ui = await app.inject('/docs/');
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toContain('text/html');
  });

  it('refuses requests without a token or with a wrong one, as problem+json', async () => {
    for (const headers of [{}, auth('wrong-token-0123456789'), { authorization: 'Basic abc' }]) {
      const res = await app.inject({ url: '/api/v1/targets', headers });
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.json()).toMatchObject({ status: 401, title: 'Unauthorized', instance: '/api/v1/targets' });
    }
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(401);
  });

  it('lists targets with masked URLs', async () => {
    const res = await app.inject({ url: '/api/v1/targets', headers: auth(READ) });
    expect(res.statusCode).toBe(200);
    const { items } = res.json();
    expect(items.map((t: { name: string }) => t.name)).toEqual(['main', 'other']);
    expect(items[0]).toMatchObject({ url: 'postgres://app:***@db/main', intervalMs: 15_000, state: 'pending', running: false, circuit: null });
    expect((await app.inject({ url: '/api/v1/targets/main', headers: auth(READ) })).json().name).toBe('main');
    const missing = await app.inject({ url: '/api/v1/targets/nope', headers: auth(READ) });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
  });

  it('pages through findings sorted by severity then impact, with filters', async () => {
    const ids: number[] = [];
    let cursor: string | null = null;
    let prev: { rank: number; impact: number } | null = null;
    let pages = 0;
    do {
      const url: string = `/api/v1/findings?target=main&limit=8${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await app.inject({ url, headers: auth(READ) });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      pages++;
      for (const f of body.items) {
        const cur = { rank: SEVERITIES.indexOf(f.severity), impact: f.impact.wasteBytes };
        if (prev) expect(prev.rank > cur.rank || (prev.rank === cur.rank && prev.impact >= cur.impact), JSON.stringify([prev, cur])).toBe(true);
        prev = cur;
        ids.push(f.id);
      }
      cursor = body.nextCursor;
    } while (cursor);
    expect(pages).toBe(4);
    expect(new Set(ids).size).toBe(30);

    const filtered = await app.inject({ url: '/api/v1/findings?severity=critical&severity=warning&rule=table-bloat', headers: auth(READ) });
    const items = filtered.json().items as { severity: string; rule: string; target: string }[];
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((f) => f.severity !== 'info' && f.rule === 'table-bloat')).toBe(true);
    expect(items.some((f) => f.target === 'other')).toBe(true);
    const first = items[0]!;
    expect(first).toMatchObject({ recommendation: { text: 'vacuum' }, object: { type: 'table', schema: 'public' } });
    expect((first as unknown as { evidence: unknown }).evidence).toMatchObject({ nested: { a: [1, 'x'] } });
    const since = await app.inject({ url: `/api/v1/findings?since=${encodeURIComponent(at(5).toISOString())}`, headers: auth(READ) });
    expect(since.json().items).toEqual([]);
    const statusFilter = await app.inject({ url: '/api/v1/findings?status=resolved', headers: auth(READ) });
    expect(statusFilter.json().items).toEqual([]);
  });

  it('rejects bad input with problem+json', async () => {
    for (const url of [
      '/api/v1/findings?severity=severe',
      '/api/v1/findings?limit=0',
      '/api/v1/findings?since=yesterday',
      '/api/v1/findings?cursor=not-a-cursor',
      '/api/v1/findings/abc',
      '/api/v1/targets/main/statements?orderBy=random',
      '/api/v1/targets/main/series?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z',
    ]) {
      const res = await app.inject({ url, headers: auth(READ) });
      expect(res.statusCode, url).toBe(400);
      expect(res.headers['content-type'], url).toContain('application/problem+json');
      expect(res.json(), url).toMatchObject({ status: 400, title: 'Bad Request' });
    }
    const validation = await app.inject({ url: '/api/v1/findings?severity=severe', headers: auth(READ) });
    expect(validation.json().errors[0].path).toContain('severity');
    expect((await app.inject({ url: '/api/v1/nothing', headers: auth(READ) })).statusCode).toBe(404);
  });

  it('shows a finding with its events and runs the lifecycle actions with admin scope only', async () => {
    const { items } = (await app.inject({ url: '/api/v1/findings?target=main&limit=1', headers: auth(READ) })).json();
    const id = items[0].id as number;
    const detail = await app.inject({ url: `/api/v1/findings/${id}`, headers: auth(READ) });
    expect(detail.json()).toMatchObject({ id, status: 'open', events: [{ kind: 'opened', toStatus: 'open' }] });
    expect((await app.inject({ url: '/api/v1/findings/999999', headers: auth(READ) })).statusCode).toBe(404);

    const denied = await app.inject({ method: 'POST', url: `/api/v1/findings/${id}/acknowledge`, headers: auth(READ), payload: {} });
    expect(denied.statusCode).toBe(403);
    expect(denied.headers['content-type']).toContain('application/problem+json');

    const ack = await app.inject({ method: 'POST', url: `/api/v1/findings/${id}/acknowledge`, headers: auth(ADMIN), payload: { note: 'on it' } });
    expect(ack.statusCode).toBe(200);
    expect(ack.json()).toMatchObject({ id, status: 'acknowledged' });

    const past = await app.inject({ method: 'POST', url: `/api/v1/findings/${id}/snooze`, headers: auth(ADMIN), payload: { until: '2020-01-01T00:00:00Z' } });
    expect(past.statusCode).toBe(400);
    const noUntil = await app.inject({ method: 'POST', url: `/api/v1/findings/${id}/snooze`, headers: auth(ADMIN), payload: {} });
    expect(noUntil.statusCode).toBe(400);
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const snooze = await app.inject({ method: 'POST', url: `/api/v1/findings/${id}/snooze`, headers: auth(ADMIN), payload: { until } });
    expect(snooze.json()).toMatchObject({ status: 'snoozed', snoozedUntil: until });

    const reopen = await app.inject({ method: 'POST', url: `/api/v1/findings/${id}/reopen`, headers: auth(ADMIN) });
    expect(reopen.statusCode).toBe(200);
    expect(reopen.json().status).toBe('open');
    const conflict = await app.inject({ method: 'POST', url: `/api/v1/findings/${id}/reopen`, headers: auth(ADMIN) });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toMatchObject({ status: 409, title: 'Conflict' });

    const events = (await app.inject({ url: `/api/v1/findings/${id}`, headers: auth(READ) })).json().events;
    expect(events.map((e: { kind: string }) => e.kind)).toEqual(['opened', 'acknowledged', 'snoozed', 'reopened']);
    expect(events[1]).toMatchObject({ actor: 'ops', note: 'on it' });
    expect((await app.inject({ method: 'POST', url: '/api/v1/findings/999999/acknowledge', headers: auth(ADMIN) })).statusCode).toBe(404);
  });

  it('serves top statements and series over a time range', async () => {
    const byTotal = (await app.inject({ url: '/api/v1/targets/main/statements', headers: auth(READ) })).json().items;
    expect(byTotal.map((s: { queryId: string }) => s.queryId)).toEqual(['2', '1']);
    expect(byTotal[0]).toMatchObject({ query: 'select count(*) from events', calls: 6, totalExecTimeMs: 1500, meanExecTimeMs: 250, samples: 3 });
    const byCalls = (await app.inject({ url: `/api/v1/targets/main/statements?orderBy=calls&limit=1&from=${at(1).toISOString()}`, headers: auth(READ) })).json()
      .items;
    expect(byCalls).toEqual([expect.objectContaining({ queryId: '1', calls: 2000, samples: 2 })]);
    const series = (await app.inject({ url: '/api/v1/targets/main/series?metric=connections', headers: auth(READ) })).json().series;
    expect(series).toEqual([
      {
        metric: 'connections',
        object: 'active',
        points: [
          [at(0).toISOString(), 1],
          [at(1).toISOString(), 2],
          [at(2).toISOString(), 3],
        ],
      },
      {
        metric: 'connections',
        object: 'idle',
        points: [
          [at(0).toISOString(), 5],
          [at(1).toISOString(), 5],
          [at(2).toISOString(), 5],
        ],
      },
    ]);
    const all = (await app.inject({ url: `/api/v1/targets/main/series?to=${at(0).toISOString()}`, headers: auth(READ) })).json().series;
    expect(all.map((s: { metric: string }) => s.metric).sort()).toEqual(['connections', 'connections', 'xid_age']);
    expect((await app.inject({ url: '/api/v1/targets/nope/series', headers: auth(READ) })).statusCode).toBe(404);
  });

  it('serves top statements from the hourly roll-ups with resolution=hour', async () => {
    const otherId = (await store.targets.findTarget('other'))!.id;
    const statement = (queryId: string, calls: number, totalExecTimeMs: number) => ({
      queryId,
      userName: 'app',
      toplevel: true,
      calls,
      rows: calls,
      totalExecTimeMs,
      sharedBlks: 1,
    });
    // Two complete hours before T0, and 10:30, an hour not complete when the roll-up runs at T0.
    for (const [minutes, slowCalls] of [
      [-110, 1],
      [-80, 1],
      [-40, 2],
      [30, 50],
    ] as const) {
      await store.samples.recordSample({
        targetId: otherId,
        collectedAt: at(minutes),
        durationMs: 50,
        intervalSeconds: 1800,
        findings: 0,
        diagnostics: [],
        series: [],
        statements: [statement('slow', slowCalls, slowCalls * 300), statement('busy', 400, 40)],
        queryTexts: [{ queryId: 'slow', text: 'select * from reports' }],
      });
    }
    // Keep everything: the roll-up alone, up to the hour before T0.
    const forever = 10 * 365 * 86_400_000;
    const retention = await store.applyRetention(
      { samplesMs: forever, resolvedFindingsMs: forever, auditsMs: forever, queryTextsMs: forever, rollupsMs: forever },
      at(0),
    );
    expect(retention).toMatchObject({ samples: 0, findings: 0, audits: 0, queryTexts: 0 });

    const statements = async (query: string) => {
      const res = await app.inject({ url: `/api/v1/targets/other/statements?${query}`, headers: auth(READ) });
      expect(res.statusCode, query).toBe(200);
      return res.json().items as { queryId: string; query: string | null; calls: number; totalExecTimeMs: number; samples: number }[];
    };
    const hourly = await statements('resolution=hour');
    expect(hourly).toEqual([
      { queryId: 'slow', query: 'select * from reports', calls: 4, rows: 4, totalExecTimeMs: 1200, meanExecTimeMs: 300, sharedBlks: 3, samples: 3 },
      { queryId: 'busy', query: null, calls: 1200, rows: 1200, totalExecTimeMs: 120, meanExecTimeMs: 0.1, sharedBlks: 3, samples: 3 },
    ]);
    // The raw default still reads every sample, 10:30 included.
    expect((await statements('')).map((s) => [s.queryId, s.calls])).toEqual([
      ['slow', 54],
      ['busy', 1600],
    ]);
    expect((await statements('resolution=hour&orderBy=calls')).map((s) => s.queryId)).toEqual(['busy', 'slow']);
    expect((await statements('resolution=hour&orderBy=mean&limit=1')).map((s) => s.queryId)).toEqual(['slow']);
    const nine = await statements(`resolution=hour&from=${at(-60).toISOString()}&to=${at(-60).toISOString()}`);
    expect(nine.map((s) => [s.queryId, s.calls, s.samples])).toEqual([
      ['slow', 2, 1],
      ['busy', 400, 1],
    ]);
    expect(await statements(`resolution=hour&from=${at(0).toISOString()}`)).toEqual([]);
    expect(await statements('resolution=hour&to=2026-11-20T07:59:59Z')).toEqual([]);

    for (const query of ['resolution=minute', 'resolution=hour&limit=0', 'resolution=hour&orderBy=slowest', 'resolution=hour&from=yesterday']) {
      const res = await app.inject({ url: `/api/v1/targets/other/statements?${query}`, headers: auth(READ) });
      expect(res.statusCode, query).toBe(400);
      expect(res.headers['content-type'], query).toContain('application/problem+json');
      expect(res.json(), query).toMatchObject({ status: 400, title: 'Bad Request' });
    }
    const badResolution = await app.inject({ url: '/api/v1/targets/other/statements?resolution=minute', headers: auth(READ) });
    expect(badResolution.json().errors[0].path).toContain('resolution');
    const reversed = await app.inject({
      url: `/api/v1/targets/other/statements?resolution=hour&from=${at(0).toISOString()}&to=${at(-60).toISOString()}`,
      headers: auth(READ),
    });
    expect(reversed.statusCode).toBe(400);
    expect(reversed.json()).toMatchObject({ status: 400, detail: 'from is after to' });
  });

  it('starts audits with admin scope and lists them', async () => {
    const denied = await app.inject({ method: 'POST', url: '/api/v1/targets/main/audits', headers: auth(READ), payload: {} });
    expect(denied.statusCode).toBe(403);
    const bad = await app.inject({ method: 'POST', url: '/api/v1/targets/main/audits', headers: auth(ADMIN), payload: { window: 'forever' } });
    expect(bad.statusCode).toBe(400);
    const noBody = await app.inject({ method: 'POST', url: '/api/v1/targets/main/audits', headers: auth(ADMIN) });
    expect(noBody.statusCode).toBe(202);
    expect(noBody.json().windowMs).toBeNull();
    // One running audit per target: finish it before starting the next.
    await store.audits.finishAudit(noBody.json().id, { error: 'test: written off' });
    const started = await app.inject({ method: 'POST', url: '/api/v1/targets/main/audits', headers: auth(ADMIN), payload: { window: '10s' } });
    expect(started.statusCode).toBe(202);
    expect(started.json()).toMatchObject({ target: 'main', status: 'running', windowMs: 10_000, trigger: 'api' });
    const list = (await app.inject({ url: '/api/v1/targets/main/audits', headers: auth(READ) })).json().items;
    expect(list[0].id).toBe(started.json().id);
  });

  it('lists rules and exposes Prometheus metrics', async () => {
    const rules = (await app.inject({ url: '/api/v1/rules', headers: auth(READ) })).json().items;
    expect(rules.map((r: { id: string }) => r.id)).toEqual(allRules.map((r) => r.id));
    expect(rules[0].thresholds.length).toBeGreaterThan(0);
    const metrics = await app.inject({ url: '/metrics', headers: auth(READ) });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toContain('pg_advisor_samples_total{target="main"} 3');
    expect(metrics.body).toContain('pg_advisor_sample_errors_total{target="main"} 1');
    expect(metrics.body).toMatch(/pg_advisor_findings\{rule="table-bloat",severity="critical",status="open"\} \d+/);
    expect(metrics.body).toMatch(/pg_advisor_store_bytes [1-9]\d*/);
  });

  it('rate limits with problem+json 429', async () => {
    const limited = await buildApp({ store, rules: allRules, tokens: [], rateLimit: { max: 3, windowMs: 60_000 } });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) codes.push((await limited.inject('/api/v1/rules')).statusCode);
      expect(codes).toEqual([200, 200, 200, 429, 429]);
      const res = await limited.inject('/api/v1/rules');
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ status: 429 });
      // health is never rate limited
      expect((await limited.inject('/healthz')).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('sheds load under pressure with problem+json 503, but stays live', async () => {
    const pressed = await buildApp({ store, rules: allRules, tokens: [], pressure: { maxEventLoopDelayMs: 0, maxHeapUsedBytes: 1 } });
    try {
      await new Promise((r) => setTimeout(r, 1200)); // under-pressure samples once a second
      const res = await pressed.inject('/api/v1/rules');
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ status: 503, title: 'Service Unavailable' });
    } finally {
      await pressed.close();
    }
  });

  it('refuses a non-loopback bind without a token', () => {
    expect(() => assertSafeBind('0.0.0.0', [])).toThrow(UsageError);
    expect(() => assertSafeBind('0.0.0.0', tokens)).not.toThrow();
    expect(() => assertSafeBind('127.0.0.1', [])).not.toThrow();
    expect(() => assertSafeBind('::1', [])).not.toThrow();
  });
});
