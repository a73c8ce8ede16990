/**
 * A target's recent history for the rule engine: the last few light samples (counters and sessions, not
 * sizes or plans), bounded by a time horizon and a sample cap. Rules see a Window over all of them — its
 * last interval is the change since the previous sample, the earlier ones are the history (trends, peaks,
 * per-interval correlation) — while the store keeps only the last interval's deltas so nothing is
 * counted twice.
 */
import type { Snapshot } from '../snapshot/types.js';
import type { Sample, SampleStatement, SampleTable, Window } from '../snapshot/window-types.js';
import { buildWindow } from '../snapshot/window.js';

/** Light samples kept per target at most, whatever the horizon (memory: about 30 × the statement count). */
export const MAX_HISTORY_SAMPLES = 30;
/** The previous sample always counts when it is at most this many intervals old (a late or retried tick). */
export const PREVIOUS_SAMPLE_INTERVALS = 2.5;

export interface HistoryOptions {
  /** How far back rules see (milliseconds); 0 = only the previous sample. */
  readonly horizonMs: number;
  /** The target's sampling interval (milliseconds). */
  readonly intervalMs: number;
  readonly maxSamples?: number;
}

/** What rules and the store get from one new sample. */
export interface HistoryView {
  /** Previous sample → this one; null when there is no usable previous sample (gauges only). */
  readonly step: Window | null;
  /** Every kept sample → this one; null when there is no usable previous sample. */
  readonly window: Window | null;
  /** Seconds since the previous sample; null without one. */
  readonly intervalSeconds: number | null;
}

export class SampleHistory {
  private samples: Sample[] = [];
  private readonly horizonMs: number;
  private readonly previousMs: number;
  private readonly maxSamples: number;

  constructor(options: HistoryOptions) {
    this.horizonMs = options.horizonMs;
    this.previousMs = PREVIOUS_SAMPLE_INTERVALS * options.intervalMs;
    this.maxSamples = Math.max(2, options.maxSamples ?? MAX_HISTORY_SAMPLES);
  }

  get size(): number {
    return this.samples.length;
  }

  /** The newest kept sample (what the store's checkpoint holds). */
  latest(): Sample | null {
    return this.samples[this.samples.length - 1] ?? null;
  }

  /** Windows for `current` over the kept samples, without keeping it (see commit). Pure. */
  view(current: Sample): HistoryView {
    const kept = this.keptFor(current);
    const previous = kept[kept.length - 1];
    if (!previous) return { step: null, window: null, intervalSeconds: null };
    const step = buildWindow(rebase([previous, current]));
    const window = kept.length === 1 ? step : buildWindow(rebase([...kept, current]));
    return { step, window, intervalSeconds: secondsBetween(previous, current) };
  }

  /** Keeps `current` (after it was stored), dropping samples past the horizon or the cap. */
  commit(current: Sample): void {
    this.samples = [...this.keptFor(current), current];
  }

  /** Starts from a stored sample (a restart or a target taken over from another replica). */
  seed(sample: Sample): void {
    this.samples = [sample];
  }

  clear(): void {
    this.samples = [];
  }

  /**
   * Kept samples strictly older than `current`: those within the horizon, and the previous one when it is
   * at most 2.5 intervals old even if the horizon is shorter; at most maxSamples − 1 of them.
   */
  private keptFor(current: Sample): Sample[] {
    const at = Date.parse(current.collectedAt);
    const older = this.samples.filter((s) => Date.parse(s.collectedAt) < at);
    const previous = older[older.length - 1];
    const kept = older.filter((s) => at - Date.parse(s.collectedAt) <= this.horizonMs);
    if (previous && kept[kept.length - 1] !== previous && at - Date.parse(previous.collectedAt) <= this.previousMs) kept.push(previous);
    return kept.slice(Math.max(0, kept.length - (this.maxSamples - 1)));
  }
}

/** The light sample of a full snapshot: only what a Window reads, so history holds no sizes, plans or options. */
export function lightSample(snapshot: Snapshot): Sample {
  return {
    collectedAt: snapshot.meta.collectedAt,
    elapsedSeconds: 0,
    statements: snapshot.statements.map(slimStatement),
    activity: snapshot.activity,
    tables: snapshot.tables.map(slimTable),
    databases: snapshot.databases,
    sequences: (snapshot.sequences?.sequences ?? []).map((q) => ({ schema: q.schema, name: q.name, lastValue: q.lastValue })),
    nextXid: snapshot.vacuum?.nextXid ?? null,
    pgssDealloc: snapshot.meta.pgssDealloc,
  };
}

export const slimStatement = (s: SampleStatement): SampleStatement => ({
  userId: s.userId,
  userName: s.userName,
  dbId: s.dbId,
  queryId: s.queryId,
  toplevel: s.toplevel,
  query: s.query,
  calls: s.calls,
  rows: s.rows,
  totalExecTimeMs: s.totalExecTimeMs,
  sharedBlksHit: s.sharedBlksHit,
  sharedBlksRead: s.sharedBlksRead,
  statsSince: s.statsSince,
});

export const slimTable = (t: SampleTable): SampleTable => ({
  oid: t.oid,
  schema: t.schema,
  name: t.name,
  nDeadTup: t.nDeadTup,
  seqScan: t.seqScan,
  seqTupRead: t.seqTupRead,
  idxScan: t.idxScan,
  nTupIns: t.nTupIns,
  nTupUpd: t.nTupUpd,
  nTupDel: t.nTupDel,
  nTupHotUpd: t.nTupHotUpd,
  vacuumCount: t.vacuumCount,
  autovacuumCount: t.autovacuumCount,
});

/** Samples with elapsedSeconds measured from the first one. */
function rebase(samples: readonly Sample[]): Sample[] {
  const [first] = samples;
  if (!first) return [];
  const t0 = Date.parse(first.collectedAt);
  return samples.map((s) => ({ ...s, elapsedSeconds: (Date.parse(s.collectedAt) - t0) / 1000 }));
}

function secondsBetween(a: Sample, b: Sample): number {
  return (Date.parse(b.collectedAt) - Date.parse(a.collectedAt)) / 1000;
}
