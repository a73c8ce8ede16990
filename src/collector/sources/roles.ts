import type { RoleStat } from '../../snapshot/types.js';
import { type CollectionContext, num } from '../context.js';

/**
 * Roles that can log in, with their client backends now and the search_path configured for their sessions
 * in this database: role-in-database over role over database (PostgreSQL's precedence). pg_db_role_setting
 * is readable by every role (PG 15–18).
 */
export const ROLES_SQL = `select /* pg-advisor */ r.oid, r.rolname as name, r.rolconnlimit as conn_limit,
  r.rolsuper as superuser, r.rolcanlogin as can_login, coalesce(b.backends, 0)::int as backends,
  sp.search_path
  from pg_catalog.pg_roles r
  left join (select a.usesysid, count(*) as backends from pg_catalog.pg_stat_activity a
             where a.backend_type = 'client backend' group by a.usesysid) b on b.usesysid = r.oid
  left join lateral (
    select pg_catalog.substr(c.cfg, 13) as search_path
    from pg_catalog.pg_db_role_setting s, pg_catalog.unnest(s.setconfig) as c(cfg)
    where s.setrole in (r.oid, 0) and c.cfg like 'search\\_path=%'
      and s.setdatabase in (0, (select d.oid from pg_catalog.pg_database d where d.datname = pg_catalog.current_database()))
    order by (s.setrole <> 0) desc, (s.setdatabase <> 0) desc
    limit 1) sp on true
  where r.rolcanlogin
  order by r.rolname`;

/**
 * Schema names of a search_path setting (`"$user", public`, `"My Schema",app`): comma-separated, double
 * quotes kept names verbatim (`""` is a quote), unquoted names fold to lower case. Pure.
 */
export function parseSearchPath(value: string, roleName: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < value.length) {
    while (i < value.length && /[\s,]/.test(value.charAt(i))) i++;
    if (i >= value.length) break;
    let name = '';
    if (value[i] === '"') {
      i++;
      while (i < value.length) {
        if (value[i] === '"' && value[i + 1] === '"') (name += '"'), (i += 2);
        else if (value[i] === '"') {
          i++;
          break;
        } else name += value[i++];
      }
    } else {
      while (i < value.length && value[i] !== ',') name += value[i++];
      name = name.trim().toLowerCase();
    }
    while (i < value.length && value[i] !== ',') i++;
    out.push(name === '$user' ? roleName : name);
  }
  return out.filter((n) => n !== '');
}

interface RoleRow extends Record<string, unknown> {
  oid: number;
  name: string;
  conn_limit: number;
  superuser: boolean;
  can_login: boolean;
  backends: number;
  search_path: string | null;
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
    searchPath: r.search_path === null ? null : parseSearchPath(r.search_path, r.name),
  }));
}
