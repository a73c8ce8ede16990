import { type Kysely } from 'kysely';

/** Hourly roll-ups of the fine per-sample data, kept for weeks after the fine data is deleted. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('series_hourly')
    .ifNotExists()
    .addColumn('target_id', 'integer', (c) => c.notNull().references('targets.id').onDelete('cascade'))
    .addColumn('hour', 'timestamptz', (c) => c.notNull())
    .addColumn('metric', 'text', (c) => c.notNull())
    .addColumn('object', 'text', (c) => c.notNull())
    .addColumn('avg', 'double precision', (c) => c.notNull())
    .addColumn('min', 'double precision', (c) => c.notNull())
    .addColumn('max', 'double precision', (c) => c.notNull())
    .addColumn('samples', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('series_hourly_pk', ['target_id', 'metric', 'object', 'hour'])
    .execute();
  await db.schema
    .createTable('statement_hourly')
    .ifNotExists()
    .addColumn('target_id', 'integer', (c) => c.notNull().references('targets.id').onDelete('cascade'))
    .addColumn('hour', 'timestamptz', (c) => c.notNull())
    .addColumn('query_id', 'text', (c) => c.notNull())
    .addColumn('calls', 'bigint', (c) => c.notNull())
    .addColumn('rows', 'bigint', (c) => c.notNull())
    .addColumn('total_exec_time_ms', 'double precision', (c) => c.notNull())
    .addColumn('shared_blks', 'bigint', (c) => c.notNull())
    .addColumn('samples', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('statement_hourly_pk', ['target_id', 'query_id', 'hour'])
    .execute();
  await db.schema.createIndex('statement_hourly_time_idx').ifNotExists().on('statement_hourly').columns(['target_id', 'hour']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('statement_hourly').ifExists().execute();
  await db.schema.dropTable('series_hourly').ifExists().execute();
}
