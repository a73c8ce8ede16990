/**
 * Table and index bloat after a mass delete (detection notes §3.4): order_events loses 80 % of its rows,
 * scattered over every page, and a VACUUM ANALYZE (from another session, after the counters are flushed)
 * leaves a heap and two btrees that are mostly empty space. Healthy look-alikes: a freshly loaded table
 * with duplicate-heavy (the statistical estimate would go negative), expression, partial, GIN and BRIN
 * indexes; a table whose free space is its fillfactor reserve; a table whose rows still carry a dropped
 * column (the estimate from pg_stats cannot see it: a classic phantom bloat); and a small table with the
 * same damage below the size floors.
 */
import type { Planted, PlantContext, Scenario } from './types.js';
import { runInFreshSessions, sleep, waitForCounters, withSession } from './sessions.js';

const BLOATED_ROWS = 480_000;
const SMALL_ROWS = 30_000;
/** Rows kept: one in five, so every heap page and every leaf page keeps a few entries. */
const KEEP = 'customer_id % 5 = 0';

const CREATE = `
drop table if exists order_events, customers, invoices, coupons, products;
create table order_events (
  id uuid primary key, customer_id int not null, created_at timestamptz not null, status text not null, payload text not null
) with (autovacuum_enabled = false);
create index order_events_customer_created_idx on order_events (customer_id, created_at);
create table coupons (
  id uuid primary key, customer_id int not null, created_at timestamptz not null, status text not null, payload text not null
) with (autovacuum_enabled = false);
create table customers (
  id int primary key, region_id int not null, status text not null, email text not null, created_at timestamptz not null,
  tags int[] not null
);
create table invoices (id int primary key, customer_id int not null, amount numeric(12,2) not null, note text not null)
  with (fillfactor = 70);
create table products (id int primary key, sku text not null, legacy_notes text, price numeric(12,2) not null);
`;

const eventRows = (table: string, rows: number): string => `
insert into ${table}
select lpad(to_hex(i), 32, '0')::uuid, i, timestamptz '2026-01-01' + i * interval '1 second',
       (array['new','paid','shipped','delivered','returned'])[1 + i % 5], md5(i::text)
  from generate_series(1, ${rows}) i`;

const LOAD_CONTROLS = `
insert into customers
select i, i / 20, (array['active','active','active','trial','closed'])[1 + i % 5],
       'Customer' || i || '@Example.com', timestamptz '2025-01-01' + i * interval '1 minute', array[i % 50, i % 7, i % 1000]
  from generate_series(1, 200000) i;
create index customers_status_idx on customers (status);
create index customers_region_id_idx on customers (region_id);
create index customers_lower_email_idx on customers (lower(email));
create index customers_trial_idx on customers (created_at) where status = 'trial';
create index customers_tags_idx on customers using gin (tags);
create index customers_created_brin on customers using brin (created_at);
insert into invoices select i, i % 5000, (i % 997) * 1.25, md5(i::text) from generate_series(1, 100000) i;
insert into products select i, 'SKU-' || i, repeat(md5(i::text), 3), (i % 500) * 0.99 from generate_series(1, 110000) i;
alter table products drop column legacy_notes;
`;

async function plant(ctx: PlantContext): Promise<Planted> {
  const url = ctx.adminUrl;
  await withSession(url, (c) => c.query(CREATE));
  // Independent loads, one session each (in parallel where the machine has the cores).
  await Promise.all(
    [eventRows('order_events', BLOATED_ROWS), eventRows('coupons', SMALL_ROWS), LOAD_CONTROLS].map((sql) => withSession(url, (c) => c.query(sql))),
  );
  await runInFreshSessions(url, [`delete from order_events where not (${KEEP}); delete from coupons where not (${KEEP})`]);
  const dmlDone = Date.now();
  // The deleting session has exited; wait until its counters are visible, and at least 1 s (§0 trap).
  await waitForCounters(url, 'order_events', { nTupDel: BLOATED_ROWS * 0.8 });
  await waitForCounters(url, 'coupons', { nTupDel: SMALL_ROWS * 0.8 });
  await sleep(Math.max(0, 1100 - (Date.now() - dmlDone)));
  await runInFreshSessions(url, [
    'vacuum analyze order_events, coupons, customers, invoices, products',
    'alter table order_events reset (autovacuum_enabled); alter table coupons reset (autovacuum_enabled)',
  ]);
  ctx.log(`order_events: ${BLOATED_ROWS.toLocaleString('en-US')} rows, 80 % deleted and vacuumed (heap and indexes mostly empty)`);
  return {
    descriptions: [
      'public.order_events: 80 % of rows deleted, then vacuumed: heap and both btrees mostly empty space',
      'controls: public.customers freshly loaded (duplicate-heavy, expression, partial, GIN and BRIN ' +
        'indexes), public.invoices at fillfactor 70, public.products with a dropped column, public.coupons ' +
        'bloated but under 8 MiB',
    ],
    release: async () => undefined, // nothing to undo: the data stays until the server is removed
  };
}

export const tableBloatScenario: Scenario = {
  id: 'table-bloat',
  rule: 'table-bloat',
  title: 'Table and index bloat after a mass delete',
  expected: [
    { rule: 'table-bloat', object: { type: 'table', schema: 'public', name: 'order_events' } },
    { rule: 'index-bloat', object: { type: 'index', schema: 'public', name: 'order_events_pkey' } },
    { rule: 'index-bloat', object: { type: 'index', schema: 'public', name: 'order_events_customer_created_idx' } },
  ],
  controls: [
    { rule: 'table-bloat', object: { type: 'table', schema: 'public', name: 'customers' } },
    { rule: 'table-bloat', object: { type: 'table', schema: 'public', name: 'invoices' } },
    { rule: 'table-bloat', object: { type: 'table', schema: 'public', name: 'coupons' } },
    { rule: 'table-bloat', object: { type: 'table', schema: 'public', name: 'products' } },
    { rule: 'index-bloat', object: { type: 'index', schema: 'public', name: 'customers_pkey' } },
    { rule: 'index-bloat', object: { type: 'index', schema: 'public', name: 'customers_status_idx' } },
    { rule: 'index-bloat', object: { type: 'index', schema: 'public', name: 'customers_region_id_idx' } },
    { rule: 'index-bloat', object: { type: 'index', schema: 'public', name: 'customers_lower_email_idx' } },
    { rule: 'index-bloat', object: { type: 'index', schema: 'public', name: 'customers_trial_idx' } },
    { rule: 'index-bloat', object: { type: 'index', schema: 'public', name: 'customers_tags_idx' } },
    { rule: 'index-bloat', object: { type: 'index', schema: 'public', name: 'customers_created_brin' } },
    { rule: 'index-bloat', object: { type: 'index', schema: 'public', name: 'invoices_pkey' } },
    { rule: 'index-bloat', object: { type: 'index', schema: 'public', name: 'coupons_pkey' } },
  ],
  plant,
};
