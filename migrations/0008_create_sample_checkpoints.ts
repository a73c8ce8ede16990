import { type Kysely } from 'kysely';

/**
 * The latest light sample per target (src/daemon/checkpoint.ts), written in the same transaction as the
 * sample it belongs to, so a restarted daemon or a replica taking a target over diffs against it.
 * One row per target, replaced every sample; the retention job vacuums it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sample_checkpoints')
    .ifNotExists()
    .addColumn('target_id', 'integer', (c) => c.primaryKey().references('targets.id').onDelete('cascade'))
    .addColumn('collected_at', 'timestamptz', (c) => c.notNull())
    .addColumn('payload', 'bytea', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sample_checkpoints').ifExists().execute();
}
