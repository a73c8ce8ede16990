import type { ColumnStat } from '../../snapshot/types.js';
import { type CollectionContext, num, toNumber } from '../context.js';
import { SYSTEM_SCHEMA_FILTER } from './common.js';

/**
 * pg_stats of user tables. pg_stats shows only columns the role may SELECT, so with pg_monitor alone this
 * is usually empty. Partitioned tables have only `inherited` rows; other tables use the non-inherited ones.
 */
export const COLUMNS_SQL = `select /* pg-advisor */ s.schemaname as schema, s.tablename as table, s.attname as column,
  pg_catalog.format_type(a.atttypid, a.atttypmod) as data_type, s.null_frac::float8 as null_frac, s.avg_width,
  s.n_distinct::float8 as n_distinct, (s.most_common_freqs)[1]::float8 as top_frequency, s.correlation::float8 as correlation,
  case when a.attcollation = 0 then null
       when co.collname = 'default' then (select d.datcollate::text from pg_catalog.pg_database d where d.datname = pg_catalog.current_database())
       else co.collname::text end as collation
from pg_catalog.pg_stats s
join pg_catalog.pg_namespace n on n.nspname = s.schemaname
join pg_catalog.pg_class c on c.relnamespace = n.oid and c.relname = s.tablename
join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attname = s.attname and not a.attisdropped
left join pg_catalog.pg_collation co on co.oid = a.attcollation
where c.relkind in ('r', 'p', 'm') and s.inherited = (c.relkind = 'p') and ${SYSTEM_SCHEMA_FILTER}
order by s.schemaname, s.tablename, a.attnum`;

interface ColumnRow extends Record<string, unknown> {
  schema: string;
  table: string;
  column: string;
  data_type: string;
  null_frac: number;
  avg_width: number;
  n_distinct: number;
  top_frequency: number | null;
  correlation: number | null;
  collation: string | null;
}

export async function collectColumns(ctx: CollectionContext): Promise<ColumnStat[]> {
  const rows = await ctx.target.query<ColumnRow>(COLUMNS_SQL);
  return rows.map((r) => ({
    schema: r.schema,
    table: r.table,
    column: r.column,
    dataType: r.data_type,
    nullFrac: num(r.null_frac),
    avgWidth: num(r.avg_width),
    nDistinct: num(r.n_distinct),
    topFrequency: toNumber(r.top_frequency),
    correlation: toNumber(r.correlation),
    collation: r.collation,
  }));
}
