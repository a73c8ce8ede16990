import { describe, expect, it } from 'vitest';
import { buildWindow } from '../../src/snapshot/window.js';
import type { StatementStat, TableStat } from '../../src/snapshot/types.js';
import type { Sample } from '../../src/snapshot/window-types.js';

const T0 = Date.parse('2026-11-23T06:00:00.000Z');

function stmt(queryId: string, calls: number, extra: Partial<StatementStat> = {}): StatementStat {
  return {
    userId: 10,
    userName: 'app',
    dbId: 5,
    queryId,
    toplevel: true,
    query: `q${queryId}`,
    calls,
    rows: calls * 2,
    totalExecTimeMs: calls * 0.5,
    meanExecTimeMs: 0.5,
    totalPlanTimeMs: 0,
    sharedBlksHit: calls,
    sharedBlksRead: 0,
    sharedBlksDirtied: 0,
    tempBlksWritten: 0,
    statsSince: null,
    ...extra,
  };
}

function table(oid: number, seqScan: number, extra: Partial<TableStat> = {}): TableStat {
  return {
    oid,
    schema: 'public',
    name: `t${oid}`,
    kind: 'r',
    relpages: 10,
    reltuples: 100,
    relallvisible: 0,
    heapBytes: 81920,
    totalBytes: 81920,
    reloptions: {},
    nLiveTup: 100,
    nDeadTup: 0,
    nModSinceAnalyze: 0,
    nInsSinceVacuum: 0,
    seqScan,
    seqTupRead: seqScan * 100,
    idxScan: 0,
    nTupIns: 0,
    nTupUpd: 0,
    nTupDel: 0,
    nTupHotUpd: 0,
    lastVacuumAgeSeconds: null,
    lastAutovacuumAgeSeconds: null,
    lastAnalyzeAgeSeconds: null,
    lastAutoanalyzeAgeSeconds: null,
    vacuumCount: 0,
    autovacuumCount: 0,
    analyzeCount: 0,
    autoanalyzeCount: 0,
    xidAge: 1,
    mxidAge: 0,
    locked: false,
    ...extra,
  };
}

function sample(i: number, statements: StatementStat[], extra: Partial<Sample> = {}): Sample {
  return {
    collectedAt: new Date(T0 + i * 1000).toISOString(),
    elapsedSeconds: i,
    statements,
    activity: [],
    tables: [],
    databases: [],
    nextXid: 1000 + i * 50,
    pgssDealloc: 0,
    ...extra,
  };
}

describe('buildWindow: statements', () => {
  it('sums per-interval deltas into totals', () => {
    const w = buildWindow([sample(0, [stmt('1', 100)]), sample(1, [stmt('1', 110)]), sample(2, [stmt('1', 130)])]);
    expect(w.durationSeconds).toBe(2);
    expect(w.statements).toHaveLength(1);
    expect(w.statements[0]).toMatchObject({ queryId: '1', calls: 30, rows: 60, totalExecTimeMs: 15, sharedBlks: 30, restarts: 0 });
    expect(w.statements[0]!.callsSeries).toEqual([10, 20]);
    expect(w.statements[0]!.rowsSeries).toEqual([20, 40]);
  });

  it('restarts a series whose counters went down (reset) and counts from zero', () => {
    const w = buildWindow([sample(0, [stmt('1', 100)]), sample(1, [stmt('1', 4)]), sample(2, [stmt('1', 10)])]);
    expect(w.statements[0]!.callsSeries).toEqual([4, 6]);
    expect(w.statements[0]!.calls).toBe(10);
    expect(w.statements[0]!.restarts).toBe(1);
  });

  it('restarts on a changed stats_since even when counters grew (pgss 1.11+)', () => {
    const a = '2026-11-23T05:00:00.000Z';
    const b = '2026-11-23T06:00:00.500Z';
    const w = buildWindow([
      sample(0, [stmt('1', 5, { statsSince: a })]),
      sample(1, [stmt('1', 8, { statsSince: b })]),
      sample(2, [stmt('1', 9, { statsSince: b })]),
    ]);
    expect(w.statements[0]!.callsSeries).toEqual([8, 1]);
    expect(w.statements[0]!.restarts).toBe(1);
  });

  it('restarts with 0 on dealloc growth when stats_since is unknown (eviction cannot be told apart)', () => {
    const w = buildWindow([
      sample(0, [stmt('1', 100)], { pgssDealloc: 3 }),
      sample(1, [stmt('1', 120)], { pgssDealloc: 4 }),
      sample(2, [stmt('1', 125)], { pgssDealloc: 4 }),
    ]);
    expect(w.statements[0]!.callsSeries).toEqual([0, 5]);
    expect(w.statements[0]!.restarts).toBe(1);
  });

  it('trusts stats_since over dealloc growth when it is known and unchanged', () => {
    const since = '2026-11-23T05:00:00.000Z';
    const w = buildWindow([
      sample(0, [stmt('1', 100, { statsSince: since })], { pgssDealloc: 3 }),
      sample(1, [stmt('1', 120, { statsSince: since })], { pgssDealloc: 9 }),
    ]);
    expect(w.statements[0]!.callsSeries).toEqual([20]);
    expect(w.statements[0]!.restarts).toBe(0);
  });

  it('starts a key first seen mid-window at its first appearance', () => {
    const w = buildWindow([sample(0, []), sample(1, [stmt('2', 50)]), sample(2, [stmt('2', 57)])]);
    expect(w.statements[0]!.callsSeries).toEqual([0, 7]);
    expect(w.statements[0]!.calls).toBe(7);
  });

  it('counts a new key from zero when stats_since proves it was created in the window', () => {
    const created = new Date(T0 + 500).toISOString();
    const w = buildWindow([sample(0, []), sample(1, [stmt('2', 3, { statsSince: created })]), sample(2, [stmt('2', 5, { statsSince: created })])]);
    expect(w.statements[0]!.callsSeries).toEqual([3, 2]);
  });

  it('handles an evicted key that comes back later, never negative', () => {
    const w = buildWindow([sample(0, [stmt('1', 100)]), sample(1, []), sample(2, [stmt('1', 2)]), sample(3, [stmt('1', 6)])]);
    expect(w.statements[0]!.callsSeries).toEqual([0, 2, 4]);
    expect(w.statements[0]!.restarts).toBe(1);
  });

  it('keeps keys apart by user, database and toplevel, and drops idle statements', () => {
    const w = buildWindow([
      sample(0, [stmt('1', 1), stmt('1', 1, { toplevel: false }), stmt('1', 1, { userId: 11 }), stmt('9', 4)]),
      sample(1, [stmt('1', 2), stmt('1', 3, { toplevel: false }), stmt('1', 5, { userId: 11 }), stmt('9', 4)]),
    ]);
    expect(w.statements.map((s) => [s.userId, s.toplevel, s.calls])).toEqual([
      [11, true, 4],
      [10, false, 2],
      [10, true, 1],
    ]);
  });

  it('returns an empty window for no samples and zero series for a single one', () => {
    expect(buildWindow([])).toMatchObject({ durationSeconds: 0, statements: [], xidPerSecond: null });
    expect(buildWindow([sample(0, [stmt('1', 5)])])).toMatchObject({ statements: [], xidPerSecond: null });
  });
});

describe('buildWindow: tables and xids', () => {
  it('diffs table counters, restarting after a stats reset', () => {
    const w = buildWindow([
      sample(0, [], { tables: [table(1, 10, { nTupUpd: 5, nTupHotUpd: 2, autovacuumCount: 1 })] }),
      sample(1, [], { tables: [table(1, 14, { nTupUpd: 9, nTupHotUpd: 3, autovacuumCount: 2 })] }),
      sample(2, [], { tables: [table(1, 2, { nTupUpd: 1, nTupHotUpd: 0, autovacuumCount: 0 })] }),
    ]);
    expect(w.tables).toEqual([
      { oid: 1, schema: 'public', name: 't1', seqScan: 6, seqTupRead: 600, idxScan: 0, writes: 5, updates: 5, hotUpdates: 1, vacuums: 1 },
    ]);
  });

  it('computes the xid rate, null when unknown, never negative', () => {
    expect(buildWindow([sample(0, []), sample(2, [])]).xidPerSecond).toBe(50);
    expect(buildWindow([sample(0, []), sample(1, [], { nextXid: null })]).xidPerSecond).toBeNull();
    expect(buildWindow([sample(0, []), sample(1, [], { nextXid: 10 })]).xidPerSecond).toBe(0);
  });
});
