import type { EvaluateResult } from '../engine/evaluate.js';
import { SEVERITIES, type EvidenceValue, type Finding, type Severity } from '../engine/types.js';
import type { Snapshot } from '../snapshot/types.js';
import type { Window } from '../snapshot/window-types.js';
import { quoteIdent } from '../sql/quote.js';
import { REPORT_VERSION, type Report, type ReportDiagnostic } from './types.js';

export interface BuildReportInput {
  readonly snapshot: Snapshot;
  readonly window: Window | null;
  readonly evaluation: EvaluateResult;
  /** Redacts a query text before it leaves the process (src/sql redact). */
  readonly redact: (text: string) => string;
  /** pg-advisor's own version. */
  readonly version: string;
}

/**
 * Assembles the report: findings as the engine produced them (query texts redacted), and diagnostics
 * from the collector's per-source status followed by the rules' (skipped, error). Pure.
 */
export function buildReport(input: BuildReportInput): Report {
  const { snapshot, window, evaluation } = input;
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const finding of evaluation.findings) counts[finding.severity]++;
  return {
    version: REPORT_VERSION,
    target: {
      database: snapshot.meta.database,
      serverVersion: snapshot.meta.serverVersion,
      user: snapshot.meta.currentUser,
    },
    collectedAt: snapshot.meta.collectedAt,
    window: window ? { durationSeconds: round(window.durationSeconds, 1), samples: window.samples.length } : null,
    rulesEvaluated: [...evaluation.evaluated],
    counts,
    findings: evaluation.findings.map((f) => redactFinding(f, input.redact)),
    diagnostics: [...sourceDiagnostics(snapshot), ...evaluation.diagnostics.map(toReportDiagnostic)],
    generator: { name: 'pg-advisor', version: input.version },
  };
}

function toReportDiagnostic(d: { source?: string; rule?: string; status: ReportDiagnostic['status']; message: string; hint?: string }): ReportDiagnostic {
  return {
    ...(d.source !== undefined ? { source: d.source } : {}),
    ...(d.rule !== undefined ? { rule: d.rule } : {}),
    status: d.status,
    message: d.message,
    hint: d.hint ?? null,
  };
}

/** Unavailable and failed sources, in the order the collector ran them, then what the role cannot see. */
function sourceDiagnostics(snapshot: Snapshot): ReportDiagnostic[] {
  const out: ReportDiagnostic[] = [];
  for (const [source, status] of Object.entries(snapshot.meta.sources)) {
    if (!status) continue;
    if (status.status === 'unavailable') {
      out.push({ source, status: 'unavailable', message: `source ${source} unavailable: ${status.reason}`, hint: status.hint });
    } else if (status.status === 'failed') {
      out.push({ source, status: 'error', message: `source ${source} failed: ${status.reason}`, hint: status.hint });
    } else if (status.note) {
      out.push({ source, status: 'info', message: `source ${source}: ${status.note}`, hint: null });
    }
  }
  const { capabilities, currentUser } = snapshot.meta;
  if (!capabilities.superuser && !capabilities.pgMonitor && !out.some((d) => /GRANT pg_monitor TO/.test(d.hint ?? ''))) {
    out.push({
      source: 'privileges',
      status: 'degraded',
      message:
        `role ${currentUser} is not a member of pg_monitor: other sessions' state, queries and xmin, and ` +
        `some statistics are hidden from it, so connection and transaction rules see only its own sessions`,
      hint: `GRANT pg_monitor TO ${quoteIdent(currentUser)};`,
    });
  }
  return out;
}

const QUERY_TEXT_KEY = /quer(y|ies)|sql|statement/i;

/** Evidence strings that hold query texts (`query`, `parentQuery`, `statements` …, never `…Id`) are redacted. */
function redactFinding(finding: Finding, redact: (text: string) => string): Finding {
  const evidence: Record<string, EvidenceValue> = {};
  let changed = false;
  for (const [key, value] of Object.entries(finding.evidence)) {
    if (QUERY_TEXT_KEY.test(key) && !/ids?$/i.test(key)) {
      const redacted = redactValue(value, redact);
      changed ||= redacted !== value;
      evidence[key] = redacted;
    } else {
      evidence[key] = value;
    }
  }
  return changed ? { ...finding, evidence } : finding;
}

function redactValue(value: EvidenceValue, redact: (text: string) => string): EvidenceValue {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? redact(v) : v));
  return value;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
