export { resolveConfig, resolveDatabaseUrl, urlFromPgEnv, DEFAULTS, REPORT_FORMATS } from './resolve.js';
export type { CheckFlags, Config, DatabaseUrlSource, ReportFormat, ResolveConfigInput } from './resolve.js';
export { loadConfigFile, parseConfigText } from './load.js';
export { FAIL_ON_LEVELS, buildConfigFileSchema, formatConfigIssues } from './schema.js';
export type { ConfigFileOptions, FailOn, RuleOptions } from './schema.js';
export { parseDuration, formatDuration, WINDOW_BOUNDS, STATEMENT_TIMEOUT_BOUNDS, CONNECT_TIMEOUT_BOUNDS } from './duration.js';
