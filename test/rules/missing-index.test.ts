import { describe, expect, it } from 'vitest';
import { evaluateRules } from '../../src/engine/evaluate.js';
import rule from '../../rules/missing-index/index.js';
import { initSqlParser } from '../../src/sql/index.js';
import type { ColumnStat, IndexVerification, StatementStat, TableStat } from '../../src/snapshot/types.js';
import type { StatementDelta } from '../../src/snapshot/window-types.js';
import { makeColumn, makeIndex, makeSnapshot, makeStatement, makeTable, makeWindow } from '../support/builders.js';
import { ruleTester } from '../support/rule-tester.js';

await initSqlParser();

const ORDERS = 16_500;
const orders = makeTable({ oid: ORDERS, name: 'orders', reltuples: 500_000, relpages: 3_736, nTupIns: 500_000, nTupUpd: 0, nTupHotUpd: 0 });
const pkey = makeIndex({ oid: 17_000, tableOid: ORDERS, table: 'orders', columns: ['id'] });
const BY_CUSTOMER = 'SELECT * FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT $2';

/** A statement that reads the whole table per call (blocks ≈ relpages). */
const scan = (queryId: string, query: string, calls: number, rowsPerCall: number, meanMs: number, extra: Partial<StatementStat> = {}): StatementStat =>
  makeStatement({
    queryId,
    query,
    calls,
    rows: Math.round(calls * rowsPerCall),
    totalExecTimeMs: calls * meanMs,
    meanExecTimeMs: meanMs,
    sharedBlksHit: calls * 3_803,
    sharedBlksRead: 0,
    ...extra,
  });
/** Everything else the database does: 1,000 s of execution time. */
const background = makeStatement({ queryId: '9', query: 'SELECT now()', calls: 1_000_000, rows: 1_000_000, totalExecTimeMs: 1_000_000, sharedBlksHit: 0 });

const snap = (
  statements: StatementStat[],
  extra: { tables?: TableStat[]; columns?: ColumnStat[]; indexes?: ReturnType<typeof makeIndex>[]; verifications?: IndexVerification[] } = {},
) =>
  makeSnapshot({
    tables: extra.tables ?? [orders],
    indexes: extra.indexes ?? [pkey],
    columns: extra.columns ?? [],
    statements: [...statements, background],
    ...(extra.verifications ? { enrichments: { indexVerifications: extra.verifications } } : {}),
  });

const byCustomer = scan('101', BY_CUSTOMER, 830, 8.78, 47.2);
const verification = (over: Partial<IndexVerification>): IndexVerification => ({
  schema: 'public',
  table: 'orders',
  columns: ['customer_id'],
  queryId: '101',
  status: 'verified',
  costBefore: 7340,
  costAfter: 46.7,
  usesIndex: true,
  reason: null,
  ...over,
});
const delta = (queryId: string, query: string, calls: number, rows: number, timeMs: number, blocks: number): StatementDelta => ({
  userId: 16_400,
  dbId: 16_384,
  queryId,
  toplevel: true,
  userName: 'app',
  query,
  calls,
  rows,
  totalExecTimeMs: timeMs,
  sharedBlks: blocks,
  callsSeries: [calls],
  rowsSeries: [rows],
  restarts: 0,
});
const stat = (column: string, over: Partial<ColumnStat>): ColumnStat => makeColumn({ table: 'orders', column, dataType: 'integer', ...over });

ruleTester(rule, {
  valid: [
    {
      name: 'tiny lookup table hammered by point lookups',
      snapshot: snap([scan('201', 'SELECT * FROM countries WHERE name = $1', 80_000, 1, 0.005, { sharedBlksHit: 80_000 })], {
        tables: [orders, makeTable({ oid: 16_600, name: 'countries', reltuples: 60, relpages: 1 })],
      }),
      thresholds: { minDbTimeShare: 0 },
    },
    {
      name: 'table below the row gate',
      snapshot: snap([scan('202', 'SELECT * FROM plans WHERE code = $1', 5_000, 1, 20, { sharedBlksHit: 5_000 * 120 })], {
        tables: [orders, makeTable({ oid: 16_601, name: 'plans', reltuples: 5_000, relpages: 120 })],
      }),
    },
    {
      name: 'status aggregation with a skewed column (pg_stats)',
      snapshot: snap([scan('203', 'SELECT count(*), sum(total) FROM orders WHERE status = $1', 60, 1, 53.2)], {
        columns: [stat('status', { dataType: 'text', nDistinct: 5, topFrequency: 0.898 })],
      }),
    },
    {
      name: 'status aggregation without pg_stats (monitor-only role)',
      snapshot: snap([scan('203', 'SELECT count(*), sum(total) FROM orders WHERE status = $1', 600, 1, 53.2)]),
    },
    {
      name: 'boolean filter (pg_stats)',
      snapshot: snap([scan('204', 'SELECT * FROM orders WHERE archived = $1 LIMIT $2', 600, 100, 30)], {
        columns: [stat('archived', { dataType: 'boolean', nDistinct: 2, topFrequency: 0.6 })],
      }),
    },
    {
      name: 'column already indexed',
      snapshot: snap([byCustomer], {
        indexes: [
          pkey,
          makeIndex({
            oid: 17_001,
            name: 'orders_customer_id_idx',
            tableOid: ORDERS,
            table: 'orders',
            columns: ['customer_id'],
            isUnique: false,
            isPrimary: false,
          }),
        ],
      }),
    },
    {
      name: 'skewed status column serving ORDER BY … LIMIT (pg_stats)',
      snapshot: snap([scan('212', 'SELECT * FROM orders WHERE status = $1 ORDER BY created_at DESC LIMIT $2', 900, 10, 40)], {
        columns: [stat('status', { dataType: 'text', nDistinct: 5, topFrequency: 0.9 })],
      }),
    },
    {
      name: 'second equality column already leads an index',
      snapshot: snap([scan('213', 'SELECT * FROM orders WHERE status = $1 AND customer_id = $2', 830, 3, 47.2)], {
        indexes: [
          pkey,
          makeIndex({
            oid: 17_002,
            name: 'orders_customer_id_idx',
            tableOid: ORDERS,
            table: 'orders',
            columns: ['customer_id'],
            isUnique: false,
            isPrimary: false,
          }),
        ],
      }),
    },
    { name: 'GROUP BY report without a predicate', snapshot: snap([scan('205', 'SELECT status, count(*) FROM orders GROUP BY status', 100, 5, 29.4)]) },
    { name: 'export without a predicate', snapshot: snap([scan('206', 'SELECT * FROM orders', 100, 500_000, 300)]) },
    {
      name: 'statement served by an index (few blocks per call)',
      snapshot: snap([scan('207', 'SELECT * FROM orders WHERE id = $1', 100_000, 1, 0.05, { sharedBlksHit: 400_000, totalExecTimeMs: 500_000 })]),
    },
    { name: 'cheap statement', snapshot: snap([scan('208', BY_CUSTOMER, 10, 8, 2)]) },
    { name: 'function-wrapped column', snapshot: snap([scan('209', 'SELECT * FROM orders WHERE lower(email) = $1', 830, 1, 47.2)]) },
    { name: 'OR tree', snapshot: snap([scan('210', 'SELECT * FROM orders WHERE customer_id = $1 OR seller_id = $2', 830, 10, 47.2)]) },
    { name: 'filter returns a large part of the table', snapshot: snap([scan('211', 'SELECT * FROM orders WHERE region = $1', 830, 50_000, 80)]) },
    {
      name: 'verified pair and prefix that barely help',
      snapshot: snap([scan('302', 'SELECT id, total FROM orders o WHERE o.account_id = $1 AND o.created_at >= $2', 900, 40, 40)], {
        verifications: [
          verification({ queryId: '302', columns: ['account_id'], costBefore: 4000, costAfter: 3900 }),
          verification({ queryId: '302', columns: ['account_id', 'created_at'], costBefore: 4000, costAfter: 3000 }),
        ],
      }),
    },
    {
      name: 'hypothetical index not used by the planner',
      snapshot: snap([byCustomer], { verifications: [verification({ costAfter: 7340, usesIndex: false })] }),
    },
  ],
  invalid: [
    {
      name: 'single-column index (observed selectivity)',
      snapshot: snap([byCustomer]),
      findings: [
        {
          severity: 'warning',
          object: { type: 'table', schema: 'public', name: 'orders', columns: ['customer_id'] },
          evidence: { selectivitySource: 'observed', calls: 830, tableRows: 500_000, tablePages: 3_736, verification: 'not-verified' },
        },
      ],
      renumbered: { snapshot: snap([scan('101', BY_CUSTOMER, 1_200, 9.5, 50)]) },
    },
    {
      name: 'composite: two equality columns, most selective first (pg_stats)',
      snapshot: snap([scan('301', 'SELECT * FROM orders WHERE tenant_id = $1 AND sku = $2', 900, 3, 40)], {
        columns: [stat('tenant_id', { nDistinct: 100 }), stat('sku', { nDistinct: 5_000 })],
      }),
      findings: [{ severity: 'warning', object: { columns: ['sku', 'tenant_id'] }, evidence: { selectivitySource: 'pg_stats' } }],
    },
    {
      name: 'composite: equality then range',
      snapshot: snap([scan('302', 'SELECT id, total FROM orders o WHERE o.account_id = $1 AND o.created_at >= $2', 900, 40, 40)]),
      findings: [{ severity: 'warning', object: { columns: ['account_id', 'created_at'] } }],
    },
    {
      name: 'composite: unselective equality serving ORDER BY … LIMIT',
      snapshot: snap([scan('303', 'SELECT * FROM orders WHERE shop_id = $1 ORDER BY created_at DESC LIMIT $2', 900, 20, 40)], {
        columns: [stat('shop_id', { nDistinct: 2_000 })],
      }),
      findings: [{ severity: 'warning', object: { columns: ['shop_id', 'created_at'] } }],
    },
    {
      name: 'verified with hypopg',
      snapshot: snap([byCustomer], { verifications: [verification({})] }),
      findings: [{ severity: 'warning', object: { columns: ['customer_id'] }, evidence: { verification: 'hypopg', costBefore: 7340, costAfter: 46.7 } }],
    },
    {
      name: 'verified pair that halves the one-column plan keeps both columns',
      snapshot: snap([scan('302', 'SELECT id, total FROM orders o WHERE o.account_id = $1 AND o.created_at >= $2', 900, 40, 40)], {
        verifications: [
          verification({ queryId: '302', columns: ['account_id'], costBefore: 4000, costAfter: 1500 }),
          verification({ queryId: '302', columns: ['account_id', 'created_at'], costBefore: 4000, costAfter: 30 }),
        ],
      }),
      findings: [{ severity: 'warning', object: { columns: ['account_id', 'created_at'] }, evidence: { verification: 'hypopg', costAfter: 30 } }],
    },
    {
      name: 'verified cheap one-column prefix wins over the pair (Dexter)',
      snapshot: snap([scan('302', 'SELECT id, total FROM orders o WHERE o.account_id = $1 AND o.created_at >= $2', 900, 40, 40)], {
        verifications: [
          verification({ queryId: '302', columns: ['account_id'], costBefore: 4000, costAfter: 80 }),
          verification({ queryId: '302', columns: ['account_id', 'created_at'], costBefore: 4000, costAfter: 20 }),
        ],
      }),
      findings: [{ severity: 'warning', object: { columns: ['account_id'] }, evidence: { verification: 'hypopg', costAfter: 80 } }],
    },
    {
      name: 'prefix suggestions merge into the longer one',
      snapshot: snap([byCustomer, scan('304', 'SELECT * FROM orders WHERE customer_id = $1 AND created_at > $2', 600, 3, 45)]),
      findings: [{ severity: 'critical', object: { columns: ['customer_id', 'created_at'] }, evidence: { queryIds: ['101', '304'] } }],
      thresholds: { criticalDbTimeShare: 0.05 },
    },
    {
      name: 'UPDATE by an unindexed column',
      snapshot: snap([scan('305', 'UPDATE orders SET status = $1 WHERE external_ref = $2', 2_000, 1, 40)]),
      findings: [{ severity: 'warning', object: { columns: ['external_ref'] } }],
    },
    {
      name: 'a quarter of execution time is critical',
      snapshot: snap([scan('101', BY_CUSTOMER, 8_300, 8.78, 47.2)]),
      findings: [{ severity: 'critical', object: { columns: ['customer_id'] } }],
    },
    {
      name: 'write-heavy table downgrades a small benefit to info',
      snapshot: snap([scan('101', BY_CUSTOMER, 60, 8.78, 6)], { tables: [{ ...orders, nTupIns: 50_000_000 }] }),
      findings: [{ severity: 'info', object: { columns: ['customer_id'] }, evidence: { writeAmplificationDowngrade: true } }],
    },
    {
      name: 'HOT updates of the column are warned about',
      snapshot: snap([byCustomer, makeStatement({ queryId: '306', query: 'UPDATE orders SET customer_id = $1 WHERE id = $2', calls: 10_000 })], {
        tables: [{ ...orders, nTupUpd: 10_000, nTupHotUpd: 9_000 }],
      }),
      findings: [{ severity: 'warning', object: { columns: ['customer_id'] }, evidence: { hotUpdateWarning: true } }],
    },
    {
      name: 'never analysed table (reltuples = -1) sized from n_live_tup and heap bytes',
      snapshot: snap([byCustomer], { tables: [{ ...orders, reltuples: -1, relpages: 0, nLiveTup: 500_000, heapBytes: 3_736 * 8192 }] }),
      findings: [{ severity: 'warning', object: { columns: ['customer_id'] }, evidence: { tableRows: 500_000, tablePages: 3_736 } }],
    },
    {
      name: 'every call returned exactly its LIMIT and no pg_stats: info',
      snapshot: snap([scan('309', 'SELECT * FROM orders WHERE status = $1 ORDER BY created_at DESC LIMIT $2', 900, 10, 40)]),
      findings: [{ severity: 'info', object: { columns: ['status'] }, evidence: { limitBound: true, selectivitySource: 'observed' } }],
    },
    {
      name: 'window busy with other traffic: the slow statement is judged on cumulative counters',
      snapshot: snap([byCustomer]),
      window: makeWindow({ statements: [delta('9', 'SELECT now()', 50_000, 50_000, 500, 0)] }),
      findings: [{ severity: 'warning', object: { columns: ['customer_id'] }, evidence: { basis: 'cumulative' } }],
    },
    {
      name: 'slow statement in the window: window basis',
      snapshot: snap([byCustomer]),
      window: makeWindow({ statements: [delta('101', BY_CUSTOMER, 200, 1_756, 9_400, 200 * 3_803), delta('9', 'SELECT now()', 50_000, 50_000, 500, 0)] }),
      findings: [{ severity: 'critical', object: { columns: ['customer_id'] }, evidence: { basis: 'window', calls: 200 } }],
    },
    {
      name: 'identifiers needing quotes',
      snapshot: snap([scan('307', 'SELECT * FROM "Order Items" WHERE "customerId" = $1', 830, 2, 47.2)], {
        tables: [makeTable({ oid: 16_700, name: 'Order Items', reltuples: 500_000, relpages: 3_736 })],
      }),
      findings: [{ severity: 'warning', object: { name: 'Order Items', columns: ['customerId'] } }],
    },
  ],
});

describe('recommendation SQL', () => {
  it('quotes identifiers and builds CREATE INDEX CONCURRENTLY', () => {
    const result = evaluateRules({
      rules: [rule],
      snapshot: snap([scan('307', 'SELECT * FROM "Sales"."Order Items" WHERE "customerId" = $1 AND "select" = $2', 830, 2, 47.2)], {
        tables: [makeTable({ oid: 16_700, schema: 'Sales', name: 'Order Items', reltuples: 500_000, relpages: 3_736 })],
      }),
      window: null,
    });
    expect(result.findings.map((f) => f.recommendation.sql)).toEqual(['CREATE INDEX CONCURRENTLY ON "Sales"."Order Items" ("customerId", "select")']);
  });

  it('redacts literals in the statement it quotes', () => {
    const result = evaluateRules({
      rules: [rule],
      snapshot: snap([scan('308', "SELECT * FROM orders WHERE customer_id = $1 AND note = 'card 4111'", 830, 2, 47.2)]),
      window: null,
    });
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]!.recommendation.text).not.toContain('4111');
  });
});
