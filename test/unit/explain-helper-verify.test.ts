/**
 * The collector's side of the explain helper: reading its JSON, the partial-index refusal, the failure hint.
 * The helper itself runs on real PostgreSQL in test/integration/explain-helper-hypopg.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { verifyWithExplainHelper, type HelperCheck } from '../../src/collector/enrich/explain-helper.js';

const CHECK: HelperCheck = {
  schema: 'public',
  table: 'orders',
  columns: ['customer_id'],
  queryId: '-42',
  ddl: 'create index on public.orders (customer_id)',
  predicate: null,
};
const HYPO = '<13543>btree_orders_customer_id';
const plan = (cost: number, index?: string) => [
  { Plan: { 'Node Type': 'Limit', 'Total Cost': cost, Plans: [{ 'Node Type': 'Index Scan', ...(index ? { 'Index Name': index } : {}) }] } },
];

function recordingQuery(result: unknown) {
  const calls: { sql: string; params?: readonly unknown[] }[] = [];
  const q = async <R extends Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]> => {
    calls.push({ sql, params });
    if (result instanceof Error) throw result;
    return (sql.includes('explain_generic') ? [{ result }] : []) as unknown as R[];
  };
  return { q, calls };
}

describe('verifyWithExplainHelper', () => {
  it('one helper call under a local statement_timeout; costs from both plans; uses the index when the plan names it', async () => {
    const { q, calls } = recordingQuery({ planWithoutIndex: plan(900), plan: plan(40, HYPO), hypotheticalIndex: HYPO });
    const v = await verifyWithExplainHelper(q, CHECK, ['public'], 2000);
    expect(v).toEqual({
      schema: 'public',
      table: 'orders',
      columns: ['customer_id'],
      queryId: '-42',
      status: 'verified',
      costBefore: 900,
      costAfter: 40,
      usesIndex: true,
      reason: null,
    });
    expect(calls.map((c) => c.sql)).toEqual([
      expect.stringMatching(/^set \/\* pg-advisor \*\/ local statement_timeout = 2000$/),
      expect.stringContaining('explain_generic($1::bigint, $2::text, $3::text[])'),
    ]);
    expect(calls[1]!.params).toEqual(['-42', CHECK.ddl, ['public']]);
  });

  it('a plan that does not use the hypothetical index is verified with usesIndex false', async () => {
    const { q } = recordingQuery({ planWithoutIndex: plan(900), plan: plan(900, 'orders_pkey'), hypotheticalIndex: HYPO });
    expect(await verifyWithExplainHelper(q, CHECK, ['public'], 2000)).toMatchObject({ status: 'verified', usesIndex: false });
  });

  it('a partial index is not sent to the helper (it refuses predicates)', async () => {
    const { q, calls } = recordingQuery({});
    const v = await verifyWithExplainHelper(q, { ...CHECK, predicate: 'deleted_at is null' }, ['public'], 2000);
    expect(v).toMatchObject({ status: 'failed', usesIndex: false, reason: expect.stringMatching(/partial index/) });
    expect(calls).toHaveLength(0);
  });

  it('a refusal or permission error becomes a failed verification; permission errors name the grant', async () => {
    const denied = await verifyWithExplainHelper(recordingQuery(new Error('permission denied for table orders')).q, CHECK, [], 2000);
    expect(denied).toMatchObject({
      status: 'failed',
      costBefore: null,
      reason: expect.stringMatching(/permission denied.*GRANT SELECT ON the table TO the helper's owner/),
    });
    const refused = await verifyWithExplainHelper(recordingQuery(new Error('explain_generic refused statement -42: not a SELECT')).q, CHECK, [], 2000);
    expect(refused.reason).toMatch(/^through the explain helper: explain_generic refused/);
  });

  it('a result without a plan cost is a failed verification, not a crash', async () => {
    const { q } = recordingQuery({ plan: null, planWithoutIndex: null, hypotheticalIndex: null });
    expect(await verifyWithExplainHelper(q, CHECK, [], 2000)).toMatchObject({ status: 'failed', reason: expect.stringMatching(/no plan cost/) });
  });
});
