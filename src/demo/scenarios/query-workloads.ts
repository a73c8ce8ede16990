/**
 * Planted schemas and application workloads for the query rules (n-plus-one, missing-index), shared by
 * the demo scenarios and the query-rule integration tests (test/support/sql-plant.ts re-exports them).
 * Every statement runs through `pg` with bound parameters, like an application driver or ORM, so
 * pg_stat_statements sees `$n` placeholders and one entry per statement shape.
 */
import type pg from 'pg';
import { sleep } from './sessions.js';

/**
 * users 5k, posts 100k (FK posts.user_id → users.id, indexed). The foreign key is added after the load:
 * one validating query instead of 100k row checks.
 */
export const LOOP_SCHEMA_SQL = `
  create table users (id bigint primary key, name text not null, email text not null);
  create table posts (id bigint primary key, user_id bigint not null, title text not null, created_at timestamptz not null default now());
  insert into users select g, 'user ' || g, 'u' || g || '@example.com' from generate_series(1, 5000) g;
  insert into posts select g, 1 + (g % 5000), 'post ' || g, now() - g * interval '1 minute' from generate_series(1, 100000) g;
  alter table posts add foreign key (user_id) references users(id);
  create index posts_user_id_idx on posts (user_id);
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

/** The statements of one list page and the per-row lookups an ORM's lazy loading sends after it. */
export interface LoopTexts {
  /** The parent: one page of rows (`$1` = OFFSET). */
  readonly list: string;
  /** The child: one row (belongs-to) or the rows of one parent (has-many) by key (`$1`). */
  readonly each: string;
  /** Output column of `list` whose value `each` is called with. */
  readonly key: string;
}

/** The batched fix of a loop: one page, then its keys in one `= ANY($1)` statement and one IN list. */
export interface BatchTexts {
  readonly list: string;
  readonly key: string;
  readonly any: string;
  /** Table and columns of the IN-list variant (its text depends on the number of keys). */
  readonly inListTable: string;
}

const rand = (n: number): number => 1 + Math.floor(Math.random() * n);

/** One page of `texts.list`, then `texts.each` once per row (an N+1 loop). */
export async function listThenEach(c: pg.Client, texts: LoopTexts, offset: number): Promise<number> {
  const page = await c.query<Record<string, unknown>>(texts.list, [offset]);
  for (const row of page.rows) await c.query(texts.each, [row[texts.key]]);
  return page.rows.length;
}

/** One page, one batched `= ANY($1)` lookup of its keys and one IN-list lookup of five of them. */
export async function listThenBatch(c: pg.Client, texts: BatchTexts, offset: number): Promise<void> {
  const page = await c.query<Record<string, unknown>>(texts.list, [offset]);
  const keys = page.rows.map((r) => r[texts.key]);
  await c.query(texts.any, [keys]);
  const ids = keys.slice(0, 5);
  await c.query(`SELECT id, name FROM ${texts.inListTable} WHERE id IN (${ids.map((_, k) => `$${k + 1}`).join(', ')})`, ids);
}

export const BELONGS_TO: LoopTexts = { list: TEXTS.feed, each: TEXTS.userLookup, key: 'user_id' };
export const HAS_MANY: LoopTexts = { list: TEXTS.userList, each: TEXTS.postsOfUser, key: 'id' };

/** One feed page, then one user lookup per post (belongs-to N+1). */
export async function belongsToLoop(c: pg.Client, i: number): Promise<void> {
  await listThenEach(c, BELONGS_TO, (i * 20) % 90_000);
}

/** Ten users, then their posts one user at a time (has-many N+1). */
export async function hasManyLoop(c: pg.Client, i: number): Promise<void> {
  await listThenEach(c, HAS_MANY, (i * 10) % 4_900);
}

export async function hotLookups(c: pg.Client): Promise<void> {
  await c.query(TEXTS.hotLookup, [rand(5000)]);
}

/** The fixed loop: one feed page and one batched lookup. */
export async function batchedFeed(c: pg.Client, i: number): Promise<void> {
  await listThenBatch(c, { list: TEXTS.feed, key: 'user_id', any: TEXTS.batchAny, inListTable: 'users' }, (i * 20) % 90_000);
}

/** One lookup plus one list per request (`lookup` takes a random id in 1..`ids`). */
export async function lookupAndList(c: pg.Client, lookup: string, list: string, ids: number, offset: number): Promise<void> {
  await c.query(lookup, [rand(ids)]);
  await c.query(list, [offset]);
}

/** One lookup plus one list per request. */
export async function apiRequest(c: pg.Client, i: number): Promise<void> {
  await lookupAndList(c, TEXTS.apiLookup, TEXTS.feed, 5000, (i * 20) % 90_000);
}

/**
 * The missing-index workload of one request `i`: the two statements that want an index (orders by
 * customer_id, events by account_id and a time range), an indexed look-alike (orders by seller_id), a
 * low-selectivity aggregate (every `statusEvery` requests, alternating 'done' and 'paid'), a GROUP BY
 * report (every `reportEvery`) and `lookups` point lookups each of two tiny tables.
 */
export async function indexWorkload(c: pg.Client, i: number, options: { lookups?: number; statusEvery?: number; reportEvery?: number } = {}): Promise<void> {
  const { lookups = 30, statusEvery = 2, reportEvery = 6 } = options;
  await c.query(TEXTS.ordersByCustomer, [(i * 37) % 20_000]);
  await c.query(TEXTS.eventsRecent, [i % 50, new Date(Date.now() - 3_600_000)]);
  await c.query(TEXTS.bySeller, [i % 3000]);
  if (i % statusEvery === 0) await c.query(TEXTS.statusReport, [(i / statusEvery) % 2 === 0 ? 'done' : 'paid']);
  if (i % reportEvery === 0) await c.query(TEXTS.groupReport);
  for (let k = 0; k < lookups; k++) {
    await c.query(TEXTS.country, [`country ${1 + ((i + k) % 60)}`]);
    await c.query(TEXTS.setting, [`key${1 + ((i + k) % 40)}`]);
  }
}

export interface BackgroundLoop {
  /** Asks the loop to stop and resolves once its current iteration has ended. */
  stop(): Promise<void>;
  /** Iterations completed so far. */
  readonly iterations: number;
}

/**
 * Runs `body(client, i)` on `client` back to back, pausing `pauseMs` after each iteration (an application
 * serving requests) except the first `warmup` ones, until stop() or `maxMs` (a hard limit, so a forgotten
 * plant cannot run forever). A failing statement (terminated backend, server shutting down) ends the
 * loop; it never rejects.
 */
export function startLoop(
  client: pg.Client,
  body: (client: pg.Client, i: number) => Promise<void>,
  options: { pauseMs?: number; maxMs?: number; warmup?: number } = {},
): BackgroundLoop {
  const { pauseMs = 0, maxMs = 10 * 60_000, warmup = 0 } = options;
  const deadline = Date.now() + maxMs;
  let stopped = false;
  let iterations = 0;
  const done = (async () => {
    while (!stopped && Date.now() < deadline) {
      try {
        await body(client, iterations);
      } catch {
        return;
      }
      iterations++;
      if (pauseMs > 0 && iterations > warmup && !stopped) await sleep(pauseMs);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await done;
    },
    get iterations() {
      return iterations;
    },
  };
}
