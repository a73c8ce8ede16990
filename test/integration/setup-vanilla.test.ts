/**
 * `pg-advisor setup --with-helpers` for vanilla PostgreSQL, run as a superuser on the suite's PostgreSQL: it runs
 * without error (twice: it is idempotent), the role it creates collects a snapshot with every source available,
 * and the explain helper plans a statement from pg_stat_statements for that role without SELECT on the table
 * (EXPLAIN (GENERIC_PLAN) on PG16+, PREPARE/EXECUTE on 15). hypopg and the helper's refusals are covered on the
 * Debian cluster (test/integration/explain-helper-hypopg.test.ts).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { collectSnapshot, connectTarget } from '../../src/collector/index.js';
import { EXPLAIN_HELPER } from '../../src/collector/explain-helper-names.js';
import { renderSetupSql } from '../../src/setup/render-setup-sql.js';
import type { Snapshot } from '../../src/snapshot/types.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
const role = `r_setup_${randomBytes(4).toString('hex')}`;
const password = randomBytes(8).toString('hex');
let roleUrl: string;
let snapshot: Snapshot;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.admin.query(`create table orders (id int primary key, customer_id int not null, note text);
    insert into orders select g, g % 500, 'n' from generate_series(1, 20000) g; analyze orders;`);
  const sql = renderSetupSql({ role, database: db.name, withHelpers: true });
  await db.admin.query(sql);
  await db.admin.query(sql); // safe to run twice
  await db.admin.query(`alter role ${role} password '${password}'`);
  const url = new URL(db.adminUrl);
  url.username = role;
  url.password = password;
  roleUrl = url.toString();
  for (let i = 0; i < 5; i++) await db.admin.query('select id, note from orders where customer_id = $1', [i]);
  const target = await connectTarget({ url: roleUrl });
  try {
    snapshot = await collectSnapshot(target);
  } finally {
    await target.close();
  }
});

afterAll(async () => {
  await db?.drop();
  // Roles are cluster-wide; the database (and every grant inside it) is gone, so they can be dropped.
  const server = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await server.connect();
  try {
    await server.query(`drop role if exists ${role}`);
    await server.query(`drop role if exists ${EXPLAIN_HELPER.owner}`);
  } finally {
    await server.end();
  }
}, 30_000);

describe('pg-advisor setup (vanilla) on a real PostgreSQL', () => {
  it('creates a pg_monitor role that is no superuser and cannot read the table', async () => {
    expect(snapshot.meta.capabilities).toMatchObject({ superuser: false, pgMonitor: true, readAllStats: true, pgssLoaded: true });
    const client = new pg.Client({ connectionString: roleUrl });
    await client.connect();
    try {
      await expect(client.query('select count(*) from orders')).rejects.toThrow(/permission denied/);
    } finally {
      await client.end();
    }
  });

  it('the role collects a snapshot: every source but bloat available; bloat and notes name only the optional extras', () => {
    const statuses = Object.entries(snapshot.meta.sources);
    console.log(`[setup-vanilla] not ok or noted: ${JSON.stringify(statuses.filter(([, s]) => s?.status !== 'ok' || s.note))}`);
    expect(statuses.length).toBeGreaterThan(5);
    // Bloat needs pg_stats (SELECT on the tables) or pgstattuple: both optional, printed commented out.
    expect(snapshot.meta.sources.bloat).toMatchObject({ status: 'unavailable', hint: expect.stringMatching(/pgstattuple/) });
    for (const [name, status] of statuses.filter(([n]) => n !== 'bloat')) expect(status, name).toMatchObject({ status: 'ok' });
    const notes = statuses.flatMap(([name, s]) => (s?.status === 'ok' && s.note ? [`${name}: ${s.note}`] : []));
    for (const note of notes) expect(note).toMatch(/pgstattuple|GRANT SELECT|pg_stats/i);
    expect(snapshot.statements.some((s) => /from orders where customer_id/.test(s.query ?? ''))).toBe(true);
  });

  it('the explain helper plans a statement of another role for it, without SELECT on the table', async () => {
    const statement = snapshot.statements.find((s) => /from orders where customer_id/.test(s.query ?? ''));
    expect(statement).toBeDefined();
    const client = new pg.Client({ connectionString: roleUrl });
    await client.connect();
    try {
      await client.query(`set statement_timeout = '5s'`);
      const { rows } = await client.query<{ result: { plan: { Plan: { 'Node Type': string; 'Relation Name'?: string } }[] } }>(
        `select ${EXPLAIN_HELPER.schema}.${EXPLAIN_HELPER.function}($1::bigint, null, array['public']) as result`,
        [statement!.queryId],
      );
      const plan = rows[0]!.result.plan[0]!.Plan;
      expect(plan['Node Type']).toBe('Seq Scan');
      expect(plan['Relation Name']).toBe('orders');
      // The internal functions are not the role's to call.
      await expect(client.query(`select ${EXPLAIN_HELPER.schema}.refusal('select 1')`)).rejects.toThrow(/permission denied/);
    } finally {
      await client.end();
    }
  });
});
