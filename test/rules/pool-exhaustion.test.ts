import rule from '../../rules/pool-exhaustion/index.js';
import type { Backend, RoleStat, DatabaseStat, Settings } from '../../src/snapshot/types.js';
import { makeBackend, makeBackends, makeDatabase, makeRole, makeSnapshot, makeWindow } from '../support/builders.js';
import { ruleTester } from '../support/rule-tester.js';

const self = (): Backend => makeBackend({ applicationName: 'pg-advisor', userName: 'advisor', state: 'active', isSelf: true });
/** max_connections 60, 3 superuser-reserved → 57 usable (detection notes §5.5). */
const SETTINGS: Partial<Settings> = { maxConnections: 60 };
const idle = (n: number, o: Partial<Backend> = {}) => makeBackends(n, { applicationName: 'web', state: 'idle', ...o });

function snap(activity: Backend[], o: { settings?: Partial<Settings>; roles?: RoleStat[]; databases?: DatabaseStat[] } = {}) {
  return makeSnapshot({
    activity: [self(), ...activity],
    settings: { ...SETTINGS, ...o.settings },
    roles: o.roles ?? [makeRole({ name: 'advisor', backends: 1 })],
    databases: o.databases ?? [makeDatabase({ backends: activity.length + 1 })],
  });
}
/** A window whose sample i holds the advisor plus `make(i)`. */
function windowOf(count: number, make: (i: number) => Backend[], step = 1) {
  return makeWindow({ samples: count, perSample: (i) => ({ elapsedSeconds: i * step, activity: [self(), ...make(i)] }) });
}
const workerPool = (n: number, state = 'active') =>
  makeBackends(n, { applicationName: 'worker-pool', userName: 'app', clientAddr: '10.0.0.9', state, waitEventType: 'Timeout', waitEvent: 'PgSleep' });

ruleTester(rule, {
  valid: [
    { name: '20 mostly idle connections (u ≈ 0.37)', snapshot: snap([...idle(10), ...idle(10, { applicationName: 'psql', userName: 'dba' })]) },
    { name: 'a fixed 10-connection idle pool over a window', snapshot: snap(idle(10)), window: windowOf(10, () => idle(10)) },
    {
      name: 'a role with limit 10 and 3 sessions',
      snapshot: snap(idle(3, { userName: 'app_user' }), { roles: [makeRole({ name: 'app_user', connLimit: 10, backends: 3 })] }),
    },
    { name: 'the advisor alone at its own role limit', snapshot: snap([], { roles: [makeRole({ name: 'advisor', connLimit: 1, backends: 1 })] }) },
    { name: 'the advisor alone in a one-slot cluster', snapshot: snap([], { settings: { maxConnections: 4 } }) },
    {
      name: 'a superuser role over its limit is exempt',
      snapshot: snap(idle(5, { userName: 'postgres' }), { roles: [makeRole({ name: 'postgres', superuser: true, connLimit: 2, backends: 5 })] }),
    },
    { name: 'database limit 10 with 8 sessions (0.8 < 0.9)', snapshot: snap(idle(7), { databases: [makeDatabase({ connLimit: 10, backends: 8 })] }) },
    { name: 'utilisation just under 0.8 (45 of 57 incl. the advisor)', snapshot: snap(idle(44)) },
    { name: 'one burst sample at 96 % in a quiet window', snapshot: snap(idle(10)), window: windowOf(10, (i) => idle(i === 4 ? 54 : 10)) },
    { name: 'a single snapshot cannot judge an application pool', snapshot: snap(workerPool(8)) },
    { name: 'a pool of 4 busy connections is below the pool size floor', snapshot: snap(workerPool(4)), window: windowOf(5, () => workerPool(4)) },
    { name: 'a busy pool whose size varies is not pegged', snapshot: snap(workerPool(8)), window: windowOf(5, (i) => workerPool([5, 8, 6, 10, 7][i]!)) },
    {
      name: 'a pegged pool busy in only 3 of 5 samples',
      snapshot: snap(workerPool(8)),
      window: windowOf(5, (i) => (i < 3 ? workerPool(8) : workerPool(8, 'idle'))),
    },
    { name: 'a rising but noisy count is no forecast', snapshot: snap(idle(12)), window: windowOf(8, (i) => idle([10, 20, 9, 22, 11, 21, 10, 23][i]!)) },
    { name: 'a slow rise that needs more than an hour', snapshot: snap(idle(19)), window: windowOf(10, (i) => idle(10 + i), 600) },
  ],
  invalid: [
    {
      name: 'planted: 50 idle connections hold 51 of 57 slots',
      snapshot: snap(idle(50)),
      findings: [
        {
          severity: 'warning',
          object: { type: 'database', name: 'app' },
          evidence: { usedConnections: 51, usableConnections: 57, selfConnections: 1, connectionsByDatabase: { app: 51 } },
        },
      ],
      renumbered: { snapshot: snap(idle(53)) },
    },
    {
      name: 'utilisation exactly 0.8 (40 of 50)',
      snapshot: snap(idle(39), { settings: { maxConnections: 53 } }),
      findings: [{ severity: 'warning', object: { type: 'database' }, evidence: { utilisationRatio: 0.8 } }],
    },
    {
      name: 'reserved_connections are not usable (PG16+)',
      snapshot: snap(idle(39), { settings: { maxConnections: 60, reservedConnections: 7 } }),
      findings: [{ severity: 'warning', object: { type: 'database' }, evidence: { usableConnections: 50, reservedConnections: 7 } }],
    },
    {
      name: 'a single snapshot at 96 % is a warning, not critical',
      snapshot: snap(idle(47), { settings: { maxConnections: 53 } }),
      findings: [{ severity: 'warning', object: { type: 'database' }, evidence: { samplesAtCritical: 1 } }],
    },
    {
      name: 'two samples at 95 % make it critical',
      snapshot: snap(idle(20), { settings: { maxConnections: 103 } }),
      window: windowOf(5, (i) => idle(i === 1 || i === 3 ? 94 : 20)),
      findings: [{ severity: 'critical', object: { type: 'database' }, evidence: { samplesAtCritical: 2, maxUtilisationRatio: 0.95 } }],
    },
    {
      name: 'one sample at 100 % is critical',
      snapshot: snap(idle(20)),
      window: windowOf(5, (i) => idle(i === 2 ? 56 : 20)),
      findings: [{ severity: 'critical', object: { type: 'database' }, evidence: { maxUtilisationRatio: 1 } }],
    },
    {
      name: 'role at its limit of 10 is critical',
      snapshot: snap(idle(10, { userName: 'app_user' }), { roles: [makeRole({ name: 'app_user', connLimit: 10, backends: 10 })] }),
      findings: [{ severity: 'critical', object: { type: 'role', name: 'app_user' }, evidence: { connections: 10, connectionLimit: 10, limitRatio: 1 } }],
    },
    {
      name: 'role at 9 of 10 is a warning',
      snapshot: snap(idle(9, { userName: 'app_user' }), { roles: [makeRole({ name: 'app_user', connLimit: 10, backends: 9 })] }),
      findings: [{ severity: 'warning', object: { type: 'role', name: 'app_user' }, evidence: { limitRatio: 0.9 } }],
    },
    {
      name: 'database at 9 of 10 is a warning on the database limit',
      snapshot: snap(idle(8), { databases: [makeDatabase({ connLimit: 10, backends: 9 })] }),
      findings: [{ severity: 'warning', object: { type: 'database', name: 'app' }, evidence: { connectionLimit: 10, connections: 9 } }],
    },
    {
      name: 'role limit counted per sample over a window',
      snapshot: snap(idle(10, { userName: 'app_user' }), { roles: [makeRole({ name: 'app_user', connLimit: 10, backends: 10 })] }),
      window: windowOf(4, () => idle(10, { userName: 'app_user' })),
      findings: [{ severity: 'critical', object: { type: 'role', name: 'app_user' }, evidence: { sampleCount: 4, peakConnections: 10 } }],
    },
    {
      name: 'planted: worker-pool pegged at 8 with all connections active',
      snapshot: snap(workerPool(8)),
      window: windowOf(3, () => workerPool(8)),
      findings: [
        {
          severity: 'warning',
          object: { type: 'application', name: 'worker-pool' },
          evidence: { userName: 'app', clientAddr: '10.0.0.9', poolSizeConnections: 8, saturatedSampleFraction: 1, activeWaitEvents: { Timeout: 8 } },
        },
      ],
    },
    {
      name: 'pool of exactly 5, busy in exactly 4 of 5 samples, one idle in transaction',
      snapshot: snap(workerPool(5)),
      window: windowOf(5, (i) => (i === 0 ? workerPool(5, 'idle') : [...workerPool(4), ...workerPool(1, 'idle in transaction')])),
      findings: [
        { severity: 'warning', object: { type: 'application', name: 'worker-pool' }, evidence: { saturatedSampleFraction: 0.8, peggedSampleFraction: 1 } },
      ],
    },
    {
      name: 'a fast leak is forecast to exhaust the slots within minutes',
      snapshot: snap(idle(28)),
      window: windowOf(10, (i) => idle(10 + 2 * i)),
      findings: [{ severity: 'critical', object: { type: 'database' }, evidence: { trendConnectionsPerSecond: 2, trendFitRatio: 1 } }],
    },
    {
      name: 'a slower leak within the hour is a warning',
      snapshot: snap(idle(19)),
      window: windowOf(10, (i) => idle(10 + i), 60),
      findings: [{ severity: 'warning', object: { type: 'database' }, evidence: { secondsToExhaustion: 2_220 } }],
    },
  ],
});
