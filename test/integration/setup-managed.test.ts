/**
 * `pg-advisor setup --provider rds --with-helpers` run as a non-superuser admin, as on a managed service (RDS's
 * master user is an rds_superuser member, not a superuser): CREATEROLE, owner of the database and its tables,
 * pg_monitor/pg_read_all_stats grantable. The extension is created beforehand by a superuser, as the provider's
 * own mechanism would. The script must run as printed, and the helper must work for the advisor role.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EXPLAIN_HELPER } from '../../src/collector/explain-helper-names.js';
import { renderSetupSql } from '../../src/setup/render-setup-sql.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
const suffix = randomBytes(4).toString('hex');
const adminRole = `r_admin_${suffix}`;
const role = `r_adv_${suffix}`;
const helperOwner = `r_owner_${suffix}`;
const password = randomBytes(8).toString('hex');

const urlFor = (user: string): string => {
  const url = new URL(db.adminUrl);
  url.username = user;
  url.password = password;
  return url.toString();
};

beforeAll(async () => {
  db = await createTestDatabase();
  await db.admin.query(`create role ${adminRole} login createrole password '${password}';
    grant pg_monitor, pg_read_all_stats to ${adminRole} with admin option;
    alter database ${db.name} owner to ${adminRole};`);
  const admin = new pg.Client({ connectionString: urlFor(adminRole) });
  await admin.connect();
  try {
    await admin.query(`create table orders (id int primary key, customer_id int not null);
      insert into orders select g, g % 100 from generate_series(1, 5000) g; analyze orders;`);
    await admin.query(renderSetupSql({ provider: 'rds', role, withHelpers: true, helperOwner }));
    await admin.query(`alter role ${role} password '${password}'`);
    for (let i = 0; i < 3; i++) await admin.query('select id from orders where customer_id = $1', [i]);
  } finally {
    await admin.end();
  }
});

afterAll(async () => {
  await db?.drop();
  const server = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await server.connect();
  try {
    for (const r of [role, helperOwner, adminRole]) await server.query(`drop role if exists ${r}`);
  } finally {
    await server.end();
  }
}, 30_000);

describe('pg-advisor setup --provider rds as a non-superuser admin', () => {
  it("leaves the admin without the owner's privileges, the owner without CREATE, the advisor outside the owner", async () => {
    // On PG16+ a CREATEROLE admin keeps the ADMIN OPTION it got by creating the role (no INHERIT, no SET): only the
    // explicit grant the script made for ALTER ... OWNER TO is revoked, so the admin does not inherit the owner.
    const { rows } = await db.admin.query<{ inherits: boolean; advisor_member: boolean; can_create: boolean; owner: string }>(
      `select pg_has_role($1, $2, 'usage') as inherits, pg_has_role($5, $2, 'member') as advisor_member,
        has_schema_privilege($2, $3, 'create') as can_create,
        (select p.proowner::regrole::text from pg_proc p where p.oid = to_regprocedure($4)) as owner`,
      [adminRole, helperOwner, EXPLAIN_HELPER.schema, `${EXPLAIN_HELPER.schema}.${EXPLAIN_HELPER.function}(bigint,text,text[])`, role],
    );
    expect(rows[0]).toEqual({ inherits: false, advisor_member: false, can_create: false, owner: helperOwner });
  });

  it('the advisor role gets a plan through the helper without SELECT on the table', async () => {
    const { rows: ids } = await db.admin.query<{ queryid: string }>(
      `select queryid::text from pg_stat_statements where query like 'select id from orders where customer_id = $1%'`,
    );
    expect(ids).toHaveLength(1);
    const advisor = new pg.Client({ connectionString: urlFor(role) });
    await advisor.connect();
    try {
      await expect(advisor.query('select count(*) from orders')).rejects.toThrow(/permission denied/);
      await advisor.query(`set statement_timeout = '5s'`);
      const { rows } = await advisor.query<{ result: { plan: { Plan: { 'Relation Name'?: string } }[] } }>(
        `select ${EXPLAIN_HELPER.schema}.${EXPLAIN_HELPER.function}($1::bigint) as result`,
        [ids[0]!.queryid],
      );
      expect(rows[0]!.result.plan[0]!.Plan['Relation Name']).toBe('orders');
    } finally {
      await advisor.end();
    }
  });
});
