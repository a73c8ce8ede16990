export { loadDaemonConfig, describeDaemonConfig, maskDestinationUrl, DEFAULT_HISTORY_MS } from './resolve.js';
export type { ApiToken, AuditScheduleConfig, DaemonConfig, DeliveryConfig, DaemonTargetConfig, LoadDaemonConfigInput, TokenScope } from './resolve.js';
export { parseLongDuration } from './duration.js';
