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
// Its own helper owner: roles are cluster-wide and other files may run the setup script at the same time.
const helperOwner = `r_owner_${randomBytes(4).toString('hex')}`;
const password = randomBytes(8).toString('hex');
let roleUrl: string;
let snapshot: Snapshot;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.admin.query(`create table orders (id int primary key, customer_id int not null, note text);
    insert into orders select g, g % 500, 'n' from generate_series(1, 20000) g; analyze orders;`);
  const sql = renderSetupSql({ role, database: db.name, withHelpers: true, helperOwner });
  await db.admin.query(sql);
  // Safe to run twice; without --database it grants CONNECT on the database it runs in.
  await db.admin.query(renderSetupSql({ role, withHelpers: true, helperOwner }));
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
    await server.query(`drop role if exists ${helperOwner}`);
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

  it('a pg_monitor role without the EXECUTE grant cannot call the helper', async () => {
    const other = new pg.Client({ connectionString: await db.createMonitorRole() });
    await other.connect();
    try {
      await expect(other.query(`select ${EXPLAIN_HELPER.schema}.${EXPLAIN_HELPER.function}(1)`)).rejects.toThrow(/permission denied/);
    } finally {
      await other.end();
    }
  });
});

/** The helper's text check (advisor_helper.refusal), fed texts pg_stat_statements could hold, and ones it could not. */
describe('explain helper: which statement texts may be planned', () => {
  const may = [
    'select id from orders where customer_id = $1',
    'SELECT 1;',
    '/* app:orders */ select 1',
    '-- a comment\nselect 1',
    'with x as (select id from orders) select * from x',
    'with x as (select id from orders for update) select * from x',
    'select id from orders for no key update',
    'update orders set note = $1 where id = $2',
    'delete from orders where id = $1',
  ];
  const refused: readonly (readonly [string, RegExp])[] = [
    ['select 1; drop table orders', /more than one statement/],
    ['select 1; select 2;', /more than one statement/],
    [`select 'a;b'`, /more than one statement/],
    ['/* /* nested */ */ select 1', /not a SELECT/],
    ['select * into copy from orders', /SELECT INTO/],
    ['with x as (select 1) select * into copy from x', /SELECT INTO/],
    ['with d as (delete from orders returning id) select count(*) from d', /may modify data/],
    ['with d as (select 1) insert into orders select * from d', /may modify data/],
    ['with d as (select 1) update orders set note = $1', /may modify data/],
    ['insert into orders values ($1)', /not a SELECT/],
    ['merge into orders using x on true when matched then delete', /not a SELECT/],
    ['explain analyze delete from orders', /not a SELECT/],
    ['create table x as select 1', /not a SELECT/],
    ['values (1)', /not a SELECT/],
    ['(select 1)', /not a SELECT/],
    ['vacuum orders', /not a SELECT/],
    ['copy orders to program $1', /not a SELECT/],
    ['selectx 1', /not a SELECT/],
  ];
  const refusal = async (text: string) =>
    (await db.admin.query<{ reason: string | null }>(`select ${EXPLAIN_HELPER.schema}.refusal($1) as reason`, [text])).rows[0]!.reason;

  it.each(may)('plans %j', async (text) => {
    expect(await refusal(text)).toBeNull();
  });
  it.each(refused)('refuses %j', async (text, reason) => {
    expect(await refusal(text)).toMatch(reason);
  });
});
