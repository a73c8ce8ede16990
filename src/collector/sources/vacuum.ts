import type { HorizonHolder, VacuumProgress, VacuumState } from '../../snapshot/types.js';
import { type CollectionContext, num, toNumber } from '../context.js';
import { nonNegative } from './activity.js';

/** pg_snapshot_xmax(pg_current_snapshot()): PostgreSQL 13+; does not consume an xid. */
export const PG_13_NEXT_XID = `pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::text::float8`;

/**
 * One statement: vacuum progress (current database), xmin horizon holders, autovacuum workers, next xid.
 * Holders: backends with backend_xmin/backend_xid (not this one, not autovacuum), prepared transactions,
 * replication slots with xmin/catalog_xmin, standbys reporting backend_xmin (hot_standby_feedback).
 */
export const VACUUM_SQL = `with /* pg-advisor */ progress as (
  select p.pid, n.nspname as schema, c.relname as "table", coalesce(p.phase, 'unknown') as phase,
    coalesce(p.heap_blks_total, 0)::float8 as "heapBlksTotal", coalesce(p.heap_blks_scanned, 0)::float8 as "heapBlksScanned",
    extract(epoch from pg_catalog.now() - a.xact_start)::float8 as "runningSeconds",
    coalesce(a.backend_type = 'autovacuum worker', false) as "isAutovacuum",
    coalesce(a.query like '%to prevent wraparound%', false) as "isWraparound"
  from pg_catalog.pg_stat_progress_vacuum p
  left join pg_catalog.pg_stat_activity a on a.pid = p.pid
  left join pg_catalog.pg_class c on c.oid = p.relid
  left join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where p.datid = (select d.oid from pg_catalog.pg_database d where d.datname = pg_catalog.current_database())
), holders as (
  select 'backend' as kind, a.pid::text as name,
    greatest(pg_catalog.age(a.backend_xmin), pg_catalog.age(a.backend_xid)) as "xminAge",
    extract(epoch from pg_catalog.now() - a.xact_start)::float8 as "ageSeconds",
    -- A snapshot whose xmin is another running transaction's xid only mirrors that transaction.
    (a.backend_xmin is null or (
      not exists (select 1 from pg_catalog.pg_stat_activity o where o.backend_xid = a.backend_xmin and o.pid <> a.pid)
      and not exists (select 1 from pg_catalog.pg_prepared_xacts px where px.transaction = a.backend_xmin))) as "ownsXmin",
    concat_ws(', ', 'state ' || a.state, 'application ' || nullif(a.application_name, ''),
              'database ' || a.datname, 'user ' || a.usename, 'backend ' || a.backend_type) as detail,
    a.datname::text as database
  from pg_catalog.pg_stat_activity a
  where (a.backend_xmin is not null or a.backend_xid is not null)
    and a.pid <> pg_catalog.pg_backend_pid() and a.backend_type <> 'autovacuum worker'
  union all
  select 'prepared-transaction', p.gid, pg_catalog.age(p.transaction),
    extract(epoch from pg_catalog.now() - p.prepared)::float8, true,
    concat_ws(', ', 'database ' || p.database, 'owner ' || p.owner), p.database::text
  from pg_catalog.pg_prepared_xacts p
  union all
  select 'replication-slot', s.slot_name::text, greatest(pg_catalog.age(s.xmin), pg_catalog.age(s.catalog_xmin)), null::float8, true,
    concat_ws(', ', 'type ' || s.slot_type, case when s.active then 'active' else 'inactive' end, 'database ' || s.database),
    null::text
  from pg_catalog.pg_replication_slots s
  where s.xmin is not null or s.catalog_xmin is not null
  union all
  select 'standby', coalesce(nullif(r.application_name, ''), r.pid::text), pg_catalog.age(r.backend_xmin),
    extract(epoch from pg_catalog.now() - r.backend_start)::float8, true,
    concat_ws(', ', 'client ' || pg_catalog.host(r.client_addr), 'state ' || r.state), null::text
  from pg_catalog.pg_stat_replication r
  where r.backend_xmin is not null
)
select (select coalesce(json_agg(progress), '[]') from progress) as progress,
  (select coalesce(json_agg(holders order by holders."xminAge" desc, holders."ownsXmin" desc), '[]') from holders) as holders,
  (select count(*)::int from pg_catalog.pg_stat_activity a where a.backend_type = 'autovacuum worker') as autovacuum_workers,
  ${PG_13_NEXT_XID} as next_xid`;

interface VacuumRow extends Record<string, unknown> {
  progress: VacuumProgress[];
  holders: HorizonHolder[];
  autovacuum_workers: number;
  next_xid: number | null;
}

export async function collectVacuum(ctx: CollectionContext): Promise<VacuumState> {
  const [row] = await ctx.target.query<VacuumRow>(VACUUM_SQL);
  if (!row) throw new Error('vacuum query returned no row');
  return {
    progress: row.progress.map((p) => ({ ...p, runningSeconds: nonNegative(p.runningSeconds) })),
    horizonHolders: row.holders.map((h) => ({
      kind: h.kind,
      name: h.name,
      xminAge: num(h.xminAge),
      ageSeconds: nonNegative(h.ageSeconds),
      ownsXmin: h.ownsXmin !== false,
      detail: h.detail,
      database: h.database ?? null,
    })),
    autovacuumWorkers: num(row.autovacuum_workers),
    nextXid: toNumber(row.next_xid),
  };
}

/** The light part of a window sample: server time, next xid and pgss dealloc (when pgss 1.9+ is there). */
export const sampleClockSql = (pgssInfo: string | null): string => `select /* pg-advisor */ pg_catalog.clock_timestamp() as collected_at,
  ${PG_13_NEXT_XID} as next_xid,
  ${pgssInfo === null ? 'null::float8' : `(select i.dealloc::float8 from ${pgssInfo}.pg_stat_statements_info i)`} as dealloc`;
