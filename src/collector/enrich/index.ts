/**
 * Enrichment: facts only a live query can tell, gathered after collection and attached to the snapshot
 * (rules never do I/O). Never throws: a failed step leaves the snapshot as it was.
 */
import { deepFreeze } from '../../snapshot/freeze.js';
import type { Snapshot } from '../../snapshot/types.js';
import type { Target } from '../api.js';
import { verifyIndexSuggestions, type VerifyOptions } from './hypopg.js';

export type EnrichOptions = VerifyOptions;

export async function enrichSnapshot(target: Target, snapshot: Snapshot, options: EnrichOptions = {}): Promise<Snapshot> {
  try {
    const indexVerifications = await verifyIndexSuggestions(target, snapshot, options);
    if (indexVerifications.length === 0) return snapshot;
    return deepFreeze({ ...snapshot, enrichments: { ...snapshot.enrichments, indexVerifications } });
  } catch {
    return snapshot;
  }
}

export { verifyIndexSuggestions } from './hypopg.js';
export type { VerifyOptions } from './hypopg.js';
