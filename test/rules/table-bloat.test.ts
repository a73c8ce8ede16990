import rule from '../../rules/table-bloat.js';
import { GiB, makeSnapshot, makeTable, makeTableBloat, MiB } from '../support/builders.js';
import { ruleTester } from '../support/rule-tester.js';
import type { TableBloat, TableStat } from '../../src/snapshot/types.js';

/** A table and its bloat measurement (same oid and name). */
function bloated(bloat: Partial<TableBloat>, table: Partial<TableStat> = {}) {
  return makeSnapshot({
    tables: [makeTable({ heapBytes: bloat.tableBytes ?? 100 * MiB, ...table })],
    bloat: { tables: [makeTableBloat(bloat)] },
  });
}

/** An estimate with no waste of its own, on a table with unvacuumed dead tuples. */
function deadOnly(lastAutovacuumAgeSeconds: number | null) {
  return bloated(
    { method: 'estimate', tableBytes: 100 * MiB, wasteBytes: MiB, deadBytes: 0, freeBytes: MiB },
    { reltuples: 40_000, nDeadTup: 60_000, lastAutovacuumAgeSeconds, lastVacuumAgeSeconds: null },
  );
}

ruleTester(rule, {
  valid: [
    { name: 'healthy measured table', snapshot: bloated({ tableBytes: 100 * MiB, wasteBytes: MiB }) },
    { name: 'table just under the 8 MiB floor, all waste', snapshot: bloated({ tableBytes: 8 * MiB - 1, wasteBytes: 8 * MiB - 1 }) },
    { name: 'ratio just under 0.4 with 39 MiB waste', snapshot: bloated({ tableBytes: 100 * MiB, wasteBytes: 39.9 * MiB }) },
    { name: 'ratio 0.5 but waste just under 8 MiB', snapshot: bloated({ tableBytes: 15 * MiB, wasteBytes: 8 * MiB - 1 }) },
    { name: 'waste just under 1 GiB at ratio 0.25', snapshot: bloated({ tableBytes: 4 * GiB - 4, wasteBytes: GiB - 1 }) },
    { name: '2 GiB of waste but ratio just under 0.2', snapshot: bloated({ tableBytes: 11 * GiB, wasteBytes: 2 * GiB }) },
    {
      name: 'dead tuples right after a vacuum are not counted (same-session flush race)',
      snapshot: deadOnly(rule.thresholds.deadTupleQuietSeconds.default - 1),
    },
    {
      name: 'a big table without a measurement is not guessed at',
      snapshot: makeSnapshot({
        tables: [makeTable({ heapBytes: 10 * GiB, nDeadTup: 9_000_000, reltuples: 1_000_000 })],
        bloat: { tables: [], skippedOverBudget: 1 },
      }),
    },
    {
      name: 'a table locked at collection time is skipped',
      snapshot: bloated({ tableBytes: 100 * MiB, wasteBytes: 80 * MiB }, { locked: true }),
    },
    {
      name: 'fillfactor reserve is not waste (free space already net of it)',
      snapshot: bloated({ tableBytes: 100 * MiB, wasteBytes: 0, freeBytes: 50 * MiB, fillfactor: 50 }),
    },
    {
      name: 'a raised ratio threshold silences a 0.45 table',
      snapshot: bloated({ tableBytes: 100 * MiB, wasteBytes: 45 * MiB }),
      thresholds: { warningRatio: 0.5 },
    },
  ],
  invalid: [
    {
      name: 'ratio exactly 0.4 with 8 MiB of waste',
      snapshot: bloated({ tableBytes: 20 * MiB, wasteBytes: 8 * MiB, deadBytes: 0, freeBytes: 8 * MiB }),
      findings: [
        {
          severity: 'warning',
          object: { type: 'table', schema: 'public', name: 'orders' },
          evidence: { method: 'pgstattuple_approx', sizeBytes: 20 * MiB, wasteBytes: 8 * MiB, ratio: 0.4, freeBytes: 8 * MiB },
        },
      ],
      renumbered: { snapshot: bloated({ tableBytes: 30 * MiB, wasteBytes: 25 * MiB }) },
    },
    {
      name: 'table exactly at the 8 MiB floor, all waste',
      snapshot: bloated({ tableBytes: 8 * MiB, wasteBytes: 8 * MiB }),
      findings: [{ severity: 'warning', object: { name: 'orders' }, evidence: { ratio: 1 } }],
    },
    {
      name: 'exactly 1 GiB of waste at ratio 0.2',
      snapshot: bloated({ tableBytes: 5 * GiB, wasteBytes: GiB }),
      findings: [{ severity: 'warning', object: { name: 'orders' }, evidence: { wasteBytes: GiB, ratio: 0.2 } }],
    },
    {
      name: 'critical at exactly 1 GiB of waste (ratio 0.8)',
      snapshot: bloated({ tableBytes: 1.25 * GiB, wasteBytes: GiB, deadBytes: 200 * MiB }),
      findings: [{ severity: 'critical', object: { name: 'orders' }, evidence: { ratio: 0.8, deadBytes: 200 * MiB } }],
    },
    {
      name: 'critical at ratio exactly 0.7',
      snapshot: bloated({ tableBytes: 10 * GiB, wasteBytes: 7 * GiB }),
      findings: [{ severity: 'critical', object: { name: 'orders' }, evidence: { ratio: 0.7 } }],
    },
    {
      name: 'just under 1 GiB of waste at ratio 0.8 stays a warning',
      snapshot: bloated({ tableBytes: 1.25 * GiB, wasteBytes: GiB - 1 }),
      findings: [{ severity: 'warning', object: { name: 'orders' } }],
    },
    {
      name: 'ratio just under 0.7 with 2 GiB of waste stays a warning',
      snapshot: bloated({ tableBytes: 3 * GiB, wasteBytes: 2.09 * GiB }),
      findings: [{ severity: 'warning', object: { name: 'orders' } }],
    },
    {
      name: 'unvacuumed dead tuples count as waste in an estimate after the quiet period',
      snapshot: deadOnly(rule.thresholds.deadTupleQuietSeconds.default),
      findings: [
        { severity: 'warning', object: { name: 'orders' }, evidence: { method: 'estimate', deadBasis: 'n_dead_tup', ratio: 0.6, deadTuples: 60_000 } },
      ],
    },
    {
      name: 'never-vacuumed table with dead tuples',
      snapshot: deadOnly(null),
      findings: [{ severity: 'warning', object: { name: 'orders' }, evidence: { lastVacuumAgeSeconds: null } }],
    },
    {
      name: 'the planted 81 MB table with 86 % free space',
      snapshot: makeSnapshot({
        tables: [makeTable({ name: 'bloat_t', oid: 1 }), makeTable({ name: 'healthy_t', oid: 2 })],
        bloat: {
          tables: [
            makeTableBloat({ oid: 1, name: 'bloat_t', tableBytes: 81 * MiB, wasteBytes: 69.6 * MiB, freeBytes: 69.6 * MiB }),
            makeTableBloat({ oid: 2, name: 'healthy_t', tableBytes: 27 * MiB, wasteBytes: 0.15 * MiB }),
          ],
        },
      }),
      findings: [{ severity: 'warning', object: { type: 'table', name: 'bloat_t' }, evidence: { method: 'pgstattuple_approx' } }],
    },
    {
      name: 'mixed-case schema and name are reported as they are',
      snapshot: bloated({ schema: 'Sales', name: 'Order Items', tableBytes: 100 * MiB, wasteBytes: 50 * MiB }, { schema: 'Sales', name: 'Order Items' }),
      findings: [{ severity: 'warning', object: { schema: 'Sales', name: 'Order Items' } }],
    },
  ],
});
