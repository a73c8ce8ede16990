/** Human formatting for finding summaries; evidence keeps the raw numbers. */
export { formatBytes, formatDuration } from '../../src/format/units.js';

/** 1234567 → "1,234,567". */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** 0.4234 → "42 %"; 0.017 → "1.7 %" (one decimal below 10 %). */
export function formatPercent(fraction: number): string {
  const percent = fraction * 100;
  return `${percent < 10 ? Number(percent.toFixed(1)) : Math.round(percent)} %`;
}

/** A measured number for prose: 8.6833 → "8.7", 10.087 → "10", 1234.5 → "1,235". */
export function formatNumber(value: number): string {
  return Math.abs(value) >= 10 ? Math.round(value).toLocaleString('en-US') : String(Number(value.toFixed(1)));
}

/** Rounds a ratio for evidence (4 decimals) so reports stay readable while remaining checkable. */
export function roundRatio(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/** A multiple for prose: 44.4444 → "44", 2.0002 → "2.0", 1.53 → "1.5". */
export function formatTimes(value: number): string {
  return value >= 10 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
}
