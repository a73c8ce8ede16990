import type { IndexStat } from '../../snapshot/types.js';
import { type CollectionContext, num, toNumber } from '../context.js';
import { LOCKED_RELATIONS_CTE, parseReloptions, SYSTEM_SCHEMA_FILTER } from './common.js';

const CURRENT_DATABASE_OID = `(select d.oid from pg_catalog.pg_database d where d.datname = pg_catalog.current_database())`;

/** Default fillfactor (percent) per access method when the index sets none. */
const DEFAULT_FILLFACTOR: Readonly<Record<string, number>> = { btree: 90, hash: 75, gist: 90, spgist: 80 };

/**
 * Indexes of user tables; key columns in order (null = expression), INCLUDE columns apart. When the index or
 * its table holds an AccessExclusiveLock, size is null and definition '' (pg_get_indexdef would wait too).
 *
 * An index is invalid while CREATE INDEX CONCURRENTLY / REINDEX CONCURRENTLY builds it and while DROP INDEX
 * CONCURRENTLY waits to remove it, so both are flagged (see IndexStat.buildInProgress and dropInProgress).
 * `builds`: relations a concurrent build in this database works on: relid and index_relid when the row is
 * visible (pg_read_all_stats, e.g. through pg_monitor); for another role's row without it (relid and command
 * null), the relations its pid holds in ShareUpdateExclusiveLock — the concurrent builds take that lock on
 * the table, while plain CREATE INDEX / REINDEX take stronger ones (and leave no invalid index behind).
 * `ddl_locked`: relations another session holds in ShareUpdateExclusiveLock (pg_locks is readable by all).
 */
export const indexesSql = (serverVersionNum: number): string => `with /* pg-advisor */ ${LOCKED_RELATIONS_CTE},
builds as (
  select b.oid from pg_catalog.pg_stat_progress_create_index p
  cross join lateral (values (p.relid), (p.index_relid)) b(oid)
  where p.datid = ${CURRENT_DATABASE_OID} and b.oid is not null
    and p.command in ('CREATE INDEX CONCURRENTLY', 'REINDEX CONCURRENTLY')
  union
  select l.relation from pg_catalog.pg_stat_progress_create_index p
  join pg_catalog.pg_locks l on l.pid = p.pid and l.database = p.datid
  where p.datid = ${CURRENT_DATABASE_OID} and p.command is null
    and l.locktype = 'relation' and l.mode = 'ShareUpdateExclusiveLock' and l.granted
),
ddl_locked as (
  select l.relation as oid from pg_catalog.pg_locks l
  where l.locktype = 'relation' and l.mode = 'ShareUpdateExclusiveLock' and l.granted
    and l.database = ${CURRENT_DATABASE_OID} and l.pid <> pg_catalog.pg_backend_pid()
),
idx as (
  select i.*, exists (select 1 from locked l where l.oid in (i.indexrelid, i.indrelid)) as locked,
    (i.indexrelid in (select oid from builds)
      or (not i.indisvalid and i.indrelid in (select oid from builds))) as build_in_progress
  from pg_catalog.pg_index i
)
select i.indexrelid as oid, n.nspname as schema, ic.relname as name, i.indrelid as table_oid, tc.relname as table,
  case when i.locked then '' else pg_catalog.pg_get_indexdef(i.indexrelid) end as definition, am.amname as method,
  array(select case when k.attnum = 0 then null else a.attname::text end
        from unnest(i.indkey::int2[]) with ordinality k(attnum, ord)
        left join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
        where k.ord <= i.indnkeyatts order by k.ord) as columns,
  array(select a.attname::text
        from unnest(i.indkey::int2[]) with ordinality k(attnum, ord)
        join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
        where k.ord > i.indnkeyatts order by k.ord) as include_columns,
  i.indisunique as is_unique, i.indisprimary as is_primary, i.indisexclusion as is_exclusion, (i.indisvalid and i.indisready) as is_valid,
  i.indisready as is_ready, i.build_in_progress,
  (not i.indisvalid and not i.build_in_progress and i.indexrelid in (select oid from ddl_locked)) as drop_in_progress,
  i.indpred is not null as is_partial, ic.relpages, ic.reltuples::float8 as reltuples, ic.reloptions,
  case when i.locked then null else pg_catalog.pg_relation_size(i.indexrelid)::float8 end as size_bytes,
  coalesce(s.idx_scan, 0)::float8 as idx_scan,
  ${serverVersionNum >= 160000 ? 'extract(epoch from pg_catalog.now() - s.last_idx_scan)::float8' : 'null::float8'} as last_idx_scan_age_seconds
from idx i
join pg_catalog.pg_class ic on ic.oid = i.indexrelid
join pg_catalog.pg_class tc on tc.oid = i.indrelid
join pg_catalog.pg_namespace n on n.oid = ic.relnamespace
join pg_catalog.pg_am am on am.oid = ic.relam
left join pg_catalog.pg_stat_all_indexes s on s.indexrelid = i.indexrelid
where tc.relkind in ('r', 'p', 'm') and ${SYSTEM_SCHEMA_FILTER}
order by n.nspname, tc.relname, ic.relname`;

interface IndexRow extends Record<string, unknown> {
  oid: number;
  schema: string;
  name: string;
  table_oid: number;
  table: string;
  definition: string;
  method: string;
  columns: (string | null)[];
  include_columns: string[];
  is_unique: boolean;
  is_primary: boolean;
  is_valid: boolean;
  is_ready: boolean;
  build_in_progress: boolean;
  drop_in_progress: boolean;
  is_partial: boolean;
  relpages: number;
  reltuples: number;
  reloptions: string[] | null;
  size_bytes: number | null;
  idx_scan: number;
  last_idx_scan_age_seconds: number | null;
  is_exclusion: boolean;
}

export async function collectIndexes(ctx: CollectionContext): Promise<IndexStat[]> {
  const rows = await ctx.target.query<IndexRow>(indexesSql(ctx.serverVersionNum));
  return rows.map((r) => {
    const fillfactor = toNumber(parseReloptions(r.reloptions).fillfactor) ?? DEFAULT_FILLFACTOR[r.method] ?? 100;
    return {
      oid: r.oid,
      schema: r.schema,
      name: r.name,
      tableOid: r.table_oid,
      table: r.table,
      definition: r.definition,
      method: r.method,
      columns: r.columns,
      includeColumns: r.include_columns,
      isUnique: r.is_unique,
      isPrimary: r.is_primary,
      isExclusion: r.is_exclusion,
      isValid: r.is_valid,
      isReady: r.is_ready,
      buildInProgress: r.build_in_progress,
      dropInProgress: r.drop_in_progress,
      isPartial: r.is_partial,
      relpages: num(r.relpages),
      reltuples: num(r.reltuples),
      sizeBytes: toNumber(r.size_bytes),
      idxScan: num(r.idx_scan),
      lastIdxScanAgeSeconds: toNumber(r.last_idx_scan_age_seconds),
      fillfactor,
    };
  });
}
