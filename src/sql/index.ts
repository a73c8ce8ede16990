/** Query-text analysis on the real PostgreSQL grammar. */
export { initSqlParser, isSqlParserReady } from './parser.js';
export { analyzeStatement, buildAnalysisContext, clearAnalysisCache, emptyAnalysisContext, withSearchPath } from './analyze.js';
export type { AnalyzeOptions } from './analyze.js';
export { redact } from './redact.js';
export type * from './analysis-types.js';
export { quoteIdent, quoteLiteral, quoteQualified } from './quote.js';
export { analyzeQueryBlocks } from './blocks.js';
export type { BlockOrigin, QueryBlock } from './blocks.js';
export { statementFingerprint } from './fingerprint.js';
