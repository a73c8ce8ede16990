import rule from '../../rules/xid-wraparound.js';
import type { DatabaseStat, Settings, TableStat, VacuumState } from '../../src/snapshot/types.js';
import { makeDatabase, makeHorizonHolder, makeSnapshot, makeTable, makeVacuumProgress, makeWindow } from '../support/builders.js';
import { ruleTester } from '../support/rule-tester.js';

const STOP_LIMIT = 2 ** 31 - 3_000_000;

function snap(o: { tables?: TableStat[]; db?: Partial<DatabaseStat>; settings?: Partial<Settings>; vacuum?: Partial<VacuumState> }) {
  return makeSnapshot({ tables: o.tables ?? [], databases: [makeDatabase(o.db)], settings: o.settings ?? {}, vacuum: o.vacuum ?? {} });
}
/** The planted table: reloption autovacuum_freeze_max_age = 100000 (the minimum allowed). */
const lowered = (xidAge: number, extra: Partial<TableStat> = {}) =>
  makeTable({ name: 'vac_t', xidAge, reloptions: { autovacuum_freeze_max_age: '100000' }, ...extra });
const planted = { horizonHolders: [makeHorizonHolder({ xminAge: 320_009, ageSeconds: 43 })] };

ruleTester(rule, {
  valid: [
    {
      name: 'default-settings table and database after burning 320k XIDs',
      snapshot: snap({ tables: [makeTable({ xidAge: 200_000 })], db: { xidAge: 320_000 } }),
    },
    { name: 'lowered reloption, ratio just under 1.5', snapshot: snap({ tables: [lowered(149_999)] }) },
    { name: 'past the freeze max age with no anti-wraparound vacuum visible yet', snapshot: snap({ tables: [lowered(120_000)] }) },
    { name: 'database just under 1.5× the GUC', snapshot: snap({ db: { xidAge: 299_999_999 } }) },
    {
      name: 'database just under one billion with a raised GUC',
      snapshot: snap({ db: { xidAge: 999_999_999 }, settings: { autovacuumFreezeMaxAge: 1_500_000_000 } }),
    },
    { name: 'multixact age just under 1.5× its freeze max age', snapshot: snap({ tables: [makeTable({ mxidAge: 599_999_999 })] }) },
    { name: 'partitioned parent (relfrozenxid 0) is skipped', snapshot: snap({ tables: [makeTable({ kind: 'p', xidAge: 2_147_483_647 })] }) },
    {
      name: 'a raised warning ratio silences a table at 2.5× its lowered freeze max age',
      snapshot: snap({ tables: [makeTable({ xidAge: 250_000_000, reloptions: { autovacuum_freeze_max_age: '100000000' } })] }),
      thresholds: { warningFreezeRatio: 2.6 },
    },
  ],
  invalid: [
    {
      name: 'planted: lowered reloption and 320k burnt XIDs while a backend holds the horizon',
      snapshot: snap({ tables: [lowered(320_009)], db: { xidAge: 320_020 }, vacuum: planted }),
      findings: [
        {
          severity: 'warning',
          object: { type: 'table', schema: 'public', name: 'vac_t' },
          evidence: {
            driver: 'xid',
            xidAge: 320_009,
            freezeMaxAge: 100_000,
            ratio: 3.2001,
            xidsLeftToStopLimit: STOP_LIMIT - 320_009,
            holderKind: 'backend',
            holderXminAge: 320_009,
          },
        },
      ],
      renumbered: { snapshot: snap({ tables: [lowered(250_000)], db: { xidAge: 250_100 }, vacuum: planted }) },
    },
    {
      name: 'lowered reloption, ratio exactly 1.5',
      snapshot: snap({ tables: [lowered(150_000)] }),
      findings: [{ severity: 'warning', object: { name: 'vac_t' }, evidence: { ratio: 1.5 } }],
    },
    {
      name: 'info while an anti-wraparound vacuum runs past the freeze max age',
      snapshot: snap({ tables: [lowered(100_000)], vacuum: { progress: [makeVacuumProgress({ table: 'vac_t', isWraparound: true })] } }),
      findings: [{ severity: 'info', object: { name: 'vac_t' }, evidence: { wraparoundVacuumRunning: true, ratio: 1 } }],
    },
    {
      name: 'database at 1.5× the GUC',
      snapshot: snap({ db: { xidAge: 300_000_000 } }),
      findings: [{ severity: 'warning', object: { type: 'database', name: 'app' }, evidence: { freezeMaxAge: 200_000_000, ratio: 1.5 } }],
    },
    {
      name: 'database at one billion whatever the GUC',
      snapshot: snap({ db: { xidAge: 1_000_000_000 }, settings: { autovacuumFreezeMaxAge: 1_500_000_000 } }),
      findings: [{ severity: 'warning', object: { type: 'database', name: 'app' } }],
    },
    {
      name: 'database at vacuum_failsafe_age is critical',
      snapshot: snap({ db: { xidAge: 1_600_000_000 } }),
      findings: [{ severity: 'critical', object: { type: 'database', name: 'app' }, evidence: { failsafeAge: 1_600_000_000 } }],
    },
    {
      name: 'exactly 100M left to the stop limit is still a warning (failsafe raised)',
      snapshot: snap({ db: { xidAge: STOP_LIMIT - 100_000_000 }, settings: { vacuumFailsafeAge: 2_100_000_000 } }),
      findings: [{ severity: 'warning', object: { type: 'database' }, evidence: { xidsLeftToStopLimit: 100_000_000 } }],
    },
    {
      name: 'fewer than 100M left to the stop limit is critical, with time to the limit',
      snapshot: snap({ db: { xidAge: STOP_LIMIT - 99_999_999 }, settings: { vacuumFailsafeAge: 2_100_000_000 } }),
      window: makeWindow({ samples: 3, xidPerSecond: 1_000 }),
      findings: [
        { severity: 'critical', object: { type: 'database' }, evidence: { xidsLeftToStopLimit: 99_999_999, xidPerSecond: 1_000, secondsToStopLimit: 100_000 } },
      ],
    },
    {
      name: 'multixact age at 1.5× its freeze max age',
      snapshot: snap({ tables: [makeTable({ mxidAge: 600_000_000 })] }),
      findings: [{ severity: 'warning', object: { type: 'table', name: 'orders' }, evidence: { driver: 'multixact', mxidAge: 600_000_000, mxidRatio: 1.5 } }],
    },
    {
      name: 'a reloption above the GUC does not raise the freeze max age',
      snapshot: snap({ tables: [makeTable({ xidAge: 300_000_000, reloptions: { autovacuum_freeze_max_age: '1000000000' } })] }),
      findings: [{ severity: 'warning', object: { name: 'orders' }, evidence: { freezeMaxAge: 200_000_000 } }],
    },
    {
      name: 'both the database and its oldest table',
      snapshot: snap({ tables: [makeTable({ xidAge: 400_000_000 })], db: { xidAge: 400_000_100 } }),
      findings: [
        { severity: 'warning', object: { type: 'database', name: 'app' } },
        { severity: 'warning', object: { type: 'table', name: 'orders' } },
      ],
    },
  ],
});
