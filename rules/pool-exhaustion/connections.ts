/** Connection counting over a window's samples (or the single snapshot), shared by connection rules. */
import type { Backend, Snapshot } from '../../src/snapshot/types.js';
import type { Window } from '../../src/snapshot/window-types.js';

export interface ActivitySample {
  /** Seconds since the first sample. */
  readonly elapsedSeconds: number;
  /** Client backends in the sample. */
  readonly backends: readonly Backend[];
}

/** The window's samples, or the snapshot's activity as the one sample when there is no window. */
export function activitySeries(snapshot: Snapshot, window: Window | null): readonly ActivitySample[] {
  if (window && window.samples.length > 0) {
    return window.samples.map((s) => ({ elapsedSeconds: s.elapsedSeconds, backends: s.activity }));
  }
  return [{ elapsedSeconds: 0, backends: snapshot.activity }];
}

/**
 * A level is confirmed when at least two samples reach it (one burst sample is not enough), or the only
 * sample reaches it when there is just one.
 */
export function confirmedIn(values: readonly number[], bar: number): boolean {
  const hits = values.filter((v) => v >= bar).length;
  return hits >= Math.min(2, values.length);
}

/** Sessions that hold a connection busy: running, or inside a transaction. */
export function isBusy(backend: Backend): boolean {
  return backend.state === 'active' || (backend.state?.startsWith('idle in transaction') ?? false);
}

/** Count per key, e.g. per database name. */
export function countBy(backends: readonly Backend[], key: (b: Backend) => string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const b of backends) {
    const k = key(b) ?? '(unknown)';
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
