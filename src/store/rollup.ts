import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * Rolls the fine per-sample data up into hourly rows (series: avg/min/max; statements: sums), for every
 * complete hour from each target's last rolled-up hour on. The watermark is per target because sample
 * times are the target's server clock: a target whose clock is behind the others must not find its
 * hours already passed. Idempotent (upserts recomputed aggregates), so it is
 * safe to run from several replicas and after a crash. Returns the rows written.
 *
 * The last rolled-up hour is recomputed to take in samples recorded late, but by then retention may
 * have deleted part of its fine data (when nothing newer was rolled up for as long as fine data is kept,
 * e.g. a daemon stopped for that long): a recomputation over fewer samples than the stored row's never
 * replaces it.
 */
export async function rollUpHours(db: Kysely<Database>, now = new Date()): Promise<number> {
  const until = sql<Date>`date_trunc('hour', ${now}::timestamptz)`;
  const series = await sql`
    with marks as (
      select t.id as target_id,
        coalesce((select max(h.hour) from series_hourly h where h.target_id = t.id), '-infinity'::timestamptz) as from_hour
      from targets t
    )
    insert into series_hourly (target_id, hour, metric, object, avg, min, max, samples)
    select p.target_id, date_trunc('hour', p.collected_at), p.metric, p.object, avg(p.value), min(p.value), max(p.value), count(*)::int
    from series_points p
    join marks m on m.target_id = p.target_id
    where p.collected_at >= m.from_hour and p.collected_at < ${until}
    group by 1, 2, 3, 4
    on conflict (target_id, metric, object, hour) do update
      set avg = excluded.avg, min = excluded.min, max = excluded.max, samples = excluded.samples
      where excluded.samples >= series_hourly.samples`.execute(db);
  const statements = await sql`
    with marks as (
      select t.id as target_id,
        coalesce((select max(h.hour) from statement_hourly h where h.target_id = t.id), '-infinity'::timestamptz) as from_hour
      from targets t
    )
    insert into statement_hourly (target_id, hour, query_id, calls, rows, total_exec_time_ms, shared_blks, samples)
    select d.target_id, date_trunc('hour', d.collected_at), d.query_id, sum(d.calls), sum(d.rows), sum(d.total_exec_time_ms),
           sum(d.shared_blks), count(distinct d.sample_id)::int
    from statement_deltas d
    join marks m on m.target_id = d.target_id
    where d.collected_at >= m.from_hour and d.collected_at < ${until}
    group by 1, 2, 3
    on conflict (target_id, query_id, hour) do update
      set calls = excluded.calls, rows = excluded.rows, total_exec_time_ms = excluded.total_exec_time_ms,
          shared_blks = excluded.shared_blks, samples = excluded.samples
      where excluded.samples >= statement_hourly.samples`.execute(db);
  return Number(series.numAffectedRows ?? 0) + Number(statements.numAffectedRows ?? 0);
}
