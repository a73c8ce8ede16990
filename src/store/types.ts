/** Domain types the store hands out (never its row types). Timestamps are ISO-8601 strings. */
import type { EvidenceValue, FindingObject, Severity } from '../engine/types.js';

export const FINDING_STATUSES = ['open', 'acknowledged', 'snoozed', 'resolved'] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

export type TargetState = 'pending' | 'ok' | 'failing' | 'circuit-open' | 'disabled';

export interface TargetStatus {
  readonly state: TargetState;
  readonly lastRunAt: string | null;
  readonly lastSuccessAt: string | null;
  readonly lastErrorAt: string | null;
  /** Last error message (connection strings masked). */
  readonly lastError: string | null;
  readonly lastDurationMs: number | null;
  readonly consecutiveFailures: number;
  readonly nextRunAt: string | null;
  readonly serverVersion: string | null;
  /** Replica currently sampling the target. */
  readonly owner: string | null;
}

export interface TargetRecord extends TargetStatus {
  readonly id: number;
  readonly name: string;
  /** Connection URL with the password masked. */
  readonly url: string;
  readonly intervalMs: number;
  readonly enabled: boolean;
}

export interface FindingRecord {
  readonly id: number;
  readonly target: string;
  readonly fingerprint: string;
  readonly rule: string;
  readonly severity: Severity;
  readonly status: FindingStatus;
  readonly title: string;
  readonly summary: string;
  readonly object: FindingObject;
  readonly evidence: Readonly<Record<string, EvidenceValue>>;
  readonly recommendation: { readonly text: string; readonly sql?: string };
  readonly impact: Readonly<Record<string, number>>;
  readonly firstSeenAt: string;
  readonly lastSeenAt: string;
  readonly resolvedAt: string | null;
  readonly acknowledgedAt: string | null;
  readonly snoozedUntil: string | null;
}

export type FindingEventKind = 'opened' | 'reopened' | 'severity-changed' | 'resolved' | 'acknowledged' | 'snoozed' | 'unsnoozed';

export interface FindingEvent {
  readonly at: string;
  readonly kind: FindingEventKind;
  readonly fromStatus: FindingStatus | null;
  readonly toStatus: FindingStatus | null;
  readonly fromSeverity: Severity | null;
  readonly toSeverity: Severity | null;
  readonly actor: string | null;
  readonly note: string | null;
}

/**
 * The series the daemon records (src/daemon/series.ts documents each one's unit). Declared in the store,
 * the lowest part that needs it, so the API can validate a `metric` filter without importing the daemon.
 */
export const SERIES_METRICS = [
  'connections',
  'connection_utilisation',
  'xid_age',
  'mxid_age',
  'database_size_bytes',
  'dead_tuples',
  'bloat_bytes',
  'xid_per_second',
] as const;
export type SeriesMetric = (typeof SERIES_METRICS)[number];

export interface SeriesPoint {
  readonly at: string;
  readonly metric: string;
  /** Relation or state the value is about; '' for the whole database. */
  readonly object: string;
  readonly value: number;
}

export interface StatementSummary {
  readonly queryId: string;
  readonly query: string | null;
  readonly calls: number;
  readonly rows: number;
  /** Sum of execution time over the range (milliseconds). */
  readonly totalExecTimeMs: number;
  /** totalExecTimeMs / calls (milliseconds). */
  readonly meanExecTimeMs: number;
  readonly sharedBlks: number;
  /** Samples in the range in which the statement appeared (count). */
  readonly samples: number;
}

export type AuditStatus = 'running' | 'done' | 'failed';

export interface AuditRecord {
  readonly id: number;
  readonly target: string;
  readonly trigger: 'api' | 'schedule';
  readonly status: AuditStatus;
  readonly windowMs: number | null;
  readonly requestedAt: string;
  readonly finishedAt: string | null;
  readonly report: Readonly<Record<string, unknown>> | null;
  readonly error: string | null;
}

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One outbox message (an audit's message to one destination) and how its delivery went. */
export interface DeliveryRecord {
  readonly id: number;
  readonly auditId: number | null;
  readonly destination: string;
  readonly idempotencyKey: string;
  /** pending (not yet sent, or retrying: then `lastError` says why), delivered, failed (given up). */
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly createdAt: string;
  readonly nextAttemptAt: string | null;
  readonly deliveredAt: string | null;
  /** Secret-free (never the destination URL). */
  readonly lastError: string | null;
  readonly httpStatus: number | null;
}
