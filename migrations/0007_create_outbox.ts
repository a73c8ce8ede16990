import { sql, type Kysely } from 'kysely';

/**
 * Audit messages to chat destinations, written in the same transaction as the audit's report and sent
 * by the outbox pump (at-least-once, one row per audit and destination, unique idempotency key).
 * Deleted with their audit (retention). `audit_slots` lets one replica claim each scheduled audit.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('outbox')
    .ifNotExists()
    .addColumn('id', 'bigint', (c) => c.generatedByDefaultAsIdentity().primaryKey())
    .addColumn('audit_id', 'bigint', (c) => c.references('audits.id').onDelete('cascade'))
    .addColumn('destination', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('body', 'json', (c) => c.notNull()) // json, not jsonb: the payload keeps its key order
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('claimed_until', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('http_status', 'integer')
    .addColumn('delivered_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('outbox_status_check', sql`status in ('pending', 'delivered', 'failed')`)
    .execute();
  await db.schema.createIndex('outbox_due_idx').ifNotExists().on('outbox').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('outbox_audit_idx').ifNotExists().on('outbox').column('audit_id').execute();
  // One scheduled audit per (schedule, target, cron tick) across replicas: the first to insert runs it.
  await db.schema
    .createTable('audit_slots')
    .ifNotExists()
    .addColumn('schedule', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('slot', 'timestamptz', (c) => c.notNull())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_slots_pkey', ['schedule', 'target', 'slot'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_slots').ifExists().execute();
  await db.schema.dropTable('outbox').ifExists().execute();
}
