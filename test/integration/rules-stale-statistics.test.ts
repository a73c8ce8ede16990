/**
 * stale-statistics on a real PostgreSQL as a pg_monitor-only role: a table rewritten after its last ANALYZE
 * (autovacuum disabled for it) and a large table never analysed fire; a freshly analysed table, a table
 * changed twice its trigger and a small never-analysed table stay silent. minAnalyzeAgeSeconds is lowered to
 * 0 through the rule settings (the planted ANALYZE is seconds old); the generated ANALYZE silences the rule.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { runInFreshSessions, waitForCounters } from '../../src/demo/scenarios/sessions.js';
import { evaluateRules, type RuleSettings } from '../../src/engine/evaluate.js';
import type { Finding } from '../../src/engine/types.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { collectAndEvaluate, type Evaluation } from '../support/scenario-check.js';

/** 40,000 rows of ~250 bytes: about 10 MiB of heap, over the 8 MiB floor. */
const ROWS = 40_000;
const OFF = 'with (autovacuum_enabled = false)';
const table = (name: string) => `create table ${name} (id int primary key, filler text not null) ${OFF}`;
const fill = (name: string, rows = ROWS) => `insert into ${name} select g, repeat('x', 200) from generate_series(1, ${rows}) g`;

/** Loads, ANALYZEs, then changes: each statement in its own session, so its statistics are flushed when it closes. */
const LOAD = [
  table('stale_orders'),
  fill('stale_orders'), // planted: analysed, then every row updated (~10× its trigger of 4,050)
  table('"Raw Imports"'),
  fill('"Raw Imports"'), // planted: loaded, never analysed
  table('fresh_orders'),
  fill('fresh_orders'), // healthy: analysed after the load
  table('touched_orders'),
  fill('touched_orders'), // healthy: 8,000 rows changed since its ANALYZE, about twice its trigger
  table('small_raw'),
  fill('small_raw', 100), // healthy: never analysed but small
];
const ANALYZE = ['analyze stale_orders', 'analyze fresh_orders', 'analyze touched_orders'];
const CHANGE = [`update stale_orders set filler = repeat('y', 200)`, `update touched_orders set filler = 'z' where id <= 8000`];
const SETTINGS: Readonly<Record<string, RuleSettings>> = { 'stale-statistics': { thresholds: { minAnalyzeAgeSeconds: 0 } } };
const staleFindings = (e: { findings: readonly Finding[] }): Finding[] => e.findings.filter((f) => f.rule === 'stale-statistics');
const describeFinding = (f: Finding): string => `${f.object.schema}.${f.object.name} ${String(f.evidence.cause)}`;

describe('stale-statistics on planted tables', () => {
  let db: TestDatabase;
  let monitorUrl: string;
  let before: Evaluation;

  beforeAll(async () => {
    db = await createTestDatabase();
    monitorUrl = await db.createMonitorRole();
    // A session's counters reach the statistics when it closes; an ANALYZE before that flush would leave the
    // load counted as modifications since the ANALYZE.
    await runInFreshSessions(db.adminUrl, LOAD);
    for (const name of ['stale_orders', 'Raw Imports', 'fresh_orders', 'touched_orders']) await waitForCounters(db.adminUrl, name, { nTupIns: ROWS });
    await runInFreshSessions(db.adminUrl, ANALYZE);
    await runInFreshSessions(db.adminUrl, CHANGE);
    await waitForCounters(db.adminUrl, 'stale_orders', { nTupUpd: ROWS });
    await waitForCounters(db.adminUrl, 'touched_orders', { nTupUpd: 8000 });
    before = await collectAndEvaluate(monitorUrl, { settings: SETTINGS });
  }, 60_000);

  afterAll(async () => {
    await db?.drop();
  });

  it('fires on the rewritten table and the never-analysed one, silent on the look-alikes', () => {
    expect(before.diagnostics.filter((d) => d.rule === 'stale-statistics')).toEqual([]);
    expect(staleFindings(before).map(describeFinding).sort()).toEqual(['public.Raw Imports never-analyzed', 'public.stale_orders autovacuum-disabled']);
    const staleOrders = staleFindings(before).find((f) => f.object.name === 'stale_orders')!;
    expect(staleOrders.evidence).toMatchObject({ nModSinceAnalyze: ROWS, analyzeTriggerRows: 4_050, neverAnalyzed: false, autovacuumEnabled: false });
    expect(Number(staleOrders.evidence.staleRatio)).toBeGreaterThan(9);
    expect(staleOrders.recommendation.sql).toBe('ANALYZE public.stale_orders;');
    const raw = staleFindings(before).find((f) => f.object.name === 'Raw Imports')!;
    expect(raw.evidence).toMatchObject({ neverAnalyzed: true, lastAnalyzeAgeSeconds: null, nModSinceAnalyze: ROWS });
    expect(raw.recommendation.sql).toBe('ANALYZE public."Raw Imports";');
  });

  it('leaves a table analysed seconds ago alone under the default one-hour age', () => {
    const { findings } = evaluateRules({ rules: allRules, snapshot: before.snapshot, window: null });
    expect(staleFindings({ findings }).map(describeFinding)).toEqual(['public.Raw Imports never-analyzed']);
  });

  it('goes silent once the recommended ANALYZE ran', async () => {
    for (const f of staleFindings(before)) await db.admin.query(f.recommendation.sql!);
    let after: Evaluation | null = null;
    for (let i = 0; i < 20; i++) {
      after = await collectAndEvaluate(monitorUrl, { settings: SETTINGS });
      if (staleFindings(after).length === 0) break;
      await new Promise((r) => setTimeout(r, 250)); // the ANALYZE's counters reach the statistics within a second
    }
    expect(staleFindings(after!).map(describeFinding)).toEqual([]);
  });
});
