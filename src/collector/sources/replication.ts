import type { ReplicationSlot, ReplicationState } from '../../snapshot/types.js';
import { type CollectionContext, toNumber } from '../context.js';
import { nonNegative } from './activity.js';

/** Slots listed at most (a cluster has a handful; the bound only guards against a runaway tool). */
export const MAX_SLOTS = 200;

/** inactive_since and invalidation_reason: PostgreSQL 17+. */
const PG_17 = `extract(epoch from pg_catalog.now() - s.inactive_since)::float8 as inactive_seconds, s.invalidation_reason`;

/**
 * Every replication slot of the cluster (pg_replication_slots needs no privilege) with the WAL it retains: from
 * restart_lsn to the current WAL position (on a standby, the last received position). Bounded by $1.
 */
export const replicationSlotsSql = (serverVersionNum: number): string => `select /* pg-advisor */ s.slot_name, s.slot_type,
  s.plugin, s.database, s.temporary, s.active, s.active_pid,
  pg_catalog.age(s.xmin) as xmin_age, pg_catalog.age(s.catalog_xmin) as catalog_xmin_age,
  pg_catalog.pg_wal_lsn_diff(case when pg_catalog.pg_is_in_recovery() then pg_catalog.pg_last_wal_receive_lsn()
    else pg_catalog.pg_current_wal_lsn() end, s.restart_lsn)::float8 as retained_bytes,
  s.wal_status, s.safe_wal_size::float8 as safe_wal_size,
  ${serverVersionNum >= 170000 ? PG_17 : 'null::float8 as inactive_seconds, null::text as invalidation_reason'}
from pg_catalog.pg_replication_slots s
order by s.slot_name
limit $1`;

/** max_slot_wal_keep_size in bytes (-1 = unlimited). */
export const MAX_SLOT_WAL_KEEP_SIZE_SQL = `select /* pg-advisor */ case when s.setting::bigint < 0 then -1
  else s.setting::float8 * 1024 * 1024 end as bytes from pg_catalog.pg_settings s where s.name = 'max_slot_wal_keep_size'`;

interface SlotRow extends Record<string, unknown> {
  slot_name: string;
  slot_type: string;
  plugin: string | null;
  database: string | null;
  temporary: boolean;
  active: boolean;
  active_pid: number | null;
  xmin_age: number | null;
  catalog_xmin_age: number | null;
  retained_bytes: number | null;
  wal_status: string | null;
  safe_wal_size: number | null;
  inactive_seconds: number | null;
  invalidation_reason: string | null;
}

export async function collectReplication(ctx: CollectionContext, limit = MAX_SLOTS): Promise<ReplicationState> {
  const rows = await ctx.target.query<SlotRow>(replicationSlotsSql(ctx.serverVersionNum), [limit]);
  const [keep] = await ctx.target.query<{ bytes: number | null }>(MAX_SLOT_WAL_KEEP_SIZE_SQL);
  const slots: ReplicationSlot[] = rows.map((r) => ({
    name: r.slot_name,
    type: r.slot_type === 'logical' ? 'logical' : 'physical',
    plugin: r.plugin,
    database: r.database,
    temporary: r.temporary,
    active: r.active,
    activePid: r.active_pid,
    xminAge: toNumber(r.xmin_age),
    catalogXminAge: toNumber(r.catalog_xmin_age),
    retainedBytes: nonNegative(r.retained_bytes),
    walStatus: r.wal_status,
    safeWalSizeBytes: toNumber(r.safe_wal_size),
    inactiveSeconds: nonNegative(r.inactive_seconds),
    invalidationReason: r.invalidation_reason,
  }));
  const keepBytes = toNumber(keep?.bytes);
  return { slots, maxSlotWalKeepSizeBytes: keepBytes === null || keepBytes < 0 ? null : keepBytes };
}
