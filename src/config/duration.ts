/**
 * Durations as users write them on the command line and in config files: `500ms`, `10s`, `2m`.
 * A bare number is rejected on purpose: "10" could mean seconds or milliseconds.
 */

const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;
const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m)$/;

export interface DurationBounds {
  /** Smallest accepted value (milliseconds). */
  readonly minMs: number;
  /** Largest accepted value (milliseconds). */
  readonly maxMs: number;
  /** Whether `0` (without a unit) is accepted, meaning "off". */
  readonly allowZero?: boolean;
}

/** Outcome of parsing: the value or a sentence that says what is valid. Never throws. */
export type DurationParse = { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly problem: string };

export function parseDuration(text: string, bounds: DurationBounds): DurationParse {
  const trimmed = text.trim();
  if (bounds.allowZero && /^0+(?:\.0*)?(ms|s|m)?$/.test(trimmed)) return { ok: true, ms: 0 };
  const match = DURATION_RE.exec(trimmed);
  const range = `between ${formatDuration(bounds.minMs)} and ${formatDuration(bounds.maxMs)}${bounds.allowZero ? ' (or 0 for off)' : ''}`;
  if (!match) {
    return {
      ok: false,
      problem: `"${text}" is not a duration; write a number with a unit ms, s or m (e.g. 500ms, 10s, 2m), ${range}`,
    };
  }
  const ms = Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
  if (ms < bounds.minMs || ms > bounds.maxMs) {
    return { ok: false, problem: `${text} is out of range; use a duration ${range}` };
  }
  return { ok: true, ms };
}

/** 500 → "500ms", 10000 → "10s", 90000 → "90s", 600000 → "10m". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** Bounds used by `check`. */
export const WINDOW_BOUNDS: DurationBounds = { minMs: 1000, maxMs: 10 * 60_000, allowZero: true };
export const STATEMENT_TIMEOUT_BOUNDS: DurationBounds = { minMs: 100, maxMs: 5 * 60_000 };
export const CONNECT_TIMEOUT_BOUNDS: DurationBounds = { minMs: 100, maxMs: 2 * 60_000 };
