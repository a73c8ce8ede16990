/**
 * The outbox: audit messages written in the same transaction as the audit, then sent by
 * `runOutboxOnce`. The store implements `Outbox` on its own database (claim with a lease via
 * `FOR UPDATE SKIP LOCKED`, so a process killed after claiming leaves the row to be claimed again once
 * the lease ends); `createMemoryOutbox` implements the same contract in memory for tests.
 * Delivery is at-least-once: a message can be sent again after a crash between sending and
 * `markDelivered`, always with the same idempotency key, so a receiver that dedupes sees it once.
 */
import { createHash } from 'node:crypto';
import { shouldSendDigest, type SendDecisionOptions } from './audit.js';
import type { DeliveryResult } from './deliver.js';
import type { Dispatcher } from './dispatcher.js';
import { renderDigest } from './render.js';
import type { AuditDigest, ChatPayload, Destination } from './types.js';

/** A message the audit writes (one per destination). */
export interface OutboxDraft {
  readonly destination: string;
  readonly idempotencyKey: string;
  readonly body: ChatPayload;
}

export interface OutboxMessage extends OutboxDraft {
  readonly id: string;
  /** ISO-8601 time the message was written. */
  readonly createdAt: string;
  /** Attempts made by earlier runs. */
  readonly attempts: number;
}

export interface Outbox {
  /**
   * Up to `limit` messages due now (pending, next attempt due, not claimed by a live lease), oldest
   * first; claims them for a lease long enough for one delivery run.
   */
  claimDue(limit: number): Promise<readonly OutboxMessage[]>;
  /** Delivered: never claimed again. `attempts` is the total across runs. */
  markDelivered(id: string, attempts: number): Promise<void>;
  /**
   * Not delivered: with `nextAttemptAt` the message is retried then; with null it is given up and kept
   * as failed (visible in the API and in /metrics).
   */
  markFailed(id: string, error: string, nextAttemptAt: Date | null, details?: { readonly attempts: number; readonly httpStatus: number | null }): Promise<void>;
}

/** Stable per (audit, destination): the same message keeps its key through every retry and restart. */
export function idempotencyKeyFor(auditId: string | number, destinationName: string): string {
  return `pga-${createHash('sha256').update(`${auditId}\u0000${destinationName}`).digest('hex').slice(0, 32)}`;
}

export interface BuildDraftsInput extends SendDecisionOptions {
  readonly auditId: string | number;
  readonly digest: AuditDigest;
  readonly destinations: readonly Destination[];
}

/** The messages one audit writes to the outbox; none when it is unchanged and configured quiet. Pure. */
export function buildOutboxDrafts(input: BuildDraftsInput): OutboxDraft[] {
  if (!shouldSendDigest(input.digest, input)) return [];
  return input.destinations.map((d) => ({
    destination: d.name,
    idempotencyKey: idempotencyKeyFor(input.auditId, d.name),
    body: renderDigest(d.kind, input.digest),
  }));
}

export interface RunOutboxOptions {
  /** Messages claimed per run (default 100). */
  readonly limit?: number;
  readonly now?: () => number;
  /** Wait before the next run retries a message that failed transiently (default 5 min). */
  readonly retryDelayMs?: number;
  /** A message older than this is given up instead of rescheduled (default 24 h): the bounded total time. */
  readonly maxAgeMs?: number;
}

export interface OutboxRunSummary {
  readonly claimed: number;
  readonly delivered: number;
  /** Rescheduled for a later run. */
  readonly retrying: number;
  /** Given up (permanent error, or too old). */
  readonly failed: number;
}

/** Claims due messages and delivers them through the dispatcher (destinations in parallel). Never throws for a delivery. */
export async function runOutboxOnce(outbox: Outbox, dispatcher: Dispatcher, options: RunOutboxOptions = {}): Promise<OutboxRunSummary> {
  const now = options.now ?? Date.now;
  const retryDelayMs = options.retryDelayMs ?? 5 * 60_000;
  const maxAgeMs = options.maxAgeMs ?? 24 * 3_600_000;
  const messages = await outbox.claimDue(options.limit ?? 100);
  const outcomes = await Promise.all(
    messages.map(async (m): Promise<'delivered' | 'retrying' | 'failed'> => {
      const result = await dispatcher.send(m.destination, m);
      const attempts = m.attempts + result.attempts;
      if (result.status === 'delivered') {
        await outbox.markDelivered(m.id, attempts);
        return 'delivered';
      }
      const next = nextAttemptAt(m, result, now(), retryDelayMs, maxAgeMs);
      await outbox.markFailed(m.id, result.lastError ?? 'not delivered', next, { attempts, httpStatus: result.httpStatus });
      return next === null ? 'failed' : 'retrying';
    }),
  );
  return {
    claimed: messages.length,
    delivered: outcomes.filter((o) => o === 'delivered').length,
    retrying: outcomes.filter((o) => o === 'retrying').length,
    failed: outcomes.filter((o) => o === 'failed').length,
  };
}

function nextAttemptAt(m: OutboxMessage, result: DeliveryResult, at: number, retryDelayMs: number, maxAgeMs: number): Date | null {
  if (result.permanent) return null;
  const next = Math.max(at + retryDelayMs, result.retryAt ?? 0);
  const created = Date.parse(m.createdAt);
  return Number.isNaN(created) || next - created > maxAgeMs ? null : new Date(next);
}
