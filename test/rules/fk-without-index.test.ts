import { describe, expect, it } from 'vitest';
import rule from '../../rules/fk-without-index.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import { deepFreeze } from '../../src/snapshot/freeze.js';
import type { ConstraintStat, IndexStat, Snapshot, TableStat } from '../../src/snapshot/types.js';
import { makeConstraint, makeIndex, makeSnapshot, makeTable, MiB } from '../support/builders.js';
import { ruleTester } from '../support/rule-tester.js';

const ORDERS = 100;
const LINES = 200;

/** The referenced table: deletes, no updates unless a case says so. */
const parent = (o: Partial<TableStat> = {}): TableStat => makeTable({ oid: ORDERS, name: 'orders', nTupDel: 500, nTupUpd: 0, ...o });
/** The referencing table: 100 MiB, 2M rows. */
const child = (o: Partial<TableStat> = {}): TableStat =>
  makeTable({ oid: LINES, name: 'order_lines', heapBytes: 100 * MiB, relpages: 12_800, reltuples: 2_000_000, nTupDel: 0, ...o });
const fk = (o: Partial<ConstraintStat> = {}): ConstraintStat =>
  makeConstraint({
    table: 'order_lines',
    tableOid: LINES,
    name: 'order_lines_order_id_fkey',
    type: 'f',
    columns: ['order_id'],
    refSchema: 'public',
    refTable: 'orders',
    refTableOid: ORDERS,
    refColumns: ['id'],
    ...o,
  });
let nextIndexOid = 30_000;
const index = (columns: readonly (string | null)[], o: Partial<IndexStat> = {}): IndexStat =>
  makeIndex({
    oid: nextIndexOid++,
    name: `order_lines_${columns.map((c) => c ?? 'expr').join('_')}_idx`,
    tableOid: LINES,
    table: 'order_lines',
    definition: '',
    columns,
    isUnique: false,
    isPrimary: false,
    ...o,
  });

function snap(o: { tables?: TableStat[]; indexes?: IndexStat[]; constraints?: ConstraintStat[] } = {}): Snapshot {
  return makeSnapshot({
    tables: o.tables ?? [parent(), child()],
    indexes: [makeIndex({ oid: 29_999, tableOid: ORDERS }), ...(o.indexes ?? [])],
    constraints: [makeConstraint({ tableOid: ORDERS }), ...(o.constraints ?? [fk()])],
  });
}

/** A two-column FK (tenant_id, order_id) → orders (tenant_id, id). */
const compositeFk = fk({ name: 'order_lines_tenant_fkey', columns: ['tenant_id', 'order_id'], refColumns: ['tenant_id', 'id'] });

/** Partitioned child `events` (oid 300) with partitions events_2025 (301) and events_2026 (302), FK copied onto both. */
const EVENTS = 300;
const events = makeTable({ oid: EVENTS, name: 'events', kind: 'p', heapBytes: 0, relpages: 0, reltuples: -1 });
const partition = (oid: number, name: string, o: Partial<TableStat> = {}): TableStat =>
  makeTable({ oid, name, heapBytes: 40 * MiB, relpages: 5_120, reltuples: 500_000, ...o });
const eventsFk = (tableOid: number, table: string): ConstraintStat => fk({ tableOid, table, name: 'events_order_id_fkey' });
const partitionIndex = (tableOid: number, table: string): IndexStat => index(['order_id'], { tableOid, table, name: `${table}_order_id_idx` });
function partitionedSnap(o: { leaves?: TableStat[]; indexes?: IndexStat[] } = {}): Snapshot {
  const leaves = o.leaves ?? [partition(301, 'events_2025'), partition(302, 'events_2026')];
  return snap({
    tables: [parent(), events, ...leaves],
    indexes: o.indexes ?? [],
    constraints: [eventsFk(EVENTS, 'events'), ...leaves.map((l) => eventsFk(l.oid, l.name))],
  });
}

/**
 * `order_lines` referencing a partitioned `orders` (oid 100) with partitions 101 and 102: PostgreSQL adds clones
 * of the FK on the child, one per referenced partition, named fkey1, fkey2.
 */
function partitionedParentSnap(o: { deletes?: [number, number]; indexes?: IndexStat[] } = {}): Snapshot {
  const [d1, d2] = o.deletes ?? [30, 12];
  return snap({
    tables: [
      parent({ kind: 'p', nTupDel: 0, heapBytes: 0 }),
      makeTable({ oid: 101, name: 'orders_2025', nTupDel: d1, nTupUpd: 0 }),
      makeTable({ oid: 102, name: 'orders_2026', nTupDel: d2, nTupUpd: 0 }),
      child(),
    ],
    indexes: o.indexes ?? [],
    constraints: [
      fk(),
      fk({ name: 'order_lines_order_id_fkey1', refTable: 'orders_2025', refTableOid: 101 }),
      fk({ name: 'order_lines_order_id_fkey2', refTable: 'orders_2026', refTableOid: 102 }),
    ],
  });
}

ruleTester(rule, {
  valid: [
    { name: 'FK column leads a btree index', snapshot: snap({ indexes: [index(['order_id', 'created_at'])] }) },
    {
      name: 'composite FK served by an index on its columns in another order',
      snapshot: snap({ indexes: [index(['order_id', 'tenant_id', 'line_no'])], constraints: [compositeFk] }),
    },
    { name: 'FK covered by a composite primary key', snapshot: snap({ indexes: [index(['order_id', 'line_no'], { isPrimary: true, isUnique: true })] }) },
    {
      name: 'composite FK covered by a unique index in another order',
      snapshot: snap({ indexes: [index(['order_id', 'tenant_id'], { isUnique: true })], constraints: [compositeFk] }),
    },
    { name: 'an index with INCLUDE columns serves by its key', snapshot: snap({ indexes: [index(['order_id'], { includeColumns: ['amount'] })] }) },
    { name: 'a hash index serves a one-column FK', snapshot: snap({ indexes: [index(['order_id'], { method: 'hash' })] }) },
    { name: 'an expression after the FK columns does not matter', snapshot: snap({ indexes: [index(['order_id', null])] }) },
    { name: 'child just under 8 MiB', snapshot: snap({ tables: [parent(), child({ heapBytes: 8 * MiB - 1 })] }) },
    { name: 'child size unknown and its pages just under 8 MiB', snapshot: snap({ tables: [parent(), child({ heapBytes: null, relpages: 1_023 })] }) },
    { name: 'a raised size floor silences a 100 MiB child', snapshot: snap(), thresholds: { minTableBytes: 200 * MiB } },
    {
      name: 'primary key and unique constraints are not foreign keys',
      snapshot: snap({ constraints: [makeConstraint({ tableOid: LINES, table: 'order_lines', name: 'u', type: 'u', columns: ['order_id'] })] }),
    },
    { name: 'a child missing from the table list is skipped', snapshot: snap({ tables: [parent()] }) },
    {
      name: 'partitioned child whose partitions all carry the index (created on the partitioned table)',
      snapshot: partitionedSnap({
        indexes: [index(['order_id'], { tableOid: EVENTS, table: 'events' }), partitionIndex(301, 'events_2025'), partitionIndex(302, 'events_2026')],
      }),
    },
    {
      name: 'partitioned child whose unindexed partitions total just under 8 MiB',
      snapshot: partitionedSnap({ leaves: [partition(301, 'events_2025', { heapBytes: 4 * MiB }), partition(302, 'events_2026', { heapBytes: 4 * MiB - 1 })] }),
    },
    { name: 'partitioned child without partitions yet', snapshot: partitionedSnap({ leaves: [] }) },
    {
      name: 'FK to a partitioned table, child indexed: the per-partition clones are not reported',
      snapshot: partitionedParentSnap({ indexes: [index(['order_id'])] }),
    },
  ],
  invalid: [
    {
      name: 'unindexed FK on a 100 MiB child whose parent sees deletes',
      snapshot: snap({ indexes: [index(['line_no'])] }),
      findings: [
        {
          severity: 'warning',
          object: { type: 'table', schema: 'public', name: 'order_lines', columns: ['order_id'] },
          evidence: {
            constraint: 'order_lines_order_id_fkey',
            referencedTable: 'public.orders',
            referencedColumns: ['id'],
            tableBytes: 100 * MiB,
            rows: 2_000_000,
            parentDeletes: 500,
            parentUpdates: 0,
          },
        },
      ],
      renumbered: { snapshot: snap({ tables: [parent({ nTupDel: 0 }), child({ heapBytes: 900 * MiB, reltuples: 9_000_000 })] }) },
    },
    {
      name: 'child of exactly 8 MiB',
      snapshot: snap({ tables: [parent(), child({ heapBytes: 8 * MiB })] }),
      findings: [{ severity: 'warning', object: { name: 'order_lines' }, evidence: { tableBytes: 8 * MiB } }],
    },
    {
      name: 'child size unknown: 1,024 pages of 8 kB count as 8 MiB; rows unknown before ANALYZE',
      snapshot: snap({ tables: [parent(), child({ heapBytes: null, relpages: 1_024, reltuples: -1 })] }),
      findings: [{ severity: 'warning', object: { name: 'order_lines' }, evidence: { tableBytes: 8 * MiB, rows: null } }],
    },
    {
      name: 'a lowered size floor reports a 2 MiB child',
      snapshot: snap({ tables: [parent(), child({ heapBytes: 2 * MiB })] }),
      thresholds: { minTableBytes: 1 * MiB },
      findings: [{ severity: 'warning', object: { name: 'order_lines' }, evidence: { tableBytes: 2 * MiB } }],
    },
    {
      name: 'parent never deleted from nor updated: info',
      snapshot: snap({ tables: [parent({ nTupDel: 0, nTupUpd: 0 }), child()] }),
      findings: [{ severity: 'info', object: { name: 'order_lines' }, evidence: { parentDeletes: 0, parentUpdates: 0 } }],
    },
    {
      name: 'parent with updates only: warning',
      snapshot: snap({ tables: [parent({ nTupDel: 0, nTupUpd: 1 }), child()] }),
      findings: [{ severity: 'warning', object: { name: 'order_lines' }, evidence: { parentDeletes: 0, parentUpdates: 1 } }],
    },
    {
      name: 'FK column covered only by a partial index',
      snapshot: snap({ indexes: [index(['order_id'], { isPartial: true })] }),
      findings: [{ severity: 'warning', object: { name: 'order_lines', columns: ['order_id'] } }],
    },
    {
      name: 'FK column covered only by an invalid index',
      snapshot: snap({ indexes: [index(['order_id'], { isValid: false })] }),
      findings: [{ severity: 'warning', object: { name: 'order_lines', columns: ['order_id'] } }],
    },
    {
      name: 'an expression element in the leading position does not count',
      snapshot: snap({ indexes: [index([null, 'order_id'])] }),
      findings: [{ severity: 'warning', object: { name: 'order_lines', columns: ['order_id'] } }],
    },
    {
      name: 'FK column only in a later position or in INCLUDE',
      snapshot: snap({ indexes: [index(['created_at', 'order_id']), index(['line_no'], { includeColumns: ['order_id'] })] }),
      findings: [{ severity: 'warning', object: { name: 'order_lines', columns: ['order_id'] } }],
    },
    {
      name: 'a BRIN or GIN index on the FK column does not count',
      snapshot: snap({ indexes: [index(['order_id'], { method: 'brin' }), index(['order_id'], { method: 'gin' })] }),
      findings: [{ severity: 'warning', object: { name: 'order_lines' } }],
    },
    {
      name: 'composite FK with an index on its first column only, one with a gap, and a hash on one column',
      snapshot: snap({
        indexes: [index(['tenant_id']), index(['tenant_id', 'created_at', 'order_id']), index(['tenant_id'], { method: 'hash' })],
        constraints: [compositeFk],
      }),
      findings: [
        {
          severity: 'warning',
          object: { name: 'order_lines', columns: ['tenant_id', 'order_id'] },
          evidence: { constraint: 'order_lines_tenant_fkey', referencedColumns: ['tenant_id', 'id'] },
        },
      ],
    },
    {
      name: 'two FKs on the same column to different parents are two findings',
      snapshot: snap({
        tables: [parent(), makeTable({ oid: 110, name: 'archived_orders', nTupDel: 0, nTupUpd: 0 }), child()],
        constraints: [fk(), fk({ name: 'order_lines_archived_fkey', refTable: 'archived_orders', refTableOid: 110 })],
      }),
      findings: [
        {
          severity: 'warning',
          object: { name: 'order_lines', columns: ['order_id'] },
          evidence: { constraint: 'order_lines_order_id_fkey', referencedTable: 'public.orders' },
        },
        {
          severity: 'info',
          object: { name: 'order_lines', columns: ['order_id'] },
          evidence: { constraint: 'order_lines_archived_fkey', referencedTable: 'public.archived_orders' },
        },
      ],
    },
    {
      name: 'two tables with a same-named FK to the same parent are two findings',
      snapshot: snap({
        tables: [parent(), child(), makeTable({ oid: 210, name: 'invoices', heapBytes: 10 * MiB })],
        constraints: [fk({ name: 'fk_order' }), fk({ name: 'fk_order', tableOid: 210, table: 'invoices' })],
      }),
      findings: [
        { severity: 'warning', object: { name: 'order_lines' }, evidence: { constraint: 'fk_order' } },
        { severity: 'warning', object: { name: 'invoices' }, evidence: { constraint: 'fk_order', tableBytes: 10 * MiB } },
      ],
    },
    {
      name: 'self-referencing FK counts its own deletes',
      snapshot: snap({
        tables: [parent(), makeTable({ oid: 400, name: 'employees', heapBytes: 50 * MiB, nTupDel: 7, nTupUpd: 3 })],
        constraints: [
          fk({ tableOid: 400, table: 'employees', name: 'employees_manager_id_fkey', columns: ['manager_id'], refTable: 'employees', refTableOid: 400 }),
        ],
      }),
      findings: [
        {
          severity: 'warning',
          object: { name: 'employees', columns: ['manager_id'] },
          evidence: { referencedTable: 'public.employees', parentDeletes: 7, parentUpdates: 3 },
        },
      ],
    },
    {
      name: 'FK on a partitioned child: one finding on the partitioned table, not one per partition',
      snapshot: partitionedSnap(),
      findings: [
        {
          severity: 'warning',
          object: { type: 'table', name: 'events', columns: ['order_id'] },
          evidence: {
            constraint: 'events_order_id_fkey',
            tableBytes: 80 * MiB,
            rows: 1_000_000,
            unindexedPartitions: 2,
            unindexedPartitionNames: ['public.events_2025', 'public.events_2026'],
          },
        },
      ],
      renumbered: {
        snapshot: partitionedSnap({ leaves: [partition(301, 'events_2025', { heapBytes: 9 * MiB }), partition(302, 'events_2026', { reltuples: 7 })] }),
      },
    },
    {
      name: 'partitioned child with one partition indexed: judged by the other',
      snapshot: partitionedSnap({ indexes: [partitionIndex(301, 'events_2025')] }),
      findings: [
        {
          severity: 'warning',
          object: { name: 'events' },
          evidence: { tableBytes: 40 * MiB, unindexedPartitions: 1, unindexedPartitionNames: ['public.events_2026'] },
        },
      ],
    },
    {
      name: 'partitioned child whose unindexed partitions total exactly 8 MiB',
      snapshot: partitionedSnap({ leaves: [partition(301, 'events_2025', { heapBytes: 4 * MiB }), partition(302, 'events_2026', { heapBytes: 4 * MiB })] }),
      findings: [{ severity: 'warning', object: { name: 'events' }, evidence: { tableBytes: 8 * MiB, unindexedPartitions: 2 } }],
    },
    {
      name: 'FK to a partitioned parent: one finding, deletes counted on its partitions',
      snapshot: partitionedParentSnap(),
      findings: [
        {
          severity: 'warning',
          object: { name: 'order_lines', columns: ['order_id'] },
          evidence: { constraint: 'order_lines_order_id_fkey', referencedTable: 'public.orders', parentDeletes: 42 },
        },
      ],
    },
    {
      name: 'FK to a partitioned parent whose partitions see no deletes: info',
      snapshot: partitionedParentSnap({ deletes: [0, 0] }),
      findings: [{ severity: 'info', object: { name: 'order_lines' }, evidence: { parentDeletes: 0 } }],
    },
  ],
});

describe('fk-without-index recommendation', () => {
  const run = (snapshot: Snapshot) => evaluateRules({ rules: [rule], snapshot: deepFreeze(snapshot), window: null }).findings;

  it('creates the index concurrently on the child, columns in constraint order', () => {
    const [finding] = run(snap({ constraints: [compositeFk] }));
    expect(finding?.recommendation.sql).toBe('CREATE INDEX CONCURRENTLY ON public.order_lines (tenant_id, order_id);');
  });

  it('quotes odd identifiers: mixed case, spaces, quotes, keywords, unicode', () => {
    const [finding] = run(
      snap({
        tables: [parent(), child({ schema: 'Sales', name: 'Order Lines' })],
        constraints: [fk({ schema: 'Sales', table: 'Order Lines', name: 'Odd "FK"', columns: ['Order "Id"', 'select', 'größe'] })],
      }),
    );
    expect(finding?.object).toEqual({ type: 'table', schema: 'Sales', name: 'Order Lines', columns: ['Order "Id"', 'select', 'größe'] });
    expect(finding?.recommendation.sql).toBe('CREATE INDEX CONCURRENTLY ON "Sales"."Order Lines" ("Order ""Id""", "select", "größe");');
  });

  it('indexes each unindexed partition of a partitioned child', () => {
    const [finding] = run(
      partitionedSnap({
        indexes: [partitionIndex(301, 'events_2025')],
        leaves: [partition(301, 'events_2025'), partition(302, 'events_2026'), partition(303, 'Events 2027')],
      }),
    );
    expect(finding?.recommendation.sql).toBe(
      'CREATE INDEX CONCURRENTLY ON public.events_2026 (order_id);\nCREATE INDEX CONCURRENTLY ON public."Events 2027" (order_id);',
    );
  });

  it('the fingerprint follows the constraint name, so same-column FKs stay apart', () => {
    const [a] = run(snap());
    const [b] = run(snap({ constraints: [fk({ name: 'other_fkey' })] }));
    expect(a?.fingerprint).toBeDefined();
    expect(a?.fingerprint).not.toBe(b?.fingerprint);
  });
});
