import type { SeriesMetric, SeriesPointInput, StatementDeltaInput } from '../store/index.js';
import { isAdvisorQuery } from '../collector/sql-marker.js';
import type { Snapshot } from '../snapshot/types.js';
import type { Window } from '../snapshot/window-types.js';

/** Relations kept per sample for the per-relation series (dead tuples, bloat). */
export const TOP_RELATIONS = 10;
/** Statements kept per sample: the top N by total time plus the top N by calls. */
export const TOP_STATEMENTS = 25;

/**
 * The compact time-series points of one snapshot. Pure. `connections` by state (count);
 * `connection_utilisation` = client backends / usable slots (fraction, 0–1+); `xid_age`/`mxid_age` per
 * database (transactions); `database_size_bytes` of the sampled database; `dead_tuples` and `bloat_bytes`
 * for the TOP_RELATIONS worst relations; `xid_per_second` over the interval since the previous sample.
 */
export function buildSeries(snapshot: Snapshot, window: Window | null): SeriesPointInput[] {
  const points: SeriesPointInput[] = [];
  const push = (metric: SeriesMetric, value: number | null | undefined, object = ''): void => {
    if (value !== null && value !== undefined && Number.isFinite(value)) points.push({ metric, object, value });
  };
  const byState = new Map<string, number>();
  for (const b of snapshot.activity) byState.set(b.state ?? 'unknown', (byState.get(b.state ?? 'unknown') ?? 0) + 1);
  for (const [state, n] of [...byState].sort()) push('connections', n, state);
  const s = snapshot.settings;
  if (s) {
    const usable = s.maxConnections - s.superuserReservedConnections - s.reservedConnections;
    if (usable > 0) push('connection_utilisation', snapshot.activity.length / usable);
  }
  for (const d of snapshot.databases) {
    if (d.isTemplate || !d.allowConn) continue;
    push('xid_age', d.xidAge, d.name);
    push('mxid_age', d.mxidAge, d.name);
    if (d.name === snapshot.meta.database) push('database_size_bytes', d.sizeBytes);
  }
  const dead = snapshot.tables
    .filter((t) => t.nDeadTup > 0)
    .sort((a, b) => b.nDeadTup - a.nDeadTup)
    .slice(0, TOP_RELATIONS);
  for (const t of dead) push('dead_tuples', t.nDeadTup, `${t.schema}.${t.name}`);
  const bloat = [...(snapshot.bloat?.tables ?? []), ...(snapshot.bloat?.indexes ?? [])]
    .filter((b) => b.wasteBytes > 0)
    .sort((a, b) => b.wasteBytes - a.wasteBytes)
    .slice(0, TOP_RELATIONS);
  for (const b of bloat) push('bloat_bytes', b.wasteBytes, `${b.schema}.${b.name}`);
  push('xid_per_second', window?.xidPerSecond);
  return points;
}

/** The statement deltas worth keeping: top by total time ∪ top by calls, the advisor's own excluded. Pure. */
export function selectStatements(window: Window | null): StatementDeltaInput[] {
  if (!window) return [];
  const candidates = window.statements.filter((s) => s.calls > 0 && !isAdvisorQuery(s.query));
  const byTime = [...candidates].sort((a, b) => b.totalExecTimeMs - a.totalExecTimeMs).slice(0, TOP_STATEMENTS);
  const byCalls = [...candidates].sort((a, b) => b.calls - a.calls).slice(0, TOP_STATEMENTS);
  const picked = new Map<string, (typeof candidates)[number]>();
  for (const s of [...byTime, ...byCalls]) picked.set(`${s.userId}:${s.dbId}:${s.queryId}:${s.toplevel}`, s);
  return [...picked.values()].map((s) => ({
    queryId: s.queryId,
    userName: s.userName,
    toplevel: s.toplevel,
    calls: s.calls,
    rows: s.rows,
    totalExecTimeMs: s.totalExecTimeMs,
    sharedBlks: s.sharedBlks,
  }));
}
