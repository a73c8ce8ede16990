/**
 * Connection-pool exhaustion (detection notes §5.5, §5.6), four ways: role app_user at its CONNECTION
 * LIMIT of 10; database analytics at its CONNECTION LIMIT of 5; application worker-pool pegged at 8
 * connections that are always busy; and the server's usable slots (max_connections − reserved) about
 * 86 % taken, by filling with idle batch-importer sessions whatever the other scenarios left open.
 * Healthy look-alikes: role report_user with 3 of its 10 connections, database archive with 3 of its 20,
 * a fixed-size mostly idle web-pool of 10, and the idle filler, app_user and analytics pools.
 *
 * Plant this last: the fill counts the client backends that are already there. The cluster needs a
 * small max_connections (DEMO_CLUSTER_SETTINGS: 60) so that filling it stays cheap.
 */
import type pg from 'pg';
import { must } from '../../errors/must.js';
import type { Planted, PlantContext, Scenario } from './types.js';
import { quoteIdent } from '../../sql/quote.js';
import { closeSessions, dropRole, ensureLoginRole, loopStatements, openSessions, withSession } from './sessions.js';

/** Share of the usable slots the plant fills (warning ≥ 0.8, critical ≥ 0.95 with the advisor's own 1–2). */
const TARGET_UTILISATION = 0.86;
const ROLES = ['app_user', 'report_user', 'app_service'] as const;
/** Extra databases with a CONNECTION LIMIT: [name, limit, sessions]. */
const LIMITED_DATABASES = [
  ['analytics', 5, 5],
  ['archive', 20, 3],
] as const;

/** Creates (afresh) a database with a connection limit; returns the URL of `url`'s role in it. */
async function createLimitedDatabase(adminUrl: string, url: string, name: string, limit: number): Promise<string> {
  await withSession(adminUrl, async (c) => {
    await c.query(`drop database if exists ${quoteIdent(name)} with (force)`);
    await c.query(`create database ${quoteIdent(name)} connection limit ${limit}`);
  });
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withSession(adminUrl, (c) => c.query(`drop database if exists ${quoteIdent(name)} with (force)`)).catch(
    () => undefined /* a leftover from an interrupted run, if any; the plant creates it fresh */,
  );
}

interface Capacity {
  usable: number;
  clientBackends: number;
}

async function readCapacity(adminUrl: string): Promise<Capacity> {
  return withSession(adminUrl, async (c) => {
    const { rows } = await c.query<{ usable: number; used: number }>(`
      select (current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
              - coalesce(current_setting('reserved_connections', true)::int, 0)) as usable,
             (select count(*)::int from pg_catalog.pg_stat_activity where backend_type = 'client backend') - 1 as used`);
    const row = must(rows[0], 'the capacity row (an aggregate query returns one row)');
    return { usable: row.usable, clientBackends: row.used };
  });
}

/** 20 mostly idle connections (u ≈ 0.37 with the advisor's own, at max_connections 60): the healthy look-alike on its own. */
export async function plantHealthyConnections(ctx: PlantContext): Promise<Planted> {
  const reportUrl = await ensureLoginRole(ctx.adminUrl, 'report_user', 'connection limit 10');
  const serviceUrl = await ensureLoginRole(ctx.adminUrl, 'app_service');
  const sessions: pg.Client[] = [];
  try {
    sessions.push(...(await openSessions(reportUrl, 3, 'reporting')));
    sessions.push(...(await openSessions(serviceUrl, 10, 'web-pool')));
    sessions.push(...(await openSessions(serviceUrl, 7, 'admin-tools')));
  } catch (error) {
    await closeSessions(sessions);
    throw error;
  }
  return {
    descriptions: ['20 mostly idle connections: report_user 3 of its 10, web-pool 10 idle, admin-tools 7 idle'],
    async release() {
      await closeSessions(sessions);
      for (const role of ['report_user', 'app_service']) await dropRole(ctx.adminUrl, role);
    },
  };
}

async function plant(ctx: PlantContext): Promise<Planted> {
  const appUrl = await ensureLoginRole(ctx.adminUrl, 'app_user', 'connection limit 10');
  const reportUrl = await ensureLoginRole(ctx.adminUrl, 'report_user', 'connection limit 10');
  const serviceUrl = await ensureLoginRole(ctx.adminUrl, 'app_service');
  const sessions: pg.Client[] = [];
  let workers: { stop(): Promise<void> } | null = null;
  const release = async (): Promise<void> => {
    await workers?.stop();
    await closeSessions(sessions);
    for (const [name] of LIMITED_DATABASES) await dropDatabase(ctx.adminUrl, name);
    for (const role of ROLES) await dropRole(ctx.adminUrl, role);
  };
  try {
    sessions.push(...(await openSessions(appUrl, 10, 'invoice-service')));
    sessions.push(...(await openSessions(reportUrl, 3, 'reporting')));
    sessions.push(...(await openSessions(serviceUrl, 10, 'web-pool')));
    const workerSessions = await openSessions(serviceUrl, 8, 'worker-pool');
    sessions.push(...workerSessions);
    // Long statements keep the gap between two of them (when a loaded client is slow to send the next) a tiny
    // share of the time, so a sample rarely catches a worker idle; 30 s stays far below long-running-transaction's
    // threshold, and stop() ends the sessions rather than waiting for their statements.
    workers = loopStatements(workerSessions, 'select pg_catalog.pg_sleep(30)', { endOnStop: true });
    for (const [name, limit, count] of LIMITED_DATABASES) {
      const dbUrl = await createLimitedDatabase(ctx.adminUrl, serviceUrl, name, limit);
      sessions.push(...(await openSessions(dbUrl, count, `${name}-etl`)));
    }
    const { usable, clientBackends } = await readCapacity(ctx.adminUrl);
    const fill = Math.max(0, Math.ceil(TARGET_UTILISATION * usable) - clientBackends);
    sessions.push(...(await openSessions(serviceUrl, fill, 'batch-importer')));
    ctx.log(`connections: ${clientBackends + fill} of ${usable} usable slots taken (${fill} idle batch-importer sessions)`);
    return {
      descriptions: [
        `server: ${clientBackends + fill} of ${usable} usable connection slots taken`,
        'role app_user: 10 sessions at its CONNECTION LIMIT 10',
        'database analytics: 5 sessions at its CONNECTION LIMIT 5',
        'application worker-pool: 8 connections, all busy all the time',
        'controls: role report_user (3 of 10), database archive (3 of 20), web-pool (10, idle), batch-importer, invoice-service and analytics-etl (idle pools)',
      ],
      release,
    };
  } catch (error) {
    await release();
    throw error;
  }
}

export const poolExhaustionScenario: Scenario = {
  id: 'pool-exhaustion',
  rule: 'pool-exhaustion',
  title: 'Connection slots, role and database limits, and an application pool running out',
  expected: [
    { rule: 'pool-exhaustion', object: { type: 'database' } },
    { rule: 'pool-exhaustion', object: { type: 'role', name: 'app_user' } },
    { rule: 'pool-exhaustion', object: { type: 'database', name: 'analytics' } },
    { rule: 'pool-exhaustion', object: { type: 'application', name: 'worker-pool' } },
  ],
  controls: [
    { rule: 'pool-exhaustion', object: { type: 'role', name: 'report_user' } },
    { rule: 'pool-exhaustion', object: { type: 'database', name: 'archive' } },
    { rule: 'pool-exhaustion', object: { type: 'role', name: 'app_service' } },
    { rule: 'pool-exhaustion', object: { type: 'application', name: 'web-pool' } },
    { rule: 'pool-exhaustion', object: { type: 'application', name: 'batch-importer' } },
    { rule: 'pool-exhaustion', object: { type: 'application', name: 'invoice-service' } },
    { rule: 'pool-exhaustion', object: { type: 'application', name: 'reporting' } },
    { rule: 'pool-exhaustion', object: { type: 'application', name: 'analytics-etl' } },
  ],
  plant,
};
