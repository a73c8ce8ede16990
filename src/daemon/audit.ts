import type { CollectSnapshot, CollectWindow, Target } from '../collector/api.js';
import type { DaemonTargetConfig } from '../config/daemon/index.js';
import { evaluateRules } from '../engine/evaluate.js';
import type { AnyRule } from '../engine/types.js';
import { buildReport } from '../report/index.js';
import { redact } from '../sql/redact.js';

export interface AuditDeps {
  readonly collectSnapshot: CollectSnapshot;
  readonly collectWindow: CollectWindow;
}

/**
 * One audit of a target on the sampler's pool: a snapshot, or a sampling window when `windowMs` > 0,
 * evaluated into the JSON report (version 1). Throws on collection failure.
 */
export async function runAuditReport(
  target: Target,
  config: DaemonTargetConfig,
  rules: readonly AnyRule[],
  windowMs: number,
  deps: AuditDeps,
  version: string,
): Promise<Record<string, unknown>> {
  const { snapshot, window } =
    windowMs > 0 ? await deps.collectWindow(target, { durationMs: windowMs }) : { snapshot: await deps.collectSnapshot(target), window: null };
  const evaluation = evaluateRules({ rules: rules.filter((r) => config.ruleIds.includes(r.id)), snapshot, window, settings: config.ruleSettings });
  const report = buildReport({ snapshot, window, evaluation, redact: (t) => redact(t), version });
  return JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
}
