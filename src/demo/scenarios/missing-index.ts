/**
 * Missing indexes (detection notes §2.4, §2.5): application order-history (role shop_orders) looks up
 * the latest orders of one customer (`orders` 200k rows, no index on customer_id: a full read for
 * about 9 rows) and the last hour of one account's events (`events` 200k rows, account_id has only 50
 * values, so the time range belongs in the index too). Healthy look-alikes in the same application: a
 * status aggregate (90 % of orders are 'done': an index would not help), a GROUP BY status report (no
 * predicate), orders by seller_id (already indexed), and point lookups hammering two tiny tables
 * (countries 60 rows, settings 40 rows without any index: a sequential scan is the right plan).
 *
 * The statements run while planting (110 requests over two connections, about 3–4 s), so the rule judges
 * them on the cumulative counters. The advisor role cannot read pg_stats (pg_monitor only), so the
 * selectivity comes from rows per call. Look-alikes on orders itself cannot be told apart from the
 * planted finding by the scenario's object match (table name only): the integration test
 * test/integration/query-rules.test.ts checks the exact suggestions for the same statements.
 */
import type pg from 'pg';
import { quoteIdent } from '../../sql/quote.js';
import { indexWorkload, INDEX_SCHEMA_SQL } from './query-workloads.js';
import { closeSessions, dropRole, ensureLoginRole, openSessions, withSession } from './sessions.js';
import type { Planted, PlantContext, Scenario } from './types.js';

const ROLE = 'shop_orders';
const TABLES = ['orders', 'events', 'countries', 'settings'] as const;
/** Requests run while planting: 110 calls of each slow statement — past the rule's warning bar (≥ 100 calls at ≥ 20 ms mean). */
const REQUESTS = 110;
const CLIENTS = 2;

async function dropPlantRole(adminUrl: string): Promise<void> {
  await withSession(adminUrl, (c) => c.query(`drop owned by ${quoteIdent(ROLE)}`)).catch(() => undefined /* the role may not exist yet (first run) */);
  await dropRole(adminUrl, ROLE);
}

async function plant(ctx: PlantContext): Promise<Planted> {
  const url = ctx.adminUrl;
  await withSession(url, async (c) => {
    await c.query(`drop table if exists ${TABLES.join(', ')}`);
    await c.query(INDEX_SCHEMA_SQL);
  });
  const appUrl = await ensureLoginRole(url, ROLE);
  await withSession(url, (c) => c.query(`grant select on ${TABLES.map(quoteIdent).join(', ')} to ${quoteIdent(ROLE)}`));

  let sessions: pg.Client[] = [];
  try {
    sessions = await openSessions(appUrl, CLIENTS, 'order-history');
    let next = 0;
    await Promise.all(
      sessions.map(async (client) => {
        for (let i = next++; i < REQUESTS; i = next++) await indexWorkload(client, i, { lookups: 10 });
      }),
    );
  } catch (error) {
    await closeSessions(sessions);
    await dropPlantRole(url);
    throw error;
  }
  await closeSessions(sessions);
  ctx.log(`order-history: ${REQUESTS} requests, each reading all of orders and events for a handful of rows`);
  return {
    descriptions: [
      'public.orders (200,000 rows): the latest orders of one customer, WHERE customer_id = $1, with no index on customer_id',
      "public.events (200,000 rows): one account's last hour, WHERE account_id = $1 AND created_at >= $2 (50 accounts: the range belongs in the index)",
      "controls: orders by status (90 % 'done'), a GROUP BY status report, orders by seller_id (indexed), " +
        'public.countries (60 rows) and public.settings (40 rows) hammered by point lookups',
    ],
    release: () => dropPlantRole(url),
  };
}

export const missingIndexScenario: Scenario = {
  id: 'missing-index',
  rule: 'missing-index',
  title: 'Statements reading whole tables for a few rows',
  expected: [
    { rule: 'missing-index', object: { type: 'table', schema: 'public', name: 'orders' } },
    { rule: 'missing-index', object: { type: 'table', schema: 'public', name: 'events' } },
  ],
  controls: [
    { rule: 'missing-index', object: { type: 'table', name: 'countries' } },
    { rule: 'missing-index', object: { type: 'table', name: 'settings' } },
  ],
  plant,
};
