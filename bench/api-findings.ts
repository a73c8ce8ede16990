/**
 * Benchmark: GET /api/v1/findings with 50,000 findings stored, next to a bare fastify route in the same
 * run (latency p50/p99, requests/s, and the ratio), once per store: embedded PGlite and PostgreSQL (an
 * embedded cluster, or ADVISOR_STORE_URL). Knobs: BENCH_FINDINGS (50000), BENCH_SECONDS (10),
 * BENCH_CONNECTIONS (10), BENCH_STORES (pglite,postgres).
 */
import { createRequire } from 'node:module';
import Fastify from 'fastify';
import { allRules } from '../rules/index.js';
import { buildApp } from '../src/api/index.js';
import type { Finding, Severity } from '../src/engine/types.js';
import { startEmbeddedCluster, type EmbeddedCluster } from '../src/embedded/cluster.js';
import { createStore, type Store } from '../src/store/index.js';

/** The slice of autocannon's API used here (the package ships no types). */
interface AutocannonResult {
  latency: { p50: number; p99: number };
  requests: { average: number };
  non2xx: number;
  errors: number;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (options: {
  url: string;
  connections: number;
  duration: number;
  headers: Record<string, string>;
}) => Promise<AutocannonResult>;

const FINDINGS = Number(process.env.BENCH_FINDINGS ?? 50_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const TARGETS = 10;
const TOKEN = 'bench-admin-token-0123456789';
const SEVERITIES: Severity[] = ['info', 'warning', 'critical'];
const RULES = allRules.map((r) => r.id);

function finding(i: number): Finding {
  return {
    rule: RULES[i % RULES.length]!,
    severity: SEVERITIES[i % 3]!,
    title: 'Benchmark finding',
    summary: `Table public.t${i} has ${i * 13} dead tuples; autovacuum has not kept up for 3 hours.`,
    object: { type: 'table', schema: 'public', name: `t${i}` },
    evidence: { deadTuples: i * 13, liveTuples: i * 100, lastAutovacuumAgeSeconds: 10_800, tableBytes: i * 8192 },
    recommendation: {
      text: 'Lower autovacuum_vacuum_scale_factor for this table.',
      sql: `ALTER TABLE public.t${i} SET (autovacuum_vacuum_scale_factor = 0.01);`,
    },
    impact: { wasteBytes: (i * 7919) % 1_000_000 },
    fingerprint: `bench-${i}`,
  };
}

async function measure(url: string, headers: Record<string, string>) {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, headers });
  return { p50: result.latency.p50, p99: result.latency.p99, rps: result.requests.average, non2xx: result.non2xx, errors: result.errors };
}

async function seed(store: Store): Promise<void> {
  await store.migrate();
  const targets = await store.targets.syncTargets(
    Array.from({ length: TARGETS }, (_, i) => ({ name: `t${i}`, maskedUrl: `postgres://h/db${i}`, intervalMs: 60_000 })),
  );
  const seedStart = Date.now();
  const perTarget = Math.ceil(FINDINGS / TARGETS);
  for (const t of targets) {
    const base = t.id * perTarget;
    for (let i = 0; i < perTarget; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, perTarget - i) }, (_, k) => finding(base + i + k));
      await store.findings.applySample(t.id, new Date(), batch, []);
    }
  }
  console.log(
    `\nstore: ${store.kind}; seeded ${perTarget * TARGETS} findings in ` +
      `${((Date.now() - seedStart) / 1000).toFixed(1)} s; store size ` +
      `${((await store.sizeBytes()) / 1e6).toFixed(1)} MB`,
  );
}

async function run(store: Store): Promise<void> {
  await seed(store);
  const app = await buildApp({
    store,
    rules: allRules,
    tokens: [{ name: 'bench', scope: 'admin', token: TOKEN }],
    rateLimit: { max: 10_000_000, windowMs: 60_000 },
    pressure: { maxEventLoopDelayMs: 0 },
  });
  const apiUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  const bare = Fastify();
  bare.get('/bare', async () => ({ hello: 'world' }));
  const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });
  const headers = { authorization: `Bearer ${TOKEN}` };
  const rows: [string, Awaited<ReturnType<typeof measure>>][] = [];
  rows.push(['bare fastify route', await measure(`${bareUrl}/bare`, {})]);
  rows.push(['GET /api/v1/findings (first page, 50)', await measure(`${apiUrl}/api/v1/findings`, headers)]);
  rows.push(['GET /api/v1/findings?target=t3&severity=critical', await measure(`${apiUrl}/api/v1/findings?target=t3&severity=critical`, headers)]);
  const page = (await (await fetch(`${apiUrl}/api/v1/findings?limit=50`, { headers })).json()) as { nextCursor: string };
  rows.push(['GET /api/v1/findings (second page, cursor)', await measure(`${apiUrl}/api/v1/findings?cursor=${page.nextCursor}`, headers)]);

  const baseRps = rows[0]![1].rps;
  console.log(`\n${CONNECTIONS} connections, ${SECONDS} s each, node ${process.version}`);
  console.log('route'.padEnd(52), 'p50 ms'.padStart(7), 'p99 ms'.padStart(7), 'req/s'.padStart(9), 'vs bare'.padStart(8), 'non-2xx'.padStart(8));
  for (const [name, m] of rows) {
    console.log(
      name.padEnd(52),
      String(m.p50).padStart(7),
      String(m.p99).padStart(7),
      m.rps.toFixed(0).padStart(9),
      `${(m.rps / baseRps).toFixed(3)}x`.padStart(8),
      String(m.non2xx + m.errors).padStart(8),
    );
  }
  await app.close();
  await bare.close();
}

const stores = (process.env.BENCH_STORES ?? 'pglite,postgres').split(',');
let cluster: EmbeddedCluster | undefined;
try {
  for (const kind of stores) {
    let store: Store;
    if (kind === 'postgres') {
      let url = process.env.ADVISOR_STORE_URL;
      if (!url) {
        cluster = await startEmbeddedCluster();
        url = cluster.url();
      }
      store = createStore({ url, maxConnections: 10 });
    } else {
      store = createStore({ dataDir: 'memory://' });
    }
    try {
      await run(store);
    } finally {
      await store.close();
    }
  }
} finally {
  await cluster?.stop();
}
