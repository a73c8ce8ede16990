import type { CollectSnapshot, CollectWindow, Target } from '../collector/api.js';
import { runAudit } from '../audit/index.js';
import type { DaemonTargetConfig } from '../config/daemon/index.js';
import type { AnyRule } from '../engine/types.js';
import type { Report } from '../report/index.js';

export interface AuditDeps {
  readonly collectSnapshot: CollectSnapshot;
  readonly collectWindow: CollectWindow;
}

/**
 * One chat audit of a target on the sampler's pool, through the audit pipeline: a snapshot, or a
 * sampling window when `windowMs` > 0, with the enrichments its rules declare. Throws on collection failure.
 */
export async function runAuditReport(
  target: Target,
  config: DaemonTargetConfig,
  rules: readonly AnyRule[],
  windowMs: number,
  deps: AuditDeps,
  version: string,
): Promise<Report> {
  const { report } = await runAudit(target, {
    rules: rules.filter((r) => config.ruleIds.includes(r.id)),
    settings: config.ruleSettings,
    windowMs,
    version,
    collectors: deps,
  });
  return report;
}
