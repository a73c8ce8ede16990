/**
 * `pg-advisor setup` text: per provider the key lines (no whole-text snapshots), quoting of names, usage errors.
 * That the vanilla script runs on a real PostgreSQL is test/integration/setup-vanilla.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors/errors.js';
import { renderSetupSql } from '../../src/setup/render-setup-sql.js';
import { PROVIDER_IDS } from '../../src/setup/providers.js';

const activeLines = (sql: string): string[] => sql.split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('--'));

describe('setup SQL: every provider', () => {
  for (const provider of PROVIDER_IDS) {
    it(`${provider}: role, pg_monitor, CONNECT, pg_stat_statements; nothing optional runs unasked`, () => {
      const sql = renderSetupSql({ provider });
      const active = activeLines(sql).join('\n');
      expect(active).toMatch(/create role advisor login connection limit 5;/);
      expect(active).toContain('grant pg_monitor to advisor;');
      expect(active).toMatch(/grant connect on database %I to %I', pg_catalog\.current_database\(\), 'advisor'\)/);
      expect(active).toMatch(/^create extension if not exists pg_stat_statements( with schema extensions)?;$/m);
      // Optional extensions and grants are printed for the DBA to uncomment, never active.
      expect(active).not.toMatch(/pgstattuple|hypopg|grant select/);
      expect(active).not.toMatch(/advisor_helper/);
      // Never a password, never a reset.
      expect(sql).not.toMatch(/password\s+'/i);
      expect(sql).not.toMatch(/_reset\(/);
    });
  }

  it("names each provider's quirks in comments", () => {
    const text = (provider: string) => renderSetupSql({ provider });
    expect(text('rds')).toMatch(/^-- .*rds_superuser/m);
    expect(text('rds')).toMatch(/^-- .*parameter\s+group/m);
    expect(text('rds')).toMatch(/^-- .*hypopg\.use_real_oids/m);
    expect(text('aurora')).toMatch(/^-- .*15\.5/m);
    expect(text('cloudsql')).toMatch(/^-- .*cloudsqlsuperuser/m);
    expect(text('cloudsql')).toMatch(/^-- .*database flags/m);
    expect(text('alloydb')).toMatch(/^-- .*alloydbsuperuser/m);
    expect(text('azure')).toMatch(/^-- .*azure\.extensions/m);
    expect(text('azure')).toMatch(/^-- Server parameter shared_preload_libraries/m);
    expect(text('neon')).toMatch(/^-- .*lost whenever the compute suspends/m);
    expect(text('vanilla')).toMatch(/^-- postgresql\.conf: shared_preload_libraries = 'pg_stat_statements'/m);
  });

  it('supabase: extensions in schema extensions, USAGE granted to the role (and to the helper owner)', () => {
    const active = activeLines(renderSetupSql({ provider: 'supabase', withHelpers: true }));
    expect(active).toContain('create extension if not exists pg_stat_statements with schema extensions;');
    expect(active).toContain('grant usage on schema extensions to advisor;');
    expect(active).toContain('grant usage on schema extensions to advisor_helper_owner;');
  });

  it('provider names are case-insensitive; the default is vanilla', () => {
    expect(renderSetupSql({ provider: 'RDS' })).toMatch(/Amazon RDS/);
    expect(renderSetupSql()).toMatch(/PostgreSQL \(self-managed\)/);
  });
});

describe('setup SQL: names', () => {
  it('quotes role, database and schema names that need it', () => {
    const sql = renderSetupSql({ role: 'Ops "Advisor"', database: 'my app', withHelpers: true, schemas: ['Sales'] });
    expect(sql).toContain('create role "Ops ""Advisor""" login');
    expect(sql).toContain(`rolname = 'Ops "Advisor"'`);
    expect(sql).toContain('grant connect on database "my app" to "Ops ""Advisor""";');
    expect(sql).toContain('grant select on all tables in schema "Sales" to advisor_helper_owner;');
    expect(sql).toContain('grant execute on function advisor_helper.explain_generic(bigint, text, text[]) to "Ops ""Advisor""";');
  });

  it('a name holding $$ or a quote cannot end the DO block or the literal early', () => {
    const sql = renderSetupSql({ role: "x$$'; drop table t; --" });
    expect(sql).toMatch(/^do \$pga0\$ begin$/m);
    expect(sql).toContain(`rolname = 'x$$''; drop table t; --'`);
    expect(sql).toContain('create role "x$$\'; drop table t; --" login');
  });

  it.each([
    ['pg_advisor', /reserved/],
    ['PG_x', /reserved/],
    ['public', /reserved/],
    ['', /not a valid role name/],
    ['a'.repeat(64), /not a valid role name/],
    ['a\0b', /not a valid role name/],
  ])('refuses the role name %j with a usage error and a hint', (role, message) => {
    let error: unknown;
    try {
      renderSetupSql({ role });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(message);
    expect((error as UsageError).hint).toBeTruthy();
  });

  it('--helper-owner: another owner name, quoted; never the advisor role itself, never reserved', () => {
    const sql = renderSetupSql({ withHelpers: true, helperOwner: 'Helper Owner' });
    expect(sql).toContain('alter function advisor_helper.explain_generic(bigint, text, text[]) owner to "Helper Owner";');
    expect(sql).toContain(`rolname = 'Helper Owner'`);
    expect(sql).not.toContain('advisor_helper_owner');
    expect(renderSetupSql({ withHelpers: true, helperOwner: 'own$$er' })).toMatch(/^do \$pga0\$ begin\n.*rolname = 'own\$\$er'/m);
    expect(() => renderSetupSql({ withHelpers: true, role: 'ops', helperOwner: 'ops' })).toThrow(/must differ from --role/);
    expect(() => renderSetupSql({ withHelpers: true, helperOwner: 'pg_owner' })).toThrow(/--helper-owner "pg_owner" is reserved/);
  });

  it('refuses an unknown provider, listing the valid ones in the hint', () => {
    expect(() => renderSetupSql({ provider: 'heroku' })).toThrow(UsageError);
    try {
      renderSetupSql({ provider: 'heroku' });
    } catch (e) {
      expect((e as UsageError).hint).toContain(PROVIDER_IDS.join(', '));
    }
  });
});

describe('setup SQL: --with-helpers', () => {
  const sql = renderSetupSql({ withHelpers: true });
  const active = activeLines(sql).join('\n');

  it('creates the helper in one transaction, SECURITY DEFINER with a pinned search_path, EXECUTE only for the role', () => {
    expect(active).toMatch(/^begin;[\s\S]*create or replace function advisor_helper\.explain_generic[\s\S]*^commit;$/m);
    expect(active).toMatch(/security definer\s+set search_path = pg_catalog, pg_temp/);
    expect(active).toContain(
      'revoke all on function advisor_helper.refusal(text), advisor_helper.hypothetical_index_ddl(text), ' +
        'advisor_helper.explain_generic(bigint, text, text[]) from public;',
    );
    expect(active).toContain('grant execute on function advisor_helper.explain_generic(bigint, text, text[]) to advisor;');
    expect(active).toContain('alter function advisor_helper.explain_generic(bigint, text, text[]) owner to advisor_helper_owner;');
    expect(active).toMatch(/create role advisor_helper_owner nologin;/);
    expect(active).not.toMatch(/explain\s*\([^)]*analy[sz]e/i);
    expect(sql).toMatch(/^-- To remove the helper: DROP SCHEMA advisor_helper CASCADE/m);
  });

  it('a non-superuser admin (managed providers) joins the owner only for the ALTER ... OWNER TO statements', () => {
    expect(active).not.toContain('grant advisor_helper_owner to current_user;');
    const rds = activeLines(renderSetupSql({ provider: 'rds', withHelpers: true }));
    const grant = rds.findIndex((l) => l.startsWith('grant advisor_helper_owner to current_user;'));
    const alter = rds.findIndex((l) => l.startsWith('alter function advisor_helper.explain_generic'));
    const revoke = rds.indexOf('revoke advisor_helper_owner from current_user;');
    const grantCreate = rds.indexOf('grant create on schema advisor_helper to advisor_helper_owner;');
    const revokeCreate = rds.indexOf('revoke create on schema advisor_helper from advisor_helper_owner;');
    expect(grant).toBeGreaterThan(-1);
    expect(grant).toBeLessThan(alter);
    expect(revoke).toBeGreaterThan(alter);
    expect(grantCreate).toBeGreaterThan(-1);
    expect(grantCreate).toBeLessThan(alter);
    expect(revokeCreate).toBeGreaterThan(alter);
  });
});
