/**
 * Planted schemas and workloads for the query-rule integration tests (n-plus-one, missing-index).
 * Every statement runs through `pg` with bound parameters, like an application driver.
 */
import type pg from 'pg';

/** users 5k, posts 100k (FK posts.user_id → users.id, indexed). */
export const LOOP_SCHEMA_SQL = `
  create table users (id bigint primary key, name text not null, email text not null);
  create table posts (id bigint primary key, user_id bigint not null references users(id), title text not null, created_at timestamptz not null default now());
  create index posts_user_id_idx on posts (user_id);
  insert into users select g, 'user ' || g, 'u' || g || '@example.com' from generate_series(1, 5000) g;
  insert into posts select g, 1 + (g % 5000), 'post ' || g, now() - g * interval '1 minute' from generate_series(1, 100000) g;
  analyze users; analyze posts;`;

/**
 * orders 200k (no index on customer_id; status 90 % 'done'; seller_id indexed), events 200k
 * (account_id: 50 values → composite (account_id, created_at)), countries 60, settings 40 (no index).
 */
export const INDEX_SCHEMA_SQL = `
  create table orders (id bigint primary key, customer_id bigint not null, seller_id bigint not null, status text not null,
    total numeric not null, created_at timestamptz not null);
  insert into orders select g, (random() * 20000)::int, g % 3000,
    case when g % 10 = 0 then (array['new','paid','shipped','cancelled'])[1 + g % 4] else 'done' end,
    (g % 500)::numeric, now() - (g % 100000) * interval '1 minute' from generate_series(1, 200000) g;
  create index orders_seller_id_idx on orders (seller_id);
  create table events (id bigint primary key, account_id int not null, kind text not null, created_at timestamptz not null);
  insert into events select g, g % 50, 'k' || (g % 7), now() - g * interval '10 seconds' from generate_series(1, 200000) g;
  create table countries (id int primary key, name text not null);
  insert into countries select g, 'country ' || g from generate_series(1, 60) g;
  create table settings (k text, v text);
  insert into settings select 'key' || g, 'v' from generate_series(1, 40) g;
  analyze orders; analyze events; analyze countries; analyze settings;`;

export const TEXTS = {
  userLookup: 'SELECT id, name, email FROM users WHERE id = $1 LIMIT 1',
  feed: 'SELECT id, user_id, title FROM posts ORDER BY id DESC LIMIT 20 OFFSET $1',
  userList: 'SELECT id, name FROM users ORDER BY id LIMIT 10 OFFSET $1',
  postsOfUser: 'SELECT id, title FROM posts WHERE user_id = $1',
  hotLookup: 'SELECT id, name FROM users WHERE id = $1',
  apiLookup: 'SELECT id, email FROM users WHERE id = $1',
  batchAny: 'SELECT id, name, email FROM users WHERE id = ANY($1)',
  ordersByCustomer: 'SELECT id, total FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 10',
  eventsRecent: 'SELECT id, kind FROM events WHERE account_id = $1 AND created_at >= $2',
  statusReport: 'SELECT count(*), sum(total) FROM orders WHERE status = $1',
  groupReport: 'SELECT status, count(*) FROM orders GROUP BY status',
  bySeller: 'SELECT id, total FROM orders WHERE seller_id = $1',
  country: 'SELECT id FROM countries WHERE name = $1',
  setting: 'SELECT v FROM settings WHERE k = $1',
} as const;

const rand = (n: number): number => 1 + Math.floor(Math.random() * n);

/** One feed page, then one user lookup per post (belongs-to N+1). */
export async function belongsToLoop(c: pg.Client, i: number): Promise<void> {
  const feed = await c.query<{ user_id: string }>(TEXTS.feed, [(i * 20) % 90_000]);
  for (const row of feed.rows) await c.query(TEXTS.userLookup, [row.user_id]);
}

/** Ten users, then their posts one user at a time (has-many N+1). */
export async function hasManyLoop(c: pg.Client, i: number): Promise<void> {
  const users = await c.query<{ id: string }>(TEXTS.userList, [(i * 10) % 4_900]);
  for (const row of users.rows) await c.query(TEXTS.postsOfUser, [row.id]);
}

export async function hotLookups(c: pg.Client): Promise<void> {
  await c.query(TEXTS.hotLookup, [rand(5000)]);
}

/** The fixed loop: one feed page and one batched lookup. */
export async function batchedFeed(c: pg.Client, i: number): Promise<void> {
  const feed = await c.query<{ user_id: string }>(TEXTS.feed, [(i * 20) % 90_000]);
  await c.query(TEXTS.batchAny, [feed.rows.map((r) => r.user_id)]);
  const ids = feed.rows.slice(0, 5).map((r) => r.user_id);
  await c.query(`SELECT id, name FROM users WHERE id IN (${ids.map((_, k) => `$${k + 1}`).join(', ')})`, ids);
}

/** One lookup plus one list per request. */
export async function apiRequest(c: pg.Client, i: number): Promise<void> {
  await c.query(TEXTS.apiLookup, [rand(5000)]);
  await c.query(TEXTS.feed, [(i * 20) % 90_000]);
}
