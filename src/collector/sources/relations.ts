import type { RelationsState } from '../../snapshot/types.js';
import { type CollectionContext, num } from '../context.js';
import { SYSTEM_SCHEMA_FILTER } from './common.js';

/**
 * Views of user schemas with their definitions, so a statement on a view can be resolved to the base table
 * it reads (missing-index). Views of extensions (pg_stat_statements …) are left out. pg_get_viewdef needs no
 * privilege on the view (pg_monitor suffices); PG 15–18.
 */
export const VIEWS_SQL = `select /* pg-advisor */ c.oid, n.nspname as schema, c.relname as name,
  pg_catalog.pg_get_viewdef(c.oid) as definition
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where c.relkind = 'v' and ${SYSTEM_SCHEMA_FILTER}
  and not exists (select 1 from pg_catalog.pg_depend d
                  where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass and d.objid = c.oid and d.deptype = 'e')
order by n.nspname, c.relname`;

/** Partitions of user schemas and the root of their tree (an index is recommended on the root). PG 12+. */
export const PARTITIONS_SQL = `select /* pg-advisor */ c.oid, pg_catalog.pg_partition_root(c.oid)::oid as root_oid
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where c.relispartition and c.relkind in ('r', 'p') and ${SYSTEM_SCHEMA_FILTER}
order by c.oid`;

interface ViewRow extends Record<string, unknown> {
  oid: number;
  schema: string;
  name: string;
  definition: string | null;
}

interface PartitionRow extends Record<string, unknown> {
  oid: number;
  root_oid: number | null;
}

export async function collectRelations(ctx: CollectionContext): Promise<RelationsState> {
  const views = await ctx.target.query<ViewRow>(VIEWS_SQL);
  const partitions = await ctx.target.query<PartitionRow>(PARTITIONS_SQL);
  return {
    views: views.flatMap((v) => (v.definition === null ? [] : [{ oid: num(v.oid), schema: v.schema, name: v.name, definition: v.definition }])),
    partitions: partitions.filter((p) => p.root_oid !== null).map((p) => ({ oid: num(p.oid), rootOid: num(p.root_oid) })),
  };
}
