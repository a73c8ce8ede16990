/**
 * lock-contention on a real PostgreSQL as a pg_monitor-only role, on the planted lock queue (batch-import
 * holds a row lock on accounts, migrate waits for ACCESS EXCLUSIVE, two reads queue behind it): one critical
 * finding on the table naming the incident; pg_dump and the idle sessions stay silent. The floor is lowered to
 * 1 s through the rule settings. The locks source stays bounded next to 5,000 granted locks.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { connectTarget } from '../../src/collector/index.js';
import { collectServerInfo } from '../../src/collector/server-info.js';
import { collectLocks } from '../../src/collector/sources/locks.js';
import { sleep } from '../../src/demo/scenarios/sessions.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import type { Finding } from '../../src/engine/types.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { plantLockQueue, type LockQueue } from '../support/lock-queue.js';
import { collectAndEvaluate, type Evaluation } from '../support/scenario-check.js';

const rule = (e: { findings: readonly Finding[] }): Finding[] => e.findings.filter((f) => f.rule === 'lock-contention');

describe('lock-contention on a planted lock queue', () => {
  let db: TestDatabase;
  let monitorUrl: string;
  let queue: LockQueue | null = null;
  let evaluation: Evaluation;
  let holder: pg.Client | null = null;

  beforeAll(async () => {
    db = await createTestDatabase();
    monitorUrl = await db.createMonitorRole();
    queue = await plantLockQueue(db.adminUrl, { ageMs: 1000 });
    // Noise: 5,000 granted advisory locks in one more session; the source must return only the waits.
    holder = new pg.Client({ connectionString: db.adminUrl, application_name: 'lock-hoarder' });
    holder.on('error', () => {});
    await holder.connect();
    await holder.query('begin');
    await holder.query('select pg_advisory_xact_lock(g) from generate_series(1, 5000) g');
    await sleep(1500);
    evaluation = await collectAndEvaluate(monitorUrl, { settings: { 'lock-contention': { thresholds: { minWaitSeconds: 1 } } } });
  }, 60_000);

  afterAll(async () => {
    await queue?.release();
    await holder?.end().catch(() => {});
    await db?.drop();
  });

  it('fires once, critical, on accounts with the DDL queue shape; the rest is silent', () => {
    expect(evaluation.snapshot.meta.sources.locks).toEqual({ status: 'ok' });
    expect(evaluation.diagnostics.filter((d) => d.rule === 'lock-contention')).toEqual([]);
    expect(rule(evaluation).map((f) => `${f.severity} ${f.object.type} ${f.object.schema}.${f.object.name}`)).toEqual(['critical table public.accounts']);
    const batch = queue!.pids['batch-import']![0]!;
    const migrate = queue!.pids.migrate![0]!;
    const evidence = rule(evaluation)[0]!.evidence;
    expect(evidence).toMatchObject({
      rootBlocker: { pid: batch, application: 'batch-import', state: 'active', heldModes: ['RowExclusiveLock'] },
      rootBlockerPids: [batch],
      waitingSessions: 3,
      waitingPids: [migrate, ...queue!.pids.web!].sort((a, b) => a - b),
      waitedModes: ['AccessExclusiveLock', 'AccessShareLock'],
      ddlWaiter: { pid: migrate, mode: 'AccessExclusiveLock' },
      queuedBehindDdl: 2,
      truncatedWaits: 0,
    });
    expect(Number(evidence.longestWaitSeconds)).toBeGreaterThanOrEqual(1);
    expect(rule(evaluation)[0]!.recommendation.sql).toBe(`SELECT pg_terminate_backend(${batch});`);
  });

  it('collects only the waiting sessions and their blockers, bounded', async () => {
    expect(evaluation.snapshot.locks!.waits.map((w) => w.pid).sort()).toEqual([...queue!.pids.migrate!, ...queue!.pids.web!].sort());
    expect(evaluation.snapshot.locks!.holders.map((h) => h.pid).sort()).toEqual([...queue!.pids['batch-import']!, ...queue!.pids.migrate!].sort());
    // 5,000 advisory locks of one session make one aggregated row, not 5,000.
    const held = evaluation.snapshot.locks!.held!;
    expect(held.length).toBeLessThanOrEqual(12);
    expect(held.find((h) => h.pid === queue!.pids['batch-import']![0])).toEqual({
      pid: queue!.pids['batch-import']![0],
      relationLocks: 2,
      accessExclusiveLocks: 0,
    });
    const target = await connectTarget({ url: monitorUrl });
    try {
      const bounded = await collectLocks(await collectServerInfo(target), 2);
      expect(bounded.waits).toHaveLength(2);
      expect(bounded.truncated).toBe(1);
    } finally {
      await target.close();
    }
  });

  it('still collects tables and indexes during the incident, skipping sizes of the table a DDL waits for', () => {
    expect(evaluation.snapshot.meta.sources.tables).toMatchObject({ status: 'ok', note: expect.stringContaining('accounts') });
    expect(evaluation.snapshot.meta.sources.indexes).toMatchObject({ status: 'ok' });
    expect(evaluation.snapshot.tables.find((t) => t.name === 'accounts')).toMatchObject({ locked: true, heapBytes: null });
    expect(evaluation.snapshot.tables.find((t) => t.name === 'audit_log')).toMatchObject({ locked: false });
  });

  it('stays silent under the default 10 s floor', () => {
    const { findings } = evaluateRules({ rules: allRules, snapshot: evaluation.snapshot, window: null });
    expect(rule({ findings })).toEqual([]);
  });
});
