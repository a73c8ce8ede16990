import { sql, type Kysely } from 'kysely';

/**
 * Per-sample compact data: one `samples` row per collection, a few `series_points` (gauges), the top
 * statement deltas since the previous sample, and query texts once per (target, queryid).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('samples')
    .ifNotExists()
    .addColumn('id', 'bigint', (c) => c.generatedByDefaultAsIdentity().primaryKey())
    .addColumn('target_id', 'integer', (c) => c.notNull().references('targets.id').onDelete('cascade'))
    .addColumn('collected_at', 'timestamptz', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('interval_seconds', 'double precision')
    .addColumn('findings', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('diagnostics', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .execute();
  await db.schema.createIndex('samples_target_time_idx').ifNotExists().on('samples').columns(['target_id', 'collected_at']).execute();

  await db.schema
    .createTable('series_points')
    .ifNotExists()
    .addColumn('sample_id', 'bigint', (c) => c.notNull().references('samples.id').onDelete('cascade'))
    .addColumn('target_id', 'integer', (c) => c.notNull())
    .addColumn('collected_at', 'timestamptz', (c) => c.notNull())
    .addColumn('metric', 'text', (c) => c.notNull())
    .addColumn('object', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('value', 'double precision', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('series_points_lookup_idx').ifNotExists().on('series_points').columns(['target_id', 'metric', 'collected_at']).execute();
  await db.schema.createIndex('series_points_sample_idx').ifNotExists().on('series_points').column('sample_id').execute();

  await db.schema
    .createTable('statement_deltas')
    .ifNotExists()
    .addColumn('sample_id', 'bigint', (c) => c.notNull().references('samples.id').onDelete('cascade'))
    .addColumn('target_id', 'integer', (c) => c.notNull())
    .addColumn('collected_at', 'timestamptz', (c) => c.notNull())
    .addColumn('query_id', 'text', (c) => c.notNull())
    .addColumn('user_name', 'text')
    .addColumn('toplevel', 'boolean', (c) => c.notNull())
    .addColumn('calls', 'bigint', (c) => c.notNull())
    .addColumn('rows', 'bigint', (c) => c.notNull())
    .addColumn('total_exec_time_ms', 'double precision', (c) => c.notNull())
    .addColumn('shared_blks', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('statement_deltas_lookup_idx').ifNotExists().on('statement_deltas').columns(['target_id', 'collected_at']).execute();
  await db.schema.createIndex('statement_deltas_sample_idx').ifNotExists().on('statement_deltas').column('sample_id').execute();

  await db.schema
    .createTable('query_texts')
    .ifNotExists()
    .addColumn('target_id', 'integer', (c) => c.notNull().references('targets.id').onDelete('cascade'))
    .addColumn('query_id', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('first_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('query_texts_pk', ['target_id', 'query_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('query_texts').ifExists().execute();
  await db.schema.dropTable('statement_deltas').ifExists().execute();
  await db.schema.dropTable('series_points').ifExists().execute();
  await db.schema.dropTable('samples').ifExists().execute();
}
