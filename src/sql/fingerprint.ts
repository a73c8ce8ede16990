/**
 * A statement identity that is the same on every database: libpg-query's fingerprint of the normalised
 * text (the parse tree without constants and aliases), where pg_stat_statements' query id embeds table
 * OIDs and so differs between production and staging. Pure once the parser is loaded.
 */
import { fingerprintSync } from 'libpg-query';
import { isSqlParserReady } from './parser.js';

const MAX_CACHED = 20_000;
const cache = new Map<string, string | null>();

/** The text's fingerprint (16 hex digits), or null when the parser is not loaded or the text does not parse. */
export function statementFingerprint(text: string): string | null {
  if (!isSqlParserReady()) return null;
  const cached = cache.get(text);
  if (cached !== undefined) return cached;
  let fingerprint: string | null;
  try {
    fingerprint = fingerprintSync(text);
  } catch {
    fingerprint = null; // utility or truncated text: callers fall back to the query id
  }
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(text, fingerprint);
  return fingerprint;
}
