export { Scheduler } from './scheduler.js';
export type { JobOptions, JobStatus, JobTick, RunResult } from './scheduler.js';
export { backoffDelayMs, DEFAULT_BACKOFF } from './backoff.js';
export type { BackoffPolicy, CircuitState } from './backoff.js';
export { intervalToCron } from './cron-interval.js';
