/**
 * Benchmark: store size after 24 simulated hours of one busy target sampled every 15 s (5,760 samples),
 * with the hourly roll-up/retention job running each simulated hour. Per sample: ~32 series points
 * (connections by state, slot utilisation, xid/mxid age of 3 databases, database size, dead tuples and
 * bloat of the 10 worst relations, xid rate) and the top ≤ 50 statements out of a 2,000-statement
 * Zipf workload, texts stored once per queryid. Knobs: BENCH_HOURS (24), BENCH_INTERVAL_S (15),
 * BENCH_STORES (pglite,postgres).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedCluster, type EmbeddedCluster } from '../src/embedded/cluster.js';
import { createStore, DEFAULT_RETENTION, type SeriesPointInput, type StatementDeltaInput, type Store } from '../src/store/index.js';

const HOURS = Number(process.env.BENCH_HOURS ?? 24);
const INTERVAL_S = Number(process.env.BENCH_INTERVAL_S ?? 15);
const DISTINCT = 2000;
const START = Date.parse('2026-11-01T00:00:00Z');

function zipf(rank: number): number {
  return 1 / (rank + 1);
}

function series(i: number): SeriesPointInput[] {
  const points: SeriesPointInput[] = [];
  for (const [state, n] of [
    ['active', 12],
    ['idle', 60],
    ['idle in transaction', 3],
    ['unknown', 0],
  ] as const)
    points.push({ metric: 'connections', object: state, value: n + (i % 7) });
  points.push({ metric: 'connection_utilisation', value: 0.4 + (i % 10) / 100 });
  for (const db of ['app', 'postgres', 'reporting']) {
    points.push({ metric: 'xid_age', object: db, value: 150_000_000 + i * 40 });
    points.push({ metric: 'mxid_age', object: db, value: 2_000_000 + i });
  }
  points.push({ metric: 'database_size_bytes', value: 50e9 + i * 1e5 });
  for (let r = 0; r < 10; r++) points.push({ metric: 'dead_tuples', object: `public.table_${r}`, value: 100_000 * (10 - r) + i });
  for (let r = 0; r < 10; r++) points.push({ metric: 'bloat_bytes', object: `public.table_${r}`, value: 1e8 * (10 - r) });
  points.push({ metric: 'xid_per_second', value: 120 });
  return points;
}

function statements(i: number): StatementDeltaInput[] {
  // The busiest 25 by time and by calls overlap partly; which ones varies a little per sample.
  const ids = new Set<number>();
  for (let k = 0; k < 25; k++) ids.add(k);
  for (let k = 0; k < 25; k++) ids.add((k * 37 + i) % DISTINCT);
  return [...ids].map((q) => ({
    queryId: String(-9_000_000_000_000_000_000n + BigInt(q) * 7_919n),
    userName: 'app',
    toplevel: true,
    calls: Math.round(5000 * zipf(q)) + 1,
    rows: Math.round(5000 * zipf(q)),
    totalExecTimeMs: 300 * zipf(q),
    sharedBlks: Math.round(20_000 * zipf(q)),
  }));
}

async function simulate(store: Store, label: string, dirOf?: string): Promise<void> {
  await store.migrate();
  const [target] = await store.targets.syncTargets([{ name: 'busy', maskedUrl: 'postgres://app@db/app', intervalMs: INTERVAL_S * 1000 }]);
  const seen = new Set<string>();
  const samples = (HOURS * 3600) / INTERVAL_S;
  const started = Date.now();
  for (let i = 0; i < samples; i++) {
    const at = new Date(START + i * INTERVAL_S * 1000);
    const stmts = statements(i);
    const texts = stmts
      .filter((s) => !seen.has(s.queryId))
      .map((s) => ({ queryId: s.queryId, text: `select * from table_${s.queryId.slice(-3)} where id = $1 and status = $2 order by created_at desc limit $3` }));
    for (const t of texts) seen.add(t.queryId);
    await store.samples.recordSample({
      targetId: target!.id,
      collectedAt: at,
      durationMs: 180,
      intervalSeconds: INTERVAL_S,
      findings: 4,
      diagnostics: [],
      series: series(i),
      statements: stmts,
      queryTexts: texts,
    });
    if ((i + 1) % (3600 / INTERVAL_S) === 0) await store.applyRetention(DEFAULT_RETENTION, new Date(at.getTime() + 1000));
  }
  const seconds = (Date.now() - started) / 1000;
  const bytes = await store.sizeBytes();
  const disk = dirOf ? Number(execFileSync('du', ['-sb', dirOf]).toString().split('\t')[0]) : null;
  console.log(
    `${label}: ${samples} samples (${HOURS} h at ${INTERVAL_S} s) written in ${seconds.toFixed(1)} s (${((seconds * 1000) / samples).toFixed(1)} ms/sample); ` +
      `tables+indexes ${(bytes / 1e6).toFixed(1)} MB = ${((bytes / 1e6) * (24 / HOURS)).toFixed(1)} MB/day of fine data` +
      (disk !== null ? `; data directory ${(disk / 1e6).toFixed(1)} MB` : ''),
  );
}

const stores = (process.env.BENCH_STORES ?? 'pglite,postgres').split(',');
let cluster: EmbeddedCluster | undefined;
try {
  for (const kind of stores) {
    if (kind === 'postgres') {
      let url = process.env.ADVISOR_STORE_URL;
      if (!url) {
        cluster = await startEmbeddedCluster();
        url = cluster.url();
      }
      const store = createStore({ url });
      try {
        await simulate(store, 'postgres store');
      } finally {
        await store.close();
      }
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'pg-advisor-growth-'));
      const store = createStore({ dataDir: dir });
      try {
        await simulate(store, 'pglite store', dir);
      } finally {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
} finally {
  await cluster?.stop();
}
