import { type Kysely } from 'kysely';

/**
 * Several replicas on one store: a target is sampled by the replica holding an unexpired lease on it
 * (renewed every sample; a dead owner's lease expires and a survivor takes it over). Replicas heartbeat
 * into `replicas` so each can compute its fair share of the targets.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('target_leases')
    .ifNotExists()
    .addColumn('target_name', 'text', (c) => c.primaryKey())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('replicas')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('replicas').ifExists().execute();
  await db.schema.dropTable('target_leases').ifExists().execute();
}
