import type { Snapshot } from '../snapshot/types.js';
import type { Window } from '../snapshot/window-types.js';
import { statementFingerprint } from '../sql/fingerprint.js';
import { fingerprintOf } from './fingerprint.js';
import { SEVERITIES, severityRank, type AnyRule, type Diagnostic, type Finding, type Severity, type ThresholdSpecs } from './types.js';

export interface RuleSettings {
  /** Threshold overrides by key; unknown keys are rejected by config validation, not here. */
  readonly thresholds?: Readonly<Record<string, number>>;
}

export interface EvaluateOptions {
  readonly rules: readonly AnyRule[];
  readonly snapshot: Snapshot;
  readonly window: Window | null;
  /** Per-rule settings keyed by rule id. */
  readonly settings?: Readonly<Record<string, RuleSettings>>;
}

export interface EvaluateResult {
  readonly findings: readonly Finding[];
  readonly diagnostics: readonly Diagnostic[];
  /** Ids of the rules that ran to completion. */
  readonly evaluated: readonly string[];
}

/** Resolves a rule's thresholds: defaults overlaid by settings. */
export function resolveThresholds(rule: AnyRule, settings?: RuleSettings): Record<string, number> {
  return resolveThresholdSpecs(rule.thresholds, settings?.thresholds);
}

/** The one place thresholds are resolved: each spec's default unless `overrides` has the key. */
export function resolveThresholdSpecs<T extends ThresholdSpecs>(
  specs: T,
  overrides?: Readonly<Record<string, number | undefined>>,
): { [K in keyof T]: number } {
  const out: Record<string, number> = {};
  for (const [key, spec] of Object.entries(specs)) out[key] = overrides?.[key] ?? spec.default;
  return out as { [K in keyof T]: number };
}

/**
 * Runs every rule over the snapshot. A rule whose required source is unavailable is skipped with a
 * diagnostic; one whose required source failed gets an `error` diagnostic naming the source; a rule that
 * throws becomes an `error` diagnostic and never takes the others down.
 * Never throws.
 */
export function evaluateRules(options: EvaluateOptions): EvaluateResult {
  const findings: Finding[] = [];
  const diagnostics: Diagnostic[] = [];
  const evaluated: string[] = [];
  const sources = options.snapshot.meta.sources;
  let texts: Map<string, string> | undefined;
  /** The text fingerprint of a finding's statement, when it has one and its text parses. */
  const statementIdentity = (queryId: string | undefined): string | undefined => {
    if (queryId === undefined) return undefined;
    texts ??= new Map(options.snapshot.statements.flatMap((s) => (s.query ? [[s.queryId, s.query] as const] : [])));
    const text = texts.get(queryId);
    return (text !== undefined ? statementFingerprint(text) : null) ?? undefined;
  };

  for (const rule of options.rules) {
    const missing = rule.requires.filter((r) => sources[r]?.status !== 'ok');
    const failed = missing.find((r) => sources[r]?.status === 'failed');
    if (failed !== undefined) {
      // The source should have answered: the rule could not judge, which is an error, not a clean result.
      const status = sources[failed];
      diagnostics.push({
        rule: rule.id,
        source: failed,
        status: 'error',
        message: `rule ${rule.id} could not run: source ${failed} failed${status && status.status === 'failed' ? ` (${status.reason})` : ''}`,
        hint: status && status.status === 'failed' ? status.hint : undefined,
      });
      continue;
    }
    const [firstMissing] = missing;
    if (firstMissing !== undefined) {
      const first = sources[firstMissing];
      diagnostics.push({
        rule: rule.id,
        status: 'skipped',
        message: `rule ${rule.id} skipped: source ${missing.join(', ')} unavailable${first && first.status === 'unavailable' ? ` (${first.reason})` : ''}`,
        hint: first && first.status === 'unavailable' ? first.hint : undefined,
      });
      continue;
    }
    try {
      const thresholds = resolveThresholds(rule, options.settings?.[rule.id]);
      const input = { snapshot: options.snapshot, window: options.window, thresholds };
      const drafts = rule.evaluate(input);
      for (const spot of rule.blindSpots?.(input) ?? []) {
        diagnostics.push({ rule: rule.id, status: 'degraded', message: spot.message, hint: spot.hint });
      }
      const seen = new Set<string>();
      for (const draft of drafts) {
        const severity: Severity = draft.severity ?? rule.defaultSeverity;
        if (!SEVERITIES.includes(severity)) throw new Error(`invalid severity ${String(severity)}`);
        const fingerprint = fingerprintOf(rule.id, draft.object, draft.identity, statementIdentity(draft.object.queryId));
        if (seen.has(fingerprint)) continue; // one finding per object; the first (strongest) wins
        seen.add(fingerprint);
        findings.push({
          rule: rule.id,
          severity,
          title: draft.title ?? rule.title,
          summary: draft.summary,
          object: draft.object,
          evidence: draft.evidence,
          recommendation: draft.recommendation,
          impact: draft.impact ?? {},
          fingerprint,
        });
      }
      evaluated.push(rule.id);
    } catch (error) {
      diagnostics.push({
        rule: rule.id,
        status: 'error',
        message: `rule ${rule.id} crashed: ${error instanceof Error ? error.message : String(error)}`,
        hint: 'This is a bug in pg-advisor; please report it with the JSON report (--format json).',
      });
    }
  }
  return { findings: sortFindings(findings), diagnostics, evaluated };
}

/** Severity first (critical first), then the largest impact number, then rule and object for stability. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  const impactOf = (f: Finding): number => Math.max(0, ...Object.values(f.impact));
  return [...findings].sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      impactOf(b) - impactOf(a) ||
      a.rule.localeCompare(b.rule) ||
      a.fingerprint.localeCompare(b.fingerprint),
  );
}
