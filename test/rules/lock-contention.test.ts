import { describe, expect, it } from 'vitest';
import rule from '../../rules/lock-contention/index.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import type { AnyRule } from '../../src/engine/types.js';
import { deepFreeze } from '../../src/snapshot/freeze.js';
import type { LockHolder, LockWait } from '../../src/snapshot/types.js';
import { makeBackend, makeLockHolder, makeLocksState, makeLockWait, makeSnapshot } from '../support/builders.js';
import { ruleTester } from '../support/rule-tester.js';

const ROOT = 100;
const root = (o: Partial<LockHolder> = {}) =>
  makeLockHolder({ pid: ROOT, applicationName: 'batch', userName: 'app', state: 'active', xactAgeSeconds: 900, ...o });
const wait = (pid: number, blockedBy: number[], o: Partial<LockWait> = {}) => makeLockWait({ pid, blockedBy, ...o });
const snap = (waits: LockWait[], holders: LockHolder[] = [root()]) => makeSnapshot({ locks: makeLocksState({ waits, holders }) });
/** The incident: migrate (AccessExclusiveLock) behind the batch, two reads behind migrate. */
const incident = (waitSeconds = 20) => [
  wait(200, [ROOT], { mode: 'AccessExclusiveLock', waitSeconds }),
  wait(301, [200], { waitSeconds: waitSeconds - 5 }),
  wait(302, [200], { waitSeconds: waitSeconds - 6 }),
];

ruleTester(rule, {
  valid: [
    { name: 'no lock waits', snapshot: snap([], []) },
    { name: 'a snapshot from before the locks source', snapshot: makeSnapshot({ locks: null }) },
    { name: 'a chain whose longest wait is just under 10 s', snapshot: snap([wait(200, [ROOT], { waitSeconds: 9.9 }), wait(201, [ROOT], { waitSeconds: 2 })]) },
    {
      name: 'a deadlock cycle has no root (the deadlock detector ends it)',
      snapshot: snap([wait(200, [201], { waitSeconds: 60 }), wait(201, [200], { waitSeconds: 60 })], []),
    },
    { name: 'a raised floor silences a 30 s wait', snapshot: snap([wait(200, [ROOT])]), thresholds: { minWaitSeconds: 60 } },
  ],
  invalid: [
    {
      name: 'one session waiting exactly 10 s on a table',
      snapshot: snap([wait(200, [ROOT], { mode: 'RowExclusiveLock', waitSeconds: 10 })]),
      findings: [
        {
          severity: 'warning',
          object: { type: 'table', schema: 'public', name: 'orders' },
          evidence: {
            rootBlocker: {
              pid: ROOT,
              application: 'batch',
              role: 'app',
              backendType: 'client backend',
              state: 'active',
              xactAgeSeconds: 900,
              heldModes: ['RowExclusiveLock'],
            },
            rootBlockerPids: [ROOT],
            waitingSessions: 1,
            waitingPids: [200],
            longestWaitSeconds: 10,
            waitedModes: ['RowExclusiveLock'],
            ddlWaiter: null,
            queuedBehindDdl: 0,
          },
        },
      ],
      renumbered: { snapshot: snap([wait(200, [ROOT], { mode: 'RowExclusiveLock', waitSeconds: 200 })], [root({ xactAgeSeconds: 5 })]) },
    },
    {
      name: 'the DDL queue shape is critical and named',
      snapshot: snap(incident()),
      findings: [
        {
          severity: 'critical',
          object: { type: 'table', name: 'orders' },
          evidence: {
            waitingSessions: 3,
            waitingPids: [200, 301, 302],
            ddlWaiter: { pid: 200, mode: 'AccessExclusiveLock', waitSeconds: 20 },
            queuedBehindDdl: 2,
            waitedModes: ['AccessExclusiveLock', 'AccessShareLock'],
          },
        },
      ],
    },
    {
      name: 'a DDL waiting alone (nothing queued behind it) is a warning',
      snapshot: snap([wait(200, [ROOT], { mode: 'AccessExclusiveLock', waitSeconds: 20 })]),
      findings: [{ severity: 'warning', object: { name: 'orders' }, evidence: { ddlWaiter: null, queuedBehindDdl: 0 } }],
    },
    {
      name: 'just under 5 minutes and 9 waiters stays a warning',
      snapshot: snap(Array.from({ length: 9 }, (_, i) => wait(200 + i, [ROOT], { mode: 'RowExclusiveLock', waitSeconds: 299 - i }))),
      findings: [{ severity: 'warning', object: { name: 'orders' }, evidence: { waitingSessions: 9, longestWaitSeconds: 299 } }],
    },
    {
      name: 'critical once a wait reaches 5 minutes',
      snapshot: snap([wait(200, [ROOT], { mode: 'RowExclusiveLock', waitSeconds: 300 })]),
      findings: [{ severity: 'critical', object: { name: 'orders' }, evidence: { longestWaitSeconds: 300 } }],
    },
    {
      name: 'critical with 10 sessions waiting',
      snapshot: snap(Array.from({ length: 10 }, (_, i) => wait(200 + i, [ROOT], { mode: 'RowExclusiveLock', waitSeconds: 20 }))),
      findings: [{ severity: 'critical', object: { name: 'orders' }, evidence: { waitingSessions: 10 } }],
    },
    {
      name: "row-lock waits (transactionid) with no relation name the root blocker's application",
      snapshot: snap([wait(200, [ROOT], { lockType: 'transactionid', mode: 'ShareLock', schema: null, relation: null, waitSeconds: 15 })]),
      findings: [{ severity: 'warning', object: { type: 'application', name: 'batch' }, evidence: { ddlWaiter: null, waitedModes: ['ShareLock'] } }],
    },
    {
      name: 'a tuple waiter behind a transactionid waiter names the table',
      snapshot: snap([
        wait(200, [ROOT], { lockType: 'transactionid', mode: 'ShareLock', schema: null, relation: null, waitSeconds: 15 }),
        wait(201, [200], { lockType: 'tuple', mode: 'ExclusiveLock', schema: 'public', relation: 'accounts', waitSeconds: 12 }),
      ]),
      findings: [{ severity: 'warning', object: { type: 'table', name: 'accounts' }, evidence: { waitingSessions: 2, ddlWaiter: null } }],
    },
    {
      name: 'two roots on one table make one finding, the older transaction first',
      snapshot: snap(
        [wait(200, [ROOT, 101], { mode: 'AccessExclusiveLock', waitSeconds: 40 })],
        [root(), root({ pid: 101, applicationName: 'report', xactAgeSeconds: 4_000 })],
      ),
      findings: [
        { severity: 'warning', object: { name: 'orders' }, evidence: { rootBlocker: { pid: 101, application: 'report' }, rootBlockerPids: [ROOT, 101] } },
      ],
    },
    {
      name: 'an autovacuum root blocker and one no longer listed are described from what is known',
      snapshot: snap(
        [wait(200, [ROOT], { relation: 'orders', waitSeconds: 30 }), wait(300, [555], { relation: 'events', waitSeconds: 30 })],
        [root({ backendType: 'autovacuum worker', applicationName: '', userName: null, state: 'active', xactAgeSeconds: 60 })],
      ),
      findings: [
        { severity: 'warning', object: { name: 'orders' }, evidence: { rootBlocker: { pid: ROOT, backendType: 'autovacuum worker' } } },
        { severity: 'warning', object: { name: 'events' }, evidence: { rootBlocker: { pid: 555, application: null, xactAgeSeconds: null } } },
      ],
    },
    {
      name: 'a prepared transaction (pid 0) as the root blocker',
      snapshot: snap([wait(200, [0], { lockType: 'transactionid', mode: 'ShareLock', schema: null, relation: null, waitSeconds: 30 })], []),
      findings: [
        {
          severity: 'warning',
          object: { type: 'application', name: '(prepared transaction)' },
          evidence: { rootBlocker: { pid: 0, backendType: 'prepared transaction' }, rootBlockerPids: [0] },
        },
      ],
    },
    {
      name: 'a root that is a listed client backend but not a lock holder row falls back to activity',
      snapshot: makeSnapshot({
        activity: [makeBackend({ pid: 777, applicationName: 'cron', userName: 'ops', state: 'idle in transaction', xactAgeSeconds: 50 })],
        locks: makeLocksState({ waits: [wait(200, [777], { waitSeconds: 11 })], holders: [] }),
      }),
      findings: [
        { severity: 'warning', object: { name: 'orders' }, evidence: { rootBlocker: { pid: 777, application: 'cron', role: 'ops', xactAgeSeconds: 50 } } },
      ],
    },
  ],
});

describe('lock-contention recommendations', () => {
  const recommendationOf = (waits: LockWait[], holders: LockHolder[]) =>
    evaluateRules({ rules: [rule as unknown as AnyRule], snapshot: deepFreeze(snap(waits, holders)), window: null }).findings[0]?.recommendation;

  it('terminates an ordinary root blocker, and says how to tame migrations when a DDL waits', () => {
    const r = recommendationOf(incident(), [root()]);
    expect(r?.sql).toBe(`SELECT pg_terminate_backend(${ROOT});`);
    expect(r?.text).toContain('lock_timeout');
  });

  it('never suggests terminating pid 0 for a prepared transaction', () => {
    const r = recommendationOf([wait(200, [0], { waitSeconds: 30 })], []);
    expect(r?.sql).toBeUndefined();
    expect(r?.text).toContain('ROLLBACK PREPARED');
  });
});
