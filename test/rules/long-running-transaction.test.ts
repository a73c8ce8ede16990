import rule from '../../rules/long-running-transaction.js';
import type { Backend, HorizonHolder } from '../../src/snapshot/types.js';
import { makeBackend, makeBackends, makeHorizonHolder, makeLocksState, makeSnapshot } from '../support/builders.js';
import { ruleTester } from '../support/rule-tester.js';

const busy = (o: Partial<Backend> = {}): Backend =>
  makeBackend({
    applicationName: 'billing',
    userName: 'app',
    state: 'active',
    waitEventType: null,
    waitEvent: null,
    xactAgeSeconds: 300,
    queryAgeSeconds: 120,
    xminAge: 1_000,
    xidAge: 500,
    ...o,
  });
const waiter = (blockedBy: number[], o: Partial<Backend> = {}): Backend =>
  makeBackend({ applicationName: 'web', state: 'active', waitEventType: 'Lock', waitEvent: 'relation', xactAgeSeconds: 3, blockedBy, ...o });
function snap(activity: Backend[], holders: HorizonHolder[] = []) {
  return makeSnapshot({ activity, vacuum: { horizonHolders: holders } });
}

ruleTester(rule, {
  valid: [
    { name: 'short transactions only', snapshot: snap([...makeBackends(5), busy({ xactAgeSeconds: 12 })]) },
    { name: 'an active transaction just under 5 minutes', snapshot: snap([busy({ xactAgeSeconds: 299.9 })]) },
    { name: 'idle in transaction belongs to idle-in-transaction', snapshot: snap([busy({ state: 'idle in transaction', xactAgeSeconds: 9_999 })]) },
    { name: 'a long idle session outside any transaction', snapshot: snap([makeBackend({ state: 'idle', backendAgeSeconds: 99_999, xactAgeSeconds: null })]) },
    { name: "the advisor's own session is ignored", snapshot: snap([busy({ isSelf: true, applicationName: 'pg-advisor', xactAgeSeconds: 9_999 })]) },
    { name: "a session of another database is that database's finding", snapshot: snap([busy({ database: 'reporting', xactAgeSeconds: 9_999 })]) },
    { name: 'a session whose state is hidden', snapshot: snap([busy({ state: null, xactAgeSeconds: 9_999 })]) },
    { name: 'a raised limit silences a 10-minute transaction', snapshot: snap([busy({ xactAgeSeconds: 600 })]), thresholds: { maxXactSeconds: 900 } },
  ],
  invalid: [
    {
      name: 'an active transaction of exactly 5 minutes',
      snapshot: snap([busy({ pid: 4242, queryId: '-77' })]),
      findings: [
        {
          severity: 'warning',
          object: { type: 'application', name: 'billing' },
          evidence: {
            userName: 'app',
            sessions: 1,
            pids: [4242],
            longestXactSeconds: 300,
            longestQuerySeconds: 120,
            queryId: '-77',
            readOnly: false,
            backupTool: false,
            blockedSessions: 0,
            waitingOnLock: false,
            relationLocksHeld: null,
            accessExclusiveLocksHeld: null,
          },
        },
      ],
      renumbered: { snapshot: snap([busy({ pid: 4242, xactAgeSeconds: 2_000, xminAge: 5 })]) },
    },
    {
      name: 'just under an hour stays a warning',
      snapshot: snap([busy({ xactAgeSeconds: 3_599 })]),
      findings: [{ severity: 'warning', object: { name: 'billing' } }],
    },
    {
      name: 'critical after exactly an hour',
      snapshot: snap([busy({ xactAgeSeconds: 3_600 })]),
      findings: [{ severity: 'critical', object: { name: 'billing' }, evidence: { longestXactSeconds: 3_600 } }],
    },
    {
      name: 'critical when holding the oldest xmin at 10M',
      snapshot: snap([busy({ xminAge: 10_000_000 })], [makeHorizonHolder({ xminAge: 10_000_000 })]),
      findings: [{ severity: 'critical', object: { name: 'billing' }, evidence: { xminAge: 10_000_000, holdsOldestXmin: true } }],
    },
    {
      name: 'the oldest xmin just under 10M stays a warning',
      snapshot: snap([busy({ xminAge: 9_999_999 })]),
      findings: [{ severity: 'warning', object: { name: 'billing' }, evidence: { holdsOldestXmin: true } }],
    },
    {
      name: 'a fastpath function call counts; a read-only transaction is marked',
      snapshot: snap([busy({ state: 'fastpath function call', xidAge: null })]),
      findings: [{ severity: 'warning', object: { name: 'billing' }, evidence: { readOnly: true } }],
    },
    {
      name: 'pg_dump is info, apart from other work of the same role',
      snapshot: snap([busy({ applicationName: 'pg_dump', xactAgeSeconds: 7_200, xidAge: null }), busy({ applicationName: 'billing' })]),
      findings: [
        { severity: 'info', object: { name: 'pg_dump' }, evidence: { backupTool: true, readOnly: true } },
        { severity: 'warning', object: { name: 'billing' }, evidence: { backupTool: false } },
      ],
    },
    {
      name: 'pg_dump holding the oldest xmin past 10M is a warning',
      snapshot: snap([busy({ applicationName: 'pg_dump', xactAgeSeconds: 7_200, xminAge: 10_000_000, xidAge: null })]),
      findings: [{ severity: 'warning', object: { name: 'pg_dump' }, evidence: { holdsOldestXmin: true } }],
    },
    {
      name: 'counts sessions queued behind it, directly and behind a waiting DDL',
      snapshot: snap([
        busy({ pid: 100, xactAgeSeconds: 900 }),
        waiter([100], { pid: 200, applicationName: 'migrate' }),
        waiter([200], { pid: 301 }),
        waiter([200, 100], { pid: 302 }),
        waiter([999], { pid: 400 }),
      ]),
      findings: [{ severity: 'warning', object: { name: 'billing' }, evidence: { blockedSessions: 3, blockedPids: [200, 301, 302], waitingOnLock: false } }],
    },
    {
      name: 'counts the relation locks its sessions hold when the locks source ran',
      snapshot: makeSnapshot({
        activity: [busy({ pid: 10 }), busy({ pid: 11 }), busy({ pid: 12, applicationName: 'other' })],
        locks: makeLocksState({
          held: [
            { pid: 10, relationLocks: 3, accessExclusiveLocks: 1 },
            { pid: 11, relationLocks: 2, accessExclusiveLocks: 0 },
          ],
        }),
      }),
      findings: [
        { severity: 'warning', object: { name: 'billing' }, evidence: { sessions: 2, relationLocksHeld: 5, accessExclusiveLocksHeld: 1 } },
        { severity: 'warning', object: { name: 'other' }, evidence: { relationLocksHeld: 0, accessExclusiveLocksHeld: 0 } },
      ],
    },
    {
      name: 'one finding per application and role; a long transaction that itself waits is marked',
      snapshot: snap([busy(), busy({ userName: 'reporting' }), busy({ applicationName: '', waitEventType: 'Lock', blockedBy: [7] })]),
      findings: [
        { severity: 'warning', object: { name: 'billing' }, evidence: { userName: 'app' } },
        { severity: 'warning', object: { name: 'billing' }, evidence: { userName: 'reporting' } },
        { severity: 'warning', object: { name: '(no application_name)' }, evidence: { waitingOnLock: true } },
      ],
    },
  ],
});
