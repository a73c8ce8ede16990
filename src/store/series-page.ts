import { sql, type Kysely } from 'kysely';
import { isoRequired } from './iso.js';
import type { TimeRange } from './samples-repository.js';
import type { Database } from './schema.js';
import { decodeSeriesCursor, encodeSeriesCursor } from './series-cursor.js';
import type { SeriesPoint } from './types.js';

export interface SeriesPage {
  /** The newest `limit` points of the range (or of the page the cursor continues), in ascending time order. */
  readonly points: readonly SeriesPoint[];
  /** Older points of the range remain: pass back as `cursor` for them; null when this page reaches the start. */
  readonly nextCursor: string | null;
}

/**
 * Newest first: the newest `limit` points of the range, then older pages through `cursor` (keyset on time,
 * metric, object, so a page never splits or repeats a point). Throws InvalidCursorError on a bad cursor.
 */
export async function listSeriesPage(
  db: Kysely<Database>,
  targetId: number,
  { from, to, metrics, limit, cursor, resolution = 'raw' }: TimeRange & { metrics?: readonly string[]; limit: number; cursor?: string },
): Promise<SeriesPage> {
  const after = cursor ? decodeSeriesCursor(cursor) : null;
  const size = Math.max(1, Math.floor(limit));
  // The two tables differ only in the time column and the value's name.
  const hourly = resolution === 'hour';
  const time = hourly ? 'hour' : 'collected_at';
  let q = db
    .selectFrom(hourly ? 'series_hourly' : 'series_points')
    .select([sql<Date | string>`${sql.ref(time)}`.as('at'), 'metric', 'object', sql<number>`${sql.ref(hourly ? 'avg' : 'value')}`.as('value')])
    .where('target_id', '=', targetId)
    .orderBy(sql.ref(time), 'desc')
    .orderBy('metric')
    .orderBy('object')
    .limit(size + 1);
  if (from) q = q.where(sql.ref(time), '>=', from);
  if (to) q = q.where(sql.ref(time), '<=', to);
  if (metrics && metrics.length > 0) q = q.where('metric', 'in', metrics);
  if (after) {
    q = q.where((eb) =>
      eb.or([
        eb(sql.ref(time), '<', after.at),
        eb.and([
          eb(sql.ref(time), '=', after.at),
          eb.or([eb('metric', '>', after.metric), eb.and([eb('metric', '=', after.metric), eb('object', '>', after.object)])]),
        ]),
      ]),
    );
  }
  const rows = await q.execute();
  const page = rows.slice(0, size);
  const last = rows.length > size ? page[page.length - 1] : undefined;
  return {
    points: page.reverse().map((r) => ({ at: isoRequired(r.at), metric: r.metric, object: r.object, value: Number(r.value) })),
    nextCursor: last ? encodeSeriesCursor({ at: new Date(isoRequired(last.at)), metric: last.metric, object: last.object }) : null,
  };
}
