import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { rollUpHours } from './rollup.js';

export interface RetentionPolicy {
  /** Samples with their series points and statement deltas (default 7 days). */
  readonly samplesMs: number;
  /** Resolved findings and their events, counted from resolved_at (default 30 days). */
  readonly resolvedFindingsMs: number;
  /** Audits (default 30 days). */
  readonly auditsMs: number;
  /** Query texts not seen in a stored statement delta for this long (default 30 days). */
  readonly queryTextsMs: number;
  /** Hourly roll-ups of series and statements (default 8 weeks). */
  readonly rollupsMs?: number;
}

export const DEFAULT_RETENTION: Required<RetentionPolicy> = {
  samplesMs: 7 * 86_400_000,
  resolvedFindingsMs: 30 * 86_400_000,
  auditsMs: 30 * 86_400_000,
  queryTextsMs: 30 * 86_400_000,
  rollupsMs: 56 * 86_400_000,
};

export interface RetentionResult {
  /** Hourly roll-up rows written before fine data was deleted. */
  readonly rolledUp: number;
  readonly samples: number;
  readonly findings: number;
  readonly audits: number;
  readonly queryTexts: number;
}

/** Rolls complete hours up, then deletes data older than the policy allows. Open findings are never deleted. */
export async function applyRetention(db: Kysely<Database>, policy: RetentionPolicy, now = new Date()): Promise<RetentionResult> {
  const before = (ms: number) => new Date(now.getTime() - ms);
  const rolledUp = await rollUpHours(db, now);
  const rollupsBefore = before(policy.rollupsMs ?? DEFAULT_RETENTION.rollupsMs);
  await db.deleteFrom('series_hourly').where('hour', '<', rollupsBefore).execute();
  await db.deleteFrom('statement_hourly').where('hour', '<', rollupsBefore).execute();
  const samples = await db.deleteFrom('samples').where('collected_at', '<', before(policy.samplesMs)).executeTakeFirst();
  const findings = await db
    .deleteFrom('findings')
    .where('status', '=', 'resolved')
    .where('resolved_at', '<', before(policy.resolvedFindingsMs))
    .executeTakeFirst();
  const audits = await db.deleteFrom('audits').where('requested_at', '<', before(policy.auditsMs)).executeTakeFirst();
  const texts = await db
    .deleteFrom('query_texts')
    .where('last_seen_at', '<', before(policy.queryTextsMs))
    // Texts still referenced by fine or rolled-up statement data stay.
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('statement_deltas as d')
            .select(sql`1`.as('one'))
            .whereRef('d.target_id', '=', 'query_texts.target_id')
            .whereRef('d.query_id', '=', 'query_texts.query_id'),
        ),
      ),
    )
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('statement_hourly as h')
            .select(sql`1`.as('one'))
            .whereRef('h.target_id', '=', 'query_texts.target_id')
            .whereRef('h.query_id', '=', 'query_texts.query_id'),
        ),
      ),
    )
    .executeTakeFirst();
  // One row per target, replaced every sample: vacuum it here because PGlite runs no autovacuum.
  await sql`vacuum sample_checkpoints`.execute(db);
  return {
    rolledUp,
    samples: Number(samples.numDeletedRows),
    findings: Number(findings.numDeletedRows),
    audits: Number(audits.numDeletedRows),
    queryTexts: Number(texts.numDeletedRows),
  };
}

/** Bytes the store's tables and indexes take (pg_total_relation_size over the public schema). */
export async function measureStoreBytes(db: Kysely<Database>): Promise<number> {
  const result = await sql<{ bytes: string | number | null }>`
    select sum(pg_catalog.pg_total_relation_size(c.oid))::bigint as bytes
    from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relkind = 'r'`.execute(db);
  return Number(result.rows[0]?.bytes ?? 0);
}
