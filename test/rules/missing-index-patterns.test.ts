/**
 * missing-index on the shapes that index advisors miss most: joins, CTEs and views, top-N, LIKE/ILIKE,
 * IS NULL, ranges, partitions, writes and aggregates, low cardinality, indexes of the wrong kind, hypopg
 * choosing among candidates, and the foreign-key checks that belong to fk-without-index. Each shape has a
 * planted problem and healthy look-alikes.
 */
import { describe, expect, it } from 'vitest';
import { evaluateRules } from '../../src/engine/evaluate.js';
import rule from '../../rules/missing-index/index.js';
import { initSqlParser } from '../../src/sql/index.js';
import type { ColumnStat, IndexStat, IndexVerification, Snapshot, StatementStat, TableStat } from '../../src/snapshot/types.js';
import { makeColumn, makeIndex, makeMeta, makeSnapshot, makeStatement, makeTable } from '../support/builders.js';
import { ruleTester } from '../support/rule-tester.js';

await initSqlParser();

const ORDERS = 16_500;
const ITEMS = 16_510;
const JOBS = 16_520;
const EVENTS = 16_530;
const orders = makeTable({ oid: ORDERS, name: 'orders', reltuples: 500_000, relpages: 3_736, nTupIns: 500_000, nTupUpd: 0, nTupHotUpd: 0 });
const items = makeTable({ oid: ITEMS, name: 'order_items', reltuples: 2_000_000, relpages: 12_000, nTupIns: 2_000_000, nTupUpd: 0, nTupHotUpd: 0 });
const jobs = makeTable({ oid: JOBS, name: 'jobs', reltuples: 400_000, relpages: 3_000, nTupIns: 400_000, nTupUpd: 0, nTupHotUpd: 0 });
const events = makeTable({ oid: EVENTS, name: 'events', kind: 'p', reltuples: -1, relpages: 0, heapBytes: 0, nTupIns: 0, nTupUpd: 0, nTupHotUpd: 0 });
const eventsJan = makeTable({ oid: EVENTS + 1, name: 'events_2026_01', reltuples: 300_000, relpages: 2_500, nTupIns: 0, nTupUpd: 0, nTupHotUpd: 0 });
const eventsFeb = makeTable({ oid: EVENTS + 2, name: 'events_2026_02', reltuples: 300_000, relpages: 2_500, nTupIns: 0, nTupUpd: 0, nTupHotUpd: 0 });
const TABLES = [orders, items, jobs, events, eventsJan, eventsFeb];
const PARTITIONS = [
  { oid: EVENTS + 1, rootOid: EVENTS },
  { oid: EVENTS + 2, rootOid: EVENTS },
];

let nextIndexOid = 18_000;
const index = (table: TableStat, columns: string[], over: Partial<IndexStat> = {}): IndexStat => {
  const name = `${table.name}_${columns.join('_')}_idx`;
  return makeIndex({
    oid: nextIndexOid++,
    name,
    tableOid: table.oid,
    table: table.name,
    columns,
    isUnique: false,
    isPrimary: false,
    definition: `CREATE INDEX ${name} ON public.${table.name} USING ${over.method ?? 'btree'} (${columns.join(', ')})`,
    ...over,
  });
};
const pkeys = [
  index(orders, ['id'], { isUnique: true, isPrimary: true }),
  index(items, ['id'], { isUnique: true, isPrimary: true }),
  index(jobs, ['id'], { isUnique: true, isPrimary: true }),
];

/** A statement reading `blocks` shared blocks per call. */
const stmt = (queryId: string, query: string, calls: number, rowsPerCall: number, meanMs: number, blocks: number): StatementStat =>
  makeStatement({
    queryId,
    query,
    calls,
    rows: Math.round(calls * rowsPerCall),
    totalExecTimeMs: calls * meanMs,
    meanExecTimeMs: meanMs,
    sharedBlksHit: calls * blocks,
    sharedBlksRead: 0,
  });
const background = makeStatement({ queryId: '9', query: 'SELECT now()', calls: 1_000_000, rows: 1_000_000, totalExecTimeMs: 1_000_000, sharedBlksHit: 0 });
const stat = (table: string, column: string, over: Partial<ColumnStat>): ColumnStat => makeColumn({ table, column, dataType: 'integer', ...over });

interface Extra {
  readonly indexes?: IndexStat[];
  readonly columns?: ColumnStat[];
  readonly views?: { name: string; definition: string }[];
  readonly verifications?: IndexVerification[];
  readonly pgTrgm?: boolean;
}
const snap = (statements: StatementStat[], extra: Extra = {}): Snapshot =>
  makeSnapshot({
    meta: makeMeta({ capabilities: { ...makeMeta().capabilities, pgTrgm: extra.pgTrgm ?? false } }),
    tables: TABLES,
    indexes: [...pkeys, ...(extra.indexes ?? [])],
    columns: extra.columns ?? [],
    statements: [...statements, background],
    relations: { views: (extra.views ?? []).map((v, i) => ({ oid: 19_000 + i, schema: 'public', ...v })), partitions: PARTITIONS },
    ...(extra.verifications ? { enrichments: { indexVerifications: extra.verifications } } : {}),
  });
const verified = (table: string, columns: string[], queryId: string, costAfter: number, costBefore = 5000): IndexVerification => ({
  schema: 'public',
  table,
  columns,
  queryId,
  status: 'verified',
  costBefore,
  costAfter,
  usesIndex: true,
  reason: null,
});

const JOIN = 'SELECT o.id, i.sku FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.customer_id = $1';
const customerIdx = index(orders, ['customer_id']);
const VIEW = { name: 'active_orders', definition: ' SELECT o.id, o.customer_id AS buyer, o.total\n   FROM orders o\n  WHERE o.deleted_at IS NULL;' };
const TOP_N = 'SELECT id, total FROM orders ORDER BY created_at DESC LIMIT 20';
const QUEUE = 'SELECT id FROM jobs WHERE finished_at IS NULL ORDER BY id LIMIT 10';
const TWO_RANGES = 'SELECT id FROM orders WHERE created_at >= $1 AND total > $2';
const FK_CHECK = 'SELECT 1 FROM ONLY "public"."order_items" x WHERE "order_id" OPERATOR(pg_catalog.=) $1 FOR KEY SHARE OF x';

ruleTester(rule, {
  valid: [
    {
      name: 'join: inner join key already indexed',
      snapshot: snap([stmt('401', JOIN, 900, 5, 60, 12_100)], { indexes: [customerIdx, index(items, ['order_id'])] }),
    },
    {
      name: 'join: no filter on either side (a report)',
      snapshot: snap([stmt('402', 'SELECT o.id, i.sku FROM orders o JOIN order_items i ON i.order_id = o.id', 50, 2_000_000, 900, 15_800)]),
    },
    {
      name: 'join: the large table is not read per call',
      snapshot: snap([stmt('403', JOIN, 900, 5, 60, 40)], { indexes: [customerIdx] }),
    },
    {
      name: 'CTE: filtered column already indexed',
      snapshot: snap(
        [
          stmt(
            '411',
            'WITH recent AS (SELECT id, customer_id FROM orders WHERE created_at > $1) SELECT * FROM recent WHERE customer_id = $2',
            900,
            4,
            40,
            3_800,
          ),
        ],
        { indexes: [customerIdx] },
      ),
    },
    {
      name: 'view: the renamed column is indexed',
      snapshot: snap([stmt('421', 'SELECT * FROM active_orders WHERE buyer = $1', 900, 4, 40, 3_800)], { views: [VIEW], indexes: [customerIdx] }),
    },
    { name: 'top-N: sort key already indexed', snapshot: snap([stmt('431', TOP_N, 900, 20, 40, 3_800)], { indexes: [index(orders, ['created_at'])] }) },
    {
      name: 'top-N: an OR filter the advisor cannot judge',
      snapshot: snap([stmt('432', 'SELECT id FROM orders WHERE a = $1 OR b = $2 ORDER BY created_at LIMIT 20', 900, 20, 40, 3_800)]),
    },
    { name: 'ILIKE without pg_trgm', snapshot: snap([stmt('441', 'SELECT id FROM orders WHERE note ILIKE $1', 900, 3, 40, 3_800)]) },
    {
      name: 'LIKE prefix already served by a text_pattern_ops index',
      snapshot: snap([stmt('442', "SELECT id FROM orders WHERE code LIKE 'AB%'", 900, 3, 40, 3_800)], {
        indexes: [index(orders, ['code'], { definition: 'CREATE INDEX orders_code_idx ON public.orders USING btree (code text_pattern_ops)' })],
      }),
    },
    { name: 'LIKE with a parameter pattern and no pg_trgm', snapshot: snap([stmt('443', 'SELECT id FROM orders WHERE code LIKE $1', 900, 3, 40, 3_800)]) },
    {
      name: 'IS NULL matching half the rows',
      snapshot: snap([stmt('451', QUEUE, 900, 10, 40, 3_100)], {
        columns: [stat('jobs', 'finished_at', { dataType: 'timestamp with time zone', nullFrac: 0.5 })],
      }),
    },
    {
      name: 'rare IS NULL already served by a partial index',
      snapshot: snap([stmt('452', QUEUE, 900, 10, 40, 3_100)], {
        columns: [stat('jobs', 'finished_at', { dataType: 'timestamp with time zone', nullFrac: 0.001 })],
        indexes: [
          index(jobs, ['id'], {
            name: 'jobs_open_idx',
            isPartial: true,
            definition: 'CREATE INDEX jobs_open_idx ON public.jobs USING btree (id) WHERE (finished_at IS NULL)',
          }),
        ],
      }),
    },
    {
      name: 'two one-sided ranges, nothing verified: which one leads is a guess',
      snapshot: snap([stmt('461', TWO_RANGES, 900, 30, 40, 3_800)]),
    },
    {
      name: 'partitioned: the parent already has the index',
      snapshot: snap([stmt('471', 'SELECT id FROM events WHERE device_id = $1', 900, 5, 50, 5_100)], { indexes: [index(events, ['device_id'])] }),
    },
    {
      name: 'aggregate without pg_stats, not verified',
      snapshot: snap([stmt('481', 'SELECT count(*) FROM orders WHERE customer_id = $1', 900, 1, 40, 3_800)]),
    },
    {
      name: 'low cardinality: a column whose only value is true',
      snapshot: snap([stmt('491', 'SELECT id FROM orders WHERE is_active = $1 LIMIT 50', 900, 50, 40, 3_800)], {
        columns: [stat('orders', 'is_active', { dataType: 'boolean', nDistinct: 1, topFrequency: 1 })],
      }),
    },
    {
      name: 'equality served by a hash index',
      snapshot: snap([stmt('501', 'SELECT id FROM orders WHERE token = $1', 900, 1, 40, 3_800)], { indexes: [index(orders, ['token'], { method: 'hash' })] }),
    },
    { name: 'foreign-key check statement (fk-without-index reports it)', snapshot: snap([stmt('511', FK_CHECK, 5_000, 0, 40, 12_100)]) },
    { name: 'rare statement', snapshot: snap([stmt('521', TOP_N, 3, 20, 40, 3_800)]) },
    {
      name: 'small table joined without an index',
      snapshot: snap([stmt('404', 'SELECT o.id FROM orders o JOIN countries c ON c.id = o.country_id WHERE o.customer_id = $1', 900, 5, 60, 20)], {
        indexes: [customerIdx],
      }),
    },
  ],
  invalid: [
    {
      name: 'join: index the large inner side on its join key',
      snapshot: snap([stmt('401', JOIN, 900, 5, 60, 12_100)], { indexes: [customerIdx] }),
      findings: [{ severity: 'warning', object: { name: 'order_items', columns: ['order_id'] }, evidence: { columnChoice: { order_id: { role: 'join' } } } }],
    },
    {
      name: 'CTE inlined: the outer filter and the body range on the base table',
      snapshot: snap([
        stmt('411', 'WITH recent AS (SELECT id, customer_id FROM orders WHERE created_at > $1) SELECT * FROM recent WHERE customer_id = $2', 900, 4, 40, 3_800),
      ]),
      findings: [{ severity: 'warning', object: { name: 'orders', columns: ['customer_id', 'created_at'] }, evidence: { origin: 'inlined-cte recent' } }],
    },
    {
      name: 'CTE body filter feeding a join (pg_stats)',
      snapshot: snap(
        [
          stmt(
            '412',
            'WITH c AS (SELECT id FROM orders WHERE customer_id = $1) SELECT i.sku FROM c JOIN order_items i ON i.order_id = c.id',
            900,
            30,
            40,
            3_800,
          ),
        ],
        {
          columns: [stat('orders', 'customer_id', { nDistinct: 40_000 })],
          indexes: [index(items, ['order_id'])],
        },
      ),
      findings: [{ severity: 'warning', object: { name: 'orders', columns: ['customer_id'] }, evidence: { origin: 'cte c', selectivitySource: 'pg_stats' } }],
    },
    {
      name: 'view resolved through its definition (renamed column)',
      snapshot: snap([stmt('421', 'SELECT * FROM active_orders WHERE buyer = $1', 900, 4, 40, 3_800)], { views: [VIEW] }),
      findings: [{ severity: 'warning', object: { name: 'orders', columns: ['customer_id'] }, evidence: { origin: 'view active_orders' } }],
    },
    {
      name: 'top-N: index on the sort key',
      snapshot: snap([stmt('431', TOP_N, 900, 20, 40, 3_800)]),
      findings: [{ severity: 'warning', object: { columns: ['created_at'] }, evidence: { limitBound: false, columnChoice: { created_at: { role: 'sort' } } } }],
    },
    {
      name: 'LIKE prefix: text_pattern_ops (collation not C); a plain btree cannot serve it',
      snapshot: snap([stmt('442', "SELECT id FROM orders WHERE code LIKE 'AB%'", 900, 3, 40, 3_800)], {
        indexes: [index(orders, ['code'])],
        columns: [stat('orders', 'code', { dataType: 'text', collation: 'en_US.utf8', nDistinct: -1 })],
      }),
      findings: [{ severity: 'warning', object: { columns: ['code'] }, evidence: { indexMethod: 'btree', unusableIndexes: ['orders_code_idx (btree)'] } }],
    },
    {
      name: 'LIKE prefix on a C-collated column: a plain btree',
      snapshot: snap([stmt('444', "SELECT id FROM orders WHERE code LIKE 'AB%'", 900, 3, 40, 3_800)], {
        columns: [stat('orders', 'code', { dataType: 'text', collation: 'C', nDistinct: -1 })],
      }),
      findings: [{ severity: 'warning', object: { columns: ['code'] }, evidence: { indexMethod: 'btree' } }],
    },
    {
      name: 'ILIKE with pg_trgm: trigram GIN index',
      snapshot: snap([stmt('441', 'SELECT id FROM orders WHERE note ILIKE $1', 900, 3, 40, 3_800)], { pgTrgm: true }),
      findings: [{ severity: 'warning', object: { columns: ['note'] }, evidence: { indexMethod: 'gin', columnChoice: { note: { role: 'pattern' } } } }],
    },
    {
      name: 'rare IS NULL: partial index on the sort key',
      snapshot: snap([stmt('451', QUEUE, 900, 10, 40, 3_100)], {
        columns: [stat('jobs', 'finished_at', { dataType: 'timestamp with time zone', nullFrac: 0.001 })],
      }),
      findings: [{ severity: 'warning', object: { name: 'jobs', columns: ['id'] }, evidence: { partialPredicate: 'finished_at IS NULL' } }],
    },
    {
      name: 'range: do not lead with a weak equality when the range does the filtering',
      snapshot: snap([stmt('462', 'SELECT id FROM orders WHERE region = $1 AND created_at >= $2', 900, 500, 40, 3_800)], {
        columns: [stat('orders', 'region', { nDistinct: 10, topFrequency: 0.12 })],
      }),
      findings: [{ severity: 'warning', object: { columns: ['created_at'] }, evidence: { alternatives: ['(region, created_at)'] } }],
    },
    {
      name: 'range: a two-sided range leads over a one-sided one',
      snapshot: snap([stmt('463', 'SELECT id FROM orders WHERE total > $1 AND created_at BETWEEN $2 AND $3', 900, 30, 40, 3_800)]),
      findings: [{ severity: 'warning', object: { columns: ['created_at'] } }],
    },
    {
      name: 'hypopg compares the candidates and keeps the best saving',
      snapshot: snap([stmt('461', TWO_RANGES, 900, 30, 40, 3_800)], {
        verifications: [verified('orders', ['created_at'], '461', 900), verified('orders', ['total'], '461', 40)],
      }),
      findings: [
        {
          severity: 'warning',
          object: { columns: ['total'] },
          evidence: { verification: 'hypopg', costAfter: 40, alternatives: ['(created_at): cost 5000 → 900'] },
        },
      ],
    },
    {
      name: 'partitioned: recommended on the parent',
      snapshot: snap([stmt('471', 'SELECT id FROM events WHERE device_id = $1', 900, 5, 50, 5_100)]),
      findings: [{ severity: 'warning', object: { name: 'events', columns: ['device_id'] }, evidence: { tableRows: 600_000, tablePages: 5_000 } }],
    },
    {
      name: 'partitioned: a statement on one partition is recommended on the parent',
      snapshot: snap([stmt('472', 'SELECT id FROM events_2026_01 WHERE device_id = $1', 900, 5, 50, 2_600)]),
      findings: [{ severity: 'warning', object: { name: 'events', columns: ['device_id'] } }],
    },
    {
      name: 'DELETE by an unindexed column',
      snapshot: snap([stmt('482', 'DELETE FROM orders WHERE external_ref = $1', 2_000, 1, 40, 3_800)]),
      findings: [{ severity: 'warning', object: { columns: ['external_ref'] } }],
    },
    {
      name: 'aggregate without pg_stats, verified by hypopg',
      snapshot: snap([stmt('481', 'SELECT count(*) FROM orders WHERE customer_id = $1', 900, 1, 40, 3_800)], {
        verifications: [verified('orders', ['customer_id'], '481', 12)],
      }),
      findings: [{ severity: 'warning', object: { columns: ['customer_id'] }, evidence: { verification: 'hypopg', selectivitySource: 'unknown' } }],
    },
    {
      name: 'range on a column with only a BRIN index (wrong kind)',
      snapshot: snap([stmt('502', 'SELECT id FROM orders WHERE shipped_at > $1', 900, 40, 40, 3_800)], {
        indexes: [index(orders, ['shipped_at'], { method: 'brin' })],
      }),
      findings: [{ severity: 'warning', object: { columns: ['shipped_at'] }, evidence: { unusableIndexes: ['orders_shipped_at_idx (brin)'] } }],
    },
    {
      name: 'range on a column with only a hash index (wrong kind)',
      snapshot: snap([stmt('503', 'SELECT id FROM orders WHERE token > $1 ORDER BY token LIMIT 5', 900, 5, 40, 3_800)], {
        indexes: [index(orders, ['token'], { method: 'hash' })],
      }),
      findings: [{ severity: 'warning', object: { columns: ['token'] }, evidence: { unusableIndexes: ['orders_token_idx (hash)'] } }],
    },
  ],
});

describe('missing-index SQL for the index kinds', () => {
  const sqlOf = (snapshot: Snapshot) => evaluateRules({ rules: [rule], snapshot, window: null }).findings.map((f) => f.recommendation.sql);

  it('writes text_pattern_ops, USING gin with gin_trgm_ops and partial predicates', () => {
    expect(sqlOf(snap([stmt('442', "SELECT id FROM orders WHERE code LIKE 'AB%'", 900, 3, 40, 3_800)]))).toEqual([
      'CREATE INDEX CONCURRENTLY ON public.orders (code text_pattern_ops)',
    ]);
    expect(sqlOf(snap([stmt('441', 'SELECT id FROM orders WHERE note ILIKE $1', 900, 3, 40, 3_800)], { pgTrgm: true }))).toEqual([
      'CREATE INDEX CONCURRENTLY ON public.orders USING gin (note gin_trgm_ops)',
    ]);
    expect(sqlOf(snap([stmt('451', QUEUE, 900, 10, 40, 3_100)], { columns: [stat('jobs', 'finished_at', { nullFrac: 0.001 })] }))).toEqual([
      'CREATE INDEX CONCURRENTLY ON public.jobs (id) WHERE finished_at IS NULL',
    ]);
  });

  it('says in evidence why each column was chosen and which were left out', () => {
    const [f] = evaluateRules({
      rules: [rule],
      snapshot: snap([stmt('301', 'SELECT * FROM orders WHERE status = $1 AND sku = $2', 900, 3, 40, 3_800)], {
        columns: [stat('orders', 'status', { dataType: 'text', nDistinct: 5, topFrequency: 0.9 }), stat('orders', 'sku', { nDistinct: 5_000 })],
      }),
      window: null,
    }).findings;
    expect(f?.object.columns).toEqual(['sku']);
    expect(f?.evidence.columnChoice).toEqual({ sku: { role: 'equality', selectivity: 0.0002 } });
    expect(f?.evidence.rejectedColumns).toEqual({ status: expect.stringMatching(/low cardinality/) });
  });
});
