/**
 * What the API needs from the process that serves it (the daemon), declared here so the arrow points
 * from the daemon to the API: the daemon implements these; the API never imports the daemon.
 */
import type { DeliveryResult } from '../notify/deliver.js';
import type { DestinationKind } from '../notify/types.js';
import type { JobStatus } from '../scheduler/index.js';
import type { AuditRecord } from '../store/index.js';

/** Sample counters of one target since this process started (for /metrics). */
export interface TargetMetrics {
  readonly target: string;
  readonly samples: number;
  readonly errors: number;
  /** Sum and last of sample durations (seconds). */
  readonly durationSecondsSum: number;
  readonly lastDurationSeconds: number | null;
}

/** Chat destinations of a running daemon, as the API shows and tests them (URLs masked). */
export interface NotificationControl {
  destinations(): readonly { readonly name: string; readonly kind: DestinationKind; readonly url: string }[];
  /** Sends the one-line test message now; undefined when no such destination. Never throws. */
  sendTest(name: string): Promise<DeliveryResult | undefined>;
}

/** The running daemon as the API sees it. */
export interface DaemonControl {
  /** Scheduler status per target name (this replica's view). */
  jobStatus(target: string): JobStatus | undefined;
  metrics(): readonly TargetMetrics[];
  /** Starts an audit; resolves with the stored record (status `running`) once it is registered. */
  startAudit(target: string, windowMs: number | null): Promise<AuditRecord | undefined>;
  readonly replicaId: string;
  /** Audits to chat (absent in some tests). */
  readonly notifications?: NotificationControl;
}
