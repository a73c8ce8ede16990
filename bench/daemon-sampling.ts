/**
 * Benchmark: the daemon's own CPU and RSS while sampling 50 target databases (one embedded cluster)
 * every 15 s for a few minutes, once with the embedded PGlite store and once with a PostgreSQL store
 * (a database of the same cluster). Knobs: BENCH_TARGETS (50), BENCH_MINUTES (3), BENCH_STORES (pglite,postgres).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { allRules } from '../rules/index.js';
import { loadDaemonConfig } from '../src/config/daemon/index.js';
import { createDaemon } from '../src/daemon/index.js';
import { startEmbeddedCluster } from '../src/embedded/cluster.js';
import { initSqlParser } from '../src/sql/index.js';
import { createStore, type Store } from '../src/store/index.js';

const TARGETS = Number(process.env.BENCH_TARGETS ?? 50);
const MINUTES = Number(process.env.BENCH_MINUTES ?? 3);

const cluster = await startEmbeddedCluster({ settings: { max_connections: String(TARGETS * 3 + 20) } });
const admin = new pg.Client({ connectionString: cluster.url() });
await admin.connect();
const env: Record<string, string> = {};
for (let i = 0; i < TARGETS; i++) {
  await admin.query(`create database bench_t${i}`);
  const db = new pg.Client({ connectionString: cluster.url(`bench_t${i}`) });
  await db.connect();
  await db.query('create extension if not exists pg_stat_statements');
  // One monitoring role per database, as separate applications would have (the session cap is per role and database).
  await admin.query(`create role bench_r${i} login password 'bench' in role pg_monitor`);
  await admin.query(`grant connect on database bench_t${i} to bench_r${i}`);
  for (let t = 0; t < 20; t++)
    await db.query(`create table t${t} (id serial primary key, v text); insert into t${t} (v) select md5(i::text) from generate_series(1, 200) i`);
  await db.end();
  env[`T${i}_URL`] = cluster.url(`bench_t${i}`, `bench_r${i}`, 'bench');
}
await admin.query('create database bench_store');
await admin.end();
await initSqlParser();
const configText = `targets:\n${Array.from({ length: TARGETS }, (_, i) => `  - { name: t${i}, urlEnv: T${i}_URL, interval: 15s }`).join('\n')}\n`;

async function run(store: Store, label: string): Promise<void> {
  await store.migrate();
  const config = loadDaemonConfig({ file: 'bench.yaml', text: configText, env, rules: allRules });
  const failures = new Map<string, number>();
  const logger = {
    info() {},
    warn(message: string, fields?: Record<string, unknown>) {
      const key = String(fields?.error ?? message).slice(0, 160);
      failures.set(key, (failures.get(key) ?? 0) + 1);
    },
    error() {},
  };
  const daemon = createDaemon({ config, store, rules: allRules, version: 'bench', logger });
  const rss: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const timer = setInterval(() => rss.push(process.memoryUsage().rss), 1000);
  await daemon.start();
  await new Promise((r) => setTimeout(r, MINUTES * 60_000));
  clearInterval(timer);
  const cpu = process.cpuUsage(cpu0);
  const wall = (Date.now() - t0) / 1000;
  await daemon.stop(30_000);
  const m = daemon.metrics();
  const samples = m.reduce((n, x) => n + x.samples, 0);
  const errors = m.reduce((n, x) => n + x.errors, 0);
  const meanMs = (1000 * m.reduce((n, x) => n + x.durationSecondsSum, 0)) / Math.max(1, samples);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  console.log(
    `${label}: ${TARGETS} targets every 15 s for ${wall.toFixed(0)} s → ${samples} samples, ${errors} errors, mean sample ${meanMs.toFixed(0)} ms; ` +
      `CPU ${cpuSeconds.toFixed(1)} s = ${((100 * cpuSeconds) / wall).toFixed(1)}% of one core; ` +
      `RSS avg ${(rss.reduce((a, b) => a + b, 0) / rss.length / 1e6).toFixed(0)} MB, max ` +
      `${(Math.max(...rss) / 1e6).toFixed(0)} MB; store ${((await store.sizeBytes()) / 1e6).toFixed(1)} MB`,
  );
  for (const [error, n] of [...failures].sort((a, b) => b[1] - a[1]).slice(0, 3)) console.log(`  ${n}× ${error}`);
}

try {
  for (const kind of (process.env.BENCH_STORES ?? 'pglite,postgres').split(',')) {
    if (kind === 'postgres') {
      const store = createStore({ url: cluster.url('bench_store') });
      try {
        await run(store, 'postgres store');
      } finally {
        await store.close();
      }
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'pg-advisor-bench-'));
      const store = createStore({ dataDir: dir });
      try {
        await run(store, 'pglite store');
      } finally {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
} finally {
  await cluster.stop();
}
