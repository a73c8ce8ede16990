import type { Store } from '../store/index.js';

/** Heartbeat period of a replica (ms); a replica silent for STALE_HEARTBEATS periods is considered gone. */
export const HEARTBEAT_MS = 2000;
export const HEARTBEAT_CRON = '*/2 * * * * *';
/** Missed heartbeats before a replica no longer counts (tolerates event-loop stalls of a loaded host). */
export const STALE_HEARTBEATS = 5;

/**
 * Decides, before each sample, whether this replica samples a target: it holds the target's lease and
 * no more than its fair share (ceil(targets / live replicas)). A replica above its share gives leases
 * back; one below it takes free or expired leases. Several replicas on one store thus divide the
 * targets, and a dead replica's targets move once its leases expire.
 */
export function createLeaseCoordinator(store: Store, replicaId: string, totalTargets: () => number) {
  return {
    heartbeat: () => store.leases.heartbeat(replicaId),
    async claim(target: string, ttlMs: number): Promise<boolean> {
      const live = await store.leases.countLiveReplicas(STALE_HEARTBEATS * HEARTBEAT_MS);
      const share = Math.ceil(totalTargets() / live);
      const held = await store.leases.countHeld(replicaId);
      const mine = await store.leases.holds(target, replicaId);
      if (mine && held > share) {
        await store.leases.release(target, replicaId);
        return false;
      }
      if (!mine && held >= share) return false;
      return store.leases.tryAcquire(target, replicaId, ttlMs);
    },
  };
}
