/**
 * When to retry a chat delivery and how long to wait. Pure.
 * - 2xx: delivered. 3xx: permanent (webhooks do not redirect; following one could leak the payload).
 * - 408, 425, 429 and 5xx: transient. 429 (and 503) honour `Retry-After` (seconds or an HTTP date).
 * - Other 4xx: permanent — the payload or the URL is wrong, and retrying only spams the receiver.
 * - Timeouts and connection errors: transient.
 */
import { scrubDestination } from '../secrets/index.js';

export type AttemptVerdict = 'delivered' | 'transient' | 'permanent';

export function classifyStatus(status: number): AttemptVerdict {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 425 || status === 429 || status >= 500) return 'transient';
  return 'permanent';
}

export interface BackoffOptions {
  /** First retry's upper bound (ms). */
  readonly baseDelayMs: number;
  /** Cap on any one computed delay (ms); a server's Retry-After is honoured above it. */
  readonly maxDelayMs: number;
}

/** "Full jitter": uniform in [0, min(cap, base · 2^(attempt-1))]; attempt counts from 1. */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * `Retry-After` as milliseconds from `nowMs`: delta-seconds ("120") or an HTTP date
 * ("Wed, 21 Oct 2026 07:28:00 GMT"). Null when absent or unreadable; a date in the past gives 0.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | null {
  if (value === null || value === undefined) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  if (/^\d+\.\d+$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  // An HTTP date names its day and zone ("…GMT"); Date.parse alone would read "-5" as a year.
  const at = /[A-Za-z]/.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/**
 * A short, secret-free description of a failed attempt. Never includes the URL (Slack, Teams and Discord
 * URLs carry the token in their path).
 */
export function describeError(error: unknown, url: string): string {
  const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError') return 'timed out waiting for the receiver';
  if (err?.name === 'AbortError') return 'aborted';
  const code = err?.cause?.code;
  const message = code ? `connection error: ${code}` : `request failed: ${err?.cause?.message ?? err?.message ?? String(error)}`;
  return scrubDestination(message, url);
}
