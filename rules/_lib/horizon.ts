/** The xmin horizon: who holds it back, described the same way by every rule. */
import type { EvidenceValue } from '../../src/engine/types.js';
import type { HorizonHolder, Snapshot } from '../../src/snapshot/types.js';
import { formatCount, formatDuration } from './format.js';

/** Root holders first when ages tie: the one whose own transaction pins the horizon, not its mirrors. */
const KIND_PRIORITY: Readonly<Record<HorizonHolder['kind'], number>> = {
  'prepared-transaction': 3,
  'replication-slot': 2,
  standby: 1,
  backend: 0,
};

/**
 * The holder with the oldest xmin (largest age in transactions) that holds back the (non-shared) tables of
 * `database`, or null. PostgreSQL 14+: a backend or prepared transaction of another database does not;
 * slots and standbys (database null) hold every database's. Sessions whose snapshot only mirrors another
 * running transaction share its xmin age; on a tie the root holder wins (ownsXmin, then prepared
 * transaction > slot > standby > backend, then the longest held).
 */
export function oldestHorizonHolder(snapshot: Snapshot, database: string): HorizonHolder | null {
  let oldest: HorizonHolder | null = null;
  for (const holder of snapshot.vacuum?.horizonHolders ?? []) {
    if (holder.database && holder.database !== database) continue;
    if (!oldest || compareHolders(holder, oldest) > 0) oldest = holder;
  }
  return oldest;
}

function compareHolders(a: HorizonHolder, b: HorizonHolder): number {
  // A holder whose xmin merely mirrors another running transaction is never the root while an owner is there,
  // however its age compares (its own xid can make it look a few transactions older).
  return (
    Number(a.ownsXmin !== false) - Number(b.ownsXmin !== false) ||
    a.xminAge - b.xminAge ||
    KIND_PRIORITY[a.kind] - KIND_PRIORITY[b.kind] ||
    (a.ageSeconds ?? 0) - (b.ageSeconds ?? 0)
  );
}

/** "backend 4242 (idle in transaction…), xmin age 320,009, held 43 s". */
export function describeHolder(holder: HorizonHolder): string {
  const held = holder.ageSeconds === null ? '' : `, held ${formatDuration(holder.ageSeconds)}`;
  const detail = holder.detail ? ` (${holder.detail})` : '';
  return `${holder.kind} ${holder.name}${detail}, xmin age ${formatCount(holder.xminAge)}${held}`;
}

/** Evidence entries naming the holder; null values when there is none. */
export function holderEvidence(holder: HorizonHolder | null): Record<string, EvidenceValue> {
  return {
    holderKind: holder?.kind ?? null,
    holderName: holder?.name ?? null,
    holderXminAge: holder?.xminAge ?? null,
    holderAgeSeconds: holder?.ageSeconds ?? null,
  };
}

/** What to do about a holder, by kind. */
export function holderAdvice(holder: HorizonHolder): string {
  switch (holder.kind) {
    case 'backend':
      return (
        `End the transaction of backend ${holder.name} (commit or roll it back in the application, or ` +
        `pg_terminate_backend(${holder.name}) as a last resort) and set idle_in_transaction_session_timeout.`
      );
    case 'prepared-transaction':
      return `Commit or roll back the prepared transaction '${holder.name}' (COMMIT PREPARED / ROLLBACK PREPARED) after checking with its transaction manager.`;
    case 'replication-slot':
      return `Replication slot ${holder.name} holds the horizon: resume its consumer, or drop the slot if it is abandoned (pg_drop_replication_slot).`;
    case 'standby':
      return (
        `Standby ${holder.name} (hot_standby_feedback) holds the horizon: look for long queries on the ` +
        `standby or limit them (max_standby_streaming_delay).`
      );
  }
}
