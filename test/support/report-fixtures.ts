/**
 * Builders for the report renderers' tests (Markdown, SARIF, JUnit): a finding and a report with plain
 * defaults, so each test file states only what its renderer must cope with. Every call returns fresh objects.
 */
import type { Finding, Severity } from '../../src/engine/types.js';
import type { Report } from '../../src/report/index.js';

/** A table-bloat warning on public.orders, with evidence, impact and a recommendation with SQL. */
export function makeFinding(overrides: Partial<Finding> = {}): Finding {
  return {
    rule: 'table-bloat',
    severity: 'warning',
    title: 'Table bloat',
    summary: 'Table wastes 72 MiB.',
    object: { type: 'table', schema: 'public', name: 'orders' },
    evidence: { wasteBytes: 72 * 1024 * 1024, ratio: 0.72 },
    recommendation: { text: 'Repack it.', sql: 'VACUUM (VERBOSE) public.orders;' },
    impact: { wasteBytes: 72 * 1024 * 1024 },
    fingerprint: 'fp-table',
    ...overrides,
  };
}

export type ReportOverrides = Partial<Omit<Report, 'version' | 'target' | 'counts' | 'findings'>> & {
  readonly target?: Partial<Report['target']>;
};

/** A version-1 report of `findings`, its counts derived from them: a single snapshot, no diagnostics. */
export function makeReport(findings: readonly Finding[], { target, ...overrides }: ReportOverrides = {}): Report {
  const counts: Record<Severity, number> = { critical: 0, warning: 0, info: 0 };
  for (const f of findings) counts[f.severity]++;
  return {
    version: 1,
    target: { database: 'shop', serverVersion: '17.10', user: 'advisor', ...target },
    collectedAt: '2026-01-01T12:00:00.000Z',
    window: null,
    rulesEvaluated: [...new Set(findings.map((f) => f.rule))],
    counts,
    findings,
    diagnostics: [],
    generator: { name: 'pg-advisor', version: '0.1.0' },
    ...overrides,
  };
}
