/**
 * The outbox of audit messages (src/notify's `Outbox` on the store). Audits write their messages through
 * the audits repository (in the same transaction as the audit's report); this claims and settles them.
 *
 * Claims: `FOR UPDATE SKIP LOCKED` picks due rows no other replica is claiming right now, and the claim
 * itself is a lease (`claimed_until`): a process killed after claiming leaves the row to be claimed
 * again once the lease ends. PGlite has a single connection, where the same statement is simply serial.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Outbox, OutboxDraft, OutboxMessage } from '../notify/outbox.js';
import { iso, isoRequired } from './iso.js';
import type { Database, OutboxTable } from './schema.js';
import type { DeliveryRecord, DeliveryStatus } from './types.js';

export interface OutboxRepository extends Outbox {
  /** Messages written outside an audit (tests, tools). A message whose idempotency key exists is not written again. */
  enqueue(drafts: readonly OutboxDraft[], auditId?: number | null): Promise<void>;
  /** Deliveries of the given audits, oldest first. */
  listDeliveries(auditIds: readonly number[]): Promise<DeliveryRecord[]>;
  /** Outbox rows per destination and state: pending (never tried), retrying, delivered, failed. */
  countByDestination(): Promise<{ destination: string; status: 'pending' | 'retrying' | 'delivered' | 'failed'; count: number }[]>;
  /** An `Outbox` whose claims only see some destinations (one pump per destination). */
  scoped(scope: { readonly only?: readonly string[]; readonly except?: readonly string[] }, leaseMs?: number): Outbox;
}

export interface OutboxRepositoryOptions {
  /** How long a claim lasts (default 20 min): longer than one delivery run's bounded time. */
  readonly leaseMs?: number;
}

export const DEFAULT_OUTBOX_LEASE_MS = 20 * 60_000;

/** Writes messages; a message whose idempotency key already exists is not written again. */
export async function insertOutboxDrafts(trx: Kysely<Database>, drafts: readonly OutboxDraft[], auditId: number | null): Promise<void> {
  if (drafts.length === 0) return;
  await trx
    .insertInto('outbox')
    .values(drafts.map((d) => ({ audit_id: auditId, destination: d.destination, idempotency_key: d.idempotencyKey, body: JSON.stringify(d.body) })))
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .execute();
}

export function createOutboxRepository(db: Kysely<Database>, options: OutboxRepositoryOptions = {}): OutboxRepository {
  const leaseMs = options.leaseMs ?? DEFAULT_OUTBOX_LEASE_MS;

  const claim = async (limit: number, scope: { only?: readonly string[]; except?: readonly string[] }, claimMs: number): Promise<OutboxMessage[]> => {
    if (limit <= 0 || (scope.only && scope.only.length === 0)) return [];
    const lease = `${Math.max(1, Math.round(claimMs))} milliseconds`;
    const only = scope.only ? sql`and destination in (${sql.join(scope.only.map((d) => sql`${d}`))})` : sql``;
    const except = scope.except && scope.except.length > 0 ? sql`and destination not in (${sql.join(scope.except.map((d) => sql`${d}`))})` : sql``;
    const result = await sql<Pick<Selectable<OutboxTable>, 'id' | 'destination' | 'idempotency_key' | 'body' | 'created_at' | 'attempts'>>`
      update outbox set claimed_until = now() + ${lease}::interval, updated_at = now()
      where id in (
        select id from outbox
        where status = 'pending' and next_attempt_at <= now() and (claimed_until is null or claimed_until <= now()) ${only} ${except}
        order by next_attempt_at, id
        limit ${Math.floor(limit)}
        for update skip locked
      )
      returning id, destination, idempotency_key, body, created_at, attempts`.execute(db);
    return result.rows
      .map((r) => ({
        id: String(r.id),
        destination: r.destination,
        idempotencyKey: r.idempotency_key,
        body: (typeof r.body === 'string' ? JSON.parse(r.body) : r.body) as Record<string, unknown>,
        createdAt: isoRequired(r.created_at),
        attempts: Number(r.attempts),
      }))
      .sort((a, b) => Number(a.id) - Number(b.id));
  };

  const outboxOf = (scope: { only?: readonly string[]; except?: readonly string[] }, claimMs = leaseMs): Outbox => ({
    claimDue: (limit) => claim(limit, scope, claimMs),
    async markDelivered(id, attempts) {
      await db
        .updateTable('outbox')
        .set({ status: 'delivered', attempts, claimed_until: null, delivered_at: new Date(), updated_at: new Date() })
        .where('id', '=', Number(id))
        .execute();
    },
    async markFailed(id, error, nextAttemptAt, details) {
      await db
        .updateTable('outbox')
        .set({
          status: nextAttemptAt === null ? 'failed' : 'pending',
          ...(nextAttemptAt ? { next_attempt_at: nextAttemptAt } : {}),
          claimed_until: null,
          last_error: error.slice(0, 1000),
          ...(details ? { attempts: details.attempts, http_status: details.httpStatus } : {}),
          updated_at: new Date(),
        })
        .where('id', '=', Number(id))
        .execute();
    },
  });

  return {
    ...outboxOf({}),
    scoped: (scope, claimMs) => outboxOf(scope, claimMs),
    enqueue: (drafts, auditId = null) => insertOutboxDrafts(db, drafts, auditId),
    async listDeliveries(auditIds) {
      if (auditIds.length === 0) return [];
      const rows = await db
        .selectFrom('outbox')
        .selectAll()
        .where('audit_id', 'in', [...auditIds])
        .orderBy('id')
        .execute();
      return rows.map(toDelivery);
    },
    async countByDestination() {
      const rows = await db
        .selectFrom('outbox')
        .select((eb) => [
          'destination',
          sql<string>`case when status = 'pending' and attempts > 0 then 'retrying' else status end`.as('state'),
          eb.fn.countAll<string>().as('n'),
        ])
        .groupBy(['destination', sql`2`])
        .orderBy('destination')
        .execute();
      return rows.map((r) => ({ destination: r.destination, status: r.state as 'pending' | 'retrying' | 'delivered' | 'failed', count: Number(r.n) }));
    },
  };
}

function toDelivery(row: Selectable<OutboxTable>): DeliveryRecord {
  const status = row.status as DeliveryStatus;
  return {
    id: Number(row.id),
    auditId: row.audit_id === null ? null : Number(row.audit_id),
    destination: row.destination,
    idempotencyKey: row.idempotency_key,
    status,
    attempts: Number(row.attempts),
    createdAt: isoRequired(row.created_at),
    nextAttemptAt: status === 'pending' ? iso(row.next_attempt_at) : null,
    deliveredAt: iso(row.delivered_at),
    lastError: row.last_error,
    httpStatus: row.http_status,
  };
}
