import { sql, type Kysely } from 'kysely';

/** Audits: on-demand (API) or scheduled reports of one target, with their result. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audits')
    .ifNotExists()
    .addColumn('id', 'bigint', (c) => c.generatedByDefaultAsIdentity().primaryKey())
    .addColumn('target_id', 'integer', (c) => c.notNull().references('targets.id').onDelete('cascade'))
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('window_ms', 'integer')
    .addColumn('requested_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .addColumn('report', 'jsonb')
    .addColumn('error', 'text')
    .addCheckConstraint('audits_status_check', sql`status in ('running', 'done', 'failed')`)
    .execute();
  await db.schema.createIndex('audits_target_idx').ifNotExists().on('audits').columns(['target_id', 'requested_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audits').ifExists().execute();
}
