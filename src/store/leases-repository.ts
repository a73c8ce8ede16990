import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * A replica silent this long is gone (the daemon heartbeats every 2 s and tolerates 5 missed beats:
 * src/daemon/replicas.ts; a unit test keeps the two equal).
 */
export const REPLICA_SILENCE_MS = 10_000;

/** What the store knows about who samples a target, judged on the store's clock. */
export interface LeaseState {
  readonly target: string;
  readonly owner: string;
  readonly expiresAt: string;
  /** The lease has expired: nobody samples the target now. */
  readonly expired: boolean;
  /** The owner heartbeated within `silenceMs`. */
  readonly ownerLive: boolean;
}

export interface LeasesRepository {
  /**
   * Takes or renews the lease on a target for `owner` until now + ttlMs. True when `owner` holds it
   * afterwards: the lease was free, expired, or already ours. Atomic (one upsert), so two replicas
   * racing for the same target never both win.
   */
  tryAcquire(targetName: string, owner: string, ttlMs: number): Promise<boolean>;
  release(targetName: string, owner: string): Promise<void>;
  /** Releases every lease of `owner` and removes its heartbeat (clean shutdown). */
  releaseAll(owner: string): Promise<void>;
  /** Records that replica `owner` is alive (server clock). */
  heartbeat(owner: string): Promise<void>;
  /** Replicas with a heartbeat within `staleMs` (at least 1). */
  countLiveReplicas(staleMs: number): Promise<number>;
  /** `owner` holds an unexpired lease on the target (server clock). */
  holds(targetName: string, owner: string): Promise<boolean>;
  /** Unexpired leases held by `owner`. */
  countHeld(owner: string): Promise<number>;
  listLeases(): Promise<{ target: string; owner: string; expiresAt: string }[]>;
  /** Every lease with its expiry and its owner's liveness (heartbeat within silenceMs), on the store's clock. */
  listLeaseStates(silenceMs?: number): Promise<LeaseState[]>;
  /** Ids of every replica that holds a lease or has heartbeated. */
  listReplicaIds(): Promise<string[]>;
  /**
   * Hands the leases of `from` (replicas known to be dead) on `targets` to `to`, expiring after ttlMs, and
   * forgets their heartbeats. Returns the targets taken over.
   */
  takeOver(from: readonly string[], to: string, targets: readonly string[], ttlMs: number): Promise<string[]>;
}

export function createLeasesRepository(db: Kysely<Database>): LeasesRepository {
  return {
    async tryAcquire(targetName, owner, ttlMs) {
      const expires = sql<Date>`now() + ${`${Math.max(1, Math.round(ttlMs))} milliseconds`}::interval`;
      const row = await db
        .insertInto('target_leases')
        .values({ target_name: targetName, owner, expires_at: expires })
        .onConflict((oc) =>
          oc
            .column('target_name')
            .doUpdateSet({ owner, expires_at: expires })
            .where((eb) => eb.or([eb('target_leases.owner', '=', owner), eb('target_leases.expires_at', '<', sql<Date>`now()`)])),
        )
        .returning('owner')
        .executeTakeFirst();
      return row?.owner === owner;
    },
    async release(targetName, owner) {
      await db.deleteFrom('target_leases').where('target_name', '=', targetName).where('owner', '=', owner).execute();
    },
    async releaseAll(owner) {
      await db.deleteFrom('target_leases').where('owner', '=', owner).execute();
      await db.deleteFrom('replicas').where('id', '=', owner).execute();
    },
    async heartbeat(owner) {
      await db
        .insertInto('replicas')
        .values({ id: owner, last_seen_at: sql<Date>`now()` })
        .onConflict((oc) => oc.column('id').doUpdateSet({ last_seen_at: sql<Date>`now()` }))
        .execute();
    },
    async countLiveReplicas(staleMs) {
      const row = await db
        .selectFrom('replicas')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('last_seen_at', '>', sql<Date>`now() - ${`${Math.round(staleMs)} milliseconds`}::interval`)
        .executeTakeFirstOrThrow();
      return Math.max(1, Number(row.n));
    },
    async holds(targetName, owner) {
      const row = await db
        .selectFrom('target_leases')
        .select('owner')
        .where('target_name', '=', targetName)
        .where('owner', '=', owner)
        .where('expires_at', '>', sql<Date>`now()`)
        .executeTakeFirst();
      return row !== undefined;
    },
    async countHeld(owner) {
      const row = await db
        .selectFrom('target_leases')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('owner', '=', owner)
        .where('expires_at', '>', sql<Date>`now()`)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async listLeaseStates(silenceMs = REPLICA_SILENCE_MS) {
      const rows = await db
        .selectFrom('target_leases as l')
        .leftJoin('replicas as r', 'r.id', 'l.owner')
        .select([
          'l.target_name',
          'l.owner',
          'l.expires_at',
          sql<boolean>`l.expires_at <= now()`.as('expired'),
          sql<boolean>`coalesce(r.last_seen_at > now() - ${`${Math.round(silenceMs)} milliseconds`}::interval, false)`.as('owner_live'),
        ])
        .orderBy('l.target_name')
        .execute();
      return rows.map((r) => ({
        target: r.target_name,
        owner: r.owner,
        expiresAt: new Date(r.expires_at).toISOString(),
        expired: r.expired,
        ownerLive: r.owner_live,
      }));
    },
    async listReplicaIds() {
      const rows = await db.selectFrom('target_leases').select('owner as id').union(db.selectFrom('replicas').select('id')).execute();
      return rows.map((r) => r.id).sort();
    },
    async takeOver(from, to, targets, ttlMs) {
      if (from.length === 0) return [];
      const expires = sql<Date>`now() + ${`${Math.max(1, Math.round(ttlMs))} milliseconds`}::interval`;
      return db.transaction().execute(async (trx) => {
        const moved =
          targets.length === 0
            ? []
            : await trx
                .updateTable('target_leases')
                .set({ owner: to, expires_at: expires })
                .where('owner', 'in', [...from])
                .where('target_name', 'in', [...targets])
                .returning('target_name')
                .execute();
        await trx
          .deleteFrom('replicas')
          .where('id', 'in', [...from])
          .execute();
        return moved.map((r) => r.target_name).sort();
      });
    },
    async listLeases() {
      const rows = await db.selectFrom('target_leases').selectAll().orderBy('target_name').execute();
      return rows.map((r) => ({ target: r.target_name, owner: r.owner, expiresAt: new Date(r.expires_at).toISOString() }));
    },
  };
}
