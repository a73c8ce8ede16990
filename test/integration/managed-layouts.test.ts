/**
 * Managed-PostgreSQL privilege and setting layouts: each ends in a full report — every selected rule either
 * evaluated or reported skipped with a hint, no source failed — never a failed check. (Extensions in their own
 * schema, pg_stat_statements outside public, a standby and compute_query_id = off are in
 * collector-capabilities, collector-standby and collector-hardening.)
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { runAudit } from '../../src/audit/index.js';
import { connectTarget } from '../../src/collector/index.js';
import { initSqlParser } from '../../src/sql/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
/** Roles made for this file (random names, dropped with the database). */
const roles = { stats: '', plain: '', app: '' };
const urls = { stats: '', plain: '', app: '' };

async function auditAs(url: string) {
  const target = await connectTarget({ url });
  try {
    return await runAudit(target, { rules: allRules, version: 'test' });
  } finally {
    await target.close();
  }
}

/** What every layout must give: a report, no failed source, every rule evaluated or skipped with a hint. */
function expectFullReport(result: Awaited<ReturnType<typeof auditAs>>): void {
  const failed = Object.entries(result.snapshot.meta.sources).filter(([, s]) => s?.status === 'failed');
  expect(failed).toEqual([]);
  for (const rule of allRules) {
    if (result.evaluation.evaluated.includes(rule.id)) continue;
    const why = result.evaluation.diagnostics.find((d) => d.rule === rule.id);
    expect(why, `${rule.id}: neither evaluated nor reported skipped`).toBeDefined();
    expect(why?.status).not.toBe('error');
  }
}

beforeAll(async () => {
  await initSqlParser();
  db = await createTestDatabase();
  await db.admin.query('create table orders (id serial primary key, customer_id int, note text)');
  await db.admin.query('insert into orders (customer_id, note) select i % 500, md5(i::text) from generate_series(1, 5000) i');
  await db.admin.query('analyze orders');
  await db.admin.query(`create function order_count(c int) returns bigint language sql as 'select count(*) from orders where customer_id = c'`);
  // RDS-style: statistics, but not pg_monitor.
  ({ name: roles.stats, url: urls.stats } = await db.createRole({ grants: ['grant pg_read_all_stats to $ROLE'] }));
  // No role that may read other users' statement texts.
  ({ name: roles.plain, url: urls.plain } = await db.createRole());
  ({ name: roles.app, url: urls.app } = await db.createRole({
    grants: ['grant select on orders to $ROLE', 'grant execute on function order_count(int) to $ROLE'],
  }));
  const app = new pg.Client({ connectionString: urls.app });
  await app.connect();
  try {
    for (let i = 0; i < 20; i++) await app.query('select * from orders where customer_id = $1', [i]);
  } finally {
    await app.end();
  }
});

afterAll(async () => {
  await db?.drop();
});

describe('managed-PostgreSQL layouts', () => {
  it('a role with pg_read_all_stats but not pg_monitor gets a full report with the statements', async () => {
    const result = await auditAs(urls.stats);
    expectFullReport(result);
    expect(result.snapshot.meta.sources.statements?.status).toBe('ok');
    expect(result.snapshot.statements.some((s) => s.query?.includes('customer_id'))).toBe(true);
  });

  it('a role that may not read other users’ statement texts gets a full report that names the grant', async () => {
    const result = await auditAs(urls.plain);
    expectFullReport(result);
    const text = JSON.stringify([result.snapshot.meta.sources.statements, result.report.diagnostics]);
    expect(text).toMatch(/pg_read_all_stats|pg_monitor/);
  });

  it('pg_stat_statements.track = all: nested statements are collected and never judged as top-level loops', async () => {
    await db.admin.query(`alter role ${roles.app} in database ${db.name} set pg_stat_statements.track = 'all'`);
    const app = new pg.Client({ connectionString: urls.app });
    await app.connect();
    try {
      for (let i = 0; i < 60; i++) await app.query('select order_count($1)', [i]);
    } finally {
      await app.end();
    }
    const result = await auditAs(db.adminUrl);
    expectFullReport(result);
    expect(result.snapshot.statements.some((s) => !s.toplevel)).toBe(true);
    expect(result.report.findings.filter((f) => f.rule === 'n-plus-one')).toEqual([]);
  });

  it('track_io_timing = off and no pgstattuple: a full report, bloat from estimates or skipped with the extension named', async () => {
    await db.admin.query(`alter database ${db.name} set track_io_timing = off`);
    await db.admin.query('drop extension if exists pgstattuple');
    await db.createMonitorRole().then(async (url) => {
      const result = await auditAs(url);
      expectFullReport(result);
      expect(result.snapshot.meta.capabilities.pgstattuple).toBe(false);
      expect(JSON.stringify(result.snapshot.meta.sources.bloat)).toMatch(/pgstattuple|pg_stats|SELECT/);
    });
  });
});
