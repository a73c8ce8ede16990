/**
 * Long durations for daemon settings: `500ms`, `15s`, `5m`, `6h`, `7d`. A bare number is rejected
 * ("10" could mean seconds or milliseconds).
 */
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/** Milliseconds, or a sentence saying what is valid. Never throws. */
export function parseLongDuration(text: string): { ok: true; ms: number } | { ok: false; problem: string } {
  const match = RE.exec(text.trim());
  if (!match) return { ok: false, problem: `"${text}" is not a duration; write a number with a unit ms, s, m, h or d (e.g. 15s, 5m, 7d)` };
  return { ok: true, ms: Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]) };
}
