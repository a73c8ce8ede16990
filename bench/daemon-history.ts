/**
 * Benchmark: the daemon's per-target sample history on a busy target (5,000 statements, 1,000 tables).
 * - per sample: light sample + both windows (history and last step) at a full 30-sample history;
 * - all 8 rules evaluated over the 30-sample window vs over one step (warm);
 * - the checkpoint: encoded size, encode and decode time;
 * - heap held by a full 30-sample history.
 */
import { allRules } from '../rules/index.js';
import { encodeCheckpoint, decodeCheckpoint } from '../src/daemon/checkpoint.js';
import { lightSample, MAX_HISTORY_SAMPLES, SampleHistory } from '../src/daemon/history.js';
import { evaluateRules } from '../src/engine/evaluate.js';
import type { Snapshot } from '../src/snapshot/types.js';
import { initSqlParser } from '../src/sql/index.js';
import { buildQueryBenchSnapshot } from './support/query-bench.js';

const STATEMENTS = Number(process.env.BENCH_STATEMENTS ?? 5000);
const TABLES = Number(process.env.BENCH_TABLES ?? 1000);
const INTERVAL_S = 15;
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const T0 = Date.parse('2026-01-01T12:00:00.000Z');

await initSqlParser();
const base = buildQueryBenchSnapshot({ statements: STATEMENTS, tables: TABLES });
/** The base snapshot i intervals later, every counter grown. */
function snapshotAt(i: number): Snapshot {
  return {
    ...base,
    meta: { ...base.meta, collectedAt: new Date(T0 + i * INTERVAL_S * 1000).toISOString() },
    statements: base.statements.map((s, k) => ({
      ...s,
      calls: s.calls + i * (1 + (k % 50)),
      rows: s.rows + i * (k % 7),
      totalExecTimeMs: s.totalExecTimeMs + i * 0.3,
    })),
    tables: base.tables.map((t, k) => ({ ...t, seqScan: t.seqScan + i * (k % 3), nTupIns: t.nTupIns + i * 10, nDeadTup: t.nDeadTup + i })),
  };
}

global.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const history = new SampleHistory({ horizonMs: 3_600_000, intervalMs: INTERVAL_S * 1000 });
let viewMs: number[] = [];
for (let i = 0; i < MAX_HISTORY_SAMPLES + 5; i++) {
  const snapshot = snapshotAt(i);
  const started = performance.now();
  const current = lightSample(snapshot);
  history.view(current);
  viewMs.push(performance.now() - started);
  history.commit(current);
}
global.gc?.();
const heapHeld = process.memoryUsage().heapUsed - heapBefore;
viewMs = viewMs.slice(MAX_HISTORY_SAMPLES);
console.log(
  `history view (light sample + history and step windows), ${STATEMENTS} statements / ${TABLES} tables, ${MAX_HISTORY_SAMPLES} samples: ` +
    `${(viewMs.reduce((a, b) => a + b, 0) / viewMs.length).toFixed(0)} ms per sample; heap held by the history ≈ ${mb(heapHeld)}` +
    `${global.gc ? '' : ' (without --expose-gc: includes garbage)'}`,
);

const latest = snapshotAt(MAX_HISTORY_SAMPLES + 5);
const view = history.view(lightSample(latest));
for (const [label, window] of [
  ['step (previous sample only)', view.step],
  [`history (${view.window?.samples.length} samples)`, view.window],
] as const) {
  evaluateRules({ rules: allRules, snapshot: latest, window }); // warm the analysis cache
  const started = performance.now();
  const runs = 5;
  let findings = 0;
  for (let r = 0; r < runs; r++) findings = evaluateRules({ rules: allRules, snapshot: latest, window }).findings.length;
  console.log(`all ${allRules.length} rules over the ${label}: ${((performance.now() - started) / runs).toFixed(1)} ms per evaluation, ${findings} findings`);
}

const sample = lightSample(latest);
const identity = { database: 'bench', serverVersionNum: 170010 };
let started = performance.now();
const bytes = encodeCheckpoint(sample, identity);
const encodeMs = performance.now() - started;
started = performance.now();
decodeCheckpoint(bytes);
const decodeMs = performance.now() - started;
console.log(
  `checkpoint: ${(bytes.length / 1024).toFixed(0)} kB gzip'd (${(bytes.length / STATEMENTS).toFixed(1)} bytes per statement incl. tables), ` +
    `encode ${encodeMs.toFixed(0)} ms, decode ${decodeMs.toFixed(0)} ms`,
);
