import type { StatementStat } from '../../snapshot/types.js';
import type { Target } from '../api.js';
import { type CollectionContext, num, toIso, versionAtLeast } from '../context.js';
import { isAdvisorQuery } from '../sql-marker.js';
import type { TextCache } from '../text-cache.js';

/** Columns every supported version has (pgss 1.8: *_exec_time, total_plan_time). */
const PGSS_1_8 = `s.userid, r.rolname as user_name, s.dbid, s.queryid::text as queryid,
  s.calls::float8 as calls, s.rows::float8 as rows, s.total_exec_time::float8 as total_exec_time,
  s.mean_exec_time::float8 as mean_exec_time, s.total_plan_time::float8 as total_plan_time,
  s.shared_blks_hit::float8 as shared_blks_hit, s.shared_blks_read::float8 as shared_blks_read,
  s.shared_blks_dirtied::float8 as shared_blks_dirtied, s.temp_blks_written::float8 as temp_blks_written`;
/** toplevel: pgss 1.9 (PG14). */
const PGSS_1_9 = `s.toplevel`;
const PGSS_BEFORE_1_9 = `true as toplevel`;
/** stats_since: pgss 1.11 (PG17). */
const PGSS_1_11 = `s.stats_since`;
const PGSS_BEFORE_1_11 = `null::timestamptz as stats_since`;

/** Counters without texts (showtext := false never reads the query text file). */
export const statementsSql = (schema: string, pgssVersion: string): string => `select /* pg-advisor */ ${PGSS_1_8},
  ${versionAtLeast(pgssVersion, '1.9') ? PGSS_1_9 : PGSS_BEFORE_1_9},
  ${versionAtLeast(pgssVersion, '1.11') ? PGSS_1_11 : PGSS_BEFORE_1_11}
  from ${schema}.pg_stat_statements(showtext := false) s
  left join pg_catalog.pg_roles r on r.oid = s.userid
  where s.dbid = $1 and s.queryid is not null`;

/** Texts of the given queryids, bounded in length ($1 = dbid, $2 = queryids, $3 = max length). */
export const statementTextsSql = (schema: string): string => `select /* pg-advisor */ s.queryid::text as queryid,
  left(s.query, $3::int) as query
  from ${schema}.pg_stat_statements(showtext := true) s
  where s.dbid = $1 and s.queryid::text = any($2::text[])`;

/** Tighter timeout for the text read (it reads the pgss text file): 2 s, or the session's if lower. */
export const TEXT_TIMEOUT_SQL = `select /* pg-advisor */ pg_catalog.set_config('statement_timeout',
  (select case when t.ms > 0 then least(t.ms, 2000) else 2000 end from
    (select (extract(epoch from pg_catalog.current_setting('statement_timeout')::interval) * 1000)::int as ms) t)::text,
  true) as statement_timeout`;

const INSUFFICIENT = '<insufficient privilege>';

interface StatementRow extends Record<string, unknown> {
  userid: number;
  user_name: string | null;
  dbid: number;
  queryid: string;
  toplevel: boolean;
  calls: number;
  rows: number;
  total_exec_time: number;
  mean_exec_time: number;
  total_plan_time: number;
  shared_blks_hit: number;
  shared_blks_read: number;
  shared_blks_dirtied: number;
  temp_blks_written: number;
  stats_since: Date | null;
}

export interface StatementsOptions {
  readonly cache: TextCache;
  /** Fetch texts for queryids not yet cached (false during light window samples). */
  readonly fetchTexts: boolean;
  readonly maxQueryTextLength: number;
}

/** pg_stat_statements entries of the current database, minus the advisor's own statements. */
export async function collectStatements(ctx: CollectionContext, options: StatementsOptions): Promise<{ statements: StatementStat[]; note?: string }> {
  const schema = ctx.pgssSchema;
  const version = ctx.capabilities.pgssVersion;
  if (schema === null || version === null) return { statements: [] };
  const rows = await ctx.target.query<StatementRow>(statementsSql(schema, version), [ctx.databaseOid]);
  let note: string | undefined;
  if (options.fetchTexts) {
    const missing = options.cache.missing(rows.map((r) => r.queryid));
    try {
      if (missing.length > 0) await fetchTexts(ctx, schema, missing, options);
    } catch (error) {
      // Counters are still good; texts stay null until a later collection reads them.
      note = `query texts not read (${error instanceof Error ? error.message : String(error)}); counters are complete`;
    }
  }
  const out: StatementStat[] = [];
  for (const r of rows) {
    const query = options.cache.get(r.queryid) ?? null;
    if (isAdvisorQuery(query)) continue;
    out.push({
      userId: r.userid,
      userName: r.user_name,
      dbId: r.dbid,
      queryId: r.queryid,
      toplevel: r.toplevel,
      query,
      calls: num(r.calls),
      rows: num(r.rows),
      totalExecTimeMs: num(r.total_exec_time),
      meanExecTimeMs: num(r.mean_exec_time),
      totalPlanTimeMs: num(r.total_plan_time),
      sharedBlksHit: num(r.shared_blks_hit),
      sharedBlksRead: num(r.shared_blks_read),
      sharedBlksDirtied: num(r.shared_blks_dirtied),
      tempBlksWritten: num(r.temp_blks_written),
      statsSince: toIso(r.stats_since),
    });
  }
  return note === undefined ? { statements: out } : { statements: out, note };
}

async function fetchTexts(ctx: CollectionContext, schema: string, ids: string[], options: StatementsOptions): Promise<void> {
  const read = async (query: Target['query']): Promise<void> => {
    const rows = await query<{ queryid: string; query: string | null }>(statementTextsSql(schema), [ctx.databaseOid, ids, options.maxQueryTextLength]);
    for (const row of rows) {
      const text = row.query === null || row.query === INSUFFICIENT ? null : row.query;
      // null = hidden from this role; cached too, so it is not read again on every collection.
      options.cache.set(row.queryid, text);
    }
  };
  const target = ctx.target;
  if (target.withReadOnlyTransaction) {
    await target.withReadOnlyTransaction(async (query) => {
      await query(TEXT_TIMEOUT_SQL);
      await read(query);
    });
  } else {
    await read(target.query.bind(target));
  }
}
