import type { Backend } from '../../snapshot/types.js';
import { type CollectionContext, toNumber } from '../context.js';

/** query_id: PostgreSQL 14+. */
const PG_14 = `a.query_id::text as query_id`;

/**
 * blocked_by: pg_blocking_pids() only for sessions waiting on a heavyweight lock (it takes the lock manager's
 * partition locks, so never for every session; pganalyze does the same).
 */
export const activitySql = (serverVersionNum: number): string => `select /* pg-advisor */ a.pid, a.datname as database,
  a.usename as user_name, coalesce(a.application_name, '') as application_name, pg_catalog.host(a.client_addr) as client_addr,
  a.state, a.wait_event_type, a.wait_event,
  extract(epoch from pg_catalog.now() - a.backend_start)::float8 as backend_age_seconds,
  extract(epoch from pg_catalog.now() - a.xact_start)::float8 as xact_age_seconds,
  extract(epoch from pg_catalog.now() - a.state_change)::float8 as state_age_seconds,
  extract(epoch from pg_catalog.now() - a.query_start)::float8 as query_age_seconds,
  ${serverVersionNum >= 140000 ? PG_14 : 'null::text as query_id'},
  pg_catalog.age(a.backend_xmin) as xmin_age, pg_catalog.age(a.backend_xid) as xid_age,
  a.pid = pg_catalog.pg_backend_pid() as is_self,
  case when a.wait_event_type = 'Lock' then pg_catalog.pg_blocking_pids(a.pid) end as blocked_by
  from pg_catalog.pg_stat_activity a
  where a.backend_type = 'client backend'
  order by a.pid`;

interface ActivityRow extends Record<string, unknown> {
  pid: number;
  database: string | null;
  user_name: string | null;
  application_name: string;
  client_addr: string | null;
  state: string | null;
  wait_event_type: string | null;
  wait_event: string | null;
  backend_age_seconds: number | null;
  xact_age_seconds: number | null;
  state_age_seconds: number | null;
  query_age_seconds: number | null;
  query_id: string | null;
  xmin_age: number | null;
  xid_age: number | null;
  is_self: boolean;
  blocked_by: number[] | null;
}

/** Client backends of the whole server (ages computed by the server, never negative). */
export async function collectActivity(ctx: CollectionContext): Promise<Backend[]> {
  const rows = await ctx.target.query<ActivityRow>(activitySql(ctx.serverVersionNum));
  return rows.map((r) => ({
    pid: r.pid,
    database: r.database,
    userName: r.user_name,
    applicationName: r.application_name,
    clientAddr: r.client_addr,
    state: r.state,
    waitEventType: r.wait_event_type,
    waitEvent: r.wait_event,
    backendAgeSeconds: nonNegative(r.backend_age_seconds),
    xactAgeSeconds: nonNegative(r.xact_age_seconds),
    stateAgeSeconds: nonNegative(r.state_age_seconds),
    queryAgeSeconds: nonNegative(r.query_age_seconds),
    queryId: r.query_id === '0' ? null : r.query_id,
    xminAge: toNumber(r.xmin_age),
    xidAge: toNumber(r.xid_age),
    isSelf: r.is_self,
    blockedBy: r.blocked_by ?? [],
  }));
}

/** now() is the transaction start, so a statement started after it gives a tiny negative age. */
export function nonNegative(value: unknown): number | null {
  const n = toNumber(value);
  return n === null ? null : Math.max(0, n);
}
