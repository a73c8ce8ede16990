/**
 * unused-index on a real PostgreSQL, collected as a pg_monitor-only role: one planted unused index on a busy
 * table among look-alikes that must stay silent (a used index, a unique index, a foreign key's index, an
 * exclusion constraint's index, a small index, an unused index of a table nobody reads). A fresh test
 * database cannot have counted statistics for 14 days, so the rule first reports itself degraded; the
 * judgement itself runs with the threshold override `minObservedSeconds: 0`, which stands in for the window.
 * Then the generated DROP runs and the rule goes silent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/demo/scenarios/sessions.js';
import type { Finding } from '../../src/engine/types.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { collectAndEvaluate, type Evaluation } from '../support/scenario-check.js';

const ROWS = 50_000;
const READS = 1_200;

const PLANT = [
  `create table customers (id bigint primary key, name text not null)`,
  `insert into customers select g, 'c' || g from generate_series(1, 1000) g`,
  `create table orders (id bigint primary key, customer_id bigint not null references customers, ref text not null, code text not null,
     note text not null, during tsrange not null, status int not null)`,
  `insert into orders select g, 1 + g % 1000, 'r' || g, md5(g::text), md5('n' || g), tsrange(timestamp '2026-01-01' + g * interval '1 minute',
     timestamp '2026-01-01' + (g + 1) * interval '1 minute'), g % 3 from generate_series(1, ${ROWS}) g`,
  // Planted: never scanned, ~2.5 MiB.
  `create index "Orders Note" on orders (note)`,
  // Controls: scanned; unique; a foreign key's referencing column first; an exclusion constraint; under 1 MiB.
  `create index orders_ref on orders (ref)`,
  `create unique index orders_code_key on orders (code)`,
  `create index orders_customer on orders (customer_id, status)`,
  `alter table orders add constraint orders_no_overlap exclude using gist (during with &&)`,
  `create index orders_status_small on orders (status) where status = 9`,
  // Control: a table nobody reads, with an unused index over the size floor.
  `create table archive (id bigint, note text)`,
  `insert into archive select g, md5(g::text) from generate_series(1, ${ROWS}) g`,
  `create index archive_note on archive (note)`,
  `analyze`,
  // The reads: index lookups on orders_ref, each one an idx_scan of orders.
  `do $$ begin for i in 1..${READS} loop perform 1 from orders where ref = 'r' || i; end loop; end $$`,
];

const unused = (e: Evaluation): Finding[] => e.findings.filter((f) => f.rule === 'unused-index');
const JUDGE_NOW = { 'unused-index': { thresholds: { minObservedSeconds: 0 } } };

describe('unused-index on planted indexes', () => {
  let db: TestDatabase;
  let monitorUrl: string;
  let before: Evaluation;

  beforeAll(async () => {
    db = await createTestDatabase();
    monitorUrl = await db.createMonitorRole();
    for (const sql of PLANT) await db.admin.query(sql);
    const read = await waitUntil(async () => {
      const { rows } = await db.admin.query<{ n: string }>(`select idx_scan as n from pg_catalog.pg_stat_user_tables where relname = 'orders'`);
      return Number(rows[0]?.n ?? 0) >= READS;
    }, 15_000);
    expect(read, 'scans of orders counted').toBe(true);
    before = await collectAndEvaluate(monitorUrl);
  }, 60_000);

  afterAll(async () => {
    await db?.drop();
  });

  it('collects the statistics age and the index facts the rule needs', () => {
    const current = before.snapshot.databases.find((d) => d.name === before.snapshot.meta.database);
    expect(current?.statsObservedSeconds).toBeGreaterThanOrEqual(0);
    expect(['stats_reset', 'server_start']).toContain(current?.statsObservedFrom);
    const exclusion = before.snapshot.indexes.find((i) => i.name === 'orders_no_overlap');
    expect(exclusion).toMatchObject({ isExclusion: true, isUnique: false });
    const note = before.snapshot.indexes.find((i) => i.name === 'Orders Note');
    expect(note).toMatchObject({ idxScan: 0, isExclusion: false, lastIdxScanAgeSeconds: null });
    const ref = before.snapshot.indexes.find((i) => i.name === 'orders_ref');
    if (before.snapshot.meta.serverVersionNum >= 160000) expect(ref?.lastIdxScanAgeSeconds).toBeGreaterThanOrEqual(0);
    else expect(ref?.lastIdxScanAgeSeconds).toBeNull();
  });

  it('with the default window on a fresh database: no finding, degraded with the date it can judge from', () => {
    const current = before.snapshot.databases.find((d) => d.name === before.snapshot.meta.database);
    expect(unused(before)).toEqual([]);
    const diagnostics = before.diagnostics.filter((d) => d.rule === 'unused-index');
    // Counted from the server start when the new database was never reset: a long-running test server could be older than 14 days.
    if ((current?.statsObservedSeconds ?? 0) < 14 * 86_400) {
      expect(diagnostics).toHaveLength(1);
      expect(diagnostics[0]).toMatchObject({ status: 'degraded' });
      expect(diagnostics[0]?.message).toMatch(/^1 index with no scan not judged yet/);
    }
  });

  it('with minObservedSeconds 0 (standing in for 14 days): only the planted index, then silent once dropped', async () => {
    const judged = await collectAndEvaluate(monitorUrl, { settings: JUDGE_NOW });
    expect(judged.diagnostics.filter((d) => d.rule === 'unused-index')).toEqual([]);
    expect(unused(judged).map((f) => `${f.severity} ${f.object.schema}.${f.object.name}`)).toEqual(['info public.Orders Note']);
    const [finding] = unused(judged);
    expect(finding?.evidence).toMatchObject({ indexScans: 0, tableWrites: ROWS });
    expect(Number(finding?.evidence.sizeBytes)).toBeGreaterThan(1024 * 1024);
    expect(Number(finding?.evidence.tableScans)).toBeGreaterThanOrEqual(READS);
    expect(finding?.recommendation.sql).toBe('DROP INDEX CONCURRENTLY public."Orders Note";');

    await db.admin.query(finding?.recommendation.sql ?? '');
    const after = await collectAndEvaluate(monitorUrl, { settings: JUDGE_NOW });
    expect(unused(after)).toEqual([]);
    expect(after.snapshot.indexes.map((i) => i.name)).not.toContain('Orders Note');
  }, 30_000);
});
