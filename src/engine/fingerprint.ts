import { createHash } from 'node:crypto';
import type { FindingObject } from './types.js';

/**
 * Stable hash of rule + object identity (+ optional sub-identity). Never includes numbers from the
 * evidence, so a finding keeps its fingerprint while its severity or numbers change. `statementIdentity`
 * (the statement's text fingerprint) replaces the object's query id, so the same statement gets the same
 * fingerprint on production and on staging, whose query ids differ (they embed table OIDs).
 */
export function fingerprintOf(rule: string, object: FindingObject, identity?: string, statementIdentity?: string): string {
  const parts = [
    rule,
    object.type,
    object.schema ?? '',
    object.table ?? '',
    object.name ?? '',
    statementIdentity !== undefined ? `statement:${statementIdentity}` : (object.queryId ?? ''),
    (object.columns ?? []).join(','),
    identity ?? '',
  ];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 24);
}
