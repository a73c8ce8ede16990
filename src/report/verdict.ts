import { SEVERITIES, severityRank, type Severity } from '../engine/types.js';
import type { FailOn } from '../config/schema.js';
import type { Report, ReportDiagnostic } from './types.js';

/** Findings at or above the `--fail-on` level (0 for `never`). */
export function countAtOrAbove(counts: Readonly<Record<Severity, number>>, failOn: FailOn): number {
  if (failOn === 'never') return 0;
  return SEVERITIES.filter((s) => severityRank(s) >= severityRank(failOn)).reduce((sum, s) => sum + counts[s], 0);
}

/**
 * Rules that could not judge (each makes `check` exit 2): crashed rules, and rules whose required source
 * failed. A failed source that no selected rule needs does not count.
 */
export function ruleErrors(report: Report): number {
  return report.diagnostics.filter((d) => d.status === 'error' && d.rule !== undefined).length;
}

/** Rules that crashed (a bug in pg-advisor), apart from rules a failed source stopped. */
export function crashedRules(report: Report): number {
  return report.diagnostics.filter((d) => d.status === 'error' && d.rule !== undefined && d.source === undefined).length;
}

export interface SourceFailure {
  readonly source: string;
  /** The selected rules it stopped. */
  readonly rules: readonly string[];
  /** Why, as the source diagnostic says it. */
  readonly message: string;
  readonly hint: string | null;
}

/** Failed sources that stopped a selected rule, with the rules they stopped (in report order). */
export function sourceFailures(report: Report): SourceFailure[] {
  const out = new Map<string, { rules: string[]; message: string; hint: string | null }>();
  for (const d of report.diagnostics) {
    if (d.status !== 'error' || d.rule === undefined || d.source === undefined) continue;
    const own = report.diagnostics.find((s) => s.source === d.source && s.rule === undefined && s.status === 'error');
    const entry = out.get(d.source) ?? { rules: [], message: own?.message ?? d.message, hint: own?.hint ?? d.hint };
    entry.rules.push(d.rule);
    out.set(d.source, entry);
  }
  return [...out].map(([source, e]) => ({ source, ...e }));
}

/** The stderr lines of `check` for failed sources ([] when none stopped a selected rule). */
export function sourceFailureLines(report: Report): string[] {
  return sourceFailures(report).flatMap((f) => [
    `pg-advisor: ${f.message}; rule${f.rules.length === 1 ? '' : 's'} ${f.rules.join(', ')} could not run, so this report is incomplete`,
    ...(f.hint ? [`  hint: ${f.hint}`] : []),
  ]);
}

/**
 * Rules skipped because a source they need is unavailable (an extension or privilege is missing, the server
 * is too old): the report is silent about what they check. `check --strict` makes them fail the gate.
 */
export function skippedRules(report: Report): ReportDiagnostic[] {
  return report.diagnostics.filter((d) => d.status === 'skipped' && d.rule !== undefined);
}

/** The stderr lines of `check --strict` for skipped rules, each with why and its hint ([] when none). */
export function skippedRuleLines(report: Report): string[] {
  const skipped = skippedRules(report);
  if (skipped.length === 0) return [];
  const rules = skipped.map((d) => d.rule).join(', ');
  return [
    `pg-advisor: --strict: ${skipped.length} selected rule${skipped.length === 1 ? ' was' : 's were'} skipped (${rules}), so this report is incomplete`,
    ...skipped.flatMap((d) => [`  ${d.message}`, ...(d.hint ? [`    hint: ${d.hint}`] : [])]),
    '  hint: fix the above, deselect those rules with --rules, or pass --no-strict to let skipped rules pass the gate',
  ];
}

/** "2 critical, 1 warning — fails --fail-on warning · 1 rule skipped (see diagnostics)". */
export function verdictLine(report: Report, failOn: FailOn): string {
  const parts = [...SEVERITIES]
    .reverse()
    .filter((s) => report.counts[s] > 0)
    .map((s) => `${report.counts[s]} ${s}`);
  const found = parts.length > 0 ? parts.join(', ') : 'no findings';
  const gate =
    failOn === 'never' ? 'not gated (--fail-on never)' : countAtOrAbove(report.counts, failOn) > 0 ? `fails --fail-on ${failOn}` : `passes --fail-on ${failOn}`;
  const errors = crashedRules(report);
  const stopped = ruleErrors(report) - errors;
  const crashed =
    (errors > 0 ? `; ${errors} rule${errors === 1 ? '' : 's'} crashed (see diagnostics)` : '') +
    (stopped > 0 ? `; ${stopped} rule${stopped === 1 ? '' : 's'} could not run: a source failed (see diagnostics)` : '');
  const skipped = skippedRules(report).length;
  const skips = skipped > 0 ? ` · ${skipped} rule${skipped === 1 ? '' : 's'} skipped (see diagnostics)` : '';
  return `${found} — ${gate}${skips}${crashed}`;
}
