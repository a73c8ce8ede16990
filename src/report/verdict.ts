import { SEVERITIES, severityRank, type Severity } from '../engine/types.js';
import type { FailOn } from '../config/schema.js';
import type { Report } from './types.js';

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

/** "2 critical, 1 warning — fails --fail-on warning". */
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
  return `${found} — ${gate}${crashed}`;
}
