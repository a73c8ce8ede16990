/**
 * The one audit pipeline: collect (a snapshot, or a sampling window) → the daemon's history, when given →
 * the enrichments the selected rules declare → evaluate → report. `check`, `demo`, the daemon's sampler
 * and chat audits all run it; nothing else calls `evaluateRules` or an enrichment step.
 */
import type { CollectSnapshot, CollectWindow, Target } from '../collector/api.js';
import { collectSnapshot as defaultCollectSnapshot, collectWindow as defaultCollectWindow } from '../collector/index.js';
import { evaluateRules, resolveThresholds, type EvaluateResult, type RuleSettings } from '../engine/evaluate.js';
import type { AnyRule, Enrichment } from '../engine/types.js';
import { buildReport, type Report } from '../report/index.js';
import type { Snapshot } from '../snapshot/types.js';
import type { Window } from '../snapshot/window-types.js';
import { redact } from '../sql/index.js';
import { ENRICHMENT_STEPS } from './enrichments.js';

export interface AuditCollectors {
  readonly collectSnapshot: CollectSnapshot;
  readonly collectWindow: CollectWindow;
}

export interface AuditOptions {
  /** The rules to evaluate (already selected). */
  readonly rules: readonly AnyRule[];
  /** Per-rule settings by rule id (threshold overrides). */
  readonly settings?: Readonly<Record<string, RuleSettings>>;
  /** > 0: sample for this long (ms) and give rules the window; else one snapshot. */
  readonly windowMs?: number;
  /**
   * The daemon's recent history: called with the new snapshot, returns the window the rules see (or
   * null for gauges only). Ignored when `windowMs` > 0.
   */
  readonly history?: (snapshot: Snapshot) => Promise<Window | null> | Window | null;
  /** pg-advisor's version, written into the report. */
  readonly version: string;
  /** Progress lines for a terminal (never required). */
  readonly onProgress?: (message: string) => void;
  /** Replaces the collector's functions (tests). */
  readonly collectors?: Partial<AuditCollectors>;
}

export interface AuditResult {
  readonly snapshot: Snapshot;
  readonly window: Window | null;
  readonly evaluation: EvaluateResult;
  readonly report: Report;
}

/** Throws the collector's typed errors (connection, permission, timeout); never closes the target. */
export async function runAudit(target: Target, options: AuditOptions): Promise<AuditResult> {
  const progress = options.onProgress ?? (() => undefined);
  const collectSnapshot = options.collectors?.collectSnapshot ?? defaultCollectSnapshot;
  const collectWindow = options.collectors?.collectWindow ?? defaultCollectWindow;
  const windowMs = options.windowMs ?? 0;

  let snapshot: Snapshot;
  let window: Window | null;
  if (windowMs > 0) {
    const seconds = Math.round(windowMs / 1000);
    const started = Date.now();
    progress(`sampling 0/${seconds} s`);
    const collected = await collectWindow(target, {
      durationMs: windowMs,
      onSample: () => progress(`sampling ${Math.min(seconds, Math.round((Date.now() - started) / 1000))}/${seconds} s`),
    });
    snapshot = collected.snapshot;
    window = collected.window;
  } else {
    progress('collecting statistics …');
    snapshot = await collectSnapshot(target);
    window = options.history ? await options.history(snapshot) : null;
  }

  snapshot = await enrich(target, snapshot, window, options);
  const evaluation = evaluateRules({ rules: options.rules, snapshot, window, settings: options.settings });
  const report = buildReport({ snapshot, window, evaluation, redact, version: options.version });
  return { snapshot, window, evaluation, report };
}

/** Runs each enrichment the rules declare once, with the thresholds of the first rule declaring it. */
async function enrich(target: Target, snapshot: Snapshot, window: Window | null, options: AuditOptions): Promise<Snapshot> {
  const declared = new Map<Enrichment, AnyRule>();
  for (const rule of options.rules) {
    for (const id of rule.enrichments ?? []) if (!declared.has(id)) declared.set(id, rule);
  }
  let enriched = snapshot;
  for (const [id, rule] of declared) {
    const step = ENRICHMENT_STEPS[id];
    options.onProgress?.(step.progress);
    enriched = await step.run(target, enriched, { window, thresholds: resolveThresholds(rule, options.settings?.[rule.id]) });
  }
  return enriched;
}
