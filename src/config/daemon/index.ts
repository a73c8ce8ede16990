export { loadDaemonConfig, describeDaemonConfig } from './resolve.js';
export type { ApiToken, DaemonConfig, DaemonTargetConfig, LoadDaemonConfigInput, TokenScope } from './resolve.js';
export { parseLongDuration } from './duration.js';
