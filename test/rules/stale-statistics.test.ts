import rule from '../../rules/stale-statistics.js';
import type { Settings, TableStat } from '../../src/snapshot/types.js';
import type { TableDelta } from '../../src/snapshot/window-types.js';
import { MiB, makeSnapshot, makeTable, makeTableDelta, makeWindow } from '../support/builders.js';
import { ruleTester } from '../support/rule-tester.js';

/** 1,000,000 rows, 100 MiB: the autoanalyze trigger is 50 + 0.1 × 1,000,000 = 100,050 rows; 5× = 500,250. */
const TRIGGER = 100_050;
const stale = (o: Partial<TableStat> = {}): TableStat => makeTable({ nModSinceAnalyze: 5 * TRIGGER, lastAutoanalyzeAgeSeconds: 3_600, ...o });
const never = (o: Partial<TableStat> = {}): TableStat =>
  makeTable({
    name: 'imports',
    reltuples: -1,
    nModSinceAnalyze: 80_000,
    lastAutoanalyzeAgeSeconds: null,
    lastAnalyzeAgeSeconds: null,
    analyzeCount: 0,
    autoanalyzeCount: 0,
    heapBytes: 8 * MiB,
    ...o,
  });
const snap = (tables: TableStat[], settings: Partial<Settings> = {}) => makeSnapshot({ tables, settings });
const delta = (o: Partial<TableDelta>): TableDelta => makeTableDelta(o);

ruleTester(rule, {
  valid: [
    { name: 'a table analysed recently with few changes', snapshot: snap([makeTable()]) },
    { name: 'just under 5 times the trigger', snapshot: snap([stale({ nModSinceAnalyze: 5 * TRIGGER - 1, lastAutoanalyzeAgeSeconds: 86_400 })]) },
    {
      name: 'far beyond the trigger but analysed just under an hour ago',
      snapshot: snap([stale({ nModSinceAnalyze: 50 * TRIGGER, lastAutoanalyzeAgeSeconds: 3_599 })]),
    },
    { name: 'a manual ANALYZE counts as recent', snapshot: snap([stale({ lastAutoanalyzeAgeSeconds: 86_400, lastAnalyzeAgeSeconds: 60 })]) },
    { name: 'a never-analysed table just under 8 MiB', snapshot: snap([never({ heapBytes: 8 * MiB - 1 })]) },
    { name: 'a statistics reset cleared the timestamps of an unchanged table', snapshot: snap([never({ reltuples: 1_000_000, nModSinceAnalyze: 50 })]) },
    {
      name: 'a partitioned parent (autovacuum never analyses it)',
      snapshot: snap([never({ kind: 'p', heapBytes: 0, relpages: 0 }), never({ kind: 'p', heapBytes: 100 * MiB })]),
    },
    { name: 'a per-table scale factor raises the trigger', snapshot: snap([stale({ reloptions: { autovacuum_analyze_scale_factor: '0.5' } })]) },
    {
      name: 'a table that crossed into staleness during the window is freshly modified',
      snapshot: snap([stale({ nModSinceAnalyze: 600_000 })]),
      window: makeWindow({ tables: [delta({ writes: 100_000 })] }),
    },
    {
      name: 'a snapshot without the analyze settings',
      snapshot: snap([stale()], { autovacuumAnalyzeThreshold: undefined, autovacuumAnalyzeScaleFactor: undefined }),
    },
    { name: 'a raised ratio silences 5 times the trigger', snapshot: snap([stale()]), thresholds: { staleRatio: 10 } },
  ],
  invalid: [
    {
      name: 'exactly 5 times the trigger, analysed exactly an hour ago',
      snapshot: snap([stale()]),
      findings: [
        {
          severity: 'warning',
          object: { type: 'table', schema: 'public', name: 'orders' },
          evidence: {
            cause: 'lagging',
            nModSinceAnalyze: 500_250,
            analyzeTriggerRows: TRIGGER,
            staleRatio: 5,
            neverAnalyzed: false,
            lastAnalyzeAgeSeconds: 3_600,
            autovacuumEnabled: true,
            tableBytes: 100 * MiB,
          },
        },
      ],
      renumbered: { snapshot: snap([stale({ nModSinceAnalyze: 9_000_000, lastAutoanalyzeAgeSeconds: 99_999 })]) },
    },
    {
      name: 'autovacuum disabled for the table',
      snapshot: snap([
        stale({
          reloptions: { autovacuum_enabled: 'false' },
          lastAutoanalyzeAgeSeconds: null,
          lastAnalyzeAgeSeconds: 86_400,
          analyzeCount: 1,
          autoanalyzeCount: 0,
        }),
      ]),
      findings: [
        {
          severity: 'warning',
          object: { name: 'orders' },
          evidence: { cause: 'autovacuum-disabled', autovacuumEnabled: false, lastAnalyzeAgeSeconds: 86_400 },
        },
      ],
    },
    {
      name: 'autovacuum off server-wide',
      snapshot: snap([stale()], { autovacuum: false }),
      findings: [{ severity: 'warning', object: { name: 'orders' }, evidence: { cause: 'autovacuum-disabled' } }],
    },
    {
      name: 'a never-analysed table of exactly 8 MiB',
      snapshot: snap([never()]),
      findings: [
        {
          severity: 'warning',
          object: { name: 'imports' },
          evidence: { cause: 'never-analyzed', neverAnalyzed: true, reltuples: 0, lastAnalyzeAgeSeconds: null, analyzeTriggerRows: 50, tableBytes: 8 * MiB },
        },
      ],
    },
    {
      name: 'no analyze on record and modified beyond its trigger after a statistics reset',
      snapshot: snap([never({ reltuples: 1_000_000, nModSinceAnalyze: TRIGGER + 1 })]),
      findings: [{ severity: 'warning', object: { name: 'imports' }, evidence: { cause: 'never-analyzed' } }],
    },
    {
      name: 'a per-table scale factor lowers the trigger',
      snapshot: snap([stale({ nModSinceAnalyze: 60_000, reloptions: { autovacuum_analyze_scale_factor: '0.01' } })]),
      findings: [{ severity: 'warning', object: { name: 'orders' }, evidence: { analyzeTriggerRows: 10_050 } }],
    },
    {
      name: 'the size comes from relpages when the heap was not measured',
      snapshot: snap([never({ heapBytes: null, relpages: 1_024 })]),
      findings: [{ severity: 'warning', object: { name: 'imports' }, evidence: { tableBytes: 8 * MiB } }],
    },
    {
      name: 'a window whose writes leave it stale still fires; a materialized view counts',
      snapshot: snap([stale({ nModSinceAnalyze: 700_000 }), stale({ oid: 16501, name: 'daily_totals', kind: 'm' })]),
      window: makeWindow({ tables: [delta({ writes: 100_000 })] }),
      findings: [
        { severity: 'warning', object: { name: 'orders' } },
        { severity: 'warning', object: { name: 'daily_totals' } },
      ],
    },
  ],
});
