/**
 * N+1 query loops (detection notes §1.4, §1.5), running in the background for the whole check window,
 * each application under its own role (pg_stat_statements keys statements by role, as a real app's
 * connection user does):
 * - feed-service: one page of 20 posts, then `users WHERE id = $1` once per post (belongs-to);
 * - profile-service: ten users, then `posts WHERE user_id = $1` once per user (has-many).
 * Healthy look-alikes on twin tables (accounts 2k, stories 20k with FK stories.account_id, indexed), so a
 * finding can be told apart by the table it names:
 * - timeline and auth-service, one role, two applications: a stories page every 50 ms, and hot
 *   independent account lookups at six per page — enough fan-out to look like a loop, but 0.3 per row
 *   and never on the same connection as the page;
 * - session-api: one account lookup plus one stories page per request (the "1+1" request, fan-out 1);
 * - feed-batched: a stories page, then its accounts in one `= ANY($1)` statement and one IN list.
 *
 * Six connections in all (pool-exhaustion, planted last, counts them in its fill). The loops stop on
 * release() or after ten minutes, whichever comes first.
 */
import type pg from 'pg';
import { must } from '../../errors/must.js';
import { quoteIdent } from '../../sql/quote.js';
import { BELONGS_TO, HAS_MANY, listThenBatch, listThenEach, lookupAndList, LOOP_SCHEMA_SQL, startLoop, type BackgroundLoop } from './query-workloads.js';
import { closeSessions, dropRole, ensureLoginRole, openSession, sleep, waitUntil, withSession } from './sessions.js';
import type { Planted, PlantContext, Scenario } from './types.js';

const CONTROL_SCHEMA_SQL = `
  create table accounts (id bigint primary key, name text not null, email text not null);
  create table stories (id bigint primary key, account_id bigint not null, title text not null, created_at timestamptz not null default now());
  insert into accounts select g, 'account ' || g, 'a' || g || '@example.com' from generate_series(1, 2000) g;
  insert into stories select g, 1 + (g % 2000), 'story ' || g, now() - g * interval '1 minute' from generate_series(1, 20000) g;
  alter table stories add foreign key (account_id) references accounts(id);
  create index stories_account_id_idx on stories (account_id);
  analyze accounts; analyze stories;`;

const CONTROL_TEXTS = {
  timeline: 'SELECT id, account_id, title FROM stories ORDER BY id DESC LIMIT 20 OFFSET $1',
  authLookup: 'SELECT id, name, email FROM accounts WHERE id = $1',
  apiLookup: 'SELECT id, email FROM accounts WHERE id = $1 LIMIT 1',
  apiList: 'SELECT id, account_id, title, created_at FROM stories ORDER BY id DESC LIMIT 20 OFFSET $1',
  batchList: 'SELECT id, account_id FROM stories ORDER BY id DESC LIMIT 20 OFFSET $1',
  batchAny: 'SELECT id, name, email FROM accounts WHERE id = ANY($1)',
} as const;

/** Account lookups per timeline row: 6 per page of 20 (fan-out ≥ 5, but below the rule's 0.5 per row). */
const AUTH_LOOKUPS_PER_ROW = 0.3;
/**
 * Pause after each request of the N+1 loops (ms): about 200 child calls per second each, well above the
 * rule's 100 per window even for a 2 s window, yet light enough to leave the other plants' sessions
 * (pool-exhaustion's always-busy worker-pool) and the check itself their CPU.
 */
const PAUSE_MS = 100;
/** Child calls each N+1 loop makes back to back before it slows down: n-plus-one's minCumulativeCalls. */
const WARMUP_CHILD_CALLS = 1_000;
/** Hard limit on the loops, should nobody call release(). */
const MAX_LOOP_MS = 10 * 60_000;

/** [role, tables it may read] */
const ROLES = [
  ['shop_feed', ['users', 'posts']],
  ['shop_profile', ['users', 'posts']],
  ['shop_social', ['accounts', 'stories']],
  ['shop_api', ['accounts', 'stories']],
  ['shop_batch', ['accounts', 'stories']],
] as const;

/** Drops the plant's roles: their grants first (DROP OWNED), then the roles. Never throws. */
async function dropRoles(adminUrl: string): Promise<void> {
  for (const [role] of ROLES) {
    await withSession(adminUrl, (c) => c.query(`drop owned by ${quoteIdent(role)}`)).catch(() => undefined /* the role may not exist yet (first run) */);
    await dropRole(adminUrl, role);
  }
}

async function plant(ctx: PlantContext): Promise<Planted> {
  const url = ctx.adminUrl;
  await withSession(url, async (c) => {
    await c.query('drop table if exists posts, users, stories, accounts');
    await c.query(LOOP_SCHEMA_SQL);
    await c.query(CONTROL_SCHEMA_SQL);
  });
  const urls: Record<string, string> = {};
  for (const [role, tables] of ROLES) {
    urls[role] = await ensureLoginRole(url, role);
    await withSession(url, (c) => c.query(`grant select on ${tables.map(quoteIdent).join(', ')} to ${quoteIdent(role)}`));
  }

  const sessions: pg.Client[] = [];
  const loops: BackgroundLoop[] = [];
  const release = async (): Promise<void> => {
    await Promise.all(loops.map((l) => l.stop()));
    await closeSessions(sessions);
    await dropRoles(url);
  };
  const open = async (role: string, app: string): Promise<pg.Client> => {
    const client = await openSession(must(urls[role], `the login URL of role ${role}`), app);
    sessions.push(client);
    return client;
  };
  try {
    const feed = await open('shop_feed', 'feed-service');
    const profile = await open('shop_profile', 'profile-service');
    const timeline = await open('shop_social', 'timeline');
    const auth = await open('shop_social', 'auth-service');
    const api = await open('shop_api', 'session-api');
    const batched = await open('shop_batch', 'feed-batched');

    // The loops browse the first pages only: deep OFFSETs would make the parents slow full reads. Their
    // first requests run back to back, up to the rule's cumulative bar (1,000 child calls), so the loops
    // are found even by a check without a window; then they serve a request every PAUSE_MS or so.
    const loopsOpts = (childrenPerRequest: number, pauseMs: number) => ({
      pauseMs,
      maxMs: MAX_LOOP_MS,
      warmup: Math.ceil(WARMUP_CHILD_CALLS / childrenPerRequest),
    });
    const feedLoop = startLoop(feed, (c, i) => listThenEach(c, BELONGS_TO, (i % 50) * 20).then(() => undefined), loopsOpts(20, PAUSE_MS));
    // Ten children per request instead of twenty: half the pause keeps the child rates alike.
    const profileLoop = startLoop(profile, (c, i) => listThenEach(c, HAS_MANY, (i % 100) * 10).then(() => undefined), loopsOpts(10, PAUSE_MS / 2));
    loops.push(feedLoop, profileLoop);

    // timeline and auth-service: the auth lookups are paced by the timeline's rows (a fixed 0.3 per row,
    // whatever the machine's speed), yet never issued from the timeline's connection.
    const social = { timelineRows: 0, authLookups: 0 };
    loops.push(
      startLoop(
        timeline,
        async (c, i) => {
          const { rowCount } = await c.query(CONTROL_TEXTS.timeline, [(i % 50) * 20]);
          social.timelineRows += rowCount ?? 0;
        },
        { pauseMs: PAUSE_MS / 2, maxMs: MAX_LOOP_MS },
      ),
    );
    loops.push(
      startLoop(
        auth,
        async (c) => {
          if (social.authLookups >= AUTH_LOOKUPS_PER_ROW * social.timelineRows) return sleep(5);
          social.authLookups++;
          await c.query(CONTROL_TEXTS.authLookup, [1 + Math.floor(Math.random() * 2000)]);
        },
        { maxMs: MAX_LOOP_MS },
      ),
    );

    loops.push(
      startLoop(api, (c, i) => lookupAndList(c, CONTROL_TEXTS.apiLookup, CONTROL_TEXTS.apiList, 2000, (i % 50) * 20), {
        pauseMs: 15,
        maxMs: MAX_LOOP_MS, // about 60 requests a second: ≥ 100 lookups in even a 2 s window
      }),
    );
    loops.push(
      startLoop(
        batched,
        (c, i) =>
          listThenBatch(
            c,
            {
              list: CONTROL_TEXTS.batchList,
              key: 'account_id',
              any: CONTROL_TEXTS.batchAny,
              inListTable: 'accounts',
            },
            (i % 50) * 20,
          ),
        { pauseMs: PAUSE_MS, maxMs: MAX_LOOP_MS },
      ),
    );

    // Every loop must be serving requests, and the N+1 loops past their warm-up, before the plant reports success.
    const ready = (): boolean =>
      loops.every((l) => l.iterations >= 3) && feedLoop.iterations >= WARMUP_CHILD_CALLS / 20 && profileLoop.iterations >= WARMUP_CHILD_CALLS / 10;
    if (!(await waitUntil(async () => ready(), 20_000, 50))) {
      throw new Error(`n-plus-one: background loops did not start (iterations ${loops.map((l) => l.iterations).join(', ')})`);
    }
  } catch (error) {
    await release();
    throw error;
  }
  ctx.log('feed-service and profile-service: N+1 loops running until the end of the demo');
  return {
    descriptions: [
      'application feed-service (role shop_feed): a page of 20 posts, then one users lookup per post (belongs-to N+1), all the time',
      'application profile-service (role shop_profile): a page of 10 users, then one posts query per user (has-many N+1), all the time',
      'controls: timeline + auth-service (role shop_social: hot account lookups, 6 per stories page, from ' +
        'another application), session-api (one lookup + one list per request), feed-batched (= ANY($1) and ' +
        'IN lists)',
    ],
    release,
  };
}

export const nPlusOneScenario: Scenario = {
  id: 'n-plus-one',
  rule: 'n-plus-one',
  title: 'N+1 query loops in two applications',
  expected: [
    { rule: 'n-plus-one', object: { type: 'query', schema: 'public', name: 'users' } },
    { rule: 'n-plus-one', object: { type: 'query', schema: 'public', name: 'posts' } },
  ],
  controls: [
    { rule: 'n-plus-one', object: { type: 'query', name: 'accounts' } },
    { rule: 'n-plus-one', object: { type: 'query', name: 'stories' } },
  ],
  plant,
};
