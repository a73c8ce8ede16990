/**
 * Baselines for the release gate: the fingerprints of findings that are already known (a file written
 * with `--write-baseline`, or a JSON report from production or the last release). `--baseline FILE`
 * keeps every finding in the report but only findings that are new — or that escalated past the
 * severity they had in the baseline — count for `--fail-on`.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { UsageError } from '../errors/errors.js';
import { SEVERITIES, severityRank, type Finding, type FindingObject, type Severity } from '../engine/types.js';
import type { Report } from './types.js';

export const BASELINE_VERSION = 1;

export interface BaselineEntry {
  readonly fingerprint: string;
  readonly rule: string;
  /** The finding's object, for people reading the file; matching uses the fingerprint only. */
  readonly object: FindingObject;
  readonly severity: Severity;
}

/** The `--write-baseline` file. */
export interface Baseline {
  readonly version: typeof BASELINE_VERSION;
  readonly createdAt: string;
  readonly target: { readonly database: string; readonly serverVersion: string };
  readonly fingerprints: readonly BaselineEntry[];
}

/** How a finding relates to the baseline: known (does not gate), escalated or new (both gate). */
export type BaselineState = 'baselined' | 'escalated' | 'new';

/** A finding after `--baseline` (fields added to the JSON contract, version 1). */
export interface BaselinedFinding extends Finding {
  /** True when the baseline has this fingerprint at this severity or higher: it does not count for --fail-on. */
  readonly baselined: boolean;
  readonly baselineState: BaselineState;
  /** Severity recorded in the baseline, when the fingerprint is in it. */
  readonly baselineSeverity?: Severity;
}

/** What `--baseline` did (added to the JSON report as `baseline`). */
export interface BaselineSummary {
  readonly file: string;
  readonly createdAt: string | null;
  /** Fingerprints in the baseline file. */
  readonly entries: number;
  readonly baselined: number;
  readonly escalated: number;
  readonly new: number;
  /** Findings per severity that count for --fail-on (not baselined). */
  readonly gateCounts: Readonly<Record<Severity, number>>;
}

export interface BaselinedReport extends Report {
  readonly findings: readonly BaselinedFinding[];
  readonly baseline: BaselineSummary;
}

const BASELINE_HINT = 'pass a file written by `pg-advisor check --write-baseline FILE`, or a JSON report (`--format json`)';

const severity = z.enum(SEVERITIES);
const entrySchema = z.object({
  fingerprint: z.string().min(1),
  rule: z.string().min(1),
  object: z.record(z.string(), z.unknown()).optional(),
  severity,
});
const baselineSchema = z.object({
  version: z.literal(BASELINE_VERSION),
  createdAt: z.string(),
  target: z.object({ database: z.string(), serverVersion: z.string() }).partial().optional(),
  fingerprints: z.array(entrySchema),
});
const reportSchema = z.object({
  version: z.literal(1),
  collectedAt: z.string().optional(),
  target: z.object({ database: z.string(), serverVersion: z.string() }).partial().optional(),
  findings: z.array(entrySchema),
});

/** The baseline of a report: every finding's fingerprint, rule, object and severity. Pure. */
export function buildBaseline(report: Report, createdAt: string): Baseline {
  return {
    version: BASELINE_VERSION,
    createdAt,
    target: { database: report.target.database, serverVersion: report.target.serverVersion },
    fingerprints: report.findings.map((f) => ({ fingerprint: f.fingerprint, rule: f.rule, object: f.object, severity: f.severity })),
  };
}

export function renderBaseline(baseline: Baseline): string {
  return `${JSON.stringify(baseline, null, 2)}\n`;
}

/** Writes the baseline next to its final path, then renames (a crash never leaves half a file). Throws UsageError. */
export function writeBaselineFile(path: string, baseline: Baseline): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, renderBaseline(baseline), 'utf8');
    renameSync(temporary, path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot write baseline file ${path}${code ? ` (${code})` : ''}`, {
      hint: 'check that the directory given to --write-baseline exists and is writable',
      cause,
    });
  }
}

/** Reads a baseline file (or a JSON report). Throws UsageError naming the file and what is wrong. */
export function loadBaselineFile(path: string): Baseline {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read baseline file ${path}${code ? ` (${code})` : ''}`, {
      hint: code === 'ENOENT' ? 'check the path given to --baseline; write one with --write-baseline FILE' : BASELINE_HINT,
      cause,
    });
  }
  return parseBaseline(text, path);
}

/**
 * Parses a baseline written by `--write-baseline`, or a JSON report (version 1) whose findings become
 * the baseline. `origin` names the file in messages. Throws UsageError.
 */
export function parseBaseline(text: string, origin: string): Baseline {
  let raw: unknown;
  try {
    raw = JSON.parse(text) as unknown;
  } catch (cause) {
    throw new UsageError(`baseline file ${origin} is not valid JSON: ${(cause as Error).message}`, { hint: BASELINE_HINT, cause });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UsageError(`baseline file ${origin} is not a baseline: expected a JSON object`, { hint: BASELINE_HINT });
  }
  const record = raw as Record<string, unknown>;
  if ('fingerprints' in record) {
    const parsed = baselineSchema.safeParse(raw);
    if (!parsed.success) throw invalid(origin, 'baseline', parsed.error.issues);
    const { data } = parsed;
    return {
      version: BASELINE_VERSION,
      createdAt: data.createdAt,
      target: { database: data.target?.database ?? '', serverVersion: data.target?.serverVersion ?? '' },
      fingerprints: data.fingerprints.map(toEntry),
    };
  }
  if ('findings' in record) {
    const parsed = reportSchema.safeParse(raw);
    if (!parsed.success) throw invalid(origin, 'JSON report', parsed.error.issues);
    const { data } = parsed;
    return {
      version: BASELINE_VERSION,
      createdAt: data.collectedAt ?? '',
      target: { database: data.target?.database ?? '', serverVersion: data.target?.serverVersion ?? '' },
      fingerprints: data.findings.map(toEntry),
    };
  }
  throw new UsageError(`baseline file ${origin} is neither a baseline (no "fingerprints") nor a JSON report (no "findings")`, {
    hint: BASELINE_HINT,
  });
}

function toEntry(entry: z.infer<typeof entrySchema>): BaselineEntry {
  return { fingerprint: entry.fingerprint, rule: entry.rule, object: (entry.object ?? {}) as unknown as FindingObject, severity: entry.severity };
}

function invalid(origin: string, kind: string, issues: readonly z.core.$ZodIssue[]): UsageError {
  const lines = issues.slice(0, 5).map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(top level)'}: ${issue.message}`);
  const more = issues.length > 5 ? `\n  … and ${issues.length - 5} more` : '';
  return new UsageError(`baseline file ${origin} is not a valid ${kind}:\n  ${lines.join('\n  ')}${more}`, { hint: BASELINE_HINT });
}

/**
 * Marks each finding against the baseline. A fingerprint in the baseline at the finding's severity or
 * higher is `baselined` (kept in the report, not gated); one whose severity rose above the baseline's
 * is `escalated` and gates like a new finding. Pure; the report's `counts` still count every finding.
 */
export function applyBaseline(report: Report, baseline: Baseline, file: string): BaselinedReport {
  const known = new Map<string, Severity>();
  const remember = (key: string, severity: Severity): void => {
    const previous = known.get(key);
    if (previous === undefined || severityRank(severity) > severityRank(previous)) known.set(key, severity);
  };
  for (const entry of baseline.fingerprints) {
    remember(entry.fingerprint, entry.severity);
    // Baselines written before statement fingerprints named a query finding by its query id: they still
    // match on the database they were written on (query ids differ between databases).
    if (entry.object.queryId) remember(legacyQueryKey(entry.rule, entry.object.type, entry.object.queryId), entry.severity);
  }
  const findings = report.findings.map((finding): BaselinedFinding => {
    const baselineSeverity =
      known.get(finding.fingerprint) ??
      (finding.object.queryId ? known.get(legacyQueryKey(finding.rule, finding.object.type, finding.object.queryId)) : undefined);
    if (baselineSeverity === undefined) return { ...finding, baselined: false, baselineState: 'new' };
    const escalated = severityRank(finding.severity) > severityRank(baselineSeverity);
    return { ...finding, baselined: !escalated, baselineState: escalated ? 'escalated' : 'baselined', baselineSeverity };
  });
  return {
    ...report,
    findings,
    baseline: {
      file,
      createdAt: baseline.createdAt || null,
      entries: baseline.fingerprints.length,
      baselined: findings.filter((f) => f.baselineState === 'baselined').length,
      escalated: findings.filter((f) => f.baselineState === 'escalated').length,
      new: findings.filter((f) => f.baselineState === 'new').length,
      gateCounts: countNotBaselined(findings),
    },
  };
}

const legacyQueryKey = (rule: string, type: string, queryId: string): string => `legacy:${JSON.stringify([rule, type, queryId])}`;

/** True when `--baseline` marked the finding as known (it does not count for --fail-on). */
export function isBaselined(finding: Finding): boolean {
  return (finding as Partial<BaselinedFinding>).baselined === true;
}

/** The baseline state of a finding, or null when no baseline was applied. */
export function baselineStateOf(finding: Finding): BaselineState | null {
  return (finding as Partial<BaselinedFinding>).baselineState ?? null;
}

/**
 * Findings per severity that count for `--fail-on`: the baseline summary's when `--baseline` was
 * applied, else the report's own counts (every finding counts).
 */
export function gateCounts(report: Report): Readonly<Record<Severity, number>> {
  return baselineSummaryOf(report)?.gateCounts ?? report.counts;
}

function countNotBaselined(findings: readonly Finding[]): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const finding of findings) if (!isBaselined(finding)) counts[finding.severity]++;
  return counts;
}

/** The baseline summary of a report, or null when no baseline was applied. */
export function baselineSummaryOf(report: Report): BaselineSummary | null {
  return (report as Partial<BaselinedReport>).baseline ?? null;
}

/**
 * The report as the gate sees it: baselined findings left out and `counts` recomputed. For renderers
 * that know nothing of baselines (the terminal report); the JSON report keeps every finding.
 */
export function withoutBaselined(report: Report): Report {
  const summary = baselineSummaryOf(report);
  if (summary === null) return report;
  return { ...report, findings: report.findings.filter((f) => !isBaselined(f)), counts: summary.gateCounts };
}
