/**
 * long-running-transaction on a real PostgreSQL as a pg_monitor-only role, on the planted lock queue: the
 * batch transaction fires with the sessions queued behind it, pg_dump is info, and the idle session, the
 * session idle in transaction (idle-in-transaction's), the waiting migration and reads (young) and a statement
 * that just started stay silent. The threshold is lowered to 3 s through the rule settings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import type { Finding } from '../../src/engine/types.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { plantLockQueue, type LockQueue } from '../support/lock-queue.js';
import { collectAndEvaluate, type Evaluation } from '../support/scenario-check.js';

const MAX_XACT_SECONDS = 3;
const rule = (e: { findings: readonly Finding[] }): Finding[] => e.findings.filter((f) => f.rule === 'long-running-transaction');

describe('long-running-transaction on a planted lock queue', () => {
  let db: TestDatabase;
  let queue: LockQueue | null = null;
  let evaluation: Evaluation;

  beforeAll(async () => {
    db = await createTestDatabase();
    const monitorUrl = await db.createMonitorRole();
    queue = await plantLockQueue(db.adminUrl, { ageMs: (MAX_XACT_SECONDS + 1) * 1000 });
    evaluation = await collectAndEvaluate(monitorUrl, {
      settings: { 'long-running-transaction': { thresholds: { maxXactSeconds: MAX_XACT_SECONDS } } },
    });
  }, 60_000);

  afterAll(async () => {
    await queue?.release();
    await db?.drop();
  });

  it('fires on the batch transaction with the sessions queued behind it; pg_dump is info; the rest is silent', () => {
    expect(evaluation.diagnostics.filter((d) => d.rule === 'long-running-transaction')).toEqual([]);
    expect(
      rule(evaluation)
        .map((f) => `${f.severity} ${f.object.name}`)
        .sort(),
    ).toEqual(['info pg_dump', 'warning batch-import']);
    const batch = rule(evaluation).find((f) => f.object.name === 'batch-import')!;
    expect(batch.evidence).toMatchObject({
      sessions: 1,
      pids: queue!.pids['batch-import'],
      readOnly: false,
      backupTool: false,
      blockedSessions: 3,
      waitingOnLock: false,
      blockedPids: [...queue!.pids.migrate!, ...queue!.pids.web!].sort((a, b) => a - b),
    });
    expect(Number(batch.evidence.longestXactSeconds)).toBeGreaterThanOrEqual(MAX_XACT_SECONDS);
    // RowExclusiveLock on accounts and on its primary key index.
    expect(batch.evidence).toMatchObject({ relationLocksHeld: 2, accessExclusiveLocksHeld: 0 });
    const dump = rule(evaluation).find((f) => f.object.name === 'pg_dump')!;
    expect(dump.evidence).toMatchObject({ readOnly: true, backupTool: true, blockedSessions: 0 });
    // The idle-in-transaction session is the other rule's (not yet 60 s idle, so silent there too).
    expect(evaluation.findings.filter((f) => f.object.name === 'idle-worker')).toEqual([]);
  });

  it('stays silent under the default 5-minute threshold', () => {
    const { findings } = evaluateRules({ rules: allRules, snapshot: evaluation.snapshot, window: null });
    expect(rule({ findings })).toEqual([]);
  });
});
