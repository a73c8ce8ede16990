import { quoteIdent } from '../sql/quote.js';
import type { Target } from './api.js';
import { type CollectionContext, toIso, toNumber, versionAtLeast } from './context.js';
import { isConnectionLost } from './source-status.js';

export const SERVER_INFO_SQL = `select /* pg-advisor */
  pg_catalog.current_setting('server_version_num')::int as server_version_num,
  pg_catalog.current_setting('server_version') as server_version,
  pg_catalog.current_database() as database,
  (select d.oid from pg_catalog.pg_database d where d.datname = pg_catalog.current_database()) as database_oid,
  current_user as current_user,
  pg_catalog.current_schemas(false)::text[] as search_path,
  pg_catalog.now() as collected_at,
  coalesce((select r.rolsuper from pg_catalog.pg_roles r where r.rolname = current_user), false) as superuser,
  pg_catalog.pg_has_role(current_user, 'pg_monitor', 'member') as pg_monitor,
  pg_catalog.pg_has_role(current_user, 'pg_read_all_stats', 'member') as read_all_stats,
  (select e.extversion from pg_catalog.pg_extension e where e.extname = 'pg_stat_statements') as pgss_version,
  (select n.nspname from pg_catalog.pg_extension e join pg_catalog.pg_namespace n on n.oid = e.extnamespace
    where e.extname = 'pg_stat_statements') as pgss_schema,
  (select n.nspname from pg_catalog.pg_extension e join pg_catalog.pg_namespace n on n.oid = e.extnamespace
    where e.extname = 'pgstattuple') as pgstattuple_schema,
  (select pg_catalog.has_schema_privilege(e.extnamespace, 'USAGE') from pg_catalog.pg_extension e
    where e.extname = 'pg_stat_statements') as pgss_schema_usage,
  (select pg_catalog.has_schema_privilege(e.extnamespace, 'USAGE') from pg_catalog.pg_extension e
    where e.extname = 'pgstattuple') as pgstattuple_schema_usage,
  exists (select 1 from pg_catalog.pg_extension e where e.extname = 'hypopg') as hypopg,
  exists (select 1 from pg_catalog.pg_extension e where e.extname = 'pg_trgm') as pg_trgm,
  pg_catalog.pg_is_in_recovery() as in_recovery,
  pg_catalog.current_setting('compute_query_id', true) as compute_query_id`;

/**
 * Whether the pgstattuple functions we call may be executed ($1 = schema name). By oid, not by name: resolving
 * `schema.function` needs USAGE on the schema and would raise an error instead of answering false.
 */
export const PGSTATTUPLE_PRIVILEGE_SQL = `select /* pg-advisor */
  count(distinct p.proname) = 2 and coalesce(bool_and(pg_catalog.has_function_privilege(p.oid, 'execute')), false) as usable
  from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
  where n.nspname = $1 and p.proname in ('pgstattuple_approx', 'pgstatindex')
    and p.pronargs = 1 and p.proargtypes[0] = 'pg_catalog.regclass'::pg_catalog.regtype`;

/** Whether pg_stat_statements is in shared_preload_libraries (may be hidden from non-superusers). */
export const PRELOAD_SQL = `select /* pg-advisor */ pg_catalog.current_setting('shared_preload_libraries') as libraries`;

/** pg_stat_statements_info (pgss 1.9+); also proves the library is loaded. */
export const pgssInfoSql = (schema: string): string =>
  `select /* pg-advisor */ i.dealloc::float8 as dealloc, i.stats_reset from ${schema}.pg_stat_statements_info i`;

/** Before 1.9 there is no info view: probe the function instead. */
export const pgssProbeSql = (schema: string): string => `select /* pg-advisor */ 1 as one from ${schema}.pg_stat_statements(false) limit 1`;

interface ServerInfoRow extends Record<string, unknown> {
  server_version_num: number;
  server_version: string;
  database: string;
  database_oid: number;
  current_user: string;
  search_path: string[];
  collected_at: Date;
  superuser: boolean;
  pg_monitor: boolean;
  read_all_stats: boolean;
  pgss_version: string | null;
  pgss_schema: string | null;
  pgstattuple_schema: string | null;
  pgss_schema_usage: boolean | null;
  pgstattuple_schema_usage: boolean | null;
  hypopg: boolean;
  pg_trgm: boolean;
  in_recovery: boolean;
  /** compute_query_id (PG14+), null before. */
  compute_query_id: string | null;
}

/**
 * Versions, identity and capabilities of the connection. The identity query is required (its errors
 * propagate); capability probes never fail the collection: a probe that errors means "not usable".
 */
export async function collectServerInfo(target: Target): Promise<CollectionContext> {
  const [row] = await target.query<ServerInfoRow>(SERVER_INFO_SQL);
  if (!row) throw new Error('server info query returned no row');
  const pgssSchema = row.pgss_schema === null ? null : quoteIdent(row.pgss_schema);
  const pgssSchemaDenied = row.pgss_schema !== null && row.pgss_schema_usage === false ? row.pgss_schema : null;
  const pgstattupleSchemaDenied = row.pgstattuple_schema !== null && row.pgstattuple_schema_usage === false ? row.pgstattuple_schema : null;
  let pgssLoaded = false;
  let pgssDealloc: number | null = null;
  let pgssStatsReset: string | null = null;
  if (pgssSchema !== null && pgssSchemaDenied === null) {
    try {
      if (versionAtLeast(row.pgss_version, '1.9')) {
        const [info] = await target.query<{ dealloc: number; stats_reset: Date | null }>(pgssInfoSql(pgssSchema));
        pgssDealloc = toNumber(info?.dealloc);
        pgssStatsReset = toIso(info?.stats_reset);
      } else {
        await target.query(pgssProbeSql(pgssSchema));
      }
      pgssLoaded = true;
    } catch (error) {
      if (isConnectionLost(error)) throw error;
      pgssLoaded = false; // 55000: "must be loaded via shared_preload_libraries"
    }
  } else {
    try {
      const [preload] = await target.query<{ libraries: string }>(PRELOAD_SQL);
      pgssLoaded = /(^|[\s,])"?pg_stat_statements"?($|[\s,])/.test(preload?.libraries ?? '');
    } catch {
      pgssLoaded = false; // hidden from this role; the extension is missing anyway
    }
  }
  let pgstattuple = false;
  if (row.pgstattuple_schema !== null && pgstattupleSchemaDenied === null) {
    try {
      const [priv] = await target.query<{ usable: boolean }>(PGSTATTUPLE_PRIVILEGE_SQL, [row.pgstattuple_schema]);
      pgstattuple = priv?.usable === true;
    } catch (error) {
      if (isConnectionLost(error)) throw error;
      pgstattuple = false; // the probe itself failed: measure nothing, estimates still run
    }
  }
  return {
    target,
    serverVersionNum: row.server_version_num,
    serverVersion: row.server_version,
    database: row.database,
    databaseOid: row.database_oid,
    currentUser: row.current_user,
    searchPath: row.search_path,
    capabilities: {
      superuser: row.superuser,
      pgMonitor: row.pg_monitor || row.superuser,
      readAllStats: row.read_all_stats || row.superuser,
      pgssLoaded,
      pgssVersion: row.pgss_version,
      pgstattuple,
      hypopg: row.hypopg,
      pgTrgm: row.pg_trgm,
    },
    pgssSchema,
    pgstattupleSchema: row.pgstattuple_schema === null ? null : quoteIdent(row.pgstattuple_schema),
    pgssStatsReset,
    pgssDealloc,
    pgssSchemaDenied,
    pgstattupleSchemaDenied,
    inRecovery: row.in_recovery === true,
    computeQueryId: row.compute_query_id,
    collectedAt: toIso(row.collected_at) ?? new Date().toISOString(),
  };
}
