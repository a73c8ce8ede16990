import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { isoRequired } from './iso.js';
import { listSeriesPage, type SeriesPage } from './series-page.js';
import type { SeriesPoint, StatementSummary } from './types.js';

export interface SeriesPointInput {
  readonly metric: string;
  readonly object?: string;
  readonly value: number;
}

export interface StatementDeltaInput {
  readonly queryId: string;
  readonly userName: string | null;
  readonly toplevel: boolean;
  readonly calls: number;
  readonly rows: number;
  readonly totalExecTimeMs: number;
  readonly sharedBlks: number;
}

export interface SampleInput {
  readonly targetId: number;
  readonly collectedAt: Date;
  readonly durationMs: number;
  /** Seconds since the previous sample; null for a first sample. */
  readonly intervalSeconds: number | null;
  readonly findings: number;
  readonly diagnostics: readonly unknown[];
  readonly series: readonly SeriesPointInput[];
  readonly statements: readonly StatementDeltaInput[];
  /** Texts of the statements above; stored once per (target, queryid). */
  readonly queryTexts: readonly { readonly queryId: string; readonly text: string }[];
  /** The sample's checkpoint (opaque bytes, src/daemon/checkpoint.ts); replaces the target's previous one. */
  readonly checkpoint?: Uint8Array;
}

export interface StoredCheckpoint {
  readonly collectedAt: Date;
  readonly payload: Uint8Array;
}

export type StatementOrder = 'total' | 'calls' | 'mean';

export interface TimeRange {
  readonly from?: Date;
  readonly to?: Date;
  /** `raw`: per-sample data (kept days); `hour`: hourly roll-ups (kept weeks). Default raw. */
  readonly resolution?: 'raw' | 'hour';
}

export type { SeriesPage };

export interface SamplesRepository {
  /** Stores one sample and its compact data in one transaction; returns the sample id. */
  recordSample(input: SampleInput): Promise<number>;
  /** The oldest `limit` (default 10,000) points of the range, ascending; for tools and tests (the API pages with listSeriesPage). */
  listSeries(targetId: number, options: TimeRange & { metrics?: readonly string[]; limit?: number }): Promise<SeriesPoint[]>;
  /**
   * Newest first: the newest `limit` points of the range, then older pages through `cursor` (keyset on time,
   * metric, object, so a page never splits or repeats a point). Throws InvalidCursorError on a bad cursor.
   */
  listSeriesPage(targetId: number, options: TimeRange & { metrics?: readonly string[]; limit: number; cursor?: string }): Promise<SeriesPage>;
  /** Top statements over a time range, summed over the stored per-sample deltas. */
  topStatements(targetId: number, options: TimeRange & { orderBy?: StatementOrder; limit?: number }): Promise<StatementSummary[]>;
  countSamples(targetId?: number): Promise<number>;
  /** The checkpoint written with the target's latest recorded sample; null when none. */
  findCheckpoint(targetId: number): Promise<StoredCheckpoint | null>;
}

const CHUNK = 500;

export function createSamplesRepository(db: Kysely<Database>): SamplesRepository {
  return {
    async recordSample(input) {
      return db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('samples')
          .values({
            target_id: input.targetId,
            collected_at: input.collectedAt,
            duration_ms: Math.round(input.durationMs),
            interval_seconds: input.intervalSeconds,
            findings: input.findings,
            diagnostics: JSON.stringify(input.diagnostics),
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        const sampleId = Number(inserted.id);
        const base = { sample_id: sampleId, target_id: input.targetId, collected_at: input.collectedAt };
        for (const chunk of chunks(input.series)) {
          await trx
            .insertInto('series_points')
            .values(chunk.map((p) => ({ ...base, metric: p.metric, object: p.object ?? '', value: p.value })))
            .execute();
        }
        for (const chunk of chunks(input.statements)) {
          await trx
            .insertInto('statement_deltas')
            .values(
              chunk.map((s) => ({
                ...base,
                query_id: s.queryId,
                user_name: s.userName,
                toplevel: s.toplevel,
                calls: Math.round(s.calls),
                rows: Math.round(s.rows),
                total_exec_time_ms: s.totalExecTimeMs,
                shared_blks: Math.round(s.sharedBlks),
              })),
            )
            .execute();
        }
        for (const chunk of chunks(input.queryTexts)) {
          await trx
            .insertInto('query_texts')
            .values(chunk.map((t) => ({ target_id: input.targetId, query_id: t.queryId, text: t.text })))
            .onConflict((oc) => oc.columns(['target_id', 'query_id']).doNothing())
            .execute();
        }
        if (input.checkpoint) {
          const checkpoint = { target_id: input.targetId, collected_at: input.collectedAt, payload: input.checkpoint };
          await trx
            .insertInto('sample_checkpoints')
            .values(checkpoint)
            .onConflict((oc) => oc.column('target_id').doUpdateSet({ collected_at: checkpoint.collected_at, payload: checkpoint.payload }))
            .execute();
        }
        return sampleId;
      });
    },

    async findCheckpoint(targetId) {
      const row = await db.selectFrom('sample_checkpoints').select(['collected_at', 'payload']).where('target_id', '=', targetId).executeTakeFirst();
      return row ? { collectedAt: new Date(isoRequired(row.collected_at)), payload: row.payload } : null;
    },

    async listSeries(targetId, { from, to, metrics, limit = 10_000, resolution = 'raw' }) {
      if (resolution === 'hour') {
        let h = db
          .selectFrom('series_hourly')
          .select(['hour', 'metric', 'object', 'avg'])
          .where('target_id', '=', targetId)
          .orderBy('hour')
          .orderBy('metric')
          .orderBy('object')
          .limit(limit);
        if (from) h = h.where('hour', '>=', from);
        if (to) h = h.where('hour', '<=', to);
        if (metrics && metrics.length > 0) h = h.where('metric', 'in', metrics);
        return (await h.execute()).map((r) => ({ at: isoRequired(r.hour), metric: r.metric, object: r.object, value: Number(r.avg) }));
      }
      let q = db
        .selectFrom('series_points')
        .select(['collected_at', 'metric', 'object', 'value'])
        .where('target_id', '=', targetId)
        .orderBy('collected_at')
        .orderBy('metric')
        .orderBy('object')
        .limit(limit);
      if (from) q = q.where('collected_at', '>=', from);
      if (to) q = q.where('collected_at', '<=', to);
      if (metrics && metrics.length > 0) q = q.where('metric', 'in', metrics);
      const rows = await q.execute();
      return rows.map((r) => ({ at: isoRequired(r.collected_at), metric: r.metric, object: r.object, value: Number(r.value) }));
    },

    listSeriesPage: (targetId, options) => listSeriesPage(db, targetId, options),

    async topStatements(targetId, { from, to, orderBy = 'total', limit = 20, resolution = 'raw' }) {
      if (resolution === 'hour') return topHourlyStatements(db, targetId, { from, to, orderBy, limit });
      let q = db
        .selectFrom('statement_deltas as d')
        .leftJoin('query_texts as t', (j) => j.onRef('t.target_id', '=', 'd.target_id').onRef('t.query_id', '=', 'd.query_id'))
        .select((eb) => [
          'd.query_id',
          eb.fn.max('t.text').as('text'),
          sql<string>`sum(d.calls)`.as('calls'),
          sql<string>`sum(d.rows)`.as('rows'),
          sql<number>`sum(d.total_exec_time_ms)`.as('total_ms'),
          sql<string>`sum(d.shared_blks)`.as('shared_blks'),
          sql<string>`count(distinct d.sample_id)`.as('samples'),
        ])
        .where('d.target_id', '=', targetId)
        .groupBy('d.query_id')
        .limit(limit);
      if (from) q = q.where('d.collected_at', '>=', from);
      if (to) q = q.where('d.collected_at', '<=', to);
      const rows = await q.orderBy(statementOrder(orderBy)).orderBy('d.query_id').execute();
      return rows.map(toStatementSummary);
    },

    async countSamples(targetId) {
      let q = db.selectFrom('samples').select((eb) => eb.fn.countAll<string>().as('n'));
      if (targetId !== undefined) q = q.where('target_id', '=', targetId);
      return Number((await q.executeTakeFirstOrThrow()).n);
    },
  };
}

function* chunks<T>(items: readonly T[]): Generator<T[]> {
  for (let i = 0; i < items.length; i += CHUNK) yield items.slice(i, i + CHUNK);
}

async function topHourlyStatements(
  db: Kysely<Database>,
  targetId: number,
  { from, to, orderBy, limit }: { from?: Date; to?: Date; orderBy: StatementOrder; limit: number },
): Promise<StatementSummary[]> {
  let q = db
    .selectFrom('statement_hourly as d')
    .leftJoin('query_texts as t', (j) => j.onRef('t.target_id', '=', 'd.target_id').onRef('t.query_id', '=', 'd.query_id'))
    .select((eb) => [
      'd.query_id',
      eb.fn.max('t.text').as('text'),
      sql<string>`sum(d.calls)`.as('calls'),
      sql<string>`sum(d.rows)`.as('rows'),
      sql<number>`sum(d.total_exec_time_ms)`.as('total_ms'),
      sql<string>`sum(d.shared_blks)`.as('shared_blks'),
      sql<string>`sum(d.samples)`.as('samples'),
    ])
    .where('d.target_id', '=', targetId)
    .groupBy('d.query_id')
    .limit(limit);
  if (from) q = q.where('d.hour', '>=', from);
  if (to) q = q.where('d.hour', '<=', to);
  const rows = await q.orderBy(statementOrder(orderBy)).orderBy('d.query_id').execute();
  return rows.map(toStatementSummary);
}

/** ORDER BY of the top-statements queries (fine and hourly tables share the column names). */
function statementOrder(orderBy: StatementOrder) {
  return orderBy === 'calls'
    ? sql`sum(d.calls) desc`
    : orderBy === 'mean'
      ? sql`sum(d.total_exec_time_ms) / nullif(sum(d.calls), 0) desc nulls last`
      : sql`sum(d.total_exec_time_ms) desc`;
}

interface StatementAggregateRow {
  readonly query_id: string;
  readonly text: string | null;
  readonly calls: string;
  readonly rows: string;
  readonly total_ms: number;
  readonly shared_blks: string;
  readonly samples: string;
}

function toStatementSummary(r: StatementAggregateRow): StatementSummary {
  const calls = Number(r.calls);
  const totalExecTimeMs = Number(r.total_ms);
  return {
    queryId: r.query_id,
    query: r.text ?? null,
    calls,
    rows: Number(r.rows),
    totalExecTimeMs,
    meanExecTimeMs: calls > 0 ? totalExecTimeMs / calls : 0,
    sharedBlks: Number(r.shared_blks),
    samples: Number(r.samples),
  };
}
