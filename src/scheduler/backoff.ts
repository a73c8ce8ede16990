/** Retry policy of a failing job: exponential backoff with jitter, and a circuit breaker. Pure. */
export interface BackoffPolicy {
  /** First retry delay (ms). */
  readonly baseMs: number;
  /** Largest retry delay (ms). */
  readonly maxMs: number;
  /** Consecutive failures that open the circuit. */
  readonly openAfterFailures: number;
  /** How long an open circuit rejects runs before one trial run (ms). */
  readonly openForMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 5_000, maxMs: 5 * 60_000, openAfterFailures: 5, openForMs: 10 * 60_000 };

/**
 * Delay before the next attempt after `failures` consecutive failures (≥ 1): base·2^(failures−1), capped,
 * with "equal jitter" (half fixed, half random) so that many failing targets do not retry in lockstep.
 * `random` is in [0, 1).
 */
export function backoffDelayMs(failures: number, policy: BackoffPolicy, random: number): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(exp / 2 + (exp / 2) * Math.min(Math.max(random, 0), 1));
}

export type CircuitState = 'closed' | 'open' | 'half-open';
