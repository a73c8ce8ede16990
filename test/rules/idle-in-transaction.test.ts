import rule from '../../rules/idle-in-transaction.js';
import type { Backend, HorizonHolder, Settings } from '../../src/snapshot/types.js';
import { makeBackend, makeBackends, makeHorizonHolder, makeSnapshot } from '../support/builders.js';
import { ruleTester } from '../support/rule-tester.js';

const idleTx = (o: Partial<Backend> = {}): Backend =>
  makeBackend({ applicationName: 'web', userName: 'app', state: 'idle in transaction', stateAgeSeconds: 60, xactAgeSeconds: 65, xminAge: 1_000, ...o });
function snap(activity: Backend[], o: { settings?: Partial<Settings>; holders?: HorizonHolder[] } = {}) {
  return makeSnapshot({ activity, settings: o.settings ?? {}, vacuum: { horizonHolders: o.holders ?? [] } });
}

ruleTester(rule, {
  valid: [
    { name: 'idle and active sessions only', snapshot: snap([...makeBackends(10), makeBackend({ state: 'active', xactAgeSeconds: 5_000 })]) },
    { name: 'idle in transaction just under 60 s', snapshot: snap([idleTx({ stateAgeSeconds: 59.9 })]) },
    { name: "the advisor's own session is ignored", snapshot: snap([idleTx({ isSelf: true, applicationName: 'pg-advisor', stateAgeSeconds: 9_999 })]) },
    {
      name: "a session of another database of the cluster is that database's finding",
      snapshot: snap([idleTx({ database: 'reporting', stateAgeSeconds: 9_999 })]),
    },
    { name: 'a session whose state is not visible', snapshot: snap([idleTx({ state: null, stateAgeSeconds: null })]) },
    { name: 'a raised limit silences a 5-minute idle transaction', snapshot: snap([idleTx({ stateAgeSeconds: 300 })]), thresholds: { maxIdleSeconds: 600 } },
  ],
  invalid: [
    {
      name: 'one session idle in transaction for exactly 60 s',
      snapshot: snap([idleTx({ pid: 4242 })]),
      findings: [
        {
          severity: 'warning',
          object: { type: 'application', name: 'web' },
          evidence: { userName: 'app', sessions: 1, pids: [4242], longestIdleSeconds: 60, idleInTransactionSessionTimeoutMs: 0 },
        },
      ],
      renumbered: { snapshot: snap([idleTx({ pid: 4242, stateAgeSeconds: 900, xminAge: 77 })]) },
    },
    {
      name: '50 idle sessions of one application make one finding',
      snapshot: snap(Array.from({ length: 50 }, (_, i) => idleTx({ pid: 5000 + i, stateAgeSeconds: 100 + i }))),
      findings: [{ severity: 'warning', object: { name: 'web' }, evidence: { sessions: 50, pids: [5049, 5048, 5047, 5046, 5045], longestIdleSeconds: 149 } }],
    },
    {
      name: 'groups by application and role; aborted transactions count',
      snapshot: snap([
        idleTx(),
        idleTx({ userName: 'reporting' }),
        idleTx({ applicationName: 'worker', state: 'idle in transaction (aborted)' }),
        idleTx({ applicationName: '', userName: 'psql_user' }),
      ]),
      findings: [
        { severity: 'warning', object: { name: 'web' }, evidence: { userName: 'app' } },
        { severity: 'warning', object: { name: 'web' }, evidence: { userName: 'reporting' } },
        { severity: 'warning', object: { name: 'worker' }, evidence: { abortedSessions: 1 } },
        { severity: 'warning', object: { name: '(no application_name)' }, evidence: { userName: 'psql_user' } },
      ],
    },
    {
      name: 'critical after exactly an hour idle',
      snapshot: snap([idleTx({ stateAgeSeconds: 3_600 })]),
      findings: [{ severity: 'critical', object: { name: 'web' }, evidence: { longestIdleSeconds: 3_600 } }],
    },
    {
      name: 'just under an hour stays a warning',
      snapshot: snap([idleTx({ stateAgeSeconds: 3_599 })]),
      findings: [{ severity: 'warning', object: { name: 'web' } }],
    },
    {
      name: 'critical when holding the oldest xmin at 10M',
      snapshot: snap([idleTx({ xminAge: 10_000_000 }), makeBackend({ state: 'active', xminAge: 50 })], {
        holders: [makeHorizonHolder({ xminAge: 10_000_000 })],
      }),
      findings: [{ severity: 'critical', object: { name: 'web' }, evidence: { xminAge: 10_000_000, holdsOldestXmin: true } }],
    },
    {
      name: 'the oldest xmin just under 10M stays a warning',
      snapshot: snap([idleTx({ xminAge: 9_999_999 })]),
      findings: [{ severity: 'warning', object: { name: 'web' }, evidence: { holdsOldestXmin: true } }],
    },
    {
      name: 'an old xmin that a replication slot beats is not the oldest',
      snapshot: snap([idleTx({ xminAge: 20_000_000 })], {
        holders: [makeHorizonHolder({ kind: 'replication-slot', name: 's', xminAge: 30_000_000, ageSeconds: null })],
      }),
      findings: [{ severity: 'warning', object: { name: 'web' }, evidence: { holdsOldestXmin: false } }],
    },
    {
      name: 'reports the idle_in_transaction_session_timeout in force',
      snapshot: snap([idleTx({ stateAgeSeconds: 120 })], { settings: { idleInTransactionSessionTimeoutMs: 600_000 } }),
      findings: [{ severity: 'warning', object: { name: 'web' }, evidence: { idleInTransactionSessionTimeoutMs: 600_000 } }],
    },
  ],
});
