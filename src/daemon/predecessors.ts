import { hostname } from 'node:os';
import type { Store } from '../store/index.js';

/**
 * A reclaimed lease lasts this long unless renewed; the first sample (right after start) renews it with the
 * target's own TTL. Short, so a lease reclaimed for a target this daemon never samples is soon free again.
 */
export const RECLAIM_TTL_MS = 60_000;

const DEFAULT_ID = /^(.+)-(\d+)$/;

/**
 * The replicas that were earlier runs of this daemon and are dead: same host, default replica id
 * (`<host>-<pid>`), a pid other than ours that no longer runs. Only when this daemon uses the default id
 * itself: an explicit id (`replica.id`, ADVISOR_REPLICA_ID) survives a restart, so its leases are its own.
 */
export function findDeadPredecessors(replicaId: string, knownIds: readonly string[], isAlive: (pid: number) => boolean = isProcessAlive): string[] {
  const host = hostname();
  if (replicaId !== `${host}-${process.pid}`) return [];
  return knownIds.filter((id) => {
    const m = DEFAULT_ID.exec(id);
    if (!m || m[1] !== host) return false;
    const pid = Number(m[2]);
    return pid !== process.pid && Number.isSafeInteger(pid) && pid > 0 && !isAlive(pid);
  });
}

/**
 * After a crash, a restarted daemon would wait for its dead predecessor's leases to expire (1.5 × interval
 * + 2 s: two hours at a 1 h interval). Same host, same store (the leases are in it), same targets (only
 * this config's targets are taken): the predecessor was this daemon, so its leases are taken over at once
 * and its heartbeat forgotten (it would otherwise halve this replica's fair share for 10 s).
 */
export async function reclaimFromDeadPredecessors(
  store: Store,
  replicaId: string,
  targets: readonly string[],
): Promise<{ readonly predecessors: readonly string[]; readonly targets: readonly string[] }> {
  const predecessors = findDeadPredecessors(replicaId, await store.leases.listReplicaIds());
  if (predecessors.length === 0) return { predecessors, targets: [] };
  const taken = await store.leases.takeOver(predecessors, replicaId, targets, RECLAIM_TTL_MS);
  return { predecessors, targets: taken };
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}
