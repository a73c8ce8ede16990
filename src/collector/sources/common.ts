/** Schemas whose relations are not the user's. */
export const SYSTEM_SCHEMA_FILTER = `n.nspname not in ('pg_catalog', 'information_schema')
  and n.nspname !~ '^pg_toast' and n.nspname !~ '^pg_temp_'`;

/**
 * Relations with an AccessExclusiveLock held or requested in the current database: size functions would wait
 * (lock requests queue in order, so a pending ALTER TABLE blocks our AccessShareLock as much as a granted one).
 */
export const LOCKED_RELATIONS_CTE = `locked as (
  select distinct l.relation as oid from pg_catalog.pg_locks l
  where l.locktype = 'relation' and l.mode = 'AccessExclusiveLock'
    and l.database = (select d.oid from pg_catalog.pg_database d where d.datname = pg_catalog.current_database()))`;

/** Parses pg_class.reloptions ("key=value" strings) into a record. */
export function parseReloptions(options: readonly string[] | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const option of options ?? []) {
    const eq = option.indexOf('=');
    if (eq > 0) out[option.slice(0, eq)] = option.slice(eq + 1);
  }
  return out;
}
