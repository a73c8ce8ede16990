import pg from 'pg';

/**
 * A small schema with odd identifiers (mixed case, space, quote, unicode), FKs and unique / partial /
 * expression / covering indexes, plus a ~14 MB table with half its rows deleted and vacuumed (bloat).
 */
export const COLLECTOR_SCHEMA_SQL = `
create schema shop;
create table shop.customers (id bigint primary key, email text not null unique, name text);
create table shop."OrderItems" (
  id bigint primary key,
  customer_id bigint not null references shop.customers (id),
  "order lines" int,
  "we""ird" text,
  "café" numeric,
  created_at timestamptz not null default now()
);
create index "OrderItems_lower_weird" on shop."OrderItems" (lower("we""ird"));
create index "OrderItems_partial" on shop."OrderItems" ("order lines") where "order lines" > 10;
create unique index "OrderItems_cover" on shop."OrderItems" (customer_id, id) include ("café");
create table shop."order lines" (
  item_id bigint not null references shop."OrderItems" (id),
  n int not null,
  primary key (item_id, n)
) with (fillfactor = 70, autovacuum_enabled = false);
create table shop.bloated (id int primary key, pad text not null) with (autovacuum_enabled = false);
create table shop.locked_t (id int primary key, v text);
insert into shop.customers select g, 'c' || g || '@example.com', 'name ' || g from generate_series(1, 1000) g;
insert into shop."OrderItems" (id, customer_id, "order lines", "we""ird", "café")
  select g, 1 + g % 1000, g % 20, 'W' || (g % 7), g / 3.0 from generate_series(1, 5000) g;
insert into shop."order lines" select g, 1 from generate_series(1, 2000) g;
insert into shop.bloated select g, repeat('x', 100) from generate_series(1, 100000) g;
insert into shop.locked_t select g, 'v' from generate_series(1, 100) g;
delete from shop.bloated where id % 2 = 0;
`;

/** Run from a separate session after the DML (PG15 flushes DML counters late, see detection.md §0). */
export const COLLECTOR_VACUUM_SQL = `vacuum analyze`;

/**
 * DML and VACUUM ANALYZE run in two separate sessions, the first one closed before the second starts:
 * a backend flushes its table counters at exit, so n_mod_since_analyze is not inflated afterwards.
 */
export async function plantCollectorSchema(url: string): Promise<void> {
  for (const sql of [COLLECTOR_SCHEMA_SQL, COLLECTOR_VACUUM_SQL]) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }
}
