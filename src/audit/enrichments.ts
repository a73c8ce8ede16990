/**
 * The enrichments the pipeline can run, by the id rules declare in `enrichments`. Each receives the
 * resolved thresholds of the rule that asked for it, so it judges the same candidates the rule will.
 */
import { findIndexCandidates, INDEX_CANDIDATE_THRESHOLDS } from '../analysis/query-index-candidates.js';
import type { Target } from '../collector/api.js';
import { enrichSnapshot } from '../collector/enrich/index.js';
import { perTarget } from '../collector/per-target.js';
import { resolveThresholdSpecs } from '../engine/evaluate.js';
import type { Enrichment } from '../engine/types.js';
import { deepFreeze } from '../snapshot/freeze.js';
import type { IndexVerification, Snapshot } from '../snapshot/types.js';
import type { Window } from '../snapshot/window-types.js';

export interface EnrichmentContext {
  readonly window: Window | null;
  /** The declaring rule's thresholds, defaults overlaid by settings. */
  readonly thresholds: Readonly<Record<string, number>>;
}

/** Adds its facts to the snapshot; never throws (a failed step returns the snapshot unchanged). */
export type EnrichmentStep = (target: Target, snapshot: Snapshot, context: EnrichmentContext) => Promise<Snapshot>;

/**
 * How long a daemon reuses a target's index verifications while the candidates stay the same (ms):
 * hypothetical-index plans change only with the schema or the statistics, and re-planning every sample
 * would put up to 20 EXPLAINs a minute on the target for nothing. `check` gets a fresh Target and so
 * always verifies.
 */
export const INDEX_VERIFICATION_REUSE_MS = 30 * 60_000;

interface VerificationMemo {
  last: { readonly at: number; readonly asked: ReadonlySet<string>; readonly verifications: readonly IndexVerification[] } | null;
}
const verificationMemo = perTarget<VerificationMemo>(() => ({ last: null }));

const verificationKey = (v: { schema: string; table: string; columns: readonly string[]; queryId: string }): string =>
  JSON.stringify([v.schema, v.table, v.columns, v.queryId]);

const verifyIndexes: EnrichmentStep = async (target, snapshot, { window, thresholds }) => {
  const memo = verificationMemo(target);
  const previous = memo.last;
  const candidates = findIndexCandidates(snapshot, window, resolveThresholdSpecs(INDEX_CANDIDATE_THRESHOLDS, thresholds));
  const wanted = candidates.flatMap((c) => c.statements.map((s) => verificationKey({ ...c, queryId: s.queryId })));
  if (previous && Date.now() - previous.at < INDEX_VERIFICATION_REUSE_MS && wanted.every((k) => previous.asked.has(k))) {
    if (previous.verifications.length === 0) return snapshot;
    return deepFreeze({ ...snapshot, enrichments: { ...snapshot.enrichments, indexVerifications: previous.verifications } });
  }
  const enriched = await enrichSnapshot(target, snapshot, { window, thresholds });
  const verifications = enriched.enrichments?.indexVerifications ?? [];
  // Failed checks are reused too: a missing grant would otherwise cost the same failed plans every sample.
  memo.last = { at: Date.now(), asked: new Set(wanted), verifications };
  return enriched;
};

export const ENRICHMENT_STEPS: Readonly<Record<Enrichment, { readonly progress: string; readonly run: EnrichmentStep }>> = {
  'index-verification': { progress: 'verifying index suggestions …', run: verifyIndexes },
};
