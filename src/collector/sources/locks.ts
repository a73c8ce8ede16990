import type { LockHolder, LocksState, LockWait } from '../../snapshot/types.js';
import { type CollectionContext, num, toNumber } from '../context.js';
import { nonNegative } from './activity.js';

/** Waiting sessions listed at most (longest waits first); the rest is counted in `truncated`. */
export const MAX_LOCK_WAITS = 500;
/** Sessions whose held locks are counted at most. */
export const MAX_LOCK_HOLDING_SESSIONS = 1000;

/**
 * Ungranted locks of sessions of this database, longest wait first, bounded by $1: never the full lock table.
 * One row per waiting session (a backend waits for one lock at a time); pg_blocking_pids() runs only for these.
 * waitstart is PostgreSQL 14+ (null for a moment after the wait began: the statement's age stands in).
 */
export const LOCK_WAITS_SQL = `select /* pg-advisor */ l.pid, l.locktype, l.mode, c.oid::int8 as relation_oid,
  n.nspname as schema, c.relname as relation,
  extract(epoch from pg_catalog.now() - coalesce(l.waitstart, a.query_start))::float8 as wait_seconds,
  pg_catalog.pg_blocking_pids(l.pid) as blocked_by, count(*) over ()::int as total
from pg_catalog.pg_locks l
join pg_catalog.pg_stat_activity a on a.pid = l.pid and a.datname = pg_catalog.current_database()
left join pg_catalog.pg_class c on c.oid = l.relation and l.database = (
  select d.oid from pg_catalog.pg_database d where d.datname = pg_catalog.current_database())
left join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where not l.granted
order by coalesce(l.waitstart, a.query_start), l.pid
limit $1`;

/**
 * The sessions others wait for ($1: pids), whatever their backend type, with the relation lock modes they hold
 * granted on the relations waited for ($2: their oids).
 */
export const LOCK_HOLDERS_SQL = `select /* pg-advisor */ a.pid, a.backend_type, coalesce(a.application_name, '') as application_name,
  a.usename as user_name, a.state, a.wait_event_type,
  extract(epoch from pg_catalog.now() - a.xact_start)::float8 as xact_age_seconds,
  extract(epoch from pg_catalog.now() - a.query_start)::float8 as query_age_seconds,
  array(select distinct l.mode from pg_catalog.pg_locks l
        where l.pid = a.pid and l.granted and l.locktype = 'relation' and l.relation = any($2::oid[])
        order by l.mode) as granted_modes
from pg_catalog.pg_stat_activity a
where a.pid = any($1::int[])
order by a.pid`;

/**
 * Granted locks per session of this database (not the advisor's own): relation locks and ACCESS EXCLUSIVE ones,
 * aggregated in SQL so 10,000 locks make at most one row per session; bounded by $1, most locks first.
 */
export const LOCKS_HELD_SQL = `select /* pg-advisor */ l.pid, count(*) filter (where l.locktype = 'relation')::int as relation_locks,
  count(*) filter (where l.locktype = 'relation' and l.mode = 'AccessExclusiveLock')::int as access_exclusive_locks
from pg_catalog.pg_locks l
join pg_catalog.pg_stat_activity a on a.pid = l.pid and a.datname = pg_catalog.current_database()
where l.granted and l.pid <> pg_catalog.pg_backend_pid()
group by l.pid
order by count(*) desc, l.pid
limit $1`;

interface HeldRow extends Record<string, unknown> {
  pid: number;
  relation_locks: number;
  access_exclusive_locks: number;
}

interface WaitRow extends Record<string, unknown> {
  pid: number;
  locktype: string;
  mode: string;
  relation_oid: string | null;
  schema: string | null;
  relation: string | null;
  wait_seconds: number | null;
  blocked_by: number[];
  total: number;
}

interface HolderRow extends Record<string, unknown> {
  pid: number;
  backend_type: string | null;
  application_name: string;
  user_name: string | null;
  state: string | null;
  wait_event_type: string | null;
  xact_age_seconds: number | null;
  query_age_seconds: number | null;
  granted_modes: string[];
}

export async function collectLocks(ctx: CollectionContext, limit = MAX_LOCK_WAITS): Promise<LocksState> {
  const rows = await ctx.target.query<WaitRow>(LOCK_WAITS_SQL, [limit]);
  const waits: LockWait[] = rows.map((r) => ({
    pid: r.pid,
    lockType: r.locktype,
    mode: r.mode,
    schema: r.schema,
    relation: r.relation,
    waitSeconds: nonNegative(r.wait_seconds),
    blockedBy: r.blocked_by ?? [],
  }));
  const holderPids = [...new Set(waits.flatMap((w) => w.blockedBy))];
  const relations = [...new Set(rows.map((r) => r.relation_oid).filter((oid) => oid !== null))];
  const holders: LockHolder[] =
    holderPids.length === 0
      ? []
      : (await ctx.target.query<HolderRow>(LOCK_HOLDERS_SQL, [holderPids, relations])).map((r) => ({
          pid: r.pid,
          backendType: r.backend_type,
          applicationName: r.application_name,
          userName: r.user_name,
          state: r.state,
          waitEventType: r.wait_event_type,
          xactAgeSeconds: nonNegative(r.xact_age_seconds),
          queryAgeSeconds: nonNegative(r.query_age_seconds),
          grantedModes: r.granted_modes ?? [],
        }));
  const held = (await ctx.target.query<HeldRow>(LOCKS_HELD_SQL, [MAX_LOCK_HOLDING_SESSIONS])).map((r) => ({
    pid: r.pid,
    relationLocks: num(r.relation_locks),
    accessExclusiveLocks: num(r.access_exclusive_locks),
  }));
  return { waits, holders, held, truncated: Math.max(0, num(toNumber(rows[0]?.total)) - waits.length) };
}
