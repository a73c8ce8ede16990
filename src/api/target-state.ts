import type { LeaseState, TargetRecord } from '../store/index.js';

/** States a sampling replica writes; anything else (pending, disabled) says nothing about a live owner. */
const SAMPLED_STATES = new Set(['ok', 'failing', 'circuit-open']);

/**
 * The state the API shows for a target. The stored state is what its owner last wrote; after a crash it stays
 * `ok` forever. So, judged on the store's clock:
 * - `ok` with no lease, an expired lease, or an owner that is not this process and has stopped heartbeating → `stale`;
 * - `failing` / `circuit-open` whose owner is gone (no lease, or a silent owner that is not this process) → `stale`
 *   (a failing target in backoff may let its lease lapse while its owner lives: it stays `failing`).
 * `lastSuccessAt` tells how old the data is.
 */
export function presentedState(target: TargetRecord, lease: LeaseState | undefined, thisReplica: string | undefined): string {
  if (!SAMPLED_STATES.has(target.state)) return target.state;
  const ownerGone = !lease || (lease.owner !== thisReplica && !lease.ownerLive);
  if (ownerGone) return 'stale';
  if (target.state === 'ok' && lease.expired) return 'stale';
  return target.state;
}
