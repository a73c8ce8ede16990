/**
 * Delivers to several destinations independently. Each destination has its own FIFO lane (one message
 * in flight per destination, so a receiver sees messages in order and is never hammered); lanes run in
 * parallel. `concurrency` caps HTTP requests in flight across all lanes, and a lane holds a slot only
 * during a request — never while it waits to retry — so a destination that keeps failing delays the
 * others by at most one request timeout, and not at all while `concurrency` exceeds the failing lanes.
 */
import { UsageError } from '../errors/errors.js';
import { deliver, type DeliverOptions, type DeliveryResult } from './deliver.js';
import type { Destination } from './types.js';

export interface DispatchMessage {
  readonly idempotencyKey: string;
  /** The platform payload (JSON). */
  readonly body: unknown;
}

export interface DispatcherOptions {
  readonly destinations: readonly Destination[];
  /** HTTP requests in flight across all destinations (default 4, at least 1). */
  readonly concurrency?: number;
  /** Messages waiting per destination before `send` answers "queue full" (default 1000). */
  readonly maxQueuePerDestination?: number;
  /** Passed to every `deliver` (clock, sleep, timeouts, bounds); `idempotencyKey` comes per message. */
  readonly deliverOptions?: Omit<DeliverOptions, 'idempotencyKey' | 'gate'>;
}

export interface Dispatcher {
  /** Queues a message on its destination's lane; resolves with the delivery result. Never rejects. */
  send(destinationName: string, message: DispatchMessage): Promise<DeliveryResult>;
  /** Messages queued or in flight for a destination. */
  pending(destinationName: string): number;
  /** Resolves when every lane is empty. */
  idle(): Promise<void>;
  readonly destinationNames: readonly string[];
}

interface Lane {
  readonly destination: Destination;
  tail: Promise<unknown>;
  size: number;
}

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const gate = createGate(Math.max(1, options.concurrency ?? 4));
  const maxQueue = options.maxQueuePerDestination ?? 1000;
  const lanes = new Map<string, Lane>();
  for (const destination of options.destinations) {
    if (lanes.has(destination.name)) {
      throw new UsageError(`duplicate destination name "${destination.name}"`, {
        hint: 'Give every destination a unique name: outbox messages refer to their destination by name.',
      });
    }
    lanes.set(destination.name, { destination, tail: Promise.resolve(), size: 0 });
  }

  return {
    destinationNames: [...lanes.keys()],
    send(name, message) {
      const lane = lanes.get(name);
      if (!lane) return Promise.resolve(failed(`no destination named "${name}" is configured`, true));
      if (lane.size >= maxQueue) return Promise.resolve(failed(`destination ${name}: ${maxQueue} messages already queued`, false));
      lane.size++;
      const run = lane.tail.then(() => deliver(lane.destination, message.body, { ...options.deliverOptions, idempotencyKey: message.idempotencyKey, gate }));
      const settled = run
        .catch((error: unknown) => failed(`destination ${name}: unexpected ${String(error)}`, false))
        .finally(() => {
          lane.size--;
        });
      lane.tail = settled;
      return settled;
    },
    pending(name) {
      return lanes.get(name)?.size ?? 0;
    },
    async idle() {
      // Bounded: each pass awaits the current tails; new sends during the wait get one more pass.
      for (let pass = 0; pass < 100 && [...lanes.values()].some((l) => l.size > 0); pass++) {
        await Promise.all([...lanes.values()].map((l) => l.tail));
      }
    },
  };
}

function failed(lastError: string, permanent: boolean): DeliveryResult {
  return { status: 'failed', attempts: 0, lastError, httpStatus: null, permanent, retryAt: null };
}

/** A counting semaphore as a wrapper: at most `limit` wrapped calls run at once, the rest wait in order. */
function createGate(limit: number): <T>(run: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(run: () => Promise<T>): Promise<T> => {
    // A released slot is handed straight to the next waiter, so `active` never exceeds `limit`.
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await run();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
