import type { Settings } from '../../snapshot/types.js';
import type { CollectionContext } from '../context.js';
import { num } from '../context.js';

const BASE_SETTINGS = [
  'max_connections',
  'superuser_reserved_connections',
  'autovacuum',
  'track_counts',
  'autovacuum_naptime',
  'autovacuum_max_workers',
  'autovacuum_vacuum_threshold',
  'autovacuum_vacuum_scale_factor',
  'autovacuum_vacuum_insert_threshold',
  'autovacuum_vacuum_insert_scale_factor',
  'autovacuum_freeze_max_age',
  'autovacuum_analyze_threshold',
  'autovacuum_analyze_scale_factor',
  'autovacuum_multixact_freeze_max_age',
  'vacuum_failsafe_age',
  'vacuum_multixact_failsafe_age',
  'idle_in_transaction_session_timeout',
  'block_size',
  'track_activity_query_size',
] as const;
/** reserved_connections: PostgreSQL 16+. */
const PG_16 = ['reserved_connections'] as const;
/** autovacuum_vacuum_max_threshold: PostgreSQL 18+. */
const PG_18 = ['autovacuum_vacuum_max_threshold'] as const;

export const SETTINGS_SQL = `select /* pg-advisor */ s.name, s.setting, s.unit
  from pg_catalog.pg_settings s where s.name = any($1::text[])`;

/**
 * The server's idle_in_transaction_session_timeout as other sessions get it (ms): connect.ts stashes it
 * before setting the advisor's own; falls back to the session value when the stash is absent.
 */
export const SERVER_IDLE_TIMEOUT_SQL = `select /* pg-advisor */ (extract(epoch from coalesce(
    nullif(pg_catalog.current_setting('pg_advisor.server_idle_in_transaction_session_timeout', true), ''),
    pg_catalog.current_setting('idle_in_transaction_session_timeout'))::interval) * 1000)::float8 as ms`;

interface SettingRow extends Record<string, unknown> {
  name: string;
  setting: string;
  unit: string | null;
}

/** GUCs in force for this session (pg_settings; readable by every role). */
export async function collectSettings(ctx: CollectionContext): Promise<Settings> {
  const names: string[] = [...BASE_SETTINGS];
  if (ctx.serverVersionNum >= 160000) names.push(...PG_16);
  if (ctx.serverVersionNum >= 180000) names.push(...PG_18);
  const rows = await ctx.target.query<SettingRow>(SETTINGS_SQL, [names]);
  const byName = new Map(rows.map((r) => [r.name, r]));
  const [idle] = await ctx.target.query<{ ms: number }>(SERVER_IDLE_TIMEOUT_SQL);
  const n = (name: string): number => num(byName.get(name)?.setting);
  const on = (name: string): boolean => byName.get(name)?.setting === 'on';
  const maxThreshold = byName.get('autovacuum_vacuum_max_threshold');
  return {
    maxConnections: n('max_connections'),
    superuserReservedConnections: n('superuser_reserved_connections'),
    reservedConnections: n('reserved_connections'),
    autovacuum: on('autovacuum') && on('track_counts'),
    trackCounts: on('track_counts'),
    autovacuumNaptimeSeconds: seconds(byName.get('autovacuum_naptime')),
    autovacuumMaxWorkers: n('autovacuum_max_workers'),
    autovacuumVacuumThreshold: n('autovacuum_vacuum_threshold'),
    autovacuumVacuumScaleFactor: n('autovacuum_vacuum_scale_factor'),
    autovacuumVacuumMaxThreshold: maxThreshold && num(maxThreshold.setting) >= 0 ? num(maxThreshold.setting) : null,
    autovacuumVacuumInsertThreshold: n('autovacuum_vacuum_insert_threshold'),
    autovacuumVacuumInsertScaleFactor: n('autovacuum_vacuum_insert_scale_factor'),
    autovacuumAnalyzeThreshold: n('autovacuum_analyze_threshold'),
    autovacuumAnalyzeScaleFactor: n('autovacuum_analyze_scale_factor'),
    autovacuumFreezeMaxAge: n('autovacuum_freeze_max_age'),
    autovacuumMultixactFreezeMaxAge: n('autovacuum_multixact_freeze_max_age'),
    vacuumFailsafeAge: n('vacuum_failsafe_age'),
    vacuumMultixactFailsafeAge: n('vacuum_multixact_failsafe_age'),
    idleInTransactionSessionTimeoutMs: idle ? Number(idle.ms) : milliseconds(byName.get('idle_in_transaction_session_timeout')),
    blockSizeBytes: n('block_size'),
    trackActivityQuerySize: n('track_activity_query_size'),
  };
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

function milliseconds(row: SettingRow | undefined): number {
  if (!row) return 0;
  return num(row.setting) * (UNIT_MS[row.unit ?? 'ms'] ?? 1);
}

function seconds(row: SettingRow | undefined): number {
  return milliseconds(row) / 1000;
}
