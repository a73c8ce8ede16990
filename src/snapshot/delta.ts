/**
 * Counter diffs between two readings of the same cumulative counters, with reset detection. Pure.
 *
 * Contract: never returns a negative number. A reading whose counters went down, or whose `statsSince`
 * changed, was reset (or evicted and re-created) in between: its values count from zero, so the interval
 * delta is the current reading itself and `restarted` is true.
 */

export type Counters = Readonly<Record<string, number>>;

export interface CounterDiff<C extends Counters> {
  readonly delta: { readonly [K in keyof C]: number };
  readonly restarted: boolean;
}

/** Change of `curr` over `prev`; `statsSince` (ISO or null) from pgss 1.11+ proves a re-creation. */
export function diffCounters<C extends Counters>(
  prev: C,
  curr: C,
  statsSince: { readonly prev: string | null; readonly curr: string | null } = { prev: null, curr: null },
): CounterDiff<C> {
  const keys = Object.keys(curr) as (keyof C & string)[];
  const recreated = statsSince.prev !== null && statsSince.curr !== null && statsSince.prev !== statsSince.curr;
  const wentDown = keys.some((k) => (curr[k] ?? 0) < (prev[k] ?? 0));
  const restarted = recreated || wentDown;
  const delta = {} as { [K in keyof C]: number };
  for (const k of keys) {
    const value = restarted ? (curr[k] ?? 0) : (curr[k] ?? 0) - (prev[k] ?? 0);
    delta[k] = Math.max(0, value);
  }
  return { delta, restarted };
}

/** A zero delta with the same keys. */
export function zeroCounters<C extends Counters>(like: C): { [K in keyof C]: number } {
  const out = {} as { [K in keyof C]: number };
  for (const k of Object.keys(like) as (keyof C)[]) out[k] = 0;
  return out;
}
