import type { Sample, SampleStatement, SampleTable, StatementDelta, StatementKey, TableDelta, Window } from './window-types.js';
import { diffCounters, zeroCounters } from './delta.js';

/**
 * Builds a Window from light samples (oldest first). Pure; never emits negative numbers.
 *
 * Statement series, interval i = samples[i-1] → samples[i]:
 * - counters went down or stats_since changed (pgss 1.11+): the entry was reset/evicted and re-created; the
 *   interval counts its current values (from zero) and `restarts` is incremented.
 * - pgss_info.dealloc grew and stats_since is unknown (pgss < 1.11): evicted-and-re-created entries cannot be
 *   told from survivors, so the series restarts at that interval with 0 (its baseline moves to the current
 *   values) and `restarts` is incremented. Missing one interval is better than inventing calls. With
 *   stats_since known, dealloc growth is ignored for entries whose stats_since did not change.
 * - a key first seen mid-window starts its series at its first appearance (baseline = that reading, the
 *   interval counts 0) — unless its stats_since proves it was created after the first sample, then it
 *   counts from zero. Before its first appearance and while absent, intervals count 0.
 * Statements with no calls and no restarts in the window are left out.
 */
export function buildWindow(samples: readonly Sample[]): Window {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last) return { durationSeconds: 0, samples, statements: [], tables: [], xidPerSecond: null };
  const durationSeconds = Math.max(0, last.elapsedSeconds - first.elapsedSeconds);
  return {
    durationSeconds,
    samples,
    statements: buildStatementDeltas(samples),
    tables: buildTableDeltas(samples),
    xidPerSecond: xidRate(first, last, durationSeconds),
  };
}

export function statementKeyString(k: StatementKey): string {
  return `${k.userId}:${k.dbId}:${k.queryId}:${k.toplevel ? 't' : 'f'}`;
}

interface StatementCounters {
  readonly calls: number;
  readonly rows: number;
  readonly totalExecTimeMs: number;
  readonly sharedBlks: number;
}

/**
 * Change of a statement's counters since `base`, as diffCounters computes it (never negative; a counter that
 * went down or a changed stats_since restarts from zero), written out for the hot loop: a daemon window
 * diffs every statement of every sample.
 */
function diffStatement(base: SampleStatement, s: SampleStatement): { delta: StatementCounters; restarted: boolean } {
  const baseBlks = base.sharedBlksHit + base.sharedBlksRead;
  const blks = s.sharedBlksHit + s.sharedBlksRead;
  const recreated = base.statsSince !== null && s.statsSince !== null && base.statsSince !== s.statsSince;
  const restarted = recreated || s.calls < base.calls || s.rows < base.rows || s.totalExecTimeMs < base.totalExecTimeMs || blks < baseBlks;
  if (restarted)
    return {
      delta: { calls: Math.max(0, s.calls), rows: Math.max(0, s.rows), totalExecTimeMs: Math.max(0, s.totalExecTimeMs), sharedBlks: Math.max(0, blks) },
      restarted,
    };
  return {
    delta: { calls: s.calls - base.calls, rows: s.rows - base.rows, totalExecTimeMs: s.totalExecTimeMs - base.totalExecTimeMs, sharedBlks: blks - baseBlks },
    restarted,
  };
}

const statementCounters = (s: SampleStatement): StatementCounters => ({
  calls: s.calls,
  rows: s.rows,
  totalExecTimeMs: s.totalExecTimeMs,
  sharedBlks: s.sharedBlksHit + s.sharedBlksRead,
});

interface StatementTrack {
  latest: SampleStatement;
  /** Baseline reading and the sample index it was taken at. */
  base: SampleStatement;
  baseIndex: number;
  calls: number[];
  rows: number[];
  totalCalls: number;
  totalRows: number;
  totalExecTimeMs: number;
  sharedBlks: number;
  restarts: number;
}

function buildStatementDeltas(samples: readonly Sample[]): StatementDelta[] {
  const intervals = samples.length - 1;
  // Tracks by queryid, then by (userid, dbid, toplevel): a daemon rebuilds this window at every sample,
  // and looking up the queryid strings it already hashed is much cheaper than building a key string.
  const tracks = new Map<string, StatementTrack[]>();
  const firstAt = Date.parse(samples[0]?.collectedAt ?? '');
  samples.forEach((sample, i) => {
    for (const s of sample.statements) {
      let same = tracks.get(s.queryId);
      if (!same) {
        same = [];
        tracks.set(s.queryId, same);
      }
      let track = same.find((t) => t.base.userId === s.userId && t.base.dbId === s.dbId && t.base.toplevel === s.toplevel);
      if (!track) {
        track = {
          latest: s,
          base: s,
          baseIndex: i,
          calls: new Array<number>(intervals).fill(0),
          rows: new Array<number>(intervals).fill(0),
          totalCalls: 0,
          totalRows: 0,
          totalExecTimeMs: 0,
          sharedBlks: 0,
          restarts: 0,
        };
        same.push(track);
        const createdInWindow = i > 0 && s.statsSince !== null && Date.parse(s.statsSince) > firstAt;
        if (createdInWindow) add(track, i - 1, statementCounters(s));
        continue;
      }
      const deallocGrew = deallocGrowth(samples, track.baseIndex, i);
      const statsKnown = track.base.statsSince !== null && s.statsSince !== null;
      const diff = diffStatement(track.base, s);
      if (diff.restarted) {
        track.restarts++;
        add(track, i - 1, diff.delta);
      } else if (deallocGrew && !statsKnown) {
        track.restarts++;
      } else {
        add(track, i - 1, diff.delta);
      }
      track.base = s;
      track.baseIndex = i;
      track.latest = s;
    }
  });
  const out: StatementDelta[] = [];
  for (const t of [...tracks.values()].flat()) {
    if (t.totalCalls === 0 && t.restarts === 0) continue;
    const s = t.latest;
    out.push({
      userId: s.userId,
      dbId: s.dbId,
      queryId: s.queryId,
      toplevel: s.toplevel,
      userName: s.userName,
      query: s.query,
      calls: t.totalCalls,
      rows: t.totalRows,
      totalExecTimeMs: t.totalExecTimeMs,
      sharedBlks: t.sharedBlks,
      callsSeries: t.calls,
      rowsSeries: t.rows,
      restarts: t.restarts,
    });
  }
  return out.sort((a, b) => b.calls - a.calls);
}

function add(track: StatementTrack, interval: number, d: StatementCounters): void {
  track.calls[interval] = (track.calls[interval] ?? 0) + d.calls;
  track.rows[interval] = (track.rows[interval] ?? 0) + d.rows;
  track.totalCalls += d.calls;
  track.totalRows += d.rows;
  track.totalExecTimeMs += d.totalExecTimeMs;
  track.sharedBlks += d.sharedBlks;
}

/** pgss_info.dealloc grew between two samples (unknown counts as no growth). */
function deallocGrowth(samples: readonly Sample[], from: number, to: number): boolean {
  const a = samples[from]?.pgssDealloc;
  const b = samples[to]?.pgssDealloc;
  return a != null && b != null && b > a;
}

const tableCounters = (t: SampleTable) => ({
  seqTupRead: t.seqTupRead,
  seqScan: t.seqScan,
  idxScan: t.idxScan,
  writes: t.nTupIns + t.nTupUpd + t.nTupDel,
  updates: t.nTupUpd,
  hotUpdates: t.nTupHotUpd,
  vacuums: t.autovacuumCount + t.vacuumCount,
});

function buildTableDeltas(samples: readonly Sample[]): TableDelta[] {
  const tracks = new Map<number, { latest: SampleTable; base: SampleTable; total: ReturnType<typeof tableCounters> }>();
  for (const sample of samples) {
    for (const t of sample.tables) {
      const track = tracks.get(t.oid);
      if (!track) {
        tracks.set(t.oid, { latest: t, base: t, total: zeroCounters(tableCounters(t)) });
        continue;
      }
      const { delta } = diffCounters(tableCounters(track.base), tableCounters(t));
      for (const k of Object.keys(delta) as (keyof typeof delta)[]) track.total[k] += delta[k];
      track.base = t;
      track.latest = t;
    }
  }
  return [...tracks.values()].map(({ latest, total }) => ({ oid: latest.oid, schema: latest.schema, name: latest.name, ...total }));
}

function xidRate(first: Sample, last: Sample, durationSeconds: number): number | null {
  if (first.nextXid === null || last.nextXid === null || durationSeconds <= 0) return null;
  return Math.max(0, last.nextXid - first.nextXid) / durationSeconds;
}
