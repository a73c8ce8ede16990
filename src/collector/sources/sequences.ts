import type { SequenceStat, SequencesState } from '../../snapshot/types.js';
import { type CollectionContext, num } from '../context.js';
import { SYSTEM_SCHEMA_FILTER } from './common.js';

/** Readable sequences listed at most (most used first); the rest is counted in `truncated`. */
export const MAX_SEQUENCES = 1000;

/**
 * current_user may read the sequence. Guarded by relkind inside a CASE: the planner may evaluate it on pg_class
 * rows before the join with pg_sequence, and both functions raise an error on a relation that is not a sequence.
 */
const READABLE = `case when c.relkind = 'S' then pg_catalog.has_sequence_privilege(c.oid, 'SELECT,USAGE') else false end`;

/**
 * The column a sequence feeds: the one it is owned by (serial, identity, OWNED BY) or whose default calls
 * it (a shared or unowned sequence); the narrowest integer column when several.
 */
const FED_COLUMN = `left join lateral (
    select tn.nspname as table_schema, t.relname as table_name, a.attname as column_name,
      pg_catalog.format_type(a.atttypid, a.atttypmod) as column_type, a.attidentity <> '' as is_identity,
      case a.atttypid when 'pg_catalog.int2'::pg_catalog.regtype then 32767::float8
        when 'pg_catalog.int4'::pg_catalog.regtype then 2147483647::float8 end as type_max,
      case a.atttypid when 'pg_catalog.int2'::pg_catalog.regtype then -32768::float8
        when 'pg_catalog.int4'::pg_catalog.regtype then -2147483648::float8 end as type_min
    from (
      select d.refobjid as relid, d.refobjsubid as attnum from pg_catalog.pg_depend d
        where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass and d.objid = q.oid
          and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass and d.refobjsubid > 0 and d.deptype in ('a', 'i')
      union
      select ad.adrelid, ad.adnum from pg_catalog.pg_depend d
        join pg_catalog.pg_attrdef ad on ad.oid = d.objid
        where d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass
          and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass and d.refobjid = q.oid
    ) u
    join pg_catalog.pg_attribute a on a.attrelid = u.relid and a.attnum = u.attnum and not a.attisdropped
    join pg_catalog.pg_class t on t.oid = u.relid
    join pg_catalog.pg_namespace tn on tn.oid = t.relnamespace
    order by case a.atttypid when 'pg_catalog.int2'::pg_catalog.regtype then 1
      when 'pg_catalog.int4'::pg_catalog.regtype then 2 else 3 end, tn.nspname, t.relname, a.attname
    limit 1) col on true`;

/**
 * Sequences of user schemas that current_user may read (pg_sequences.last_value is null without SELECT or
 * USAGE, so only readable ones are listed), most used first, bounded by $1. The ordering fraction is a float
 * estimate for the bound only; the rule recomputes it exactly from the int8 texts.
 */
export const SEQUENCES_SQL = `with /* pg-advisor */ q as (
  select c.oid, n.nspname as schema, c.relname as name, s.seqtypid::pg_catalog.regtype::text as data_type,
    s.seqstart, s.seqmin, s.seqmax, s.seqincrement, s.seqcycle,
    case when ${READABLE} then pg_catalog.pg_sequence_last_value(c.oid::pg_catalog.regclass) end as last_value
  from pg_catalog.pg_sequence s
  join pg_catalog.pg_class c on c.oid = s.seqrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where ${SYSTEM_SCHEMA_FILTER} and ${READABLE})
select q.schema, q.name, q.data_type, q.seqstart::text as start_value, q.seqmin::text as min_value,
  q.seqmax::text as max_value, q.seqincrement::text as increment_by, q.seqcycle as cycle, q.last_value::text as last_value,
  col.table_schema, col.table_name, col.column_name, col.column_type, col.is_identity
from q
${FED_COLUMN}
cross join lateral (select least(q.seqmax::float8, coalesce(col.type_max, q.seqmax::float8)) as hi,
  greatest(q.seqmin::float8, coalesce(col.type_min, q.seqmin::float8)) as lo) b
order by case when q.seqincrement > 0 then (q.last_value::float8 - b.lo) else (b.hi - q.last_value::float8) end
  / nullif(b.hi - b.lo, 0) desc nulls last, q.schema, q.name
limit $1`;

/** Sequences of user schemas per schema: how many, and how many current_user may not read. */
export const SEQUENCE_COUNTS_SQL = `select /* pg-advisor */ n.nspname as schema, count(*)::int as total,
  count(*) filter (where not ${READABLE})::int as unreadable
from pg_catalog.pg_sequence s
join pg_catalog.pg_class c on c.oid = s.seqrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where ${SYSTEM_SCHEMA_FILTER}
group by n.nspname
order by n.nspname`;

interface SequenceRow extends Record<string, unknown> {
  schema: string;
  name: string;
  data_type: string;
  start_value: string;
  min_value: string;
  max_value: string;
  increment_by: string;
  cycle: boolean;
  last_value: string | null;
  table_schema: string | null;
  table_name: string | null;
  column_name: string | null;
  column_type: string | null;
  is_identity: boolean | null;
}

interface CountRow extends Record<string, unknown> {
  schema: string;
  total: number;
  unreadable: number;
}

export async function collectSequences(ctx: CollectionContext, limit = MAX_SEQUENCES): Promise<SequencesState> {
  const counts = await ctx.target.query<CountRow>(SEQUENCE_COUNTS_SQL);
  const rows = await ctx.target.query<SequenceRow>(SEQUENCES_SQL, [limit]);
  const total = counts.reduce((sum, c) => sum + num(c.total), 0);
  const unreadable = counts.filter((c) => num(c.unreadable) > 0).map((c) => ({ schema: c.schema, count: num(c.unreadable) }));
  const readable = total - unreadable.reduce((sum, u) => sum + u.count, 0);
  return {
    sequences: rows.map(toSequence),
    unreadable,
    total,
    truncated: Math.max(0, readable - rows.length),
  };
}

function toSequence(r: SequenceRow): SequenceStat {
  return {
    schema: r.schema,
    name: r.name,
    dataType: r.data_type,
    startValue: r.start_value,
    minValue: r.min_value,
    maxValue: r.max_value,
    incrementBy: r.increment_by,
    cycle: r.cycle,
    lastValue: r.last_value,
    column:
      r.table_schema !== null && r.table_name !== null && r.column_name !== null
        ? { schema: r.table_schema, table: r.table_name, name: r.column_name, type: r.column_type ?? '', identity: r.is_identity === true }
        : null,
  };
}

/** The sequence note for the source status: who cannot read what, with the grant. */
export function sequencesNote(state: SequencesState, role: string, quote: (name: string) => string): string | undefined {
  if (state.unreadable.length === 0) return undefined;
  const count = state.unreadable.reduce((sum, u) => sum + u.count, 0);
  const grants = state.unreadable.map((u) => `GRANT SELECT ON ALL SEQUENCES IN SCHEMA ${quote(u.schema)} TO ${quote(role)};`).join(' ');
  return `${count} of ${state.total} sequences are not readable by ${role} (last_value needs SELECT or USAGE): ${grants}`;
}
