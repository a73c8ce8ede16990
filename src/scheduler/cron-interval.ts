import { UsageError } from '../errors/errors.js';

/**
 * The node-cron expression (6 fields, seconds first) that fires every `intervalMs`. Only intervals that
 * divide a minute, an hour or a day evenly can be expressed; others are a UsageError listing examples.
 */
export function intervalToCron(intervalMs: number): string {
  const s = intervalMs / 1000;
  if (Number.isInteger(s) && s >= 1 && s < 60 && 60 % s === 0) return `*/${s} * * * * *`;
  const m = s / 60;
  if (Number.isInteger(m) && m >= 1 && m < 60 && 60 % m === 0) return `0 */${m} * * * *`;
  const h = m / 60;
  if (Number.isInteger(h) && h >= 1 && h < 24 && 24 % h === 0) return `0 0 */${h} * * *`;
  if (h === 24) return '0 0 0 * * *';
  throw new UsageError(`sample interval ${intervalMs} ms cannot be scheduled evenly`, {
    hint: 'use an interval that divides a minute, an hour or a day: 1s–30s (5s, 10s, 15s, 20s, 30s), 1m–30m (2m, 5m, 10m, 15m), 1h–12h, 24h',
  });
}
