/**
 * idle-in-transaction on a real PostgreSQL, collected over a window as a pg_monitor-only role. The
 * threshold is lowered to 5 s (instead of waiting the 60 s default) through the rule settings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { scenarios, type Planted, type Scenario } from '../../src/demo/scenarios/index.js';
import { waitUntil } from '../../src/demo/scenarios/sessions.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { collectAndEvaluate, expectScenarios, type Evaluation } from '../support/scenario-check.js';

const scenario = scenarios.find((s) => s.id === 'idle-in-transaction') as Scenario;
const MAX_IDLE_SECONDS = 5;

describe('idle-in-transaction on planted sessions', () => {
  let db: TestDatabase;
  let planted: Planted | null = null;
  let evaluation: Evaluation;

  beforeAll(async () => {
    db = await createTestDatabase();
    const monitorUrl = await db.createMonitorRole();
    planted = await scenario.plant({ adminUrl: db.adminUrl, log: () => {} });
    const aged = await waitUntil(async () => {
      const { rows } = await db.admin.query(
        `select extract(epoch from now() - state_change) as idle from pg_catalog.pg_stat_activity
          where application_name = 'billing-worker' and state = 'idle in transaction'`,
      );
      return rows.length === 1 && Number(rows[0].idle) > MAX_IDLE_SECONDS + 0.5;
    }, 20_000);
    expect(aged, 'billing-worker is idle in transaction').toBe(true);
    evaluation = await collectAndEvaluate(monitorUrl, {
      windowMs: 3000,
      settings: { 'idle-in-transaction': { thresholds: { maxIdleSeconds: MAX_IDLE_SECONDS } } },
    });
  }, 60_000);

  afterAll(async () => {
    await planted?.release();
    await db?.drop();
  });

  it('fires on billing-worker, silent on idle sessions, short transactions and a busy long transaction', () => {
    expectScenarios(evaluation, [scenario]);
    const finding = evaluation.findings.find((f) => f.rule === 'idle-in-transaction');
    expect(finding?.evidence).toMatchObject({ sessions: 1 });
    expect(Number(finding?.evidence.longestIdleSeconds)).toBeGreaterThan(MAX_IDLE_SECONDS);
  });

  it('stays silent under the default 60 s threshold', () => {
    const { findings } = evaluateRules({ rules: allRules, snapshot: evaluation.snapshot, window: evaluation.window });
    expect(findings.filter((f) => f.rule === 'idle-in-transaction')).toEqual([]);
  });
});
