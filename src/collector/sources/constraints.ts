import type { ConstraintStat } from '../../snapshot/types.js';
import type { CollectionContext } from '../context.js';
import { SYSTEM_SCHEMA_FILTER } from './common.js';

/** Primary key, unique and foreign key constraints with their columns in constraint order. */
export const CONSTRAINTS_SQL = `select /* pg-advisor */ n.nspname as schema, c.relname as table, con.conrelid as table_oid,
  con.conname as name, con.contype::text as type,
  array(select a.attname::text from unnest(con.conkey) with ordinality k(attnum, ord)
        join pg_catalog.pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum order by k.ord) as columns,
  rn.nspname as ref_schema, rc.relname as ref_table, case when con.contype = 'f' then con.confrelid end as ref_table_oid,
  array(select a.attname::text from unnest(coalesce(con.confkey, '{}'::int2[])) with ordinality k(attnum, ord)
        join pg_catalog.pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum order by k.ord) as ref_columns
from pg_catalog.pg_constraint con
join pg_catalog.pg_class c on c.oid = con.conrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
left join pg_catalog.pg_class rc on rc.oid = con.confrelid and con.contype = 'f'
left join pg_catalog.pg_namespace rn on rn.oid = rc.relnamespace
where con.contype in ('p', 'u', 'f') and ${SYSTEM_SCHEMA_FILTER}
order by n.nspname, c.relname, con.conname`;

interface ConstraintRow extends Record<string, unknown> {
  schema: string;
  table: string;
  table_oid: number;
  name: string;
  type: 'p' | 'u' | 'f';
  columns: string[];
  ref_schema: string | null;
  ref_table: string | null;
  ref_table_oid: number | null;
  ref_columns: string[];
}

export async function collectConstraints(ctx: CollectionContext): Promise<ConstraintStat[]> {
  const rows = await ctx.target.query<ConstraintRow>(CONSTRAINTS_SQL);
  return rows.map((r) => ({
    schema: r.schema,
    table: r.table,
    tableOid: r.table_oid,
    name: r.name,
    type: r.type,
    columns: r.columns,
    refSchema: r.ref_schema,
    refTable: r.ref_table,
    refTableOid: r.ref_table_oid,
    refColumns: r.ref_columns,
  }));
}
