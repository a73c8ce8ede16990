/**
 * The daemon re-verifies index suggestions only when its candidates change: a target's verifications are reused
 * for INDEX_VERIFICATION_REUSE_MS while every candidate was asked before, so sampling every minute does not put the
 * same hypothetical-index EXPLAINs on the target each time. The target here records what is asked of it; what the
 * real server answers is covered by the hypopg integration tests.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ENRICHMENT_STEPS } from '../../src/audit/index.js';
import type { Target } from '../../src/collector/api.js';
import { initSqlParser } from '../../src/sql/index.js';
import { makeIndex, makeSnapshot, makeStatement, makeTable } from '../support/builders.js';

const orders = makeTable({ oid: 16_500, name: 'orders', reltuples: 500_000, relpages: 3_736 });
const pkey = makeIndex({ oid: 17_000, tableOid: 16_500, table: 'orders', columns: ['id'] });
const background = makeStatement({ queryId: '9', query: 'SELECT now()', calls: 1_000_000, rows: 1_000_000, totalExecTimeMs: 1_000_000, sharedBlksHit: 0 });
/** A statement that reads all of orders per call to return a few rows. */
const scan = (queryId: string, column: string) =>
  makeStatement({
    queryId,
    query: `SELECT * FROM orders WHERE ${column} = $1`,
    calls: 830,
    rows: 830 * 8,
    totalExecTimeMs: 830 * 47,
    meanExecTimeMs: 47,
    sharedBlksHit: 830 * 3_803,
    sharedBlksRead: 0,
  });
const snapshotWith = (...statements: ReturnType<typeof scan>[]) =>
  makeSnapshot({
    tables: [orders],
    indexes: [pkey],
    statements: [...statements, background],
    meta: { serverVersionNum: 170_000, capabilities: { ...makeSnapshot().meta.capabilities, hypopg: true } },
  });

/** Answers like a server with hypopg where the role may EXPLAIN; counts the verification transactions. */
function recordingTarget(): Target & { transactions: number } {
  const answer = async (sql: string): Promise<Record<string, unknown>[]> => {
    if (/from pg_catalog\.pg_extension/.test(sql)) return [{ schema: 'public' }];
    if (/hypopg_create_index/.test(sql)) return [{ indexname: '<1>btree_orders' }];
    if (/^explain/.test(sql)) return [{ 'QUERY PLAN': [{ Plan: { 'Total Cost': 100, 'Index Name': '<1>btree_orders' } }] }];
    return [];
  };
  const target = {
    transactions: 0,
    query: answer as Target['query'],
    async withReadOnlyTransaction<T>(body: (q: Target['query']) => Promise<T>): Promise<T> {
      target.transactions++;
      return body(answer as Target['query']);
    },
    close: async () => undefined,
  };
  return target;
}

const verify = ENRICHMENT_STEPS['index-verification'].run;
const context = { window: null, thresholds: {} };

describe('index verification reuse per target', () => {
  beforeAll(async () => {
    await initSqlParser();
  });

  it('plans once, reuses while the candidates stay, and plans again for a new candidate', async () => {
    const target = recordingTarget();
    const first = await verify(target, snapshotWith(scan('101', 'customer_id')), context);
    const verified = first.enrichments?.indexVerifications ?? [];
    expect(verified.length).toBeGreaterThan(0);
    const asked = target.transactions;
    expect(asked).toBeGreaterThan(0);

    const second = await verify(target, snapshotWith(scan('101', 'customer_id')), context);
    expect(target.transactions).toBe(asked); // nothing planned again
    expect(second.enrichments?.indexVerifications).toEqual(verified);

    await verify(target, snapshotWith(scan('101', 'customer_id'), scan('102', 'status_code')), context);
    expect(target.transactions).toBeGreaterThan(asked); // a new candidate is planned
  });

  it('never shares verifications between targets (check gets a fresh target, so always plans)', async () => {
    const a = recordingTarget();
    const b = recordingTarget();
    await verify(a, snapshotWith(scan('101', 'customer_id')), context);
    await verify(b, snapshotWith(scan('101', 'customer_id')), context);
    expect(b.transactions).toBe(a.transactions);
  });
});
