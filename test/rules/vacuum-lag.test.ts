import { describe, expect, it } from 'vitest';
import { evaluateRules } from '../../src/engine/evaluate.js';
import rule from '../../rules/vacuum-lag.js';
import type { HorizonHolder, Settings, TableStat, VacuumState } from '../../src/snapshot/types.js';
import type { Window } from '../../src/snapshot/window-types.js';
import { makeHorizonHolder, makeSnapshot, makeTable, makeTableDelta, makeVacuumProgress, makeWindow, MiB } from '../support/builders.js';
import { ruleTester } from '../support/rule-tester.js';

/** The planted table of detection notes §4.4: 100k rows, scale factor 0.01 → trigger 1,050 dead tuples. */
const vacT = (overrides: Partial<TableStat> = {}): TableStat =>
  makeTable({
    name: 'vac_t',
    reltuples: 100_000,
    heapBytes: 10 * MiB,
    reloptions: { autovacuum_vacuum_scale_factor: '0.01' },
    nDeadTup: 100_000,
    lastAutovacuumAgeSeconds: 2,
    ...overrides,
  });
/** 1M rows, scale factor 0.01 → trigger 10,050; 2× = 20,100. */
const bigT = (overrides: Partial<TableStat> = {}): TableStat =>
  makeTable({ reloptions: { autovacuum_vacuum_scale_factor: '0.01' }, nDeadTup: 20_100, ...overrides });

function snap(tables: TableStat[], vacuum: Partial<VacuumState> = {}, settings: Partial<Settings> = {}) {
  return makeSnapshot({ tables, vacuum, settings });
}
const holder = (o: Partial<HorizonHolder> = {}) => makeHorizonHolder({ kind: 'backend', name: '4242', xminAge: 320_009, ageSeconds: 43, ...o });
const busy = { autovacuumWorkers: 3 };
const disabled = (overrides: Partial<TableStat> = {}) =>
  bigT({ reloptions: { autovacuum_vacuum_scale_factor: '0.01', autovacuum_enabled: 'false' }, ...overrides });
const windowWithFirst = (table: TableStat, extra: Partial<Window> = {}) =>
  makeWindow({ samples: 3, perSample: (i) => ({ tables: i === 0 ? [table] : [] }), ...extra });

ruleTester(rule, {
  valid: [
    { name: 'default table with 1,000 dead tuples (trigger 20,050)', snapshot: snap([makeTable({ reltuples: 100_000, nDeadTup: 1_000 })]) },
    { name: 'dead tuples just over the trigger with autovacuum working', snapshot: snap([bigT({ nDeadTup: 10_051, lastAutovacuumAgeSeconds: 900 })]) },
    { name: 'disabled but just under 10,000 dead tuples', snapshot: snap([disabled({ reltuples: 10_000, nDeadTup: 9_999 })]) },
    { name: 'disabled but heap just under 1 MiB', snapshot: snap([disabled({ nDeadTup: 50_000, heapBytes: MiB - 1 })]) },
    { name: 'disabled with lag just under 2', snapshot: snap([disabled({ nDeadTup: 20_099 })]) },
    { name: 'dead tuples right after a vacuum with no horizon holder (same-session flush race)', snapshot: snap([vacT()]) },
    {
      name: 'holder younger than the last vacuum is not blamed',
      snapshot: snap([vacT({ lastAutovacuumAgeSeconds: 10 })], { horizonHolders: [holder({ ageSeconds: 3 })] }),
    },
    {
      name: 'a backend of another database is not blamed (it does not hold back this database, PostgreSQL 14+)',
      snapshot: snap([vacT()], { horizonHolders: [holder({ database: 'other_db' })] }),
    },
    {
      name: 'an active slot with a small xmin age is not blamed',
      snapshot: snap([vacT()], { horizonHolders: [holder({ kind: 'replication-slot', name: 'sub', ageSeconds: null, xminAge: 999_999 })] }),
    },
    {
      name: 'last vacuum just outside the recent period, workers free: not blocked, not starved',
      snapshot: snap([vacT({ lastAutovacuumAgeSeconds: 301 })], { horizonHolders: [holder({ ageSeconds: 4_000 })] }),
    },
    {
      name: 'with a 600 s naptime, 5,999 s since the last vacuum is not starved',
      snapshot: snap([bigT({ lastAutovacuumAgeSeconds: 5_999 })], busy, { autovacuumNaptimeSeconds: 600 }),
    },
    {
      name: 'over 2× the trigger but a worker is free (fresh change, picked up within a naptime)',
      snapshot: snap([bigT({ lastAutovacuumAgeSeconds: 90_000 })], { autovacuumWorkers: 2 }),
    },
    { name: 'starved candidate vacuumed just under an hour ago', snapshot: snap([bigT({ lastAutovacuumAgeSeconds: 3_599 })], busy) },
    {
      name: 'starved candidate being vacuumed right now',
      snapshot: snap([bigT({ name: 'orders', lastAutovacuumAgeSeconds: 90_000 })], { ...busy, progress: [makeVacuumProgress({ table: 'orders' })] }),
    },
    {
      name: 'dead tuples crossed the trigger during the window (freshly modified)',
      snapshot: snap([disabled({ nDeadTup: 50_000 })]),
      window: windowWithFirst(disabled({ nDeadTup: 10_050 })),
    },
    {
      name: 'disabled table with a manual VACUUM running now',
      snapshot: snap([disabled({ name: 'orders' })], { progress: [makeVacuumProgress({ table: 'orders', isAutovacuum: false })] }),
    },
    { name: 'partitioned parent has no storage', snapshot: snap([disabled({ kind: 'p', nDeadTup: 50_000 })]) },
    {
      name: 'without the PostgreSQL 18 cap the trigger is 200M',
      snapshot: snap([makeTable({ reltuples: 1e9, heapBytes: 500 * MiB * 1024, nDeadTup: 100_000_000, reloptions: { autovacuum_enabled: 'off' } })]),
    },
  ],
  invalid: [
    {
      name: 'planted: blocked by an idle-in-transaction backend while autovacuum loops',
      snapshot: snap([vacT()], { horizonHolders: [holder(), holder({ kind: 'prepared-transaction', name: 'gid1', xminAge: 320_003, ageSeconds: 40 })] }),
      findings: [
        {
          severity: 'warning',
          object: { type: 'table', schema: 'public', name: 'vac_t' },
          evidence: {
            cause: 'blocked',
            deadTuples: 100_000,
            vacuumThresholdTuples: 1_050,
            holderKind: 'backend',
            holderName: '4242',
            holderXminAge: 320_009,
            holderAgeSeconds: 43,
          },
        },
      ],
      renumbered: {
        snapshot: snap([vacT({ nDeadTup: 55_555, lastAutovacuumAgeSeconds: 7 })], { horizonHolders: [holder({ xminAge: 9_999, ageSeconds: 99 })] }),
      },
    },
    {
      name: 'blocked while its looping autovacuum happens to be running',
      snapshot: snap([vacT()], { horizonHolders: [holder()], progress: [makeVacuumProgress({ table: 'vac_t' })] }),
      findings: [{ severity: 'warning', object: { name: 'vac_t' }, evidence: { cause: 'blocked' } }],
    },
    {
      name: 'blocked: vacuums during the window although the last one is older',
      snapshot: snap([vacT({ lastAutovacuumAgeSeconds: 400 })], { horizonHolders: [holder({ ageSeconds: 600 })] }),
      window: makeWindow({ samples: 3, tables: [makeTableDelta({ oid: 16500, name: 'vac_t', vacuums: 2 })] }),
      findings: [{ severity: 'warning', object: { name: 'vac_t' }, evidence: { cause: 'blocked', vacuumsInWindow: 2 } }],
    },
    {
      name: 'blocked: last vacuum exactly at the recent limit',
      snapshot: snap([vacT({ lastAutovacuumAgeSeconds: 300 })], { horizonHolders: [holder({ ageSeconds: 3_599 })] }),
      findings: [{ severity: 'warning', object: { name: 'vac_t' }, evidence: { cause: 'blocked' } }],
    },
    {
      name: 'blocked is critical when the holder has held for an hour',
      snapshot: snap([vacT()], { horizonHolders: [holder({ ageSeconds: 3_600 })] }),
      findings: [{ severity: 'critical', object: { name: 'vac_t' }, evidence: { holderAgeSeconds: 3_600 } }],
    },
    {
      name: 'blocked is critical when the holder xmin is 100M old',
      snapshot: snap([vacT()], { horizonHolders: [holder({ kind: 'prepared-transaction', name: 'gid1', xminAge: 100_000_000 })] }),
      findings: [{ severity: 'critical', object: { name: 'vac_t' }, evidence: { holderKind: 'prepared-transaction', holderName: 'gid1' } }],
    },
    {
      name: 'blocked by an inactive replication slot of unknown age',
      snapshot: snap([vacT()], { horizonHolders: [holder({ kind: 'replication-slot', name: 'old_slot', ageSeconds: null, xminAge: 1_000_000 })] }),
      findings: [{ severity: 'warning', object: { name: 'vac_t' }, evidence: { holderKind: 'replication-slot', holderAgeSeconds: null } }],
    },
    {
      name: 'disabled by reloption at exactly 2× the trigger',
      snapshot: snap([disabled()]),
      findings: [
        {
          severity: 'warning',
          object: { name: 'orders' },
          evidence: { cause: 'disabled', lagRatio: 2, vacuumThresholdTuples: 10_050, autovacuumEnabled: false },
        },
      ],
    },
    {
      name: 'disabled by the autovacuum GUC',
      snapshot: snap([bigT({ nDeadTup: 50_000 })], {}, { autovacuum: false }),
      findings: [{ severity: 'warning', object: { name: 'orders' }, evidence: { cause: 'disabled' } }],
    },
    {
      name: 'disabled with exactly 10,000 dead tuples and a 1 MiB heap',
      snapshot: snap([disabled({ reltuples: 10_000, nDeadTup: 10_000, heapBytes: MiB })]),
      findings: [{ severity: 'warning', object: { name: 'orders' }, evidence: { deadTuples: 10_000, heapBytes: MiB } }],
    },
    {
      name: 'starved: all workers busy and no vacuum for exactly an hour',
      snapshot: snap([bigT({ lastAutovacuumAgeSeconds: 3_600 })], busy),
      findings: [{ severity: 'warning', object: { name: 'orders' }, evidence: { cause: 'starved', lastVacuumAgeSeconds: 3_600, autovacuumWorkers: 3 } }],
    },
    {
      name: 'starved: never vacuumed, lag persisting across the window',
      snapshot: snap([bigT({ lastAutovacuumAgeSeconds: null, nDeadTup: 40_000 })], busy),
      window: windowWithFirst(bigT({ nDeadTup: 39_000 })),
      findings: [{ severity: 'warning', object: { name: 'orders' }, evidence: { cause: 'starved', lastVacuumAgeSeconds: null } }],
    },
    {
      name: 'starved: 10 × a 600 s naptime replaces the one-hour floor',
      snapshot: snap([bigT({ lastAutovacuumAgeSeconds: 6_000 })], busy, { autovacuumNaptimeSeconds: 600 }),
      findings: [{ severity: 'warning', object: { name: 'orders' }, evidence: { cause: 'starved' } }],
    },
    {
      name: 'PostgreSQL 18 max threshold caps the trigger at 100M',
      snapshot: snap(
        [makeTable({ reltuples: 1e9, heapBytes: 500 * MiB * 1024, nDeadTup: 200_000_000, reloptions: { autovacuum_enabled: 'off' } })],
        {},
        { autovacuumVacuumMaxThreshold: 100_000_000 },
      ),
      findings: [{ severity: 'warning', object: { name: 'orders' }, evidence: { cause: 'disabled', vacuumThresholdTuples: 100_000_000 } }],
    },
    {
      name: 'a lowered lag threshold reports a disabled table at 1.5×',
      snapshot: snap([disabled({ nDeadTup: 15_075 })]),
      thresholds: { lagRatio: 1.5 },
      findings: [{ severity: 'warning', object: { name: 'orders' }, evidence: { lagRatio: 1.5 } }],
    },
  ],
});

describe('vacuum-lag: horizon holders by database', () => {
  it('blames a backend of this database and passes over one of another', () => {
    const run = (database: string) =>
      evaluateRules({ rules: [rule], snapshot: snap([vacT()], { horizonHolders: [holder({ database })] }), window: null }).findings;
    expect(run('app').map((f) => f.evidence.cause)).toEqual(['blocked']);
    expect(run('other_db')).toEqual([]);
  });
});
