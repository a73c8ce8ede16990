/**
 * table-bloat and index-bloat on a real PostgreSQL: the planted mass-delete and delete-and-refill
 * scenarios, collected as a pg_monitor-only role, measured with pgstattuple and then with the
 * statistical estimate alone (pgstattuple dropped: skipped as pg_monitor only, estimated once SELECT is granted).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scenarios, type Planted, type Scenario } from '../../src/demo/scenarios/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { collectAndEvaluate, expectScenarios } from '../support/scenario-check.js';

const planted: Scenario[] = scenarios.filter((s) => s.id === 'table-bloat' || s.id === 'index-bloat');

describe('bloat rules on planted bloat', () => {
  let db: TestDatabase;
  let monitorUrl: string;
  const plants: Planted[] = [];

  beforeAll(async () => {
    expect(planted).toHaveLength(2);
    db = await createTestDatabase({ extensions: ['pgstattuple'] });
    monitorUrl = await db.createMonitorRole();
    for (const scenario of planted) plants.push(await scenario.plant({ adminUrl: db.adminUrl, log: () => {} }));
  }, 120_000);

  afterAll(async () => {
    for (const p of plants) await p.release();
    await db?.drop();
  });

  it('measured with pgstattuple: fires on the bloated heap and indexes, silent on the look-alikes', async () => {
    const evaluation = await collectAndEvaluate(monitorUrl);
    expect(evaluation.snapshot.meta.capabilities.pgstattuple).toBe(true);
    expectScenarios(evaluation, planted);
    const heap = evaluation.findings.find((f) => f.rule === 'table-bloat' && f.object.name === 'order_events');
    expect(heap?.evidence.method).toBe('pgstattuple_approx');
    expect(Number(heap?.evidence.ratio)).toBeGreaterThan(0.6);
  });

  it('without pgstattuple as pg_monitor only: both rules are reported skipped, never clean', async () => {
    await db.admin.query('drop extension pgstattuple');
    const evaluation = await collectAndEvaluate(monitorUrl);
    expect(evaluation.snapshot.meta.capabilities.pgstattuple).toBe(false);
    const skipped = evaluation.diagnostics.filter((d) => d.status === 'skipped').map((d) => d.rule);
    expect(skipped).toEqual(expect.arrayContaining(['table-bloat', 'index-bloat']));
    expect(evaluation.findings.filter((f) => f.rule.endsWith('-bloat'))).toEqual([]);
  });

  it('without pgstattuple but with SELECT granted: the estimate from pg_stats gives the same verdicts', async () => {
    const role = decodeURIComponent(new URL(monitorUrl).username);
    await db.admin.query(`grant select on all tables in schema public to ${role}`);
    const evaluation = await collectAndEvaluate(monitorUrl);
    expect(evaluation.snapshot.meta.capabilities.pgstattuple).toBe(false);
    expectScenarios(evaluation, planted);
    const heap = evaluation.findings.find((f) => f.rule === 'table-bloat' && f.object.name === 'order_events');
    expect(heap?.evidence.method).toBe('estimate');
  });
});
