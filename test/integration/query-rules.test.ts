/**
 * n-plus-one and missing-index on a real PostgreSQL, as a pg_monitor-only role: planted loops and missing
 * indexes next to healthy look-alikes in the same database. Each scenario runs under its own role (the
 * pg_stat_statements key includes the role), and look-alike statements differ in text so their queryids differ.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import missingIndex from '../../rules/missing-index/index.js';
import nPlusOne from '../../rules/n-plus-one/index.js';
import { collectSnapshot, collectWindow, connectTarget, type Target } from '../../src/collector/index.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import type { Finding } from '../../src/engine/types.js';
import { enrichSnapshot } from '../../src/collector/enrich/index.js';
import { planGenericCost } from '../../src/collector/enrich/hypopg.js';
import type { Snapshot } from '../../src/snapshot/types.js';
import { initSqlParser } from '../../src/sql/index.js';
import { createTestDatabase, runWorkload, type TestDatabase } from '../support/database.js';
import { runCli } from '../e2e/run-cli.js';
import { apiRequest, batchedFeed, belongsToLoop, hasManyLoop, hotLookups, INDEX_SCHEMA_SQL, LOOP_SCHEMA_SQL, TEXTS } from '../support/sql-plant.js';

let db: TestDatabase;
let monitorUrl: string;
const grants = ['grant select on all tables in schema public to $ROLE'];

beforeAll(async () => {
  await initSqlParser();
  db = await createTestDatabase();
  await db.admin.query(LOOP_SCHEMA_SQL);
  await db.admin.query(INDEX_SCHEMA_SQL);
  monitorUrl = await db.createMonitorRole();
});

afterAll(async () => {
  await db?.drop();
});

/** queryid of a text as pg_stat_statements keeps it (the statement must have run). */
async function queryIdOf(snapshot: Snapshot, fragment: string): Promise<string> {
  const hit = snapshot.statements.find((s) => s.query?.includes(fragment));
  if (!hit) throw new Error(`statement not in pg_stat_statements: ${fragment}`);
  return hit.queryId;
}

async function withTarget<T>(body: (target: Target) => Promise<T>): Promise<T> {
  const target = await connectTarget({ url: monitorUrl });
  try {
    return await body(target);
  } finally {
    await target.close();
  }
}

function summarise(findings: readonly Finding[]): string {
  return JSON.stringify(
    findings.map((f) => ({ rule: f.rule, severity: f.severity, object: f.object, evidence: f.evidence })),
    null,
    1,
  );
}

describe('query rules on real PostgreSQL (cumulative counters, pg_monitor-only role)', () => {
  let snapshot: Snapshot;
  let findings: readonly Finding[];

  beforeAll(async () => {
    const urls: string[] = [];
    for (let i = 0; i < 6; i++) urls.push((await db.createRole({ grants })).url); // GRANTs one at a time
    const [loopBt, loopHm, hot, batch, api, app] = urls as [string, string, string, string, string, string];
    await runWorkload(loopBt, belongsToLoop, { clients: 2, iterations: 100, durationMs: 60_000 });
    await runWorkload(loopHm, hasManyLoop, { clients: 2, iterations: 150, durationMs: 60_000 });
    await runWorkload(hot, hotLookups, { clients: 2, iterations: 3_000, durationMs: 60_000 });
    await runWorkload(batch, batchedFeed, { clients: 2, iterations: 300, durationMs: 60_000 });
    await runWorkload(api, apiRequest, { clients: 2, iterations: 1_500, durationMs: 60_000 });
    // Missing-index plants and their controls, one application role.
    await runWorkload(
      app,
      async (c, i) => {
        await c.query(TEXTS.ordersByCustomer, [(i * 37) % 20_000]);
        await c.query(TEXTS.eventsRecent, [i % 50, new Date(Date.now() - 3_600_000)]);
        await c.query(TEXTS.bySeller, [i % 3000]);
        if (i % 2 === 0) await c.query(TEXTS.statusReport, [i % 4 === 0 ? 'done' : 'paid']);
        if (i % 6 === 0) await c.query(TEXTS.groupReport);
        for (let k = 0; k < 30; k++) {
          await c.query(TEXTS.country, [`country ${1 + ((i + k) % 60)}`]);
          await c.query(TEXTS.setting, [`key${1 + ((i + k) % 40)}`]);
        }
      },
      { clients: 2, iterations: 70, durationMs: 120_000 },
    );

    snapshot = await withTarget((target) => collectSnapshot(target));
    ({ findings } = evaluateRules({ rules: [nPlusOne, missingIndex], snapshot, window: null }));
    console.log(`[query-rules] PostgreSQL ${snapshot.meta.serverVersion}: ${findings.length} findings\n${summarise(findings)}`);
  });

  it('collected as a pg_monitor-only role without column statistics', () => {
    expect(snapshot.meta.capabilities.superuser).toBe(false);
    expect(snapshot.meta.capabilities.pgMonitor).toBe(true);
    expect(snapshot.columns.filter((c) => ['orders', 'events'].includes(c.table))).toEqual([]);
  });

  it('n-plus-one fires on the belongs-to and has-many loops, with their parents', async () => {
    const loops = findings.filter((f) => f.rule === 'n-plus-one');
    const byChild = new Map(loops.map((f) => [f.object.queryId, f]));
    const bt = byChild.get(await queryIdOf(snapshot, 'SELECT id, name, email FROM users WHERE id = $1 LIMIT'));
    expect(bt?.evidence).toMatchObject({
      parentQueryId: await queryIdOf(snapshot, 'FROM posts ORDER BY id DESC'),
      linkType: 'belongs-to',
      basis: 'cumulative',
    });
    expect(bt?.severity).toBe('warning');
    const hm = byChild.get(await queryIdOf(snapshot, 'SELECT id, title FROM posts WHERE user_id'));
    expect(hm?.evidence).toMatchObject({ parentQueryId: await queryIdOf(snapshot, 'FROM users ORDER BY id LIMIT'), linkType: 'has-many' });
    expect(loops).toHaveLength(2);
  });

  it('n-plus-one stays silent on hot lookups, batched access and one-lookup-per-request', async () => {
    const children = new Set(findings.filter((f) => f.rule === 'n-plus-one').map((f) => f.object.queryId));
    for (const text of ['SELECT id, name FROM users WHERE id = $1', 'SELECT id, email FROM users WHERE id = $1', 'WHERE id = ANY($1)', 'WHERE id IN (']) {
      const ids = snapshot.statements.filter((s) => s.query?.includes(text)).map((s) => s.queryId);
      expect(ids.length, text).toBeGreaterThan(0);
      for (const id of ids) expect(children.has(id), text).toBe(false);
    }
  });

  it('missing-index suggests the single-column and the composite index, and nothing on the controls', () => {
    const suggestions = findings
      .filter((f) => f.rule === 'missing-index')
      .map((f) => `${f.object.schema}.${f.object.name}(${(f.object.columns ?? []).join(',')})`)
      .sort();
    expect(suggestions).toEqual(['public.events(account_id,created_at)', 'public.orders(customer_id)']);
    const orders = findings.find((f) => f.rule === 'missing-index' && f.object.name === 'orders')!;
    expect(orders.recommendation.sql).toBe('CREATE INDEX CONCURRENTLY ON public.orders (customer_id)');
    expect(orders.evidence).toMatchObject({ selectivitySource: 'observed', verification: 'not-verified', tableRows: 200_000 });
  });

  it('check --format json reports the same findings, as a pg_monitor-only role', async () => {
    const r = await runCli(['check', '--database-url', monitorUrl, '--format', 'json', '--rules', 'n-plus-one,missing-index', '--fail-on', 'never'], {
      timeoutMs: 60_000,
    });
    // pg 8.23 warns about a query queued by pg-pool right after connect (collector's pool, not these rules).
    const stderr = r.stderr.split('\n').filter((l) => l.trim() !== '' && !/DeprecationWarning: Calling client\.query\(\)|--trace-deprecation/.test(l));
    expect(stderr).toEqual([]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      findings: {
        rule: string;
        object: { queryId?: string; name?: string; columns?: readonly string[] };
        evidence: Record<string, unknown>;
        recommendation: { text: string };
      }[];
    };
    const key = (f: { rule: string; object: { queryId?: string; name?: string; columns?: readonly string[] } }) =>
      f.rule === 'n-plus-one' ? `${f.rule}:${f.object.queryId}` : `${f.rule}:${f.object.name}(${(f.object.columns ?? []).join(',')})`;
    expect(report.findings.map(key).sort()).toEqual(findings.map(key).sort());
    for (const f of report.findings.filter((x) => x.rule === 'n-plus-one')) {
      expect(f.evidence.parentQueryId).toEqual(findings.find((x) => x.object.queryId === f.object.queryId)?.evidence.parentQueryId);
      expect(f.recommendation.text).toContain('= ANY($1)');
    }
  });

  it('enrichment without hypopg records why verification is unavailable and changes no finding', async () => {
    const enriched = await withTarget((target) => enrichSnapshot(target, snapshot));
    const verifications = enriched.enrichments?.indexVerifications ?? [];
    expect(verifications.length).toBeGreaterThan(0);
    for (const v of verifications) expect(v).toMatchObject({ status: 'failed', reason: expect.stringMatching(/hypopg is not installed/) });
    const again = evaluateRules({ rules: [missingIndex], snapshot: enriched, window: null }).findings;
    expect(again.map((f) => f.fingerprint)).toEqual(findings.filter((f) => f.rule === 'missing-index').map((f) => f.fingerprint));
  });

  it('plans normalised texts generically without executing them (GENERIC_PLAN on 16+, PREPARE before)', async () => {
    const target = await connectTarget({ url: db.adminUrl });
    try {
      const plan = await target.withReadOnlyTransaction!((q) =>
        planGenericCost(q, snapshot.statements.find((s) => s.query?.includes('FROM orders WHERE customer_id'))!.query!, snapshot.meta.serverVersionNum),
      );
      expect(plan.cost).toBeGreaterThan(100);
      expect(plan.indexNames).toEqual([]);
    } finally {
      await target.close();
    }
  });
});

describe('n-plus-one with --window samples', () => {
  it('fires on a loop in the window and rejects a coincidental rate from another application', async () => {
    const AUTH_LOOKUP = 'SELECT id, email, name FROM users WHERE id = $1 LIMIT 1';
    const TIMELINE = 'SELECT id, user_id, title, created_at FROM posts ORDER BY id DESC LIMIT 20 OFFSET $1';
    const loopRole = (await db.createRole({ grants })).url;
    const coincidenceRole = (await db.createRole({ grants })).url;
    const workloads = Promise.all([
      runWorkload(loopRole, belongsToLoop, { clients: 2, durationMs: 7_500, applicationName: 'feed-app' }),
      // Same role, two services: a timeline that never looks users up, and an auth service doing lookups
      // at a similar rate (≈ one per timeline row): cumulative counters alone would pair them.
      runWorkload(
        coincidenceRole,
        async (c, i) => {
          await c.query(TIMELINE, [(i * 20) % 90_000]);
          await new Promise((r) => setTimeout(r, 25));
        },
        { clients: 1, durationMs: 7_500, applicationName: 'timeline' },
      ),
      runWorkload(
        coincidenceRole,
        async (c) => {
          await c.query(AUTH_LOOKUP, [1 + Math.floor(Math.random() * 5000)]);
          await new Promise((r) => setTimeout(r, 1));
        },
        { clients: 1, durationMs: 7_500, applicationName: 'auth' },
      ),
    ]);
    await new Promise((r) => setTimeout(r, 1_000));
    const { snapshot, window } = await withTarget((target) => collectWindow(target, { durationMs: 5_000 }));
    await workloads;
    const { findings } = evaluateRules({ rules: [nPlusOne], snapshot, window });
    const delta = (fragment: string) =>
      window.statements.find((d) => (d.query ?? snapshot.statements.find((s) => s.queryId === d.queryId)?.query)?.includes(fragment));
    const auth = delta('SELECT id, email, name FROM users');
    const timeline = delta('title, created_at FROM posts');
    console.log(
      `[query-rules] window on PostgreSQL ${snapshot.meta.serverVersion}: auth calls ${auth?.calls}, ` +
        `timeline calls ${timeline?.calls} rows ${timeline?.rows}\n${summarise(findings)}`,
    );
    const loopChild = await queryIdOf(snapshot, 'SELECT id, name, email FROM users WHERE id = $1 LIMIT');
    expect(findings.find((f) => f.object.queryId === loopChild)?.evidence).toMatchObject({ basis: 'window', linkType: 'belongs-to' });
    expect(auth, 'the auth lookups ran in the window').toBeDefined();
    expect(findings.map((f) => f.object.queryId)).not.toContain(auth!.queryId);
  });
});
