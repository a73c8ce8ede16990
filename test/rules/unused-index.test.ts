import { describe, expect, it } from 'vitest';
import rule from '../../rules/unused-index.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import type { ConstraintStat, DatabaseStat, IndexStat, Snapshot, TableStat } from '../../src/snapshot/types.js';
import { makeConstraint, makeDatabase, makeIndex, makeSnapshot, makeTable, MiB } from '../support/builders.js';
import { ruleTester } from '../support/rule-tester.js';

const DAY = 86_400;
const MIN_OBSERVED = rule.thresholds.minObservedSeconds.default;
const MIN_BYTES = rule.thresholds.minIndexBytes.default;
const MIN_SCANS = rule.thresholds.minTableScansCount.default;
const WARN_BYTES = rule.thresholds.warningIndexBytes.default;
const WARN_WRITES = rule.thresholds.warningTableWriteRows.default;

/** A plain btree index on public.orders that no query has scanned. */
function unused(name: string, columns: string[], o: Partial<IndexStat> = {}): IndexStat {
  return makeIndex({
    oid: 16_700 + name.length * 7 + columns.length,
    name,
    definition: `CREATE INDEX ${name} ON public.orders USING btree (${columns.join(', ')})`,
    columns,
    isUnique: false,
    isPrimary: false,
    sizeBytes: 8 * MiB,
    idxScan: 0,
    lastIdxScanAgeSeconds: null,
    ...o,
  });
}

/** orders (busy: read 100,010 times, 1,051,000 rows written) with its primary key and the given indexes. */
function snap(
  indexes: IndexStat[],
  o: { table?: Partial<TableStat>; constraints?: ConstraintStat[]; db?: Partial<DatabaseStat>; extraTables?: TableStat[] } = {},
): Snapshot {
  return makeSnapshot({
    databases: [makeDatabase({ statsObservedSeconds: 30 * DAY, ...o.db })],
    tables: [makeTable(o.table), ...(o.extraTables ?? [])],
    indexes: [makeIndex(), ...indexes],
    constraints: [makeConstraint(), ...(o.constraints ?? [])],
  });
}

const fk = (o: Partial<ConstraintStat>): ConstraintStat =>
  makeConstraint({
    name: 'orders_customer_fk',
    type: 'f',
    columns: ['customer_id'],
    refSchema: 'public',
    refTable: 'customers',
    refTableOid: 16_510,
    refColumns: ['id'],
    ...o,
  });

ruleTester(rule, {
  valid: [
    { name: 'the primary key, never scanned, is never reported', snapshot: snap([], {}) },
    { name: 'a used index', snapshot: snap([unused('orders_status', ['status'], { idxScan: 3 })]) },
    {
      name: 'PG16+: idx_scan 0 but last_idx_scan inside the counted time',
      snapshot: snap([unused('orders_status', ['status'], { lastIdxScanAgeSeconds: 5 * DAY })]),
    },
    { name: 'a unique index that is not a constraint', snapshot: snap([unused('orders_ref_key', ['ref'], { isUnique: true })]) },
    {
      name: 'the index of a unique constraint',
      snapshot: snap([unused('orders_ref_key', ['ref'], { isUnique: true })], {
        constraints: [makeConstraint({ name: 'orders_ref_key', type: 'u', columns: ['ref'] })],
      }),
    },
    { name: 'an exclusion constraint index', snapshot: snap([unused('orders_during_excl', ['during'], { method: 'gist', isExclusion: true })]) },
    {
      name: "an index led by a foreign key's referencing columns",
      snapshot: snap([unused('orders_customer', ['customer_id', 'created_at'])], { constraints: [fk({})] }),
    },
    {
      name: 'an index led by a two-column foreign key in another order',
      snapshot: snap([unused('orders_ab', ['b', 'a', 'c'])], { constraints: [fk({ columns: ['a', 'b'], refColumns: ['x', 'y'] })] }),
    },
    {
      name: "an index on a foreign key's referenced columns",
      snapshot: snap([unused('orders_code', ['code'])], {
        constraints: [fk({ tableOid: 16_520, table: 'lines', columns: ['order_code'], refTable: 'orders', refTableOid: 16_500, refColumns: ['code'] })],
      }),
    },
    // Too short a counted time, and no counted time at all, report the rule degraded: see the details below.
    {
      name: 'counted time just under minObservedSeconds, nothing that would be reported',
      snapshot: snap([unused('orders_status', ['status'], { idxScan: 1 })], { db: { statsObservedSeconds: MIN_OBSERVED - 1 } }),
    },
    { name: 'an index just under minIndexBytes', snapshot: snap([unused('orders_status', ['status'], { sizeBytes: MIN_BYTES - 1 })]) },
    { name: 'an index whose size was not collected (locked)', snapshot: snap([unused('orders_status', ['status'], { sizeBytes: null, definition: '' })]) },
    {
      name: 'a table read just under minTableScansCount times',
      snapshot: snap([unused('orders_status', ['status'])], { table: { seqScan: MIN_SCANS - 1, idxScan: 0 } }),
    },
    { name: 'an invalid index (invalid-index reports it)', snapshot: snap([unused('orders_status', ['status'], { isValid: false })]) },
    { name: 'an index being built concurrently', snapshot: snap([unused('orders_status', ['status'], { isValid: false, buildInProgress: true })]) },
    {
      name: 'an index of a partitioned table (its partitions are judged)',
      snapshot: snap([unused('events_kind', ['kind'], { tableOid: 16_530, table: 'events', sizeBytes: 0 })], {
        extraTables: [makeTable({ oid: 16_530, name: 'events', kind: 'p', seqScan: 0, idxScan: 0 })],
      }),
    },
  ],
  invalid: [
    {
      name: 'a big unused index on a busy table is a warning',
      snapshot: snap([unused('orders_status', ['status'], { sizeBytes: 200 * MiB })], {
        table: { nTupIns: 2_000_000, nTupUpd: 500_000, nTupHotUpd: 100_000, nTupDel: 10_000 },
      }),
      findings: [
        {
          severity: 'warning',
          object: { type: 'index', schema: 'public', name: 'orders_status', table: 'orders' },
          evidence: {
            sizeBytes: 200 * MiB,
            indexScans: 0,
            observedSeconds: 30 * DAY,
            observedSince: '2025-12-02T12:00:00.000Z',
            observedFrom: 'stats_reset',
            tableWrites: 2_510_000,
            indexWrites: 2_400_000,
            tableScans: 100_010,
          },
        },
      ],
      renumbered: {
        snapshot: snap([unused('orders_status', ['status'], { sizeBytes: 300 * MiB })], {
          db: { statsObservedSeconds: 40 * DAY },
          table: { nTupIns: 5_000_000 },
        }),
      },
    },
    {
      name: 'counted time exactly minObservedSeconds; size exactly minIndexBytes; reads exactly minTableScansCount',
      snapshot: snap([unused('orders_status', ['status'], { sizeBytes: MIN_BYTES })], {
        db: { statsObservedSeconds: MIN_OBSERVED, statsObservedFrom: 'server_start' },
        table: { seqScan: MIN_SCANS, idxScan: 0 },
      }),
      findings: [{ severity: 'info', object: { name: 'orders_status' }, evidence: { sizeBytes: MIN_BYTES, observedFrom: 'server_start' } }],
    },
    {
      name: 'warning boundaries: exactly warningIndexBytes and warningTableWriteRows',
      snapshot: snap([unused('orders_status', ['status'], { sizeBytes: WARN_BYTES })], { table: { nTupIns: WARN_WRITES, nTupUpd: 0, nTupDel: 0 } }),
      findings: [{ severity: 'warning', object: { name: 'orders_status' }, evidence: { tableWrites: WARN_WRITES } }],
    },
    {
      name: 'just under warningIndexBytes is info',
      snapshot: snap([unused('orders_status', ['status'], { sizeBytes: WARN_BYTES - 1 })], { table: { nTupIns: 10 * WARN_WRITES } }),
      findings: [{ severity: 'info', object: { name: 'orders_status' } }],
    },
    {
      name: 'a big index on a table with just under warningTableWriteRows written is info',
      snapshot: snap([unused('orders_status', ['status'], { sizeBytes: 10 * WARN_BYTES })], { table: { nTupIns: WARN_WRITES - 1, nTupUpd: 0, nTupDel: 0 } }),
      findings: [{ severity: 'info', object: { name: 'orders_status' } }],
    },
    {
      name: 'PG16+: last scanned before the counted time began; an FK on other columns does not protect it',
      snapshot: snap([unused('orders_status', ['status', 'customer_id'], { lastIdxScanAgeSeconds: 31 * DAY })], { constraints: [fk({})] }),
      findings: [{ severity: 'info', object: { name: 'orders_status' }, evidence: { lastIdxScanAgeSeconds: 31 * DAY } }],
    },
  ],
});

describe('unused-index details', () => {
  const run = (snapshot: Snapshot, thresholds?: Record<string, number>) =>
    evaluateRules({ rules: [rule], snapshot, window: null, settings: thresholds ? { [rule.id]: { thresholds } } : undefined });

  it('quotes the DROP statement and names the replica caveat', () => {
    const snapshot = makeSnapshot({
      databases: [makeDatabase()],
      tables: [makeTable({ schema: 'My Schema' })],
      indexes: [unused('Odd "Idx"', ['status'], { schema: 'My Schema' })],
    });
    const [finding] = run(snapshot).findings;
    expect(finding?.recommendation.sql).toBe('DROP INDEX CONCURRENTLY "My Schema"."Odd ""Idx""";');
    expect(finding?.recommendation.text).toMatch(/standby/);
    expect(finding?.evidence.replicas).toMatch(/standby/);
  });

  it('too short a counted time: no finding, a degraded diagnostic with the date it can judge from', () => {
    const result = run(snap([unused('orders_status', ['status'])], { db: { statsObservedSeconds: MIN_OBSERVED - 1, statsObservedFrom: 'server_start' } }));
    expect(result.findings).toEqual([]);
    expect(result.evaluated).toEqual([rule.id]);
    expect(result.diagnostics).toHaveLength(1);
    expect(result.diagnostics[0]).toMatchObject({ rule: rule.id, status: 'degraded' });
    expect(result.diagnostics[0]?.message).toContain('2026-01-01T12:00:01.000Z');
    expect(result.diagnostics[0]?.message).toContain('server start');
  });

  it('too short a counted time with nothing that would be reported: silent', () => {
    const result = run(snap([unused('orders_status', ['status'], { idxScan: 5 })], { db: { statsObservedSeconds: DAY } }));
    expect(result.findings).toEqual([]);
    expect(result.diagnostics).toEqual([]);
  });

  it('no statistics age in the snapshot: no finding, degraded', () => {
    const result = run(snap([unused('orders_status', ['status'])], { db: { statsObservedSeconds: undefined } }));
    expect(result.findings).toEqual([]);
    expect(result.diagnostics.map((d) => d.status)).toEqual(['degraded']);
  });

  it('minObservedSeconds 0 judges at once', () => {
    const result = run(snap([unused('orders_status', ['status'])], { db: { statsObservedSeconds: 60 } }), { minObservedSeconds: 0 });
    expect(result.findings.map((f) => f.object.name)).toEqual(['orders_status']);
    expect(result.diagnostics).toEqual([]);
  });

  it('adds the partition caveat for an index of a partition', () => {
    const snapshot = makeSnapshot({
      databases: [makeDatabase()],
      tables: [makeTable()],
      indexes: [unused('orders_status', ['status'])],
      relations: { views: [], partitions: [{ oid: 16_500, rootOid: 16_000 }] },
    });
    expect(run(snapshot).findings[0]?.recommendation.text).toMatch(/partitioned index/);
  });
});
