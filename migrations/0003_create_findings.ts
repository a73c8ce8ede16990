import { sql, type Kysely } from 'kysely';

/** Findings keyed by (target, fingerprint) with their lifecycle, and the event history of each. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('findings')
    .ifNotExists()
    .addColumn('id', 'bigint', (c) => c.generatedByDefaultAsIdentity().primaryKey())
    .addColumn('target_id', 'integer', (c) => c.notNull().references('targets.id').onDelete('cascade'))
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('severity_rank', 'smallint', (c) => c.notNull())
    .addColumn('impact_score', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('object', 'jsonb', (c) => c.notNull())
    .addColumn('evidence', 'jsonb', (c) => c.notNull())
    .addColumn('recommendation', 'jsonb', (c) => c.notNull())
    .addColumn('impact', 'jsonb', (c) => c.notNull())
    .addColumn('first_seen_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull())
    .addColumn('resolved_at', 'timestamptz')
    .addColumn('acknowledged_at', 'timestamptz')
    .addColumn('snoozed_until', 'timestamptz')
    .addColumn('missed_samples', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('findings_target_fingerprint_key', ['target_id', 'fingerprint'])
    .addCheckConstraint('findings_status_check', sql`status in ('open', 'acknowledged', 'snoozed', 'resolved')`)
    .addCheckConstraint('findings_severity_check', sql`severity in ('info', 'warning', 'critical')`)
    .execute();
  await db.schema.createIndex('findings_order_idx').ifNotExists().on('findings').expression(sql`severity_rank desc, impact_score desc, id`).execute();
  await db.schema.createIndex('findings_status_idx').ifNotExists().on('findings').columns(['target_id', 'status']).execute();

  await db.schema
    .createTable('finding_events')
    .ifNotExists()
    .addColumn('id', 'bigint', (c) => c.generatedByDefaultAsIdentity().primaryKey())
    .addColumn('finding_id', 'bigint', (c) => c.notNull().references('findings.id').onDelete('cascade'))
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('from_status', 'text')
    .addColumn('to_status', 'text')
    .addColumn('from_severity', 'text')
    .addColumn('to_severity', 'text')
    .addColumn('actor', 'text')
    .addColumn('note', 'text')
    .execute();
  await db.schema.createIndex('finding_events_finding_idx').ifNotExists().on('finding_events').columns(['finding_id', 'at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('finding_events').ifExists().execute();
  await db.schema.dropTable('findings').ifExists().execute();
}
