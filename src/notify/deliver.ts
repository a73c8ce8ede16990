/**
 * Delivers one message to one destination: POST JSON with Node's fetch, a timeout per attempt, retries
 * with exponential backoff and full jitter on 5xx, timeouts and connection errors, `Retry-After` honoured
 * on 429, no retry on other 4xx, and a bound on attempts and on total time. At-least-once: the
 * idempotency key travels in `Idempotency-Key` on every attempt. Never throws; the result says what
 * happened, with an error text that never contains the destination URL.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import { backoffDelay, classifyStatus, describeError, parseRetryAfter, type AttemptVerdict } from './retry-policy.js';
import { scrubDestination } from '../secrets/index.js';
import type { Destination } from './types.js';
import { IDEMPOTENCY_HEADER, webhookSignatureHeaders } from './webhook.js';

export interface DeliverOptions {
  /** Stable per message (the outbox row's key); the same on every attempt and every retry run. */
  readonly idempotencyKey: string;
  /** Wall clock, epoch ms (injectable for tests). Also the generic webhook's signature timestamp. */
  readonly now?: () => number;
  /** Waits between attempts (injectable for tests); resolves early when `signal` aborts. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** [0, 1) for the jitter (injectable for tests). */
  readonly random?: () => number;
  /** Per attempt, connect to last body byte (default 10 s). */
  readonly timeoutMs?: number;
  /** Gives up when the next wait would end past this much time since the first attempt (default 2 min). */
  readonly maxElapsedMs?: number;
  /** Hard bound on attempts (default 8). */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Wraps each HTTP attempt (a dispatcher's global concurrency limit); never held while waiting. */
  readonly gate?: <T>(run: () => Promise<T>) => Promise<T>;
  /** Shutdown: stops waiting and aborts the attempt in flight. */
  readonly signal?: AbortSignal;
  readonly fetch?: typeof fetch;
}

export interface DeliveryResult {
  readonly status: 'delivered' | 'failed';
  readonly attempts: number;
  /** What went wrong last (secret-free), or null when delivered at the first try. */
  readonly lastError: string | null;
  /** HTTP status of the last response, null when none came (timeout, connection error). */
  readonly httpStatus: number | null;
  /** Failed for a reason retrying cannot fix (4xx other than 408/425/429, redirect, bad destination). */
  readonly permanent: boolean;
  /** When failed after a `Retry-After`: the earliest time (epoch ms) the receiver wants us back. */
  readonly retryAt: number | null;
}

export const DELIVERY_DEFAULTS = {
  timeoutMs: 10_000,
  maxElapsedMs: 120_000,
  maxAttempts: 8,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
} as const;

/** Bytes of a failed response's body kept for the error text. */
const ERROR_BODY_BYTES = 300;

interface AttemptOutcome {
  readonly verdict: AttemptVerdict;
  readonly status: number | null;
  readonly error: string | null;
  readonly retryAfterMs: number | null;
}

export async function deliver(destination: Destination, message: unknown, options: DeliverOptions): Promise<DeliveryResult> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const gate = options.gate ?? (<T>(run: () => Promise<T>) => run());
  const maxAttempts = Math.max(1, options.maxAttempts ?? DELIVERY_DEFAULTS.maxAttempts);
  const maxElapsedMs = options.maxElapsedMs ?? DELIVERY_DEFAULTS.maxElapsedMs;
  const backoff = { baseDelayMs: options.baseDelayMs ?? DELIVERY_DEFAULTS.baseDelayMs, maxDelayMs: options.maxDelayMs ?? DELIVERY_DEFAULTS.maxDelayMs };

  if (!/^https?:\/\//i.test(destination.url)) {
    return {
      status: 'failed',
      attempts: 0,
      lastError: `destination ${destination.name}: URL must be http(s)`,
      httpStatus: null,
      permanent: true,
      retryAt: null,
    };
  }
  const body = JSON.stringify(message);
  const started = now();
  let last: AttemptOutcome = { verdict: 'transient', status: null, error: null, retryAfterMs: null };
  let lastError: string | null = null;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    last = await gate(() => attemptOnce(destination, body, options, now));
    // Delivered after retries: keep what went wrong before, for the record.
    if (last.verdict === 'delivered') return result('delivered', attempt, { ...last, error: lastError }, false, null);
    lastError = last.error;
    if (last.verdict === 'permanent') return result('failed', attempt, last, true, null);
    const at = now();
    const delay = last.retryAfterMs ?? backoffDelay(attempt, backoff, random);
    const retryAt = last.retryAfterMs !== null ? at + last.retryAfterMs : null;
    if (options.signal?.aborted) return result('failed', attempt, { ...last, error: `${last.error}; then shut down` }, false, retryAt);
    if (attempt === maxAttempts || at - started + delay > maxElapsedMs) return result('failed', attempt, last, false, retryAt);
    await sleep(delay, options.signal);
  }
  return result('failed', maxAttempts, last, false, null);
}

function result(status: DeliveryResult['status'], attempts: number, last: AttemptOutcome, permanent: boolean, retryAt: number | null): DeliveryResult {
  return { status, attempts, lastError: last.error, httpStatus: last.status, permanent, retryAt };
}

async function attemptOnce(destination: Destination, body: string, options: DeliverOptions, now: () => number): Promise<AttemptOutcome> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DELIVERY_DEFAULTS.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'user-agent': 'pg-advisor',
    [IDEMPOTENCY_HEADER]: options.idempotencyKey,
    ...(destination.kind === 'webhook' ? webhookSignatureHeaders(body, destination.secret, Math.floor(now() / 1000)) : {}),
  };
  try {
    const response = await (options.fetch ?? fetch)(destination.url, { method: 'POST', headers, body, redirect: 'manual', signal });
    const verdict = classifyStatus(response.status);
    if (verdict === 'delivered') {
      await response.body?.cancel().catch(() => undefined);
      return { verdict, status: response.status, error: null, retryAfterMs: null };
    }
    const snippet = await readSnippet(response);
    const error = scrubDestination(`HTTP ${response.status}${snippet ? `: ${snippet}` : ''}`, destination.url);
    const retryAfterMs = verdict === 'transient' ? parseRetryAfter(response.headers.get('retry-after'), now()) : null;
    return { verdict, status: response.status, error, retryAfterMs };
  } catch (error) {
    // A TypeError without a cause is fetch refusing the request itself (bad URL, bad header): permanent.
    const permanent = error instanceof TypeError && (error as { cause?: unknown }).cause === undefined;
    return { verdict: permanent ? 'permanent' : 'transient', status: null, error: describeError(error, destination.url), retryAfterMs: null };
  }
}

/** The first bytes of a response body, whitespace folded; the rest is discarded. Never throws. */
async function readSnippet(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < ERROR_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // a body cut short still leaves its status to report
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const text = Buffer.concat(chunks).subarray(0, ERROR_BODY_BYTES).toString('utf8');
  return text.replace(/\s+/g, ' ').trim();
}

async function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleepFor(ms, undefined, signal ? { signal } : {});
  } catch {
    // aborted: the caller checks the signal
  }
}
