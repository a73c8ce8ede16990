import { SEVERITIES, severityRank, type Severity } from '../engine/types.js';
import type { FailOn } from '../config/schema.js';
import type { Report } from './types.js';

/** Findings at or above the `--fail-on` level (0 for `never`). */
export function countAtOrAbove(counts: Readonly<Record<Severity, number>>, failOn: FailOn): number {
  if (failOn === 'never') return 0;
  return SEVERITIES.filter((s) => severityRank(s) >= severityRank(failOn)).reduce((sum, s) => sum + counts[s], 0);
}

/** Rule crashes in the report (each makes `check` exit 2). */
export function ruleErrors(report: Report): number {
  return report.diagnostics.filter((d) => d.status === 'error').length;
}

/** "2 critical, 1 warning — fails --fail-on warning". */
export function verdictLine(report: Report, failOn: FailOn): string {
  const parts = [...SEVERITIES]
    .reverse()
    .filter((s) => report.counts[s] > 0)
    .map((s) => `${report.counts[s]} ${s}`);
  const found = parts.length > 0 ? parts.join(', ') : 'no findings';
  const gate =
    failOn === 'never'
      ? 'not gated (--fail-on never)'
      : countAtOrAbove(report.counts, failOn) > 0
        ? `fails --fail-on ${failOn}`
        : `passes --fail-on ${failOn}`;
  const errors = ruleErrors(report);
  const crashed = errors > 0 ? `; ${errors} rule${errors === 1 ? '' : 's'} crashed (see diagnostics)` : '';
  return `${found} — ${gate}${crashed}`;
}
