import { type Kysely } from 'kysely';

/**
 * Hourly series by (target, hour): each target's roll-up watermark (max(hour) per target) and the API's
 * hourly range reads, which the primary key (target, metric, object, hour) serves poorly.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('series_hourly_time_idx').ifNotExists().on('series_hourly').columns(['target_id', 'hour']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('series_hourly_time_idx').ifExists().execute();
}
