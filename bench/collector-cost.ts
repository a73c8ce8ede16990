/**
 * Benchmark: the advisor's own cost per snapshot on the target, next to the floor.
 *
 * Target: embedded PostgreSQL with ≥ 1,000 tables and ≥ 5,000 distinct pg_stat_statements entries.
 * Cost = Σ total_exec_time of the advisor's statements (marker `/* pg-advisor *\/`) in pg_stat_statements,
 * per snapshot (cold: empty text cache; warm: cache filled, as in the daemon). Floor = a bare
 * `select count(*) from pg_stat_statements(false)` plus one read of the same catalogs.
 * Also: wall time of `pg-advisor check` end to end (built CLI, separate process).
 */
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { startEmbeddedCluster } from '../src/embedded/cluster.js';
import { collectSnapshot, connectTarget } from '../src/collector/index.js';

const TABLES = Number(process.env.BENCH_TABLES ?? 1000);
const STATEMENTS = Number(process.env.BENCH_STATEMENTS ?? 5000);

const FLOOR_SQL = [
  `select /* bench-floor */ count(*) from pg_stat_statements(false)`,
  `select /* bench-floor */ count(*) from pg_catalog.pg_class c join pg_catalog.pg_namespace n on ` +
    `n.oid = c.relnamespace left join pg_catalog.pg_stat_all_tables s on s.relid = c.oid`,
  `select /* bench-floor */ count(*) from pg_catalog.pg_index i join pg_catalog.pg_class c on c.oid = ` +
    `i.indexrelid left join pg_catalog.pg_stat_all_indexes s on s.indexrelid = i.indexrelid`,
  `select /* bench-floor */ count(*) from pg_catalog.pg_constraint`,
  `select /* bench-floor */ count(*) from pg_catalog.pg_stat_activity`,
  `select /* bench-floor */ count(*) from pg_catalog.pg_settings`,
  `select /* bench-floor */ count(*) from pg_catalog.pg_database`,
  `select /* bench-floor */ count(*) from pg_catalog.pg_roles`,
];

async function costOf(admin: pg.Client, marker: string): Promise<{ ms: number; statements: number }> {
  const { rows } = await admin.query(
    `select coalesce(sum(total_exec_time), 0)::float8 as ms, count(*)::int as n
       from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
        and query like $1`,
    [`%${marker}%`],
  );
  return { ms: rows[0].ms, statements: rows[0].n };
}

async function main(): Promise<void> {
  const cluster = await startEmbeddedCluster({ settings: { 'pg_stat_statements.max': '20000', max_locks_per_transaction: '256' } });
  const url = cluster.url('bench');
  try {
    const setup = new pg.Client({ connectionString: cluster.url() });
    await setup.connect();
    await setup.query('create database bench');
    await setup.end();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query('create extension pg_stat_statements');
    console.log(`planting ${TABLES} tables …`);
    let t0 = Date.now();
    for (let i = 0; i < TABLES; i += 100) {
      const ddl: string[] = [];
      for (let j = i; j < Math.min(TABLES, i + 100); j++) {
        ddl.push(`create table t${j} (id bigint primary key, a int, b text, c timestamptz default now()); create index on t${j} (a);`);
      }
      await admin.query(ddl.join('\n'));
    }
    console.log(`  ${Date.now() - t0} ms`);
    console.log(`running ${STATEMENTS} distinct statements …`);
    t0 = Date.now();
    const shapes = [
      (t: number) => `select id, a from t${t} where id = $1`,
      (t: number) => `select * from t${t} where a = $1 order by id limit 10`,
      (t: number) => `select count(*) from t${t} where b like $1`,
      (t: number) => `update t${t} set a = a + 1 where id = $1`,
      (t: number) => `select b from t${t} where a between $1 and $2`,
      (t: number) => `delete from t${t} where id = $1 and a < $2`,
    ];
    let n = 0;
    outer: for (const shape of shapes) {
      for (let t = 0; t < TABLES; t++) {
        const text = shape(t);
        const params = (text.match(/\$\d/g) ?? []).map((p, k) => (text.includes('like') ? 'x%' : k + 1));
        await admin.query(text, params);
        if (++n >= STATEMENTS) break outer;
      }
    }
    console.log(`  ${Date.now() - t0} ms`);
    const {
      rows: [count],
    } = await admin.query(`select count(*)::int as n from pg_stat_statements`);
    const {
      rows: [tables],
    } = await admin.query(`select count(*)::int as n from pg_stat_user_tables`);
    console.log(`target: ${count.n} pg_stat_statements entries, ${tables.n} user tables`);

    const target = await connectTarget({ url });
    const results: Record<string, number> = {};
    try {
      for (const label of ['cold', 'warm', 'warm2']) {
        await admin.query('select pg_stat_statements_reset()'); // the benchmark resets, never the advisor
        const started = performance.now();
        await collectSnapshot(target);
        const wall = performance.now() - started;
        const cost = await costOf(admin, '/* pg-advisor */');
        results[`${label}AdvisorMs`] = cost.ms;
        results[`${label}WallMs`] = wall;
        console.log(`snapshot (${label}): advisor statements ${cost.statements}, Σ total_exec_time ${cost.ms.toFixed(1)} ms, wall ${wall.toFixed(0)} ms`);
        if (label === 'warm') {
          const { rows: top } = await admin.query(
            `select total_exec_time::float8 as ms, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) as q from pg_stat_statements
              where query like '%/* pg-advisor */%' order by total_exec_time desc limit 6`,
          );
          for (const t of top) console.log(`    ${t.ms.toFixed(1).padStart(7)} ms  ${t.q}`);
        }
      }
    } finally {
      await target.close();
    }
    await admin.query('select pg_stat_statements_reset()');
    for (const sql of FLOOR_SQL) await admin.query(sql);
    const floor = await costOf(admin, '/* bench-floor */');
    console.log(`floor: Σ total_exec_time ${floor.ms.toFixed(1)} ms over ${floor.statements} statements`);
    console.log(`ratio advisor/floor: cold ${(results.coldAdvisorMs! / floor.ms).toFixed(2)}×, warm ${(results.warmAdvisorMs! / floor.ms).toFixed(2)}×`);

    const started = Date.now();
    const check = spawnSync('node', ['bin/pg-advisor.js', 'check', '--database-url', url, '--format', 'json', '--fail-on', 'never'], { encoding: 'utf8' });
    console.log(
      `check end to end: exit ${check.status}, wall ${Date.now() - started} ms, ${JSON.parse(check.stdout || '{"findings":[]}').findings.length} findings`,
    );
    if (check.status !== 0) console.log(check.stderr);
    await admin.end();
  } finally {
    await cluster.stop();
  }
}

await main();
