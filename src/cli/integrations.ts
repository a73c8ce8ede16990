/**
 * The modules `check` is assembled from, in one place: the collector's connection, the SQL parser, the
 * secret masking and the rule registry (the audit pipeline itself is src/audit).
 */
export { connectTarget } from '../collector/index.js';
export { maskUrl } from '../secrets/index.js';
export { initSqlParser } from '../sql/index.js';
export { allRules } from '../../rules/index.js';
