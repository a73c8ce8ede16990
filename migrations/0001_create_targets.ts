import { sql, type Kysely } from 'kysely';

/** Targets the daemon samples, with their scheduling status (one row per configured target name). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('targets')
    .ifNotExists()
    .addColumn('id', 'integer', (c) => c.generatedByDefaultAsIdentity().primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('url_masked', 'text', (c) => c.notNull())
    .addColumn('interval_ms', 'integer', (c) => c.notNull())
    .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // Status, written by the replica that samples the target.
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('last_run_at', 'timestamptz')
    .addColumn('last_success_at', 'timestamptz')
    .addColumn('last_error_at', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('last_duration_ms', 'integer')
    .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_run_at', 'timestamptz')
    .addColumn('server_version', 'text')
    .addColumn('owner', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('targets').ifExists().execute();
}
