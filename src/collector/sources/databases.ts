import type { DatabaseStat } from '../../snapshot/types.js';
import { type CollectionContext, num, toNumber } from '../context.js';

/** pg_stat_database.sessions: PostgreSQL 14+. */
const PG_14 = `s.sessions::float8 as sessions`;

/**
 * pg_database_size needs CONNECT on the database or pg_read_all_stats; checked per row, never raised.
 * stats_observed_seconds: how long the database's cumulative statistics have been counting: since
 * pg_stat_database.stats_reset, or, never reset, since the server started (a lower bound: statistics survive a
 * clean restart, and are discarded after a crash, at that start).
 */
export const databasesSql = (serverVersionNum: number): string => `select /* pg-advisor */ d.oid, d.datname as name,
  d.datconnlimit as conn_limit, d.datallowconn as allow_conn, d.datistemplate as is_template,
  pg_catalog.age(d.datfrozenxid) as xid_age, pg_catalog.mxid_age(d.datminmxid) as mxid_age,
  (select count(*)::int from pg_catalog.pg_stat_activity a
    where a.datid = d.oid and a.backend_type = 'client backend') as backends,
  ${serverVersionNum >= 140000 ? PG_14 : 'null::float8 as sessions'},
  case when pg_catalog.has_database_privilege(d.oid, 'CONNECT')
         or pg_catalog.pg_has_role(current_user, 'pg_read_all_stats', 'member')
       then pg_catalog.pg_database_size(d.oid)::float8 end as size_bytes,
  extract(epoch from pg_catalog.now() - coalesce(s.stats_reset, pg_catalog.pg_postmaster_start_time()))::float8 as stats_observed_seconds,
  s.stats_reset is not null as stats_reset_known
  from pg_catalog.pg_database d
  left join pg_catalog.pg_stat_database s on s.datid = d.oid
  order by d.datname`;

interface DatabaseRow extends Record<string, unknown> {
  oid: number;
  name: string;
  conn_limit: number;
  allow_conn: boolean;
  is_template: boolean;
  xid_age: number;
  mxid_age: number;
  backends: number;
  sessions: number | null;
  size_bytes: number | null;
  stats_observed_seconds: number | null;
  stats_reset_known: boolean;
}

export async function collectDatabases(ctx: CollectionContext): Promise<DatabaseStat[]> {
  const rows = await ctx.target.query<DatabaseRow>(databasesSql(ctx.serverVersionNum));
  return rows.map((r) => ({
    oid: r.oid,
    name: r.name,
    connLimit: r.conn_limit,
    allowConn: r.allow_conn,
    isTemplate: r.is_template,
    xidAge: num(r.xid_age),
    mxidAge: num(r.mxid_age),
    backends: num(r.backends),
    sessions: toNumber(r.sessions),
    sizeBytes: toNumber(r.size_bytes),
    statsObservedSeconds: toNumber(r.stats_observed_seconds),
    statsObservedFrom: r.stats_reset_known ? 'stats_reset' : 'server_start',
  }));
}
