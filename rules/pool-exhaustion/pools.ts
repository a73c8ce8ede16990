/** Application-side pools seen from the database: backends grouped by (application_name, user, client_addr). */
import type { Backend } from '../../src/snapshot/types.js';
import { isBusy, type ActivitySample } from './connections.js';

export interface PoolObservation {
  readonly applicationName: string;
  readonly userName: string | null;
  readonly clientAddr: string | null;
  /** Pool size per sample (connections; 0 when absent). */
  readonly sizes: readonly number[];
  /** Busy backends (active or idle in transaction) per sample. */
  readonly busy: readonly number[];
  /** The pool's backends in the last sample it appeared in. */
  readonly last: readonly Backend[];
}

/** Groups every sample's backends into pools; pools made only of the advisor's own session are left out. */
export function observePools(series: readonly ActivitySample[]): PoolObservation[] {
  const pools = new Map<string, { app: string; user: string | null; addr: string | null; sizes: number[]; busy: number[]; last: Backend[] }>();
  series.forEach((sample, i) => {
    for (const b of sample.backends) {
      if (b.isSelf) continue;
      const key = JSON.stringify([b.applicationName, b.userName, b.clientAddr]);
      let pool = pools.get(key);
      if (!pool) {
        pool = { app: b.applicationName, user: b.userName, addr: b.clientAddr, sizes: series.map(() => 0), busy: series.map(() => 0), last: [] };
        pools.set(key, pool);
      }
      pool.sizes[i] = (pool.sizes[i] ?? 0) + 1;
      if (isBusy(b)) pool.busy[i] = (pool.busy[i] ?? 0) + 1;
    }
  });
  const lastOf = (p: { app: string; user: string | null; addr: string | null; sizes: number[] }): Backend[] => {
    const sample = series[p.sizes.findLastIndex((size) => size > 0)];
    return sample ? sample.backends.filter((b) => !b.isSelf && b.applicationName === p.app && b.userName === p.user && b.clientAddr === p.addr) : [];
  };
  return [...pools.values()].map((p) => ({
    applicationName: p.app,
    userName: p.user,
    clientAddr: p.addr,
    sizes: p.sizes,
    busy: p.busy,
    last: lastOf(p),
  }));
}

/**
 * The size the pool holds steady at: the base b for which the most samples have a size in [b, b + 1]
 * (detection notes §5.2: max − min ≤ 1), with the fraction of samples that do.
 */
export function steadySize(sizes: readonly number[]): { readonly size: number; readonly fraction: number } {
  let best = { size: 0, fraction: 0 };
  for (const base of new Set(sizes)) {
    const within = sizes.filter((s) => s === base || s === base + 1).length / sizes.length;
    if (within > best.fraction || (within === best.fraction && base > best.size)) best = { size: base, fraction: within };
  }
  return best;
}
