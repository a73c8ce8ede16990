import { randomUUID } from 'node:crypto';
import { silentLogger, type Logger } from '../logger.js';
import type { DaemonControl, NotificationControl, TargetMetrics } from '../api/deps.js';
import { collectSnapshot, collectWindow } from '../collector/index.js';
import { maskUrl } from '../secrets/index.js';
import { maskDestinationUrl, type DaemonConfig, type DaemonTargetConfig } from '../config/daemon/index.js';
import { must } from '../errors/must.js';
import type { AnyRule } from '../engine/types.js';
import { intervalToCron, Scheduler, type BackoffPolicy, type JobStatus } from '../scheduler/index.js';
import type { AuditRecord, Store, TargetState } from '../store/index.js';
import { deliver, type DeliveryResult } from '../notify/deliver.js';
import type { OutboxRunSummary } from '../notify/outbox.js';
import { renderTestMessage } from '../notify/render.js';
import type { DestinationKind } from '../notify/types.js';
import type { AuditDeps } from './audit.js';
import { createAuditRunner } from './audits.js';
import { addOutboxPump, type OutboxPump } from './outbox-pump.js';
import { reclaimFromDeadPredecessors } from './predecessors.js';
import { createLeaseCoordinator, HEARTBEAT_CRON } from './replicas.js';
import { createTargetSampler, type SamplerDeps, type TargetSampler } from './sample-target.js';

/** The daemon's logger: pino's (src/logger.ts). */
export type DaemonLogger = Logger;

export interface DaemonOptions {
  readonly config: DaemonConfig;
  readonly store: Store;
  readonly rules: readonly AnyRule[];
  readonly version: string;
  readonly logger?: DaemonLogger;
  readonly deps?: Partial<SamplerDeps & AuditDeps>;
  readonly backoff?: BackoffPolicy;
  /** Run each target's first sample right after start (default true). */
  readonly sampleOnStart?: boolean;
  /** Deliver outbox messages (default true); off, audits still write them for another process to send. */
  readonly outboxPump?: boolean;
}

export interface Daemon extends DaemonControl {
  start(): Promise<void>;
  /** Stops ticks, waits for running samples and audits (up to timeoutMs), releases leases, closes targets. */
  stop(timeoutMs?: number): Promise<void>;
  /** Runs one target's sample job now (tests). */
  sampleNow(target: string): Promise<void>;
  /** Runs a configured audit schedule now, as its cron tick for `slot` (default now) would; resolves when its audits are written. */
  runAuditSchedule(name: string, slot?: Date): Promise<void>;
  /** Each audit schedule's next tick (cron read in its time zone). */
  auditSchedules(): { readonly name: string; readonly nextRunAt: Date | null }[];
  /** Runs the outbox pump now (null when the pump is off); resolves with what it delivered. */
  pumpOutbox(): Promise<OutboxRunSummary | null>;
  readonly scheduler: Scheduler;
}

const RETENTION_CRON = '0 17 * * * *';

/**
 * The sampling daemon: one job per target (at its interval, never overlapping, with backoff and a
 * circuit breaker), a lease per target so several replicas on one store divide the targets, an hourly
 * retention job, and on-demand audits.
 */
export function createDaemon(options: DaemonOptions): Daemon {
  const { config, store, rules } = options;
  const log = options.logger ?? silentLogger;
  const scheduler = new Scheduler();
  const samplers = new Map<string, TargetSampler>();
  const metrics = new Map<string, { samples: number; errors: number; durationSecondsSum: number; lastDurationSeconds: number | null }>();
  let pump: OutboxPump | null = null;
  const auditDeps: AuditDeps = {
    collectSnapshot: options.deps?.collectSnapshot ?? collectSnapshot,
    collectWindow: options.deps?.collectWindow ?? collectWindow,
  };
  const replicaId = config.replica.id;
  const leases = createLeaseCoordinator(store, replicaId, () => config.targets.length);
  const runner = createAuditRunner({
    config,
    store,
    rules,
    version: options.version,
    deps: auditDeps,
    replicaId,
    log,
    scheduler,
    withTarget: async (name, body) => {
      const sampler = samplers.get(name);
      if (!sampler) throw new Error(`target ${name} is not configured`);
      return sampler.withTarget(body);
    },
    onMessages: () => pump?.kick(),
  });
  const notifications: NotificationControl = {
    destinations: () => config.destinations.map((d) => ({ name: d.name, kind: d.kind, url: maskDestinationUrl(d.url) })),
    async sendTest(name) {
      const destination = config.destinations.find((d) => d.name === name);
      if (!destination) return undefined;
      const body = renderTestMessage(destination.kind, destination.name, new Date().toISOString());
      return deliver(destination, body, {
        idempotencyKey: `pga-test-${randomUUID()}`,
        timeoutMs: config.delivery.timeoutMs,
        maxAttempts: 3,
        maxElapsedMs: Math.min(config.delivery.maxElapsedMs, 10_000),
      });
    },
  };

  function stateOf(status: JobStatus): TargetState {
    if (status.circuit === 'open') return 'circuit-open';
    if (status.consecutiveFailures > 0) return 'failing';
    return 'ok';
  }

  async function addTarget(t: DaemonTargetConfig, targetId: number): Promise<void> {
    const sampler = createTargetSampler({
      store,
      targetId,
      config: t,
      rules,
      resolveAfterMisses: config.lifecycle.resolveAfterMisses,
      version: options.version,
      deps: options.deps,
      logger: log,
    });
    samplers.set(t.name, sampler);
    metrics.set(t.name, { samples: 0, errors: 0, durationSecondsSum: 0, lastDurationSeconds: null });
    // Renewed at every tick; a dead owner's target moves within about two intervals.
    const leaseTtl = config.replica.leaseTtlMs > 0 ? config.replica.leaseTtlMs : Math.round(1.5 * t.intervalMs) + 2000;
    scheduler.addJob({
      name: t.name,
      cron: intervalToCron(t.intervalMs),
      runOnStart: options.sampleOnStart ?? true,
      backoff: options.backoff,
      run: async () => {
        if (!(await leases.claim(t.name, leaseTtl))) {
          await sampler.close(); // another replica samples it; do not hold connections to it
          return 'skipped';
        }
        const m = must(metrics.get(t.name), `the metrics of target ${t.name}`);
        try {
          const outcome = await sampler.sample();
          m.samples++;
          m.durationSecondsSum += outcome.durationMs / 1000;
          m.lastDurationSeconds = outcome.durationMs / 1000;
          const { opened, reopened, resolved, escalated } = outcome.changes;
          if (opened.length + reopened.length + resolved.length + escalated.length > 0) {
            log.info(
              {
                target: t.name,
                opened: opened.length,
                reopened: reopened.length,
                resolved: resolved.length,
                escalated: escalated.length,
              },
              'findings changed',
            );
          }
          await store.targets.updateStatus(t.name, { serverVersion: outcome.serverVersion });
          return 'done';
        } catch (error) {
          m.errors++;
          log.warn({ target: t.name, error: maskUrl((error as Error).message ?? String(error)) }, 'sample failed');
          throw error;
        }
      },
      onStatus: async (status) => {
        if (status.skipped) return; // the owning replica reports this target's status
        await store.targets.updateStatus(t.name, {
          state: stateOf(status),
          lastRunAt: status.lastRunAt,
          lastSuccessAt: status.lastSuccessAt,
          lastErrorAt: status.lastErrorAt,
          lastError: status.lastError,
          lastDurationMs: status.lastDurationMs,
          consecutiveFailures: status.consecutiveFailures,
          nextRunAt: status.nextRunAt,
          owner: replicaId,
        });
      },
    });
  }

  return {
    scheduler,
    replicaId,
    async start() {
      const records = await store.targets.syncTargets(config.targets.map((t) => ({ name: t.name, maskedUrl: t.maskedUrl, intervalMs: t.intervalMs })));
      const ids = new Map(records.map((r) => [r.name, r.id]));
      const reclaimed = await reclaimFromDeadPredecessors(
        store,
        replicaId,
        config.targets.map((t) => t.name),
      );
      if (reclaimed.predecessors.length > 0) log.info({ ...reclaimed }, 'leases of a dead earlier run of this daemon reclaimed');
      await leases.heartbeat();
      scheduler.addJob({
        name: '__heartbeat',
        cron: HEARTBEAT_CRON,
        run: async () => {
          await leases.heartbeat();
          return 'done';
        },
      });
      for (const t of config.targets) await addTarget(t, must(ids.get(t.name), `the store id of target ${t.name}`));
      scheduler.addJob({
        name: '__retention',
        cron: RETENTION_CRON,
        run: async () => {
          const removed = await store.applyRetention(config.retention);
          log.info({ ...removed }, 'retention applied');
          return 'done';
        },
      });
      // Audits left running by a process that died (an audit takes at most its 10-minute window plus sampling).
      const abandoned = await store.audits.abandonStaleAudits(30 * 60_000);
      if (abandoned > 0) log.warn({ audits: abandoned }, 'audits abandoned by a stopped daemon marked failed');
      if (options.outboxPump ?? true) pump = addOutboxPump({ config, store, scheduler, log });
      runner.addSchedules();
      scheduler.start();
      log.info({ replica: replicaId, targets: config.targets.length, store: store.location }, 'daemon started');
    },
    async stop(timeoutMs = 10_000) {
      // Audits in progress finish (their messages are written, or the audit is recorded as failed); deliveries
      // in flight are aborted and retried by the next pump, here or in another replica.
      await runner.stop(Math.min(timeoutMs, 2000));
      pump?.abort();
      const finished = await scheduler.stop(timeoutMs);
      if (!finished) log.warn({}, 'stopping with samples still running; they are abandoned');
      await store.leases.releaseAll(replicaId).catch(() => {
        // unreleased leases expire on their own; shutdown must not wait on the store
      });
      await Promise.all([...samplers.values()].map((s) => s.close()));
    },
    sampleNow: (target) => scheduler.runNow(target),
    runAuditSchedule: (name, slot) => runner.runSchedule(name, slot),
    auditSchedules: () => runner.nextRuns(),
    pumpOutbox: async () => (pump ? pump.runNow() : null),
    notifications,
    jobStatus: (target) => scheduler.status(target),
    metrics: () => [...metrics].map(([target, m]) => ({ target, ...m })),
    async startAudit(name, windowMs) {
      if (!samplers.has(name)) return undefined;
      // The same path as a scheduled audit: it posts to the destinations of every audit schedule covering the target.
      const started = await runner.start(name, { trigger: 'api', windowMs: windowMs ?? config.audits.windowMs, schedules: runner.schedulesOf(name) });
      return started?.record;
    },
  };
}
