/**
 * Benchmark hooks for the query rules: a synthetic snapshot of `statements` statements over `tables`
 * tables, and warm (cached) re-evaluation of n-plus-one and missing-index over it.
 */
import { performance } from 'node:perf_hooks';
import { evaluateRules } from '../../src/engine/evaluate.js';
import type { AnyRule } from '../../src/engine/types.js';
import { deepFreeze } from '../../src/snapshot/freeze.js';
import { SNAPSHOT_FORMAT_VERSION, type Snapshot } from '../../src/snapshot/types.js';
import { generateDistinctStatements } from './sql-bench.js';
import missingIndex from '../../rules/missing-index/index.js';
import nPlusOne from '../../rules/n-plus-one/index.js';

export function buildQueryBenchSnapshot(options: { statements?: number; tables?: number } = {}): Snapshot {
  const nStatements = options.statements ?? 5000;
  const nTables = options.tables ?? 1000;
  const texts = generateDistinctStatements(nStatements, nTables);
  const oid = (i: number): number => 100_000 + i;
  return deepFreeze({
    meta: {
      formatVersion: SNAPSHOT_FORMAT_VERSION,
      collectedAt: '2026-01-01T12:00:00.000Z',
      serverVersionNum: 170010,
      serverVersion: '17.10',
      database: 'bench',
      currentUser: 'advisor',
      searchPath: ['public'],
      capabilities: { superuser: false, pgMonitor: true, readAllStats: true, pgssLoaded: true, pgssVersion: '1.11', pgstattuple: false, hypopg: false },
      pgssStatsReset: null,
      pgssDealloc: 0,
      sources: Object.fromEntries(['statements', 'tables', 'indexes', 'constraints', 'columns'].map((s) => [s, { status: 'ok' }])),
      collectDurationMs: 0,
    },
    settings: null,
    statements: texts.map((query, i) => ({
      userId: 10 + (i % 5),
      userName: 'app',
      dbId: 1,
      queryId: String(-1e15 + i * 7919),
      toplevel: true,
      query,
      calls: 1000 + (i % 97) * 50,
      rows: 1000 + (i % 13) * 400,
      totalExecTimeMs: 10 + (i % 31) * 40,
      meanExecTimeMs: 0.05,
      totalPlanTimeMs: 0,
      sharedBlksHit: 5000 + (i % 17) * 20_000,
      sharedBlksRead: 0,
      sharedBlksDirtied: 0,
      tempBlksWritten: 0,
      statsSince: null,
    })),
    activity: [],
    databases: [],
    roles: [],
    tables: Array.from({ length: nTables }, (_, i) => ({
      oid: oid(i),
      schema: 'public',
      name: `t${i}`,
      kind: 'r' as const,
      relpages: 100 + (i % 50) * 100,
      reltuples: 10_000 + (i % 50) * 10_000,
      relallvisible: 0,
      heapBytes: null,
      totalBytes: null,
      reloptions: {},
      nLiveTup: 0,
      nDeadTup: 0,
      nModSinceAnalyze: 0,
      nInsSinceVacuum: 0,
      seqScan: 0,
      seqTupRead: 0,
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
      xidAge: 0,
      mxidAge: 0,
      locked: false,
    })),
    indexes: [],
    constraints: Array.from({ length: nTables }, (_, i) => ({
      schema: 'public',
      table: `t${i}`,
      tableOid: oid(i),
      name: `t${i}_pkey`,
      type: 'p' as const,
      columns: ['id'],
      refSchema: null,
      refTable: null,
      refTableOid: null,
      refColumns: [],
    })),
    columns: [],
    vacuum: null,
    bloat: null,
  });
}

export interface WarmEvaluationResult {
  /** First evaluation (ms): cold caches, includes parsing. */
  readonly firstMs: number;
  /** Mean of the following evaluations (ms): analyses come from the caches. */
  readonly warmMeanMs: number;
  readonly findings: number;
}

/** Evaluates the query rules (or `rules`) `iterations + 1` times over the same snapshot. */
export function benchmarkWarmQueryRules(
  snapshot: Snapshot,
  iterations = 5,
  rules: readonly AnyRule[] = [nPlusOne, missingIndex] as unknown as AnyRule[],
): WarmEvaluationResult {
  let started = performance.now();
  const first = evaluateRules({ rules, snapshot, window: null });
  const firstMs = performance.now() - started;
  started = performance.now();
  for (let i = 0; i < iterations; i++) evaluateRules({ rules, snapshot, window: null });
  return { firstMs, warmMeanMs: (performance.now() - started) / Math.max(1, iterations), findings: first.findings.length };
}
