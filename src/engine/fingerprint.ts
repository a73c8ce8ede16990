import { createHash } from 'node:crypto';
import type { FindingObject } from './types.js';

/**
 * Stable hash of rule + object identity (+ optional sub-identity). Never includes numbers from the
 * evidence, so a finding keeps its fingerprint while its severity or numbers change.
 */
export function fingerprintOf(rule: string, object: FindingObject, identity?: string): string {
  const parts = [
    rule,
    object.type,
    object.schema ?? '',
    object.table ?? '',
    object.name ?? '',
    object.queryId ?? '',
    (object.columns ?? []).join(','),
    identity ?? '',
  ];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 24);
}
