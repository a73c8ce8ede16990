import type { Target } from './api.js';

/**
 * State kept per Target for as long as the Target lives (text cache, pgstattuple results): a daemon's
 * sampler and its audits share one Target, while `check` gets a fresh one and so starts empty.
 */
export function perTarget<T>(create: () => T): (target: Target) => T {
  const states = new WeakMap<Target, T>();
  return (target) => {
    let state = states.get(target);
    if (state === undefined) {
      state = create();
      states.set(target, state);
    }
    return state;
  };
}
