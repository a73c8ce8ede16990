import { describe, expect, it } from 'vitest';
import rule from '../../rules/invalid-index.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import type { IndexStat, TableStat } from '../../src/snapshot/types.js';
import { MiB, makeIndex, makeSnapshot, makeTable } from '../support/builders.js';
import { ruleTester } from '../support/rule-tester.js';

const pkey = (o: Partial<IndexStat> = {}) => makeIndex(o);
/** A failed CREATE INDEX CONCURRENTLY that got as far as "ready": writes maintain it, queries never use it. */
const failed = (o: Partial<IndexStat> = {}): IndexStat =>
  makeIndex({
    oid: 16700,
    name: 'orders_customer_id_idx',
    definition: 'CREATE INDEX orders_customer_id_idx ON public.orders USING btree (customer_id)',
    columns: ['customer_id'],
    isUnique: false,
    isPrimary: false,
    isValid: false,
    isReady: true,
    sizeBytes: 20 * MiB,
    idxScan: 0,
    ...o,
  });
/** A failed CREATE UNIQUE INDEX CONCURRENTLY on duplicates: the build failed before the index was ready. */
const failedUnique = (o: Partial<IndexStat> = {}): IndexStat =>
  failed({
    oid: 16701,
    name: 'orders_ref_key',
    definition: 'CREATE UNIQUE INDEX orders_ref_key ON public.orders USING btree (ref)',
    columns: ['ref'],
    isUnique: true,
    isReady: false,
    sizeBytes: 0,
    ...o,
  });
const snap = (indexes: IndexStat[], tables: TableStat[] = [makeTable()]) => makeSnapshot({ tables, indexes });
const tiny = (heapBytes: number) => [makeTable({ heapBytes })];

ruleTester(rule, {
  valid: [
    { name: 'valid indexes only', snapshot: snap([pkey(), failed({ isValid: true, isReady: true })]) },
    { name: 'no indexes at all', snapshot: snap([]) },
    { name: 'an invalid index whose CREATE INDEX CONCURRENTLY is still running', snapshot: snap([pkey(), failed({ buildInProgress: true })]) },
    { name: 'a build in progress before its index is ready', snapshot: snap([failedUnique({ buildInProgress: true })]) },
    {
      name: 'the _ccnew copy of a REINDEX CONCURRENTLY in progress',
      snapshot: snap([
        pkey({ buildInProgress: true }),
        pkey({
          oid: 16702,
          name: 'orders_pkey_ccnew',
          isPrimary: false,
          isValid: false,
          buildInProgress: true,
          definition: 'CREATE UNIQUE INDEX orders_pkey_ccnew ON public.orders USING btree (id)',
        }),
      ]),
    },
    { name: 'an index being dropped concurrently', snapshot: snap([pkey(), failed({ dropInProgress: true })]) },
  ],
  invalid: [
    {
      name: 'a failed CREATE INDEX CONCURRENTLY that writes still maintain',
      snapshot: snap([pkey(), failed()]),
      findings: [
        {
          severity: 'warning',
          object: { type: 'index', schema: 'public', name: 'orders_customer_id_idx', table: 'orders' },
          evidence: { sizeBytes: 20 * MiB, tableBytes: 100 * MiB, ready: true, unique: false, partitioned: false, validDuplicate: null, method: 'btree' },
        },
      ],
      renumbered: { snapshot: snap([pkey(), failed({ sizeBytes: 3 * MiB, oid: 99_999 })], [makeTable({ heapBytes: 7 * MiB })]) },
    },
    {
      name: 'a failed unique build that never became ready',
      snapshot: snap([pkey(), failedUnique()]),
      findings: [{ severity: 'warning', object: { name: 'orders_ref_key' }, evidence: { ready: false, unique: true, sizeBytes: 0 } }],
    },
    {
      name: 'several invalid indexes make one finding each',
      snapshot: snap([pkey(), failed(), failedUnique()]),
      findings: [
        { severity: 'warning', object: { name: 'orders_customer_id_idx' } },
        { severity: 'warning', object: { name: 'orders_ref_key' } },
      ],
    },
    {
      name: 'a ready unique index stays a warning on a tiny table (it can reject inserts)',
      snapshot: snap([failedUnique({ isReady: true, sizeBytes: 16_384 })], tiny(8_192)),
      findings: [{ severity: 'warning', object: { name: 'orders_ref_key' }, evidence: { ready: true, unique: true, tableBytes: 8_192 } }],
    },
    {
      name: 'a table of exactly 1 MiB gives a warning',
      snapshot: snap([failed({ sizeBytes: 262_144 })], tiny(1 * MiB)),
      findings: [{ severity: 'warning', object: { name: 'orders_customer_id_idx' }, evidence: { tableBytes: MiB } }],
    },
    {
      name: 'a table just under 1 MiB gives info',
      snapshot: snap([failed({ sizeBytes: 262_144 })], tiny(MiB - 1)),
      findings: [{ severity: 'info', object: { name: 'orders_customer_id_idx' }, evidence: { tableBytes: MiB - 1 } }],
    },
    {
      name: 'a unique build that never became ready checks nothing: info on a tiny table',
      snapshot: snap([failedUnique()], tiny(64 * 1024)),
      findings: [{ severity: 'info', object: { name: 'orders_ref_key' }, evidence: { ready: false, unique: true } }],
    },
    {
      name: "a raised table-size threshold turns a 100 MiB table's finding into info",
      snapshot: snap([failed()]),
      thresholds: { infoOnlyBelowTableBytes: 200 * MiB },
      findings: [{ severity: 'info', object: { name: 'orders_customer_id_idx' } }],
    },
    {
      name: 'an unknown table size (tables source missing or table locked) stays a warning',
      snapshot: snap([failed({ tableOid: 4242 }), failedUnique({ oid: 16703 })], [makeTable({ heapBytes: null })]),
      findings: [
        { severity: 'warning', object: { name: 'orders_customer_id_idx' }, evidence: { tableBytes: null } },
        { severity: 'warning', object: { name: 'orders_ref_key' }, evidence: { tableBytes: null } },
      ],
    },
    {
      name: 'odd identifiers: mixed case, spaces, quotes and unicode',
      snapshot: snap(
        [
          failed({
            schema: 'Billing',
            table: 'Invoice Lines',
            name: 'inv "ref" ünique',
            isUnique: true,
            definition: 'CREATE UNIQUE INDEX "inv ""ref"" ünique" ON "Billing"."Invoice Lines" USING btree ("Ref No")',
          }),
        ],
        [makeTable({ schema: 'Billing', name: 'Invoice Lines' })],
      ),
      findings: [
        { severity: 'warning', object: { type: 'index', schema: 'Billing', name: 'inv "ref" ünique', table: 'Invoice Lines' }, evidence: { unique: true } },
      ],
    },
    {
      name: 'the leftover _ccnew copy of an interrupted REINDEX CONCURRENTLY',
      snapshot: snap([
        pkey(),
        pkey({
          oid: 16702,
          name: 'orders_pkey_ccnew',
          isPrimary: false,
          isValid: false,
          isReady: true,
          definition: 'CREATE UNIQUE INDEX orders_pkey_ccnew ON public.orders USING btree (id)',
        }),
      ]),
      findings: [{ severity: 'warning', object: { name: 'orders_pkey_ccnew' }, evidence: { validDuplicate: 'orders_pkey' } }],
    },
    {
      name: "a partitioned table's index waiting for its partitions is info",
      snapshot: snap(
        [
          failed({
            sizeBytes: 0,
            isReady: true,
            definition: 'CREATE INDEX events_at_idx ON ONLY public.events USING btree (at)',
            name: 'events_at_idx',
            table: 'events',
            tableOid: 16800,
          }),
        ],
        [makeTable({ oid: 16800, name: 'events', kind: 'p', heapBytes: 0 })],
      ),
      findings: [{ severity: 'info', object: { name: 'events_at_idx', table: 'events' }, evidence: { partitioned: true } }],
    },
    {
      name: 'ON ONLY marks a partitioned index when the table is not in the snapshot',
      snapshot: snap(
        [failed({ definition: 'CREATE INDEX events_at_idx ON ONLY public.events USING btree (at)', name: 'events_at_idx', table: 'events', tableOid: 16800 })],
        [],
      ),
      findings: [{ severity: 'info', object: { name: 'events_at_idx' }, evidence: { partitioned: true, tableBytes: null } }],
    },
    {
      name: 'a locked invalid index without a definition',
      snapshot: snap([failed({ definition: '', sizeBytes: null })]),
      findings: [{ severity: 'warning', object: { name: 'orders_customer_id_idx' }, evidence: { sizeBytes: null, definition: '' } }],
    },
  ],
});

/** The recommendation SQL is data a user runs: checked exactly. */
describe('invalid-index recommendation SQL', () => {
  const sqlOf = (indexes: IndexStat[], tables: TableStat[] = [makeTable()]) => {
    const { findings } = evaluateRules({ rules: [rule], snapshot: snap(indexes, tables), window: null });
    expect(findings).toHaveLength(1);
    return findings[0]!.recommendation.sql;
  };

  it('drops concurrently, then re-creates concurrently from the definition', () => {
    expect(sqlOf([failed()])).toBe(
      'DROP INDEX CONCURRENTLY public.orders_customer_id_idx;\nCREATE INDEX CONCURRENTLY orders_customer_id_idx ON public.orders USING btree (customer_id);',
    );
  });

  it('keeps UNIQUE, INCLUDE and WHERE of the definition', () => {
    const definition = 'CREATE UNIQUE INDEX orders_ref_key ON public.orders USING btree (ref) INCLUDE (total) WHERE (deleted_at IS NULL)';
    expect(sqlOf([failedUnique({ definition })])).toBe(
      'DROP INDEX CONCURRENTLY public.orders_ref_key;\nCREATE UNIQUE INDEX CONCURRENTLY orders_ref_key ON ' +
        'public.orders USING btree (ref) INCLUDE (total) WHERE (deleted_at IS NULL);',
    );
  });

  it('quotes odd identifiers', () => {
    const index = failed({
      schema: 'Billing',
      table: 'Invoice Lines',
      name: 'inv "ref" ON ünique',
      definition: 'CREATE INDEX "inv ""ref"" ON ünique" ON "Billing"."Invoice Lines" USING btree ("Ref No")',
    });
    expect(sqlOf([index])).toBe(
      'DROP INDEX CONCURRENTLY "Billing"."inv ""ref"" ON ünique";\nCREATE INDEX CONCURRENTLY "inv ""ref"" ' +
        'ON ünique" ON "Billing"."Invoice Lines" USING btree ("Ref No");',
    );
    expect(sqlOf([failed({ schema: 'select', name: 'Idx' })])).toMatch(/^DROP INDEX CONCURRENTLY "select"\."Idx";\n/);
  });

  it('only drops a copy of a valid index, and an index whose definition could not be read', () => {
    const ccnew = pkey({
      oid: 16702,
      name: 'orders_pkey_ccnew',
      isPrimary: false,
      isValid: false,
      definition: 'CREATE UNIQUE INDEX orders_pkey_ccnew ON public.orders USING btree (id)',
    });
    expect(sqlOf([pkey(), ccnew])).toBe('DROP INDEX CONCURRENTLY public.orders_pkey_ccnew;');
    expect(sqlOf([failed({ definition: '' })])).toBe('DROP INDEX CONCURRENTLY public.orders_customer_id_idx;');
  });

  it('a valid index with another definition is no twin', () => {
    expect(sqlOf([pkey(), failed()])).toContain('CREATE INDEX CONCURRENTLY');
  });

  it("gives no SQL for a partitioned table's index (neither statement works concurrently there)", () => {
    expect(sqlOf([failed({ definition: 'CREATE INDEX events_at_idx ON ONLY public.events USING btree (at)' })], [])).toBeUndefined();
  });
});
