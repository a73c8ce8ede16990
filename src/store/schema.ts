/**
 * Table types of the advisor's store. Row types never leave src/store: repositories map them to the
 * domain types in types.ts. int8 columns arrive as string (pg) or number (PGlite): always `Number()` them.
 */
import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** timestamptz with a default: optional on insert. */
type TimestampDefault = ColumnType<Date, Date | string | undefined, Date | string>;
type Int8 = ColumnType<string | number, number | string, number | string>;
/** bigint identity: optional on insert, never updated. */
type Id8 = ColumnType<string | number, number | undefined, never>;
type Json<T extends object> = JSONColumnType<T, string, string>;

export interface TargetsTable {
  id: Generated<number>;
  name: string;
  url_masked: string;
  interval_ms: number;
  enabled: Generated<boolean>;
  created_at: TimestampDefault;
  updated_at: TimestampDefault;
  state: Generated<string>;
  last_run_at: Timestamp | null;
  last_success_at: Timestamp | null;
  last_error_at: Timestamp | null;
  last_error: string | null;
  last_duration_ms: number | null;
  consecutive_failures: Generated<number>;
  next_run_at: Timestamp | null;
  server_version: string | null;
  owner: string | null;
}

export interface SamplesTable {
  id: Id8;
  target_id: number;
  collected_at: Timestamp;
  duration_ms: number;
  interval_seconds: number | null;
  findings: Generated<number>;
  diagnostics: Json<unknown[]>;
}

export interface SeriesPointsTable {
  sample_id: Int8;
  target_id: number;
  collected_at: Timestamp;
  metric: string;
  object: Generated<string>;
  value: number;
}

export interface StatementDeltasTable {
  sample_id: Int8;
  target_id: number;
  collected_at: Timestamp;
  query_id: string;
  user_name: string | null;
  toplevel: boolean;
  calls: Int8;
  rows: Int8;
  total_exec_time_ms: number;
  shared_blks: Int8;
}

export interface QueryTextsTable {
  target_id: number;
  query_id: string;
  text: string;
  first_seen_at: TimestampDefault;
  last_seen_at: TimestampDefault;
}

export interface FindingsTable {
  id: Id8;
  target_id: number;
  fingerprint: string;
  rule: string;
  severity: string;
  severity_rank: number;
  impact_score: number;
  status: string;
  title: string;
  summary: string;
  object: Json<Record<string, unknown>>;
  evidence: Json<Record<string, unknown>>;
  recommendation: Json<{ text: string; sql?: string }>;
  impact: Json<Record<string, number>>;
  first_seen_at: Timestamp;
  last_seen_at: Timestamp;
  resolved_at: Timestamp | null;
  acknowledged_at: Timestamp | null;
  snoozed_until: Timestamp | null;
  missed_samples: Generated<number>;
  updated_at: TimestampDefault;
}

export interface FindingEventsTable {
  id: Id8;
  finding_id: Int8;
  at: Timestamp;
  kind: string;
  from_status: string | null;
  to_status: string | null;
  from_severity: string | null;
  to_severity: string | null;
  actor: string | null;
  note: string | null;
}

export interface AuditsTable {
  id: Id8;
  target_id: number;
  trigger: string;
  status: string;
  window_ms: number | null;
  requested_at: TimestampDefault;
  finished_at: Timestamp | null;
  report: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  error: string | null;
}

export interface TargetLeasesTable {
  target_name: string;
  owner: string;
  expires_at: Timestamp;
}

export interface ReplicasTable {
  id: string;
  last_seen_at: Timestamp;
}

export interface SampleCheckpointsTable {
  target_id: number;
  collected_at: Timestamp;
  payload: Uint8Array;
}

export interface SeriesHourlyTable {
  target_id: number;
  hour: Timestamp;
  metric: string;
  object: string;
  avg: number;
  min: number;
  max: number;
  samples: number;
}

export interface StatementHourlyTable {
  target_id: number;
  hour: Timestamp;
  query_id: string;
  calls: Int8;
  rows: Int8;
  total_exec_time_ms: number;
  shared_blks: Int8;
  samples: number;
}

export interface OutboxTable {
  id: Id8;
  audit_id: Int8 | null;
  destination: string;
  idempotency_key: string;
  body: Json<Record<string, unknown>>;
  created_at: TimestampDefault;
  attempts: Generated<number>;
  status: Generated<string>;
  next_attempt_at: TimestampDefault;
  claimed_until: Timestamp | null;
  last_error: string | null;
  http_status: number | null;
  delivered_at: Timestamp | null;
  updated_at: TimestampDefault;
}

export interface AuditSlotsTable {
  schedule: string;
  target: string;
  slot: Timestamp;
  owner: string;
}

export interface Database {
  targets: TargetsTable;
  samples: SamplesTable;
  series_points: SeriesPointsTable;
  statement_deltas: StatementDeltasTable;
  query_texts: QueryTextsTable;
  findings: FindingsTable;
  finding_events: FindingEventsTable;
  audits: AuditsTable;
  target_leases: TargetLeasesTable;
  replicas: ReplicasTable;
  series_hourly: SeriesHourlyTable;
  sample_checkpoints: SampleCheckpointsTable;
  statement_hourly: StatementHourlyTable;
  outbox: OutboxTable;
  audit_slots: AuditSlotsTable;
}
