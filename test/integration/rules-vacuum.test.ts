/**
 * vacuum-lag and xid-wraparound on a real PostgreSQL: a prepared transaction holds the xmin horizon while
 * job_queue's dead tuples pile up and 200,000 transaction IDs age ledger_entries past 1.5× its freeze max
 * age; collected as a pg_monitor-only role. The findings must name the prepared transaction, not the
 * sessions whose snapshots merely inherit its xmin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scenarios, type Planted, type Scenario } from '../../src/demo/scenarios/index.js';
import { closeSessions, loopStatements, openSessions } from '../../src/demo/scenarios/sessions.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { collectAndEvaluate, expectScenarios, type Evaluation } from '../support/scenario-check.js';

const planted: Scenario[] = scenarios.filter((s) => s.id === 'vacuum-lag' || s.id === 'xid-wraparound');

describe('vacuum rules on a held xmin horizon', () => {
  let db: TestDatabase;
  let monitorUrl: string;
  const plants: Planted[] = [];
  let quiet: Evaluation;
  let busy: Evaluation;

  beforeAll(async () => {
    expect(planted).toHaveLength(2);
    db = await createTestDatabase();
    monitorUrl = await db.createMonitorRole();
    for (const scenario of planted) plants.push(await scenario.plant({ adminUrl: db.adminUrl, log: () => {} }));
    quiet = await collectAndEvaluate(monitorUrl);
    // Then with a busy application alongside: each of its statements takes a snapshot whose xmin is the
    // prepared transaction's xid, so its backends show the same xmin age without holding anything.
    const api = await openSessions(db.adminUrl, 3, 'api-server');
    const loop = loopStatements(api, 'select pg_catalog.pg_sleep(0.2)');
    try {
      busy = await collectAndEvaluate(monitorUrl);
    } finally {
      await loop.stop();
      await closeSessions(api);
    }
  }, 120_000);

  afterAll(async () => {
    for (const p of plants) await p.release();
    await db?.drop();
  });

  it('fires on the blocked and the disabled table and on the aged table, silent on the look-alikes', () => {
    expectScenarios(quiet, planted);
    const lag = quiet.findings.filter((f) => f.rule === 'vacuum-lag');
    expect(lag.find((f) => f.object.name === 'job_queue')?.evidence.cause).toBe('blocked');
    expect(lag.find((f) => f.object.name === 'sensor_readings')?.evidence.cause).toBe('disabled');
    const xid = quiet.findings.find((f) => f.rule === 'xid-wraparound' && f.object.name === 'ledger_entries');
    expect(Number(xid?.evidence.ratio)).toBeGreaterThanOrEqual(1.5);
    const blocked = quiet.findings.find((f) => f.rule === 'vacuum-lag' && f.object.name === 'job_queue');
    expect(blocked?.evidence).toMatchObject({ holderKind: 'prepared-transaction', holderName: 'orders-tm-0042' });
  });

  it('with busy sessions sharing the held xmin: the same verdicts, still naming the prepared transaction', () => {
    expectScenarios(busy, planted);
    const blocked = busy.findings.find((f) => f.rule === 'vacuum-lag' && f.object.name === 'job_queue');
    expect(blocked?.evidence).toMatchObject({ holderKind: 'prepared-transaction', holderName: 'orders-tm-0042' });
    const aged = busy.findings.find((f) => f.rule === 'xid-wraparound' && f.object.name === 'ledger_entries');
    expect(aged?.evidence).toMatchObject({ holderKind: 'prepared-transaction', holderName: 'orders-tm-0042' });
  });

  it('releases the prepared transactions', async () => {
    for (const p of plants.splice(0)) await p.release();
    const { rows } = await db.admin.query('select gid from pg_catalog.pg_prepared_xacts where database = current_database()');
    expect(rows).toEqual([]);
  });
});
