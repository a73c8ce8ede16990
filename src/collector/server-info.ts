import { quoteIdent } from '../sql/quote.js';
import type { Target } from './api.js';
import { type CollectionContext, toIso, toNumber, versionAtLeast } from './context.js';

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
  exists (select 1 from pg_catalog.pg_extension e where e.extname = 'hypopg') as hypopg,
  exists (select 1 from pg_catalog.pg_extension e where e.extname = 'pg_trgm') as pg_trgm`;

/** Whether the pgstattuple functions we call may be executed ($1 = schema name). */
export const PGSTATTUPLE_PRIVILEGE_SQL = `select /* pg-advisor */
  pg_catalog.has_function_privilege(pg_catalog.quote_ident($1) || '.pgstattuple_approx(regclass)', 'execute')
  and pg_catalog.has_function_privilege(pg_catalog.quote_ident($1) || '.pgstatindex(regclass)', 'execute') as usable`;

/** Whether pg_stat_statements is in shared_preload_libraries (may be hidden from non-superusers). */
export const PRELOAD_SQL = `select /* pg-advisor */ pg_catalog.current_setting('shared_preload_libraries') as libraries`;

/** pg_stat_statements_info (pgss 1.9+); also proves the library is loaded. */
export const pgssInfoSql = (schema: string): string =>
  `select /* pg-advisor */ i.dealloc::float8 as dealloc, i.stats_reset from ${schema}.pg_stat_statements_info i`;

/** Before 1.9 there is no info view: probe the function instead. */
export const pgssProbeSql = (schema: string): string =>
  `select /* pg-advisor */ 1 as one from ${schema}.pg_stat_statements(false) limit 1`;

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
  hypopg: boolean;
  pg_trgm: boolean;
}

/** Versions, identity and capabilities of the connection. Required: errors propagate. */
export async function collectServerInfo(target: Target): Promise<CollectionContext> {
  const [row] = await target.query<ServerInfoRow>(SERVER_INFO_SQL);
  if (!row) throw new Error('server info query returned no row');
  const pgssSchema = row.pgss_schema === null ? null : quoteIdent(row.pgss_schema);
  let pgssLoaded = false;
  let pgssDealloc: number | null = null;
  let pgssStatsReset: string | null = null;
  if (pgssSchema !== null) {
    try {
      if (versionAtLeast(row.pgss_version, '1.9')) {
        const [info] = await target.query<{ dealloc: number; stats_reset: Date | null }>(pgssInfoSql(pgssSchema));
        pgssDealloc = toNumber(info?.dealloc);
        pgssStatsReset = toIso(info?.stats_reset);
      } else {
        await target.query(pgssProbeSql(pgssSchema));
      }
      pgssLoaded = true;
    } catch {
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
  if (row.pgstattuple_schema !== null) {
    const [priv] = await target.query<{ usable: boolean }>(PGSTATTUPLE_PRIVILEGE_SQL, [row.pgstattuple_schema]);
    pgstattuple = priv?.usable === true;
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
    collectedAt: toIso(row.collected_at) ?? new Date().toISOString(),
  };
}
