/**
 * missing-index on real PostgreSQL for the shapes beyond one table and one equality: a join whose inner
 * side lacks its join-key index, a view and a CTE over a base table, a top-N, ILIKE with pg_trgm, a rare
 * IS NULL (partial index), a partitioned table, a DELETE, and a range on a BRIN index of the wrong kind —
 * next to look-alikes that must stay silent (indexed join key, top-N on the primary key, a single-valued
 * flag, a small table). The advisor is a pg_monitor role with SELECT (pg_stats visible).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import missingIndex from '../../rules/missing-index/index.js';
import { collectSnapshot, connectTarget } from '../../src/collector/index.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import type { Finding } from '../../src/engine/types.js';
import type { Snapshot } from '../../src/snapshot/types.js';
import { initSqlParser } from '../../src/sql/index.js';
import { createTestDatabase, runWorkload, type TestDatabase } from '../support/database.js';

const SCHEMA_SQL = `
  create table shop_orders (id bigint primary key, customer_id int not null, ref text not null, note text not null,
    created_at timestamptz not null, shipped_at timestamptz not null, finished_at timestamptz, is_active boolean not null);
  insert into shop_orders select g, g % 20000, 'R' || g, 'note ' || md5(g::text), now() - g * interval '1 minute',
    now() - ((g * 7919) % 200000) * interval '1 minute', case when g > 199800 then null else now() end, true
    from generate_series(1, 200000) g;
  create index shop_orders_customer_id_idx on shop_orders (customer_id);
  create index shop_orders_shipped_brin on shop_orders using brin (shipped_at);
  create table shop_items (id bigint primary key, order_id bigint not null, sku text not null);
  insert into shop_items select g, 1 + g % 200000, 'S' || g from generate_series(1, 400000) g;
  create table shop_lines (id bigint primary key, order_id bigint not null, qty int not null, batch text not null);
  insert into shop_lines select g, 1 + g % 200000, 1, 'B' || g from generate_series(1, 400000) g;
  create index shop_lines_order_id_idx on shop_lines (order_id);
  create table shop_kinds (id int primary key, name text not null);
  insert into shop_kinds select g, 'kind ' || g from generate_series(1, 20) g;
  create view open_orders as select o.id, o.ref as reference, o.created_at from shop_orders o where o.is_active;
  create table readings (id bigint not null, device_id int not null, at timestamptz not null) partition by range (at);
  create table readings_a partition of readings for values from ('2000-01-01') to ('2026-01-01');
  create table readings_b partition of readings for values from ('2026-01-01') to ('2100-01-01');
  insert into readings select g, g % 50000, case when g % 2 = 0 then timestamptz '2025-06-01' else timestamptz '2026-06-01' end
    from generate_series(1, 300000) g;
  analyze;`;

const PLANTED = {
  join: 'SELECT o.id, i.sku FROM shop_orders o JOIN shop_items i ON i.order_id = o.id WHERE o.customer_id = $1',
  view: 'SELECT id, created_at FROM open_orders WHERE reference = $1',
  cte: 'WITH recent AS (SELECT id, note FROM shop_orders) SELECT id FROM recent WHERE note = $1',
  topN: 'SELECT id, ref FROM shop_orders ORDER BY created_at DESC LIMIT 20',
  ilike: 'SELECT id FROM shop_items WHERE sku ILIKE $1',
  queue: 'SELECT id FROM shop_orders WHERE finished_at IS NULL ORDER BY id LIMIT 10',
  partitioned: 'SELECT id FROM readings WHERE device_id = $1',
  brin: 'SELECT id FROM shop_orders WHERE shipped_at BETWEEN $1 AND $2',
  delete: 'DELETE FROM shop_lines WHERE batch = $1',
} as const;

const LOOK_ALIKES = {
  indexedJoin: 'SELECT o.id, l.qty FROM shop_orders o JOIN shop_lines l ON l.order_id = o.id WHERE o.customer_id = $1',
  topNOnKey: 'SELECT id, ref FROM shop_orders ORDER BY id DESC LIMIT 20',
  flag: 'SELECT id FROM shop_orders WHERE is_active = $1 LIMIT 50',
  small: 'SELECT id FROM shop_kinds WHERE name = $1',
} as const;

let db: TestDatabase;
let snapshot: Snapshot;
let findings: readonly Finding[];

const key = (f: Finding) => `${f.object.name}(${(f.object.columns ?? []).join(',')})`;

beforeAll(async () => {
  await initSqlParser();
  db = await createTestDatabase({ extensions: ['pg_trgm'] });
  await db.admin.query(SCHEMA_SQL);
  const grants = ['grant select, delete on all tables in schema public to $ROLE'];
  const app = (await db.createRole({ grants })).url;
  const advisor = (await db.createRole({ grants: ['grant pg_monitor to $ROLE', 'grant select on all tables in schema public to $ROLE'] })).url;
  const at = (minutes: number) => new Date(Date.now() - minutes * 60_000);
  await runWorkload(
    app,
    async (c, i) => {
      await c.query(PLANTED.join, [i % 20_000]);
      await c.query(PLANTED.view, [`R${1 + ((i * 7) % 200_000)}`]);
      await c.query(PLANTED.cte, [`note ${i}`]);
      await c.query(PLANTED.topN);
      await c.query(PLANTED.ilike, [`%S12${i % 10}0%`]);
      await c.query(PLANTED.queue);
      await c.query(PLANTED.partitioned, [i % 50_000]);
      await c.query(PLANTED.brin, [at(1000 + i), at(990 + i)]);
      await c.query(PLANTED.delete, ['none']);
      await c.query(LOOK_ALIKES.indexedJoin, [i % 20_000]);
      await c.query(LOOK_ALIKES.topNOnKey);
      await c.query(LOOK_ALIKES.flag, [true]);
      for (let k = 0; k < 20; k++) await c.query(LOOK_ALIKES.small, [`kind ${1 + ((i + k) % 20)}`]);
    },
    { clients: 2, iterations: 70, durationMs: 120_000 },
  );
  const target = await connectTarget({ url: advisor });
  try {
    snapshot = await collectSnapshot(target);
  } finally {
    await target.close();
  }
  ({ findings } = evaluateRules({ rules: [missingIndex], snapshot, window: null }));
  console.log(
    `[missing-index-patterns] PostgreSQL ${snapshot.meta.serverVersion}: ${JSON.stringify(
      findings.map((f) => ({ k: key(f), s: f.severity, e: f.evidence })),
      null,
      1,
    )}`,
  );
}, 300_000);

afterAll(async () => {
  await db?.drop();
});

describe('missing-index patterns on real PostgreSQL', () => {
  it('collects views, partitions, pg_trgm and column statistics', () => {
    expect(snapshot.meta.sources.relations).toMatchObject({ status: 'ok' });
    expect(snapshot.relations?.views.map((v) => v.name)).toEqual(['open_orders']);
    expect(snapshot.relations?.partitions).toHaveLength(2);
    expect(snapshot.meta.capabilities.pgTrgm).toBe(true);
    expect(snapshot.columns.find((c) => c.table === 'shop_items' && c.column === 'sku')?.collation).toBeTruthy();
  });

  it('suggests exactly the planted indexes, on the base table, the parent and the inner join side', () => {
    expect(findings.map(key).sort()).toEqual(
      [
        'readings(device_id)',
        'shop_items(order_id)',
        'shop_items(sku)',
        'shop_lines(batch)',
        'shop_orders(id)',
        'shop_orders(created_at)',
        'shop_orders(note)',
        'shop_orders(ref)',
        'shop_orders(shipped_at)',
      ].sort(),
    );
  });

  it('explains each kind of index it suggests', () => {
    const by = (k: string) => findings.find((f) => key(f) === k)!;
    expect(by('shop_items(sku)').recommendation.sql).toBe('CREATE INDEX CONCURRENTLY ON public.shop_items USING gin (sku gin_trgm_ops)');
    expect(by('shop_items(order_id)').evidence.columnChoice).toEqual({ order_id: { role: 'join', selectivity: expect.any(Number) } });
    expect(by('shop_orders(ref)').evidence.origin).toBe('view open_orders');
    expect(by('shop_orders(note)').evidence.origin).toBe('inlined-cte recent');
    expect(by('shop_orders(shipped_at)').evidence.unusableIndexes).toEqual(['shop_orders_shipped_brin (brin)']);
    expect(by('shop_orders(id)').recommendation.sql).toBe('CREATE INDEX CONCURRENTLY ON public.shop_orders (id) WHERE finished_at IS NULL');
    expect(by('shop_orders(created_at)').evidence).toMatchObject({ limitBound: false, columnChoice: { created_at: { role: 'sort', selectivity: null } } });
    expect(by('readings(device_id)').evidence.selectivitySource).toBe('pg_stats');
  });
});
