/**
 * The outbox pump: one scheduler job per chat destination (`__outbox:<name>`) claims due messages from
 * the store's outbox and delivers them, so a slow or failing receiver never delays another; one more job
 * fails the messages of destinations no longer configured. Audits write messages; this only sends them.
 */
import type { DaemonConfig } from '../config/daemon/index.js';
import { createDispatcher, type Dispatcher } from '../notify/dispatcher.js';
import { runOutboxOnce, type OutboxRunSummary } from '../notify/outbox.js';
import { intervalToCron, type Scheduler } from '../scheduler/index.js';
import type { Store } from '../store/index.js';
import type { Logger } from '../logger.js';

export interface OutboxPumpOptions {
  readonly config: DaemonConfig;
  readonly store: Store;
  readonly scheduler: Scheduler;
  readonly log: Pick<Logger, 'info' | 'warn'>;
  /** Messages claimed per run and destination (default 5: audits are rare, and a small batch keeps claims short). */
  readonly limit?: number;
}

export interface OutboxPump {
  /** Runs every destination's pump now (joining runs in progress); resolves with the summed result. */
  runNow(): Promise<OutboxRunSummary>;
  /** Asks every pump to run soon (a run in progress is not interrupted). */
  kick(): void;
  /** Aborts deliveries in flight (they are retried later); call before stopping the scheduler. */
  abort(): void;
  readonly dispatcher: Dispatcher;
}

export const OUTBOX_JOB_PREFIX = '__outbox';

/**
 * Adds the outbox jobs to the scheduler: one per configured destination (`__outbox:<name>`) and one for
 * messages whose destination is no longer configured (they fail permanently and are recorded).
 */
export function addOutboxPump(options: OutboxPumpOptions): OutboxPump {
  const { config, store, scheduler, log } = options;
  const d = config.delivery;
  const limit = options.limit ?? 5;
  const controller = new AbortController();
  const dispatcher = createDispatcher({
    destinations: config.destinations,
    concurrency: d.concurrency,
    deliverOptions: { timeoutMs: d.timeoutMs, maxElapsedMs: d.maxElapsedMs, signal: controller.signal },
  });
  // A claim outlives the worst run (each claimed message retried for maxElapsed plus one timeout, in
  // turn, on its destination's lane); a process killed mid-run leaves its claims to expire after that.
  const leaseMs = limit * (d.maxElapsedMs + d.timeoutMs) + 10_000;
  const names = config.destinations.map((x) => x.name);
  const jobs: { job: string; outbox: ReturnType<Store['outbox']['scoped']> }[] = [
    ...names.map((n) => ({ job: `${OUTBOX_JOB_PREFIX}:${n}`, outbox: store.outbox.scoped({ only: [n] }, leaseMs) })),
    { job: OUTBOX_JOB_PREFIX, outbox: store.outbox.scoped({ except: names }, leaseMs) },
  ];
  const last = new Map<string, OutboxRunSummary>();
  const cronExpr = intervalToCron(d.pollIntervalMs);
  for (const { job, outbox } of jobs) {
    scheduler.addJob({
      name: job,
      cron: cronExpr,
      runOnStart: true,
      run: async () => {
        const summary = await runOutboxOnce(outbox, dispatcher, { limit, retryDelayMs: d.retryDelayMs, maxAgeMs: d.maxAgeMs });
        last.set(job, summary);
        if (summary.claimed > 0) log.info({ job, ...summary }, 'outbox delivered');
        if (summary.retrying + summary.failed > 0) log.warn({ job, retrying: summary.retrying, failed: summary.failed }, 'outbox deliveries not done');
        return 'done';
      },
    });
  }
  return {
    dispatcher,
    async runNow() {
      const total = { claimed: 0, delivered: 0, retrying: 0, failed: 0 };
      for (const { job } of jobs) {
        last.delete(job);
        await scheduler.runNow(job);
        const s = last.get(job);
        if (s) for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += s[k];
      }
      return total;
    },
    kick() {
      for (const { job } of jobs) void scheduler.tick(job);
    },
    abort: () => controller.abort(),
  };
}
