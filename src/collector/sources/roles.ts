import type { RoleStat } from '../../snapshot/types.js';
import { type CollectionContext, num } from '../context.js';

/** Roles that can log in, with their client backends now. */
export const ROLES_SQL = `select /* pg-advisor */ r.oid, r.rolname as name, r.rolconnlimit as conn_limit,
  r.rolsuper as superuser, r.rolcanlogin as can_login, coalesce(b.backends, 0)::int as backends
  from pg_catalog.pg_roles r
  left join (select a.usesysid, count(*) as backends from pg_catalog.pg_stat_activity a
             where a.backend_type = 'client backend' group by a.usesysid) b on b.usesysid = r.oid
  where r.rolcanlogin
  order by r.rolname`;

interface RoleRow extends Record<string, unknown> {
  oid: number;
  name: string;
  conn_limit: number;
  superuser: boolean;
  can_login: boolean;
  backends: number;
}

export async function collectRoles(ctx: CollectionContext): Promise<RoleStat[]> {
  const rows = await ctx.target.query<RoleRow>(ROLES_SQL);
  return rows.map((r) => ({
    oid: r.oid,
    name: r.name,
    connLimit: r.conn_limit,
    superuser: r.superuser,
    canLogin: r.can_login,
    backends: num(r.backends),
  }));
}
