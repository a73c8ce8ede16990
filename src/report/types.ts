import type { Finding, Severity } from '../engine/types.js';

/** Version of the JSON report contract (ARCHITECTURE § CLI). Fields may be added, never removed. */
export const REPORT_VERSION = 1;

/** A diagnostic as it appears in the report: about a collector source or a rule. */
export interface ReportDiagnostic {
  readonly source?: string;
  readonly rule?: string;
  readonly status: 'unavailable' | 'skipped' | 'error' | 'degraded' | 'info';
  readonly message: string;
  /** What to do about it; null when there is nothing to do. */
  readonly hint: string | null;
}

/** The report `check` prints (JSON contract, version 1). */
export interface Report {
  readonly version: typeof REPORT_VERSION;
  readonly target: {
    readonly database: string;
    readonly serverVersion: string;
    /** Role the advisor connected as (added field). */
    readonly user: string;
  };
  /** ISO-8601 server time the snapshot was taken. */
  readonly collectedAt: string;
  /** Sampling window, or null for a single snapshot (added field). */
  readonly window: { readonly durationSeconds: number; readonly samples: number } | null;
  /** Ids of the rules that ran to completion (added field). */
  readonly rulesEvaluated: readonly string[];
  /** Findings per severity (added field). */
  readonly counts: Readonly<Record<Severity, number>>;
  readonly findings: readonly Finding[];
  readonly diagnostics: readonly ReportDiagnostic[];
  /** pg-advisor version that produced the report (added field). */
  readonly generator: { readonly name: 'pg-advisor'; readonly version: string };
}
