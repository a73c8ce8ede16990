/**
 * Session plumbing for the planted scenarios: plain `pg` clients (the embedded packages ship no psql).
 *
 * Statistics traps (detection notes §0): a backend flushes its table counters at most once a second and
 * an idle one may hold them back for several seconds; a backend that exits flushes at once. So DML runs in a session that is
 * closed right after, the plant waits until the counters are visible, and VACUUM runs in another session.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { quoteIdent, quoteLiteral } from '../../sql/quote.js';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A connected client; server-side errors of an idle client (terminated backend) are swallowed. */
export async function openSession(url: string, applicationName = 'pg-advisor-demo'): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: applicationName });
  client.on('error', () => {
    // a session the server ends shows up as the next query's error
  });
  await client.connect();
  return client;
}

/** Runs `body` on a fresh session that is closed afterwards (which flushes its statistics). */
export async function withSession<T>(url: string, body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await openSession(url);
  try {
    return await body(client);
  } finally {
    await client.end().catch(() => undefined /* closing a planted session is best effort: the server is removed at exit */);
  }
}

/** Runs each statement in its own fresh session, one after the other. */
export async function runInFreshSessions(url: string, statements: readonly string[]): Promise<void> {
  for (const sql of statements) await withSession(url, (c) => c.query(sql));
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns whether it became true. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

export interface TableCounters {
  nTupIns: number;
  nTupUpd: number;
  nTupDel: number;
  nDeadTup: number;
  vacuumCount: number;
  autovacuumCount: number;
}

/** Current pg_stat_user_tables counters of public.<table> (zeros when the table has no stats yet). */
export async function readTableCounters(url: string, table: string): Promise<TableCounters> {
  return withSession(url, async (c) => {
    const { rows } = await c.query<Record<string, string>>(
      `select n_tup_ins, n_tup_upd, n_tup_del, n_dead_tup, vacuum_count, autovacuum_count
         from pg_catalog.pg_stat_user_tables where schemaname = 'public' and relname = $1`,
      [table],
    );
    const r = rows[0];
    const n = (k: string): number => Number(r?.[k] ?? 0);
    return {
      nTupIns: n('n_tup_ins'),
      nTupUpd: n('n_tup_upd'),
      nTupDel: n('n_tup_del'),
      nDeadTup: n('n_dead_tup'),
      vacuumCount: n('vacuum_count'),
      autovacuumCount: n('autovacuum_count'),
    };
  });
}

/**
 * Waits until the cumulative statistics show at least `min` for each given counter of public.<table>;
 * throws when they do not within `timeoutMs` (a plant must never go on with stale counters).
 */
export async function waitForCounters(url: string, table: string, min: Partial<TableCounters>, timeoutMs = 15_000): Promise<TableCounters> {
  let last: TableCounters | null = null;
  const ok = await waitUntil(async () => {
    last = await readTableCounters(url, table);
    return Object.entries(min).every(([k, v]) => (last as TableCounters)[k as keyof TableCounters] >= (v ?? 0));
  }, timeoutMs);
  if (!ok) {
    throw new Error(`statistics of public.${table} did not reach ${JSON.stringify(min)} within ${timeoutMs} ms (last ${JSON.stringify(last)})`);
  }
  return last as unknown as TableCounters;
}

/** The URL of `adminUrl`'s server and database for another role. */
export function urlForRole(adminUrl: string, role: string, password: string): string {
  const u = new URL(adminUrl);
  u.username = encodeURIComponent(role);
  u.password = encodeURIComponent(password);
  return u.toString();
}

/** Creates (or resets) a LOGIN role with a fresh password; returns its URL for adminUrl's database. */
export async function ensureLoginRole(adminUrl: string, role: string, attributes = ''): Promise<string> {
  const password = randomBytes(9).toString('hex');
  await withSession(adminUrl, async (c) => {
    const { rowCount } = await c.query('select 1 from pg_catalog.pg_roles where rolname = $1', [role]);
    const verb = rowCount ? 'alter' : 'create';
    await c.query(`${verb} role ${quoteIdent(role)} login password ${quoteLiteral(password)} ${attributes}`);
  });
  return urlForRole(adminUrl, role, password);
}

/** Drops a role created by a plant; ignores errors (sessions may still be closing). */
export async function dropRole(adminUrl: string, role: string): Promise<void> {
  await withSession(adminUrl, (c) => c.query(`drop role if exists ${quoteIdent(role)}`)).catch(
    () => undefined /* a leftover from an interrupted run, if any */,
  );
}

/** Opens `count` sessions (a few at a time: scram authentication costs CPU on both ends). */
export async function openSessions(url: string, count: number, applicationName: string): Promise<pg.Client[]> {
  const clients: pg.Client[] = [];
  const batch = 5;
  try {
    for (let i = 0; i < count; i += batch) {
      const n = Math.min(batch, count - i);
      clients.push(...(await Promise.all(Array.from({ length: n }, () => openSession(url, applicationName)))));
    }
  } catch (error) {
    await closeSessions(clients);
    throw error;
  }
  return clients;
}

export async function closeSessions(clients: readonly pg.Client[]): Promise<void> {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined /* closing a planted session is best effort */)));
}

/**
 * Keeps each client running `statement` back to back until stopped (a busy application pool).
 * A failing statement ends that client's loop. With `endOnStop`, stop() ends the clients instead of waiting
 * for their statements (for long statements); their backends notice within client_connection_check_interval.
 */
export function loopStatements(clients: readonly pg.Client[], statement: string, options: { readonly endOnStop?: boolean } = {}): { stop(): Promise<void> } {
  let stopped = false;
  const loops = clients.map(async (client) => {
    try {
      if (options.endOnStop) await client.query("set client_connection_check_interval = '250ms'");
      while (!stopped) await client.query(statement);
    } catch {
      // The statement failed or stop() ended the client: this loop is over.
    }
  });
  return {
    async stop() {
      stopped = true;
      if (options.endOnStop) await closeSessions(clients);
      await Promise.all(loops);
    },
  };
}
