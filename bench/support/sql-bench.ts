/**
 * Benchmark hooks for `npm run bench` (numbers are printed by bench/, never asserted in tests).
 */
import { performance } from 'node:perf_hooks';
import type { AnalysisContext } from '../../src/sql/analysis-types.js';
import { analyzeStatement, clearAnalysisCache, emptyAnalysisContext } from '../../src/sql/analyze.js';

export interface ColdAnalysisResult {
  readonly statements: number;
  readonly analysed: number;
  readonly totalMs: number;
  /** Mean per statement (µs). */
  readonly meanMicros: number;
  /** Heap growth over the run (bytes; indicative, GC may run in between). */
  readonly heapDeltaBytes: number;
}

/** Analyses every text with an empty cache (parse + extraction + resolution). Call `initSqlParser()` first. */
export function benchmarkColdAnalysis(texts: readonly string[], ctx: AnalysisContext = emptyAnalysisContext()): ColdAnalysisResult {
  clearAnalysisCache();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  let analysed = 0;
  for (let i = 0; i < texts.length; i++) {
    if (analyzeStatement(texts[i]!, ctx, { queryId: String(i) }).analysable) analysed++;
  }
  const totalMs = performance.now() - started;
  return {
    statements: texts.length,
    analysed,
    totalMs,
    meanMicros: texts.length > 0 ? (totalMs * 1000) / texts.length : 0,
    heapDeltaBytes: process.memoryUsage().heapUsed - heapBefore,
  };
}

const SHAPES: readonly ((t: string, c: string, i: number) => string)[] = [
  (t, c) => `SELECT "${t}".* FROM "${t}" WHERE "${t}"."${c}" = $1 LIMIT $2`,
  (t, c) => `SELECT id, ${c} FROM ${t} WHERE ${c} = ANY($1) ORDER BY id DESC LIMIT $2 OFFSET $3`,
  (t, c, i) =>
    `/*app:web,route:r${i}*/ SELECT t0.id, t0.${c} FROM public.${t} t0 JOIN ${t}_items i ON i.${t}_id = t0.id WHERE t0.${c} >= $1 AND i.kind IN ($2, $3)`,
  (t, c) => `UPDATE ${t} SET ${c} = $1, updated_at = now() WHERE id = $2 RETURNING id`,
  (t, c) => `INSERT INTO ${t} (${c}, created_at) VALUES ($1, $2) ON CONFLICT (${c}) DO UPDATE SET created_at = EXCLUDED.created_at`,
  (t, c) =>
    `WITH recent AS (SELECT * FROM ${t} WHERE created_at > now() - $1::interval) SELECT ${c}, count(*) FROM recent GROUP BY ${c} ORDER BY 2 DESC LIMIT $2`,
  (t, c) => `SELECT data->>$1 AS v, row_number() OVER (PARTITION BY ${c} ORDER BY id) FROM ${t} WHERE data @> $2 AND ${c} IS NOT NULL FOR UPDATE SKIP LOCKED`,
];

/** `count` distinct ORM-style statements over `tables` table names (for cold-analysis benchmarks). */
export function generateDistinctStatements(count: number, tables = 1000): string[] {
  return Array.from({ length: count }, (_, i) => {
    const shape = SHAPES[i % SHAPES.length]!;
    return shape(`t${i % tables}`, `c${Math.floor(i / SHAPES.length)}`, i);
  });
}
