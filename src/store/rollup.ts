import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * Rolls the fine per-sample data up into hourly rows (series: avg/min/max; statements: sums), for every
 * complete hour from the last rolled-up hour on. Idempotent (upserts recomputed aggregates), so it is
 * safe to run from several replicas and after a crash. Returns the rows written.
 *
 * The last rolled-up hour is recomputed to take in samples recorded late, but by then retention may
 * have deleted part of its fine data (when nothing newer was rolled up for as long as fine data is kept,
 * e.g. a daemon stopped for that long): a recomputation over fewer samples than the stored row's never
 * replaces it.
 */
export async function rollUpHours(db: Kysely<Database>, now = new Date()): Promise<number> {
  const until = sql<Date>`date_trunc('hour', ${now}::timestamptz)`;
  const seriesFrom = sql<Date>`coalesce((select max(hour) from series_hourly), '-infinity'::timestamptz)`;
  const statementsFrom = sql<Date>`coalesce((select max(hour) from statement_hourly), '-infinity'::timestamptz)`;
  const series = await sql`
    insert into series_hourly (target_id, hour, metric, object, avg, min, max, samples)
    select target_id, date_trunc('hour', collected_at), metric, object, avg(value), min(value), max(value), count(*)::int
    from series_points
    where collected_at >= ${seriesFrom} and collected_at < ${until}
    group by 1, 2, 3, 4
    on conflict (target_id, metric, object, hour) do update
      set avg = excluded.avg, min = excluded.min, max = excluded.max, samples = excluded.samples
      where excluded.samples >= series_hourly.samples`.execute(db);
  const statements = await sql`
    insert into statement_hourly (target_id, hour, query_id, calls, rows, total_exec_time_ms, shared_blks, samples)
    select target_id, date_trunc('hour', collected_at), query_id, sum(calls), sum(rows), sum(total_exec_time_ms), sum(shared_blks),
           count(distinct sample_id)::int
    from statement_deltas
    where collected_at >= ${statementsFrom} and collected_at < ${until}
    group by 1, 2, 3
    on conflict (target_id, query_id, hour) do update
      set calls = excluded.calls, rows = excluded.rows, total_exec_time_ms = excluded.total_exec_time_ms,
          shared_blks = excluded.shared_blks, samples = excluded.samples
      where excluded.samples >= statement_hourly.samples`.execute(db);
  return Number(series.numAffectedRows ?? 0) + Number(statements.numAffectedRows ?? 0);
}
