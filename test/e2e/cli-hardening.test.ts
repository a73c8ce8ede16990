import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFreezableProxy } from '../support/freezable-proxy.js';
import { runCli } from './run-cli.js';

describe('check: hardening against hostile targets and URLs', () => {
  let db: TestDatabase;
  let monitorUrl: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.admin.query('create table orders (id serial primary key, customer_id int)');
    monitorUrl = await db.createMonitorRole();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('check --window against a server that freezes mid-window exits 2 within the client-side deadline', async () => {
    const proxy = await startFreezableProxy(monitorUrl);
    try {
      const running = runCli(['check', '--database-url', proxy.url, '--window', '20s', '--statement-timeout', '1s'], { timeoutMs: 40_000 });
      // Freeze once the advisor is connected and sampling (bounded wait), whatever the machine's load.
      const role = decodeURIComponent(new URL(monitorUrl).username);
      for (let i = 0; i < 150; i++) {
        const { rows } = await db.admin.query<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity where application_name = 'pg-advisor' and usename = $1`,
          [role],
        );
        if (rows[0]!.n > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 1000)); // into the window's samples
      proxy.freeze();
      const frozenAt = Date.now();
      const r = await running;
      expect(r.code).toBe(2);
      // The statement in flight gets 1 s + 1 s grace; the rest is closing and exiting.
      expect(Date.now() - frozenAt).toBeLessThan(2000 + 3000);
      expect(r.stderr).toMatch(/pg-advisor: .*the target did not answer within 2000 ms \(statement_timeout is 1000 ms\)/);
      expect(r.stderr).toMatch(/hint: check that the server is running and not frozen/);
      expect(r.stderr).not.toContain(new URL(monitorUrl).password);
    } finally {
      await proxy.close();
    }
  });

  it('a URL that switches statement_timeout off is refused before connecting, with a hint', async () => {
    const url = new URL(monitorUrl);
    url.searchParams.set('statement_timeout', '3600000');
    url.searchParams.set('lock_timeout', '600000');
    const r = await runCli(['check', '--database-url', url.toString()]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/pg-advisor: The connection URL .* sets statement_timeout, lock_timeout, which would override the advisor's safety settings/);
    expect(r.stderr).toMatch(/hint: remove statement_timeout, lock_timeout from the URL/);
    expect(r.stderr).not.toContain(url.password);
  });

  it('a source that fails (not merely unavailable) makes check exit 2, naming the source and why', async () => {
    // A role whose statements source fails: pg_stat_statements() materialises every entry in work_mem and
    // may not spill to a temporary file. Enough distinct statements make the entries exceed 64 kB.
    const client = await db.admin.connect();
    try {
      for (let i = 1; i <= 400; i++) await client.query(`select ${Array.from({ length: i }, () => '1').join(', ')}`);
    } finally {
      client.release();
    }
    const { url } = await db.createRole({
      grants: ['grant pg_monitor to $ROLE', "alter role $ROLE set work_mem = '64kB'", 'alter role $ROLE set temp_file_limit = 0'],
    });
    const r = await runCli(['check', '--database-url', url, '--rules', 'n-plus-one,invalid-index']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pg-advisor: source statements failed: .*temp_file_limit.*; rule n-plus-one could not run/);
    expect(r.stderr).toMatch(/hint: /);
    expect(r.stdout).toMatch(/source statements failed/); // the report shows it too
  });
});
