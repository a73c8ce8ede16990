/**
 * The modules `check` is assembled from, in one place: the collector (and its enrichment step), the
 * SQL parser and redaction, and the rule registry.
 */
export { collectSnapshot, collectWindow, connectTarget, maskUrl } from '../collector/index.js';
export { enrichSnapshot } from '../collector/enrich/index.js';
export { initSqlParser, redact } from '../sql/index.js';
export { allRules } from '../../rules/index.js';
