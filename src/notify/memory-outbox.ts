/**
 * `Outbox` in memory, with the semantics the store's table must have: a unique idempotency key (a
 * second enqueue of the same key is a no-op), claims with a lease (a claim by a process that died
 * expires), oldest first. For tests and for running without a store.
 */
import type { Outbox, OutboxDraft, OutboxMessage } from './outbox.js';

export type OutboxStatus = 'pending' | 'delivered' | 'failed';

export interface OutboxEntry extends OutboxMessage {
  readonly status: OutboxStatus;
  readonly nextAttemptAt: number;
  readonly claimedUntil: number | null;
  readonly lastError: string | null;
  readonly httpStatus: number | null;
}

export interface MemoryOutbox extends Outbox {
  /** Writes a message (as the audit's transaction would); returns the existing one for a known key. */
  enqueue(draft: OutboxDraft): OutboxMessage;
  list(): readonly OutboxEntry[];
}

export interface MemoryOutboxOptions {
  readonly now?: () => number;
  /** How long a claim lasts (default 5 min): longer than one delivery run's bounded time. */
  readonly leaseMs?: number;
}

export function createMemoryOutbox(options: MemoryOutboxOptions = {}): MemoryOutbox {
  const now = options.now ?? Date.now;
  const leaseMs = options.leaseMs ?? 5 * 60_000;
  const entries = new Map<string, OutboxEntry>();
  let nextId = 1;

  const update = (id: string, patch: Partial<OutboxEntry>): void => {
    const entry = entries.get(id);
    if (!entry) throw new Error(`outbox message ${id} does not exist`);
    entries.set(id, { ...entry, ...patch });
  };

  return {
    enqueue(draft) {
      const existing = [...entries.values()].find((e) => e.idempotencyKey === draft.idempotencyKey);
      if (existing) return existing;
      const entry: OutboxEntry = {
        ...draft,
        id: String(nextId++),
        createdAt: new Date(now()).toISOString(),
        attempts: 0,
        status: 'pending',
        nextAttemptAt: now(),
        claimedUntil: null,
        lastError: null,
        httpStatus: null,
      };
      entries.set(entry.id, entry);
      return entry;
    },
    list() {
      return [...entries.values()];
    },
    async claimDue(limit) {
      const at = now();
      const due = [...entries.values()]
        .filter((e) => e.status === 'pending' && e.nextAttemptAt <= at && (e.claimedUntil === null || e.claimedUntil <= at))
        .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || Number(a.id) - Number(b.id))
        .slice(0, Math.max(0, limit));
      for (const e of due) update(e.id, { claimedUntil: at + leaseMs });
      return due.map(({ id, destination, idempotencyKey, body, createdAt, attempts }) => ({ id, destination, idempotencyKey, body, createdAt, attempts }));
    },
    async markDelivered(id, attempts) {
      update(id, { status: 'delivered', attempts, claimedUntil: null });
    },
    async markFailed(id, error, nextAttemptAt, details) {
      update(id, {
        status: nextAttemptAt === null ? 'failed' : 'pending',
        nextAttemptAt: nextAttemptAt?.getTime() ?? entries.get(id)?.nextAttemptAt ?? now(),
        claimedUntil: null,
        lastError: error,
        ...(details ? { attempts: details.attempts, httpStatus: details.httpStatus } : {}),
      });
    },
  };
}
