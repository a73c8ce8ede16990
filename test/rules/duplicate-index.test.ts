import { describe, expect, it } from 'vitest';
import rule from '../../rules/duplicate-index.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import type { ConstraintStat, IndexStat, TableStat } from '../../src/snapshot/types.js';
import { quoteIdent, quoteQualified } from '../../src/sql/quote.js';
import { makeConstraint, makeIndex, makeSnapshot, makeTable, MiB } from '../support/builders.js';
import { ruleTester } from '../support/rule-tester.js';

interface Shape {
  readonly unique?: boolean;
  readonly method?: string;
  readonly include?: readonly string[];
  readonly where?: string;
  readonly nullsNotDistinct?: boolean;
  readonly schema?: string;
  readonly table?: string;
}

let nextOid = 17_000;
/**
 * An index on public.orders whose definition is printed the way pg_get_indexdef prints it. `keys` is the
 * key list as printed; a key that is a bare lowercase name is a column, anything else an expression.
 */
function idx(name: string, keys: string, shape: Shape = {}, o: Partial<IndexStat> = {}): IndexStat {
  const { unique = false, method = 'btree', include = [], where, nullsNotDistinct = false, schema = 'public', table = 'orders' } = shape;
  const definition =
    `CREATE ${unique ? 'UNIQUE ' : ''}INDEX ${quoteIdent(name)} ON ${quoteQualified(schema, table)} USING ${method} (${keys})` +
    `${include.length > 0 ? ` INCLUDE (${include.map(quoteIdent).join(', ')})` : ''}` +
    `${nullsNotDistinct ? ' NULLS NOT DISTINCT' : ''}${where ? ` WHERE ${where}` : ''}`;
  const columns = keys.split(', ').map((k) => /^[a-z_]+$/.exec(k.split(' ')[0]!)?.[0] ?? null);
  return makeIndex({
    oid: nextOid++,
    schema,
    name,
    table,
    definition,
    method,
    columns,
    includeColumns: [...include],
    isUnique: unique,
    isPrimary: false,
    isPartial: where !== undefined,
    sizeBytes: 8 * MiB,
    idxScan: 100,
    ...o,
  });
}

const pkey = (): IndexStat => makeIndex();
const pkeyConstraint = (): ConstraintStat => makeConstraint();
function snap(indexes: IndexStat[], o: { constraints?: ConstraintStat[]; tables?: TableStat[] } = {}) {
  return makeSnapshot({
    tables: o.tables ?? [makeTable()],
    indexes: [pkey(), ...indexes],
    constraints: [pkeyConstraint(), ...(o.constraints ?? [])],
  });
}
const WHERE_LIVE = '(deleted_at IS NULL)';

ruleTester(rule, {
  valid: [
    { name: 'a primary key and indexes on different columns', snapshot: snap([idx('o_customer', 'customer_id'), idx('o_created', 'created_at')]) },
    { name: 'unique (a) is not redundant next to (a, b)', snapshot: snap([idx('o_ref', 'ref', { unique: true }), idx('o_ref_created', 'ref, created_at')]) },
    {
      name: 'a unique constraint on (a) is not redundant next to a unique (a, b)',
      snapshot: snap([idx('o_ref_key', 'ref', { unique: true }), idx('o_ref_created', 'ref, created_at', { unique: true })], {
        constraints: [makeConstraint({ name: 'o_ref_key', type: 'u', columns: ['ref'] })],
      }),
    },
    { name: 'a text_pattern_ops variant serves other queries', snapshot: snap([idx('o_email', 'email'), idx('o_email_pattern', 'email text_pattern_ops')]) },
    { name: 'a different collation serves other queries', snapshot: snap([idx('o_email', 'email'), idx('o_email_c', 'email COLLATE "C"')]) },
    {
      name: 'a different sort order or NULLS placement',
      snapshot: snap([idx('o_c', 'created_at'), idx('o_c_desc', 'created_at DESC'), idx('o_c_nf', 'created_at NULLS FIRST')]),
    },
    {
      name: 'partial indexes with different predicates, and a partial next to a full one',
      snapshot: snap([
        idx('o_cust_live', 'customer_id', { where: WHERE_LIVE }),
        idx('o_cust_open', 'customer_id', { where: "(status = 'open'::text)" }),
        idx('o_cust', 'customer_id'),
        idx('o_cust_created_paid', 'customer_id, created_at', { where: "(status = 'paid'::text)" }),
      ]),
    },
    {
      name: 'a partial (a) is not a prefix of a full (a, b)',
      snapshot: snap([idx('o_cust_live', 'customer_id', { where: WHERE_LIVE }), idx('o_cust_created', 'customer_id, created_at')]),
    },
    {
      name: 'covering indexes with different INCLUDE sets',
      snapshot: snap([idx('o_cust_inc_total', 'customer_id', { include: ['total'] }), idx('o_cust_inc_status', 'customer_id', { include: ['status'] })]),
    },
    {
      name: 'INCLUDE columns not stored by the longer index',
      snapshot: snap([idx('o_cust_inc', 'customer_id', { include: ['total', 'status'] }), idx('o_cust_total', 'customer_id, total')]),
    },
    {
      name: 'the same index name on tables of two schemas is never compared',
      snapshot: snap([idx('orders_customer_idx', 'customer_id'), idx('orders_customer_idx', 'customer_id', { schema: 'archive' }, { tableOid: 16_501 })]),
    },
    {
      name: 'an invalid duplicate does not make the valid index redundant',
      snapshot: snap([idx('o_cust', 'customer_id', {}, { idxScan: 0 }), idx('o_cust_ccnew', 'customer_id', {}, { isValid: false, idxScan: 0 })]),
    },
    {
      name: 'an invalid index is not reported next to a valid duplicate either',
      snapshot: snap([idx('o_cust_bad', 'customer_id', {}, { isValid: false, oid: 90_000 }), idx('o_cust', 'customer_id', {}, { oid: 90_001 })]),
    },
    {
      name: 'a locked index (no definition) is not judged',
      snapshot: snap([idx('o_cust', 'customer_id'), idx('o_cust2', 'customer_id', {}, { definition: '', sizeBytes: null })]),
    },
    {
      name: 'non-btree indexes are never prefix-redundant',
      snapshot: snap([idx('o_geo', 'area', { method: 'gist' }), idx('o_geo_span', 'area, span', { method: 'gist' })]),
    },
    { name: 'the same keys with different methods', snapshot: snap([idx('o_cust_hash', 'customer_id', { method: 'hash' }), idx('o_cust', 'customer_id')]) },
    {
      name: 'different expressions, and an expression next to its column',
      snapshot: snap([idx('o_lower', 'lower(email)'), idx('o_upper', 'upper(email)'), idx('o_email', 'email')]),
    },
    {
      name: 'a primary key and a unique constraint on the same column both enforce something',
      snapshot: snap([idx('orders_id_key', 'id', { unique: true })], { constraints: [makeConstraint({ name: 'orders_id_key', type: 'u' })] }),
    },
    {
      name: 'unique indexes treating NULLs differently are both kept',
      snapshot: snap([idx('o_ref_a', 'ref', { unique: true }), idx('o_ref_b', 'ref', { unique: true, nullsNotDistinct: true })]),
    },
  ],
  invalid: [
    {
      name: 'exact duplicates: the newer one is reported, however the scans are split (a stable fingerprint)',
      snapshot: snap([
        idx('o_cust_a', 'customer_id', {}, { idxScan: 3, sizeBytes: 10 * MiB }),
        idx('o_cust_b', 'customer_id', {}, { idxScan: 500, sizeBytes: 12 * MiB }),
      ]),
      findings: [
        {
          severity: 'warning',
          object: { type: 'index', schema: 'public', name: 'o_cust_b', table: 'orders' },
          evidence: { kind: 'exact', keptIndex: 'o_cust_a', sizeBytes: 12 * MiB, idxScanCount: 500, keptIndexIdxScanCount: 3 },
        },
      ],
      renumbered: {
        snapshot: snap([
          idx('o_cust_a', 'customer_id', {}, { idxScan: 90_000, sizeBytes: 40 * MiB }),
          idx('o_cust_b', 'customer_id', {}, { idxScan: 1, sizeBytes: 2 * MiB }),
        ]),
      },
    },
    {
      name: 'exact duplicates with equal scans: the older (lower oid) stays',
      snapshot: snap([idx('o_cust_new', 'customer_id', {}, { oid: 30_002 }), idx('o_cust_old', 'customer_id', {}, { oid: 30_001 })]),
      findings: [{ severity: 'warning', object: { name: 'o_cust_new' }, evidence: { kind: 'exact', keptIndex: 'o_cust_old' } }],
    },
    {
      name: 'a plain index duplicating the primary key is the one named, however used',
      snapshot: snap([idx('orders_id_idx', 'id', {}, { oid: 100, idxScan: 1_000_000 })]),
      findings: [{ severity: 'warning', object: { name: 'orders_id_idx' }, evidence: { kind: 'exact', keptIndex: 'orders_pkey' } }],
    },
    {
      name: 'a plain unique index duplicating a unique constraint is the one named',
      snapshot: snap([idx('o_ref_key', 'ref', { unique: true }, { idxScan: 0 }), idx('o_ref_unique', 'ref', { unique: true }, { idxScan: 9_999 })], {
        constraints: [makeConstraint({ name: 'o_ref_key', type: 'u', columns: ['ref'] })],
      }),
      findings: [{ severity: 'warning', object: { name: 'o_ref_unique' }, evidence: { kind: 'exact', keptIndex: 'o_ref_key' } }],
    },
    {
      name: 'a non-unique duplicate of a unique index is the one named, however used',
      snapshot: snap([idx('o_ref_u', 'ref', { unique: true }, { idxScan: 0, oid: 50_002 }), idx('o_ref', 'ref', {}, { idxScan: 80_000, oid: 50_001 })]),
      findings: [{ severity: 'warning', object: { name: 'o_ref' }, evidence: { kind: 'exact', keptIndex: 'o_ref_u' } }],
    },
    {
      name: 'two identical plain unique indexes: one is reported',
      snapshot: snap(
        [
          idx('o_ref_u1', 'ref', { unique: true, nullsNotDistinct: true }, { idxScan: 5 }),
          idx('o_ref_u2', 'ref', { unique: true, nullsNotDistinct: true }, { idxScan: 50 }),
        ],
        {
          constraints: [
            makeConstraint({
              table: 'items',
              tableOid: 16_510,
              name: 'items_order_ref_fkey',
              type: 'f',
              columns: ['order_ref'],
              refSchema: 'public',
              refTable: 'orders',
              refTableOid: 16_500,
              refColumns: ['ref'],
            }),
          ],
        },
      ),
      findings: [{ severity: 'warning', object: { name: 'o_ref_u2' }, evidence: { kind: 'exact', keptIndex: 'o_ref_u1' } }],
    },
    {
      name: 'a non-unique (a) next to a unique (a, b) is prefix-redundant',
      snapshot: snap([idx('o_ref', 'ref'), idx('o_ref_created_key', 'ref, created_at', { unique: true })]),
      findings: [{ severity: 'info', object: { name: 'o_ref' }, evidence: { kind: 'prefix', keptIndex: 'o_ref_created_key' } }],
    },
    {
      name: 'a leading prefix with the same predicate, ordering and operator class',
      snapshot: snap([
        idx('o_cust_live', 'customer_id DESC, email text_pattern_ops', { where: WHERE_LIVE }),
        idx('o_cust_email_created_live', 'customer_id DESC, email text_pattern_ops, created_at', { where: WHERE_LIVE }),
      ]),
      findings: [{ severity: 'info', object: { name: 'o_cust_live' }, evidence: { kind: 'prefix', keptIndex: 'o_cust_email_created_live' } }],
    },
    {
      name: 'INCLUDE columns stored as keys of the longer index',
      snapshot: snap([
        idx('o_cust_inc_total', 'customer_id', { include: ['total'] }),
        idx('o_cust_total_status', 'customer_id, total', { include: ['status'] }),
      ]),
      findings: [{ severity: 'info', object: { name: 'o_cust_inc_total' }, evidence: { kind: 'prefix', keptIndex: 'o_cust_total_status' } }],
    },
    {
      name: 'the narrower index next to a covering one with the same keys (the covering one stays)',
      snapshot: snap([idx('o_cust', 'customer_id'), idx('o_cust_covering', 'customer_id', { include: ['total'] })]),
      findings: [{ severity: 'info', object: { name: 'o_cust' }, evidence: { kind: 'prefix', keptIndex: 'o_cust_covering' } }],
    },
    {
      name: 'a unique index next to a unique covering one on the same keys',
      snapshot: snap([idx('o_ref_u', 'ref', { unique: true }), idx('o_ref_u_covering', 'ref', { unique: true, include: ['total'] })]),
      findings: [{ severity: 'info', object: { name: 'o_ref_u' }, evidence: { kind: 'prefix', keptIndex: 'o_ref_u_covering' } }],
    },
    {
      name: 'the same INCLUDE set in another order is an exact duplicate',
      snapshot: snap([
        idx('o_cust_inc1', 'customer_id', { include: ['total', 'status'] }, { oid: 1 }),
        idx('o_cust_inc2', 'customer_id', { include: ['status', 'total'] }, { oid: 2 }),
      ]),
      findings: [{ severity: 'warning', object: { name: 'o_cust_inc2' }, evidence: { kind: 'exact', keptIndex: 'o_cust_inc1' } }],
    },
    {
      name: 'non-btree exact duplicates, predicate included',
      snapshot: snap([
        idx('o_tags_a', 'tags', { method: 'gin', where: WHERE_LIVE }, { idxScan: 7 }),
        idx('o_tags_b', 'tags', { method: 'gin', where: WHERE_LIVE }, { idxScan: 0 }),
      ]),
      findings: [{ severity: 'warning', object: { name: 'o_tags_b' }, evidence: { kind: 'exact', keptIndex: 'o_tags_a' } }],
    },
    {
      name: 'expression indexes with the same expression, collation and operator class',
      snapshot: snap([
        idx('o_lower_a', 'lower(email) COLLATE "C" text_pattern_ops', {}, { idxScan: 2 }),
        idx('o_lower_b', 'lower(email) COLLATE "C" text_pattern_ops', {}, { idxScan: 1 }),
        idx('o_expr_a', '((total * (1)::numeric))', {}, { idxScan: 2 }),
        idx('o_expr_b', '((total * (1)::numeric))', {}, { idxScan: 1 }),
      ]),
      findings: [
        { severity: 'warning', object: { name: 'o_lower_b' }, evidence: { kind: 'exact', keptIndex: 'o_lower_a' } },
        { severity: 'warning', object: { name: 'o_expr_b' }, evidence: { kind: 'exact', keptIndex: 'o_expr_a' } },
      ],
    },
    {
      name: 'three identical indexes: two reported, both keeping the oldest',
      snapshot: snap([
        idx('o_c1', 'customer_id', {}, { idxScan: 1 }),
        idx('o_c2', 'customer_id', {}, { idxScan: 30 }),
        idx('o_c3', 'customer_id', {}, { idxScan: 2 }),
      ]),
      findings: [
        { severity: 'warning', object: { name: 'o_c2' }, evidence: { keptIndex: 'o_c1' } },
        { severity: 'warning', object: { name: 'o_c3' }, evidence: { keptIndex: 'o_c1' } },
      ],
    },
    {
      name: 'an exact pair under a longer index: one exact, the other prefix-redundant',
      snapshot: snap([
        idx('o_c1', 'customer_id', {}, { idxScan: 10 }),
        idx('o_c2', 'customer_id', {}, { idxScan: 1 }),
        idx('o_c_created', 'customer_id, created_at'),
      ]),
      findings: [
        { severity: 'warning', object: { name: 'o_c2' }, evidence: { kind: 'exact', keptIndex: 'o_c1' } },
        { severity: 'info', object: { name: 'o_c1' }, evidence: { kind: 'prefix', keptIndex: 'o_c_created' } },
      ],
    },
    {
      name: 'a chain of prefixes keeps the longest index',
      snapshot: snap([
        idx('o_a', 'customer_id', {}, { idxScan: 9_000 }),
        idx('o_ab', 'customer_id, created_at', {}, { idxScan: 9_000 }),
        idx('o_abc', 'customer_id, created_at, total', {}, { idxScan: 0 }),
      ]),
      findings: [
        { severity: 'info', object: { name: 'o_a' }, evidence: { keptIndex: 'o_abc' } },
        { severity: 'info', object: { name: 'o_ab' }, evidence: { keptIndex: 'o_abc' } },
      ],
    },
    {
      name: 'odd identifiers are compared unquoted and reported as named',
      snapshot: makeSnapshot({
        tables: [makeTable({ oid: 16_700, schema: 'My Schema', name: 'Odd "T"' })],
        indexes: [
          idx(
            'Weird, "Idx" (1)',
            '"Weird, ""Col""" DESC',
            { schema: 'My Schema', table: 'Odd "T"', include: ['inc, "c"'] },
            { tableOid: 16_700, columns: ['Weird, "Col"'], idxScan: 0 },
          ),
          idx(
            'wide',
            '"Weird, ""Col""" DESC, "inc, ""c"""',
            { schema: 'My Schema', table: 'Odd "T"' },
            { tableOid: 16_700, columns: ['Weird, "Col"', 'inc, "c"'] },
          ),
        ],
      }),
      findings: [
        {
          severity: 'info',
          object: { type: 'index', schema: 'My Schema', name: 'Weird, "Idx" (1)', table: 'Odd "T"' },
          evidence: { kind: 'prefix', keptIndex: 'wide' },
        },
      ],
    },
  ],
});

describe('duplicate-index recommendations', () => {
  const run = (snapshot: ReturnType<typeof snap>) => evaluateRules({ rules: [rule], snapshot, window: null }).findings;

  it('drops concurrently, with the qualified name quoted', () => {
    const [finding] = run(
      makeSnapshot({
        indexes: [
          idx('keep', 'customer_id', { schema: 'My Schema' }, { tableOid: 16_700 }),
          idx('Weird, "Idx"', 'customer_id', { schema: 'My Schema' }, { tableOid: 16_700, idxScan: 0 }),
        ],
      }),
    );
    expect(finding?.recommendation.sql).toBe('DROP INDEX CONCURRENTLY "My Schema"."Weird, ""Idx""";');
    expect(finding?.impact).toEqual({ sizeBytes: 8 * MiB });
  });

  it('drops a partitioned index without CONCURRENTLY (not supported there)', () => {
    const [finding] = run(snap([idx('e_b', 'customer_id'), idx('e_a', 'customer_id', {}, { idxScan: 0 })], { tables: [makeTable({ kind: 'p' })] }));
    expect(finding?.recommendation.sql).toBe('DROP INDEX public.e_a;');
  });

  it('keeps the fingerprint on the reported index only', () => {
    const a = run(snap([idx('o_cust_a', 'customer_id', {}, { oid: 500 }), idx('o_cust_b', 'customer_id', {}, { oid: 501, idxScan: 0 })]));
    const b = run(
      snap([
        idx('o_cust_b', 'customer_id', {}, { oid: 501, idxScan: 9_000 }),
        idx('o_cust_a', 'customer_id', {}, { oid: 500, idxScan: 0 }),
        idx('o_other', 'created_at'),
      ]),
    );
    expect(a.map((f) => f.fingerprint)).toEqual(b.map((f) => f.fingerprint));
    expect(a).toHaveLength(1);
  });
});
