/**
 * Benchmark: query-text analysis and the query rules.
 * - cold analysis of 5,000 distinct ORM-style statements (parse with libpg-query + extraction), time and heap;
 * - the same for the 380-text real corpus (test/fixtures/query-corpus.sql);
 * - first and warm (cached) evaluation of ALL rules over a snapshot with 5,000 statements and 1,000 tables.
 */
import { readFileSync } from 'node:fs';
import { allRules } from '../rules/index.js';
import { initSqlParser } from '../src/sql/index.js';
import { buildQueryBenchSnapshot, benchmarkWarmQueryRules } from './support/query-bench.js';
import { benchmarkColdAnalysis, generateDistinctStatements } from './support/sql-bench.js';

const STATEMENTS = Number(process.env.BENCH_STATEMENTS ?? 5000);
const TABLES = Number(process.env.BENCH_TABLES ?? 1000);
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

let started = performance.now();
await initSqlParser();
console.log(`parser load: ${(performance.now() - started).toFixed(0)} ms, RSS ${mb(process.memoryUsage().rss)}`);

const generated = benchmarkColdAnalysis(generateDistinctStatements(STATEMENTS, TABLES));
console.log(
  `cold analysis, ${generated.statements} distinct statements: ${generated.totalMs.toFixed(0)} ms ` +
    `(${generated.meanMicros.toFixed(0)} µs each, ${generated.analysed} analysed), heap +${mb(generated.heapDeltaBytes)}`,
);

const corpus = readFileSync(new URL('../test/fixtures/query-corpus.sql', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean);
const real = benchmarkColdAnalysis(corpus);
console.log(
  `cold analysis, real corpus: ${real.statements} texts in ${real.totalMs.toFixed(0)} ms (${real.meanMicros.toFixed(0)} µs each), ${real.analysed} analysed`,
);

const snapshot = buildQueryBenchSnapshot({ statements: STATEMENTS, tables: TABLES });
const rssBefore = process.memoryUsage().rss;
started = performance.now();
const all = benchmarkWarmQueryRules(snapshot, 5, allRules);
console.log(
  `all ${allRules.length} rules over ${STATEMENTS} statements / ${TABLES} tables: first ${all.firstMs.toFixed(0)} ms, ` +
    `warm ${all.warmMeanMs.toFixed(1)} ms per evaluation, ${all.findings} findings, RSS +${mb(process.memoryUsage().rss - rssBefore)} ` +
    `(total ${(performance.now() - started).toFixed(0)} ms)`,
);
