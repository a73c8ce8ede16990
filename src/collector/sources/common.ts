/** Schemas whose relations are not the user's. */
export const SYSTEM_SCHEMA_FILTER = `n.nspname not in ('pg_catalog', 'information_schema')
  and n.nspname !~ '^pg_toast' and n.nspname !~ '^pg_temp_'`;

/**
 * Relations with an AccessExclusiveLock held OR requested in the current database. Size functions take an
 * AccessShareLock, which waits behind a granted exclusive lock and also behind a queued one (an ALTER TABLE
 * waiting for a long transaction): either way the source would run into lock_timeout.
 */
export const LOCKED_RELATIONS_CTE = `locked as (
  select distinct l.relation as oid from pg_catalog.pg_locks l
  where l.locktype = 'relation' and l.mode = 'AccessExclusiveLock'
    and l.database = (select d.oid from pg_catalog.pg_database d where d.datname = pg_catalog.current_database()))`;

/** The note of a source that skipped relations under an AccessExclusiveLock (undefined when none). */
export function lockedNote(what: string, names: readonly string[]): string | undefined {
  if (names.length === 0) return undefined;
  const shown = names.slice(0, LOCKED_NAMES_SHOWN).join(', ');
  const more = names.length > LOCKED_NAMES_SHOWN ? ` and ${names.length - LOCKED_NAMES_SHOWN} more` : '';
  return `${names.length} ${what} not measured: an AccessExclusiveLock is held or queued on them (DDL in progress): ${shown}${more}`;
}
/** Names listed in a lockedNote before "and N more". */
const LOCKED_NAMES_SHOWN = 10;

/** Parses pg_class.reloptions ("key=value" strings) into a record. */
export function parseReloptions(options: readonly string[] | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const option of options ?? []) {
    const eq = option.indexOf('=');
    if (eq > 0) out[option.slice(0, eq)] = option.slice(eq + 1);
  }
  return out;
}
