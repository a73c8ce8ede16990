import type { TableStat } from '../../snapshot/types.js';
import { type CollectionContext, num, toNumber } from '../context.js';
import { nonNegative } from './activity.js';
import { LOCKED_RELATIONS_CTE, parseReloptions, SYSTEM_SCHEMA_FILTER } from './common.js';

const SIZES = `case when not rel.locked then pg_catalog.pg_relation_size(rel.oid)::float8 end as heap_bytes,
  case when not rel.locked then pg_catalog.pg_total_relation_size(rel.oid)::float8 end as total_bytes`;

/**
 * Tables, partitioned tables and matviews in user schemas. Sizes are skipped (null, locked = true) when the
 * table, its toast table or one of its indexes holds an AccessExclusiveLock: the size functions would wait.
 */
export const tablesSql = (withSizes: boolean): string => `with /* pg-advisor */ ${LOCKED_RELATIONS_CTE},
rel as (
  select c.oid, n.nspname as schema, c.relname as name, c.relkind::text as kind, c.relpages, c.reltuples::float8 as reltuples,
    c.relallvisible, c.reloptions, c.relfrozenxid, c.relminmxid, t.relfrozenxid as toast_frozenxid,
    exists (select 1 from locked l where l.oid = c.oid or l.oid = c.reltoastrelid
            or l.oid in (select i.indexrelid from pg_catalog.pg_index i where i.indrelid = c.oid)) as locked
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  left join pg_catalog.pg_class t on t.oid = c.reltoastrelid
  where c.relkind in ('r', 'p', 'm') and ${SYSTEM_SCHEMA_FILTER}
)
select rel.oid, rel.schema, rel.name, rel.kind, rel.relpages, rel.reltuples, rel.relallvisible, rel.reloptions, rel.locked,
  ${withSizes ? SIZES : 'null::float8 as heap_bytes, null::float8 as total_bytes'},
  s.n_live_tup::float8 as n_live_tup, s.n_dead_tup::float8 as n_dead_tup,
  s.n_mod_since_analyze::float8 as n_mod_since_analyze, s.n_ins_since_vacuum::float8 as n_ins_since_vacuum,
  s.seq_scan::float8 as seq_scan, s.seq_tup_read::float8 as seq_tup_read, coalesce(s.idx_scan, 0)::float8 as idx_scan,
  s.n_tup_ins::float8 as n_tup_ins, s.n_tup_upd::float8 as n_tup_upd, s.n_tup_del::float8 as n_tup_del,
  s.n_tup_hot_upd::float8 as n_tup_hot_upd,
  extract(epoch from pg_catalog.now() - s.last_vacuum)::float8 as last_vacuum_age,
  extract(epoch from pg_catalog.now() - s.last_autovacuum)::float8 as last_autovacuum_age,
  extract(epoch from pg_catalog.now() - s.last_analyze)::float8 as last_analyze_age,
  extract(epoch from pg_catalog.now() - s.last_autoanalyze)::float8 as last_autoanalyze_age,
  s.vacuum_count::float8 as vacuum_count, s.autovacuum_count::float8 as autovacuum_count,
  s.analyze_count::float8 as analyze_count, s.autoanalyze_count::float8 as autoanalyze_count,
  case when rel.kind = 'p' then 0
       else greatest(pg_catalog.age(rel.relfrozenxid), pg_catalog.age(rel.toast_frozenxid)) end as xid_age,
  case when rel.kind = 'p' then 0 else pg_catalog.mxid_age(rel.relminmxid) end as mxid_age
from rel
left join pg_catalog.pg_stat_all_tables s on s.relid = rel.oid
order by rel.schema, rel.name`;

interface TableRow extends Record<string, unknown> {
  oid: number;
  schema: string;
  name: string;
  kind: 'r' | 'p' | 'm';
  relpages: number;
  reltuples: number;
  relallvisible: number;
  reloptions: string[] | null;
  locked: boolean;
  heap_bytes: number | null;
  total_bytes: number | null;
  [counter: string]: unknown;
}

/** `withSizes: false` (light window samples) reads counters only; sizes are then null. */
export async function collectTables(ctx: CollectionContext, options: { withSizes?: boolean } = {}): Promise<TableStat[]> {
  const rows = await ctx.target.query<TableRow>(tablesSql(options.withSizes ?? true));
  return rows.map((r) => ({
    oid: r.oid,
    schema: r.schema,
    name: r.name,
    kind: r.kind,
    relpages: num(r.relpages),
    reltuples: num(r.reltuples),
    relallvisible: num(r.relallvisible),
    heapBytes: toNumber(r.heap_bytes),
    totalBytes: toNumber(r.total_bytes),
    reloptions: parseReloptions(r.reloptions),
    nLiveTup: num(r.n_live_tup),
    nDeadTup: num(r.n_dead_tup),
    nModSinceAnalyze: num(r.n_mod_since_analyze),
    nInsSinceVacuum: num(r.n_ins_since_vacuum),
    seqScan: num(r.seq_scan),
    seqTupRead: num(r.seq_tup_read),
    idxScan: num(r.idx_scan),
    nTupIns: num(r.n_tup_ins),
    nTupUpd: num(r.n_tup_upd),
    nTupDel: num(r.n_tup_del),
    nTupHotUpd: num(r.n_tup_hot_upd),
    lastVacuumAgeSeconds: nonNegative(r.last_vacuum_age),
    lastAutovacuumAgeSeconds: nonNegative(r.last_autovacuum_age),
    lastAnalyzeAgeSeconds: nonNegative(r.last_analyze_age),
    lastAutoanalyzeAgeSeconds: nonNegative(r.last_autoanalyze_age),
    vacuumCount: num(r.vacuum_count),
    autovacuumCount: num(r.autovacuum_count),
    analyzeCount: num(r.analyze_count),
    autoanalyzeCount: num(r.autoanalyze_count),
    xidAge: num(r.xid_age),
    mxidAge: num(r.mxid_age),
    locked: r.locked,
  }));
}
