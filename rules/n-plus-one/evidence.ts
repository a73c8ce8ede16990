/** Temporal and backend evidence for a child/parent pair (detection.md §1.2 step 4). Pure. */
import type { Sample } from '../../src/snapshot/window-types.js';

export interface TemporalEvidence {
  /** Pearson correlation of c_C(i) and r_P(i); null when a series is constant. */
  readonly rho: number | null;
  /** RMS(c_C(i) − R·r_P(i)) / mean(c_C(i)). */
  readonly residual: number;
}

/** Needs ≥ `minIntervals` intervals in which the child ran; null otherwise. */
export function temporalEvidence(childCalls: readonly number[], parentRows: readonly number[], ratio: number, minIntervals: number): TemporalEvidence | null {
  const n = Math.min(childCalls.length, parentRows.length);
  if (childCalls.slice(0, n).filter((c) => c > 0).length < minIntervals) return null;
  const x = childCalls.slice(0, n);
  const y = parentRows.slice(0, n);
  const mean = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  let sr = 0;
  for (const [i, xi] of x.entries()) {
    const yi = y[i];
    if (yi === undefined) continue; // x and y are both n long
    const dx = xi - mx;
    const dy = yi - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
    const r = xi - ratio * yi;
    sr += r * r;
  }
  const rho = sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : null;
  return { rho, residual: mx > 0 ? Math.sqrt(sr / n) / mx : Number.POSITIVE_INFINITY };
}

export interface BackendEvidence {
  readonly childObservations: number;
  readonly parentObservations: number;
  /** Backends (pids) seen running both statements. */
  readonly sharedBackends: number;
  /** Both seen ≥ 3 times, by disjoint (application, role, client) groups: independent services. */
  readonly disjointGroups: boolean;
}

export function backendEvidence(samples: readonly Sample[], childQueryId: string, parentQueryId: string): BackendEvidence {
  const pids = { child: new Set<number>(), parent: new Set<number>() };
  const groups = { child: new Set<string>(), parent: new Set<string>() };
  let childObservations = 0;
  let parentObservations = 0;
  for (const sample of samples) {
    for (const b of sample.activity) {
      if (b.isSelf || b.queryId === null) continue;
      const group = `${b.applicationName}\u0000${b.userName ?? ''}\u0000${b.clientAddr ?? ''}`;
      if (b.queryId === childQueryId) {
        childObservations++;
        pids.child.add(b.pid);
        groups.child.add(group);
      } else if (b.queryId === parentQueryId) {
        parentObservations++;
        pids.parent.add(b.pid);
        groups.parent.add(group);
      }
    }
  }
  const sharedBackends = [...pids.child].filter((p) => pids.parent.has(p)).length;
  const disjointGroups = childObservations >= 3 && parentObservations >= 3 && [...groups.child].every((g) => !groups.parent.has(g));
  return { childObservations, parentObservations, sharedBackends, disjointGroups };
}
