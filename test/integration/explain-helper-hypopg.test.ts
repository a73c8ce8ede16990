/**
 * The explain helper (`pg-advisor setup --with-helpers`, issue 15) on a Debian PostgreSQL 15 cluster with hypopg:
 * PREPARE + EXPLAIN EXECUTE generic plans (PG16+ EXPLAIN (GENERIC_PLAN) is covered by setup-vanilla on the
 * embedded servers). It must plan statements from pg_stat_statements for a pg_monitor-only role without SELECT
 * on the table, and be useless for anything but planning: every refusal below is asserted, and statements with
 * side effects are shown to be planned, never executed (sequence and table unchanged).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import missingIndex from '../../rules/missing-index/index.js';
import { collectSnapshot, connectTarget } from '../../src/collector/index.js';
import { enrichSnapshot } from '../../src/collector/enrich/index.js';
import { EXPLAIN_HELPER } from '../../src/collector/explain-helper-names.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import { renderSetupSql } from '../../src/setup/render-setup-sql.js';
import { initSqlParser } from '../../src/sql/index.js';
import { debianHypopgUnavailableReason, startHypopgApp, type DebianCluster } from '../support/sql-debian-cluster.js';
import { INDEX_SCHEMA_SQL, TEXTS } from '../support/sql-plant.js';

const unavailable = debianHypopgUnavailableReason();
if (unavailable) console.warn(`[explain-helper-hypopg] skipped: ${unavailable}`);

const HELPER = `${EXPLAIN_HELPER.schema}.${EXPLAIN_HELPER.function}`;
type Plan = { Plan: Record<string, unknown> }[];
const SIDE_EFFECTS_SQL = `
  create sequence order_seq;
  create table audit_log (id bigserial primary key, note text);
  create function bump() returns bigint language plpgsql volatile as $$
    begin insert into audit_log (note) values ('bumped'); return nextval('order_seq'); end $$;
  -- lies about its volatility: the planner folds it while planning, so only read-only mode stops the write
  create function sneaky() returns bigint language plpgsql immutable as $$ begin return nextval('order_seq'); end $$;
  create table secret (s text); insert into secret values ('TOP-SECRET-42');`;
const APP_TEXTS = {
  nextval: `select nextval('order_seq')`,
  bump: 'select bump()',
  sneaky: 'select sneaky()',
  insert: `insert into audit_log (note) values ('app')`,
  writableCte: 'with d as (delete from audit_log where id < 0 returning id) select count(*) from d',
  utility: `set work_mem = '8MB'`,
  update: 'update orders set status = $1 where id = $2',
} as const;

describe.skipIf(unavailable !== null)('explain helper (Debian PostgreSQL 15 with hypopg)', () => {
  let cluster: DebianCluster;
  let appUrl: string;
  let admin: pg.Client;
  let advisor: pg.Client;
  const ids: Record<string, string> = {};
  const roleUrl = (role: string) => appUrl.replace('postgres@', `${role}:pw@`);

  async function queryIdOf(pattern: RegExp): Promise<string> {
    const { rows } = await admin.query<{ queryid: string; query: string }>(
      `select queryid::text, query from pg_stat_statements s join pg_roles r on r.oid = s.userid where r.rolname = 'app'`,
    );
    const hit = rows.find((r) => pattern.test(r.query));
    if (!hit) throw new Error(`no pg_stat_statements entry matches ${pattern}: ${rows.map((r) => r.query).join(' | ')}`);
    return hit.queryid;
  }

  const explain = (queryId: string, index: string | null = null, searchPath: readonly string[] = ['public']) =>
    advisor.query<{ result: { plan: Plan; planWithoutIndex: Plan | null; hypotheticalIndex: string | null } }>(
      `select ${HELPER}($1::bigint, $2, $3::text[]) as result`,
      [queryId, index, searchPath],
    );
  const sideEffectState = async () =>
    (
      await admin.query<{ last_value: string; is_called: boolean; log: string }>(
        `select last_value::text, is_called, (select count(*) from audit_log)::text as log from order_seq`,
      )
    ).rows[0];

  beforeAll(async () => {
    await initSqlParser();
    ({ cluster, appUrl } = await startHypopgApp([INDEX_SCHEMA_SQL, SIDE_EFFECTS_SQL]));
    admin = new pg.Client({ connectionString: appUrl });
    await admin.connect();
    await admin.query(`create role app login password 'pw';
      grant select, insert, update, delete on all tables in schema public to app;
      grant usage, select, update on all sequences in schema public to app;`);
    // The script as printed, as a superuser; the advisor role is pg_monitor + CONNECT only.
    await admin.query(renderSetupSql({ role: 'advisor', database: 'app', withHelpers: true }));
    await admin.query(`alter role advisor password 'pw'`);

    const app = new pg.Client({ connectionString: roleUrl('app') });
    await app.connect();
    try {
      for (let i = 0; i < 60; i++) {
        await app.query(TEXTS.ordersByCustomer, [(i * 37) % 20_000]);
        await app.query(TEXTS.eventsRecent, [i % 50, new Date(Date.now() - 3_600_000)]);
      }
      for (const text of Object.values(APP_TEXTS)) await app.query(text, text.includes('$1') ? ['done', 1] : []);
    } finally {
      await app.end();
    }
    ids.orders = await queryIdOf(/from orders where customer_id = \$1/i);
    ids.nextval = await queryIdOf(/^select nextval\(\$1\)$/);
    ids.bump = await queryIdOf(/^select bump\(\)$/);
    ids.sneaky = await queryIdOf(/^select sneaky\(\)$/);
    ids.insert = await queryIdOf(/^insert into audit_log/);
    ids.writableCte = await queryIdOf(/^with d as \(delete/);
    ids.utility = await queryIdOf(/^set work_mem/);
    ids.update = await queryIdOf(/^update orders set status/);
    advisor = new pg.Client({ connectionString: roleUrl('advisor') });
    await advisor.connect();
    await advisor.query(`set statement_timeout = '5s'`);
  }, 120_000);

  afterAll(async () => {
    await advisor?.end();
    await admin?.end();
    cluster?.stop();
  });

  it('plans a statement of another role for a pg_monitor-only role without SELECT on the table', async () => {
    await expect(advisor.query('select count(*) from orders')).rejects.toThrow(/permission denied for table orders/);
    const before = (await explain(ids.orders!)).rows[0]!.result;
    const after = (await explain(ids.orders!, 'create index on public.orders (customer_id)')).rows[0]!.result;
    expect(before.hypotheticalIndex).toBeNull();
    expect(before.planWithoutIndex).toBeNull();
    // One call plans both: without the index first, then with it.
    expect(after.planWithoutIndex).toEqual(before.plan);
    expect(after.hypotheticalIndex).toMatch(/btree_orders_customer_id/);
    expect(JSON.stringify(before.plan)).not.toContain(after.hypotheticalIndex);
    expect(JSON.stringify(after.plan)).toContain(after.hypotheticalIndex);
    expect(Number(after.plan[0]!.Plan['Total Cost'])).toBeLessThan(Number(before.plan[0]!.Plan['Total Cost']) / 2);
    // Nothing is left behind in the session: no hypothetical index, no prepared statement.
    const left = await advisor.query<{ hypo: number; prepared: number }>(
      'select (select count(*) from public.hypopg())::int as hypo, (select count(*) from pg_prepared_statements)::int as prepared',
    );
    expect(left.rows[0]).toEqual({ hypo: 0, prepared: 0 });
  });

  it.each([
    ['an INSERT', 'insert', /not a SELECT, UPDATE or DELETE/],
    ['a utility statement (SET)', 'utility', /not a SELECT, UPDATE or DELETE/],
    ['a data-modifying WITH', 'writableCte', /WITH statement that may modify data/],
  ])('refuses the queryid of %s', async (_what, key, reason) => {
    await expect(explain(ids[key]!)).rejects.toThrow(reason);
  });

  it('refuses a made-up queryid and a statement the advisor role ran itself', async () => {
    await expect(explain('1234567890123')).rejects.toThrow(/no statement 1234567890123 of another role/);
    await advisor.query('select count(*) from pg_catalog.pg_class where relname = $1', ['x']);
    const { rows } = await admin.query<{ queryid: string }>(
      `select queryid::text from pg_stat_statements s join pg_roles r on r.oid = s.userid
        where r.rolname = 'advisor' and query like 'select count(*) from pg_catalog.pg_class%'`,
    );
    expect(rows).toHaveLength(1);
    await expect(explain(rows[0]!.queryid)).rejects.toThrow(/of another role/);
  });

  it("UPDATE is refused by the owner's permissions (it has SELECT only), not planned with more rights", async () => {
    await expect(explain(ids.update!)).rejects.toThrow(/permission denied for table orders/);
  });

  it.each([
    ['a second statement', 'create index on public.orders (customer_id); drop table public.audit_log; --'],
    ['a statement in the column list', 'create index on public.orders (customer_id); drop table public.audit_log; --)'],
    ['a quoted-name escape', 'create index on public.orders ("customer_id""); drop table public.audit_log; --")'],
    ['a function call', 'create index on public.orders ((pg_catalog.pg_sleep(5)))'],
    ['an expression', 'create index on public.orders (lower(status))'],
    ['a predicate', `create index on public.orders (customer_id) where status <> 'done'`],
    ['an INCLUDE list', 'create index on public.orders (customer_id) include (total)'],
    ['a unique index', 'create unique index on public.orders (id)'],
    ['a named index', 'create index x on public.orders (id)'],
    ['another statement type', 'drop index public.orders_seller_id_idx'],
    ['a SELECT', 'select 1'],
    ['an unqualified table', 'create index on orders (customer_id)'],
  ])('refuses a hypothetical index with %s and changes nothing', async (_what, definition) => {
    await expect(explain(ids.orders!, definition)).rejects.toThrow(/hypothetical index refused/);
    const { rows } = await admin.query<{ n: number }>(`select count(*)::int as n from pg_class where relname in ('audit_log', 'orders_seller_id_idx')`);
    expect(rows[0]!.n).toBe(2);
  });

  it("refuses names that do not exist (table, column, operator class) with the catalog's say", async () => {
    await expect(explain(ids.orders!, 'create index on public.nope (id)')).rejects.toThrow(/no table/);
    await expect(explain(ids.orders!, 'create index on public.orders (nope)')).rejects.toThrow(/no column/);
    await expect(explain(ids.orders!, 'create index on public.orders (status no_such_ops)')).rejects.toThrow(/no btree operator class/);
    const quoted = (await explain(ids.orders!, 'create index on "public"."orders" ("customer_id" int8_ops)')).rows[0]!.result;
    expect(quoted.hypotheticalIndex).toMatch(/customer_id/);
  });

  it('statements with side effects are only planned: the sequence and the table stay as they were', async () => {
    const before = await sideEffectState();
    const nextval = (await explain(ids.nextval!)).rows[0]!.result;
    expect(nextval.plan[0]!.Plan['Node Type']).toBe('Result');
    const bump = (await explain(ids.bump!)).rows[0]!.result;
    expect(bump.plan[0]!.Plan['Node Type']).toBe('Result');
    // An IMMUTABLE-labelled function is folded (run) while planning. The owner may not use the sequence…
    await expect(explain(ids.sneaky!)).rejects.toThrow(/permission denied for sequence order_seq/);
    // …and even when a DBA grants it more than SELECT, the helper's read-only mode stops the write.
    await admin.query(`grant usage, update on sequence order_seq to ${EXPLAIN_HELPER.owner}`);
    try {
      await expect(explain(ids.sneaky!)).rejects.toThrow(/cannot execute nextval\(\) in a read-only transaction/);
    } finally {
      await admin.query(`revoke usage, update on sequence order_seq from ${EXPLAIN_HELPER.owner}`);
    }
    expect(await sideEffectState()).toEqual(before);
  });

  it("refuses a caller that owns a function (planning could run it with the owner's rights)", async () => {
    await advisor.query('create function pg_temp.mine() returns int language sql immutable as $$ select 1 $$');
    await expect(explain(ids.orders!)).rejects.toThrow(/owns objects in this database/);
    await advisor.query('drop function pg_temp.mine()');
    await expect(explain(ids.orders!)).resolves.toBeDefined();
  });

  it("refuses a caller whose temporary view would shadow the table: its body would be planned with the owner's rights", async () => {
    // The attack (measured before the ownership check covered relations): with a search_path that does not find
    // public.orders, "orders" resolves to the caller's temporary view; estimating its WHERE clause runs the STABLE
    // table_to_xml as the owner, and the failing cast puts the secret table's rows into the error message.
    await advisor.query(`create temp view orders as select o.* from public.orders o
      where o.id < (pg_catalog.table_to_xml('public.secret'::regclass, true, false, '')::text)::int`);
    await advisor.query(`grant select on pg_temp.orders to ${EXPLAIN_HELPER.owner}`);
    try {
      const error = await explain(ids.orders!, null, []).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(/owns objects in this database, or the session has temporary objects/);
      expect(String(error?.message)).not.toContain('TOP-SECRET');
    } finally {
      await advisor.query('drop view pg_temp.orders');
    }
    await expect(explain(ids.orders!)).resolves.toBeDefined();
  });

  it('refuses to run without a statement_timeout of at most 10 s', async () => {
    await advisor.query('set statement_timeout = 0');
    try {
      await expect(explain(ids.orders!)).rejects.toThrow(/statement_timeout/);
    } finally {
      await advisor.query(`set statement_timeout = '5s'`);
    }
  });

  it('the missing-index enrichment uses the helper: a pg_monitor-only role gets verified findings', async () => {
    // A session statement_timeout above the helper's 10 s limit: the enrichment sets its own, local one per check.
    const target = await connectTarget({ url: roleUrl('advisor'), statementTimeoutMs: 30_000 });
    try {
      const snapshot = await enrichSnapshot(target, await collectSnapshot(target));
      const verifications = snapshot.enrichments?.indexVerifications ?? [];
      console.log(`[explain-helper-hypopg] verifications: ${JSON.stringify(verifications)}`);
      const orders = verifications.find((v) => v.table === 'orders' && v.columns.join() === 'customer_id');
      expect(orders).toMatchObject({ status: 'verified', usesIndex: true });
      expect(orders!.costAfter!).toBeLessThan(orders!.costBefore! / 2);
      const { findings } = evaluateRules({ rules: [missingIndex], snapshot, window: null });
      const finding = findings.find((f) => f.object.name === 'orders');
      expect(finding?.evidence.verification).toBe('hypopg');
    } finally {
      await target.close();
    }
  });
});
