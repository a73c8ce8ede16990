import { collectSnapshot, collectWindow } from '../collector/index.js';
import { maskUrl } from '../collector/mask-url.js';
import type { DaemonConfig, DaemonTargetConfig } from '../config/daemon/index.js';
import type { AnyRule } from '../engine/types.js';
import { intervalToCron, Scheduler, type BackoffPolicy, type JobStatus } from '../scheduler/index.js';
import type { AuditRecord, Store, TargetState } from '../store/index.js';
import { runAuditReport, type AuditDeps } from './audit.js';
import { createLeaseCoordinator, HEARTBEAT_CRON } from './replicas.js';
import { createTargetSampler, type SamplerDeps, type TargetSampler } from './sample-target.js';

export interface DaemonLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface TargetMetrics {
  readonly target: string;
  readonly samples: number;
  readonly errors: number;
  /** Sum and last of sample durations (seconds). */
  readonly durationSecondsSum: number;
  readonly lastDurationSeconds: number | null;
}

/** What the API needs from a running daemon. */
export interface DaemonControl {
  /** Scheduler status per target name (this replica's view). */
  jobStatus(target: string): JobStatus | undefined;
  metrics(): readonly TargetMetrics[];
  /** Starts an audit; resolves with the stored record (status `running`) once it is registered. */
  startAudit(target: string, windowMs: number | null): Promise<AuditRecord | undefined>;
  readonly replicaId: string;
}

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
}

export interface Daemon extends DaemonControl {
  start(): Promise<void>;
  /** Stops ticks, waits for running samples and audits (up to timeoutMs), releases leases, closes targets. */
  stop(timeoutMs?: number): Promise<void>;
  /** Runs one target's sample job now (tests). */
  sampleNow(target: string): Promise<void>;
  readonly scheduler: Scheduler;
}

const RETENTION_CRON = '0 17 * * * *';
const quiet: DaemonLogger = { info() {}, warn() {}, error() {} };

/**
 * The sampling daemon: one job per target (at its interval, never overlapping, with backoff and a
 * circuit breaker), a lease per target so several replicas on one store divide the targets, an hourly
 * retention job, and on-demand audits.
 */
export function createDaemon(options: DaemonOptions): Daemon {
  const { config, store, rules } = options;
  const log = options.logger ?? quiet;
  const scheduler = new Scheduler();
  const samplers = new Map<string, TargetSampler>();
  const metrics = new Map<string, { samples: number; errors: number; durationSecondsSum: number; lastDurationSeconds: number | null }>();
  const audits = new Set<Promise<void>>();
  const auditDeps: AuditDeps = {
    collectSnapshot: options.deps?.collectSnapshot ?? collectSnapshot,
    collectWindow: options.deps?.collectWindow ?? collectWindow,
  };
  const replicaId = config.replica.id;
  const leases = createLeaseCoordinator(store, replicaId, () => config.targets.length);

  function stateOf(status: JobStatus): TargetState {
    if (status.circuit === 'open') return 'circuit-open';
    if (status.consecutiveFailures > 0) return 'failing';
    return 'ok';
  }

  async function addTarget(t: DaemonTargetConfig, targetId: number): Promise<void> {
    const sampler = createTargetSampler({ store, targetId, config: t, rules, resolveAfterMisses: config.lifecycle.resolveAfterMisses, deps: options.deps });
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
        const m = metrics.get(t.name)!;
        try {
          const outcome = await sampler.sample();
          m.samples++;
          m.durationSecondsSum += outcome.durationMs / 1000;
          m.lastDurationSeconds = outcome.durationMs / 1000;
          const { opened, reopened, resolved, escalated } = outcome.changes;
          if (opened.length + reopened.length + resolved.length + escalated.length > 0) {
            log.info('findings changed', { target: t.name, opened: opened.length, reopened: reopened.length, resolved: resolved.length, escalated: escalated.length });
          }
          await store.targets.updateStatus(t.name, { serverVersion: outcome.serverVersion });
          return 'done';
        } catch (error) {
          m.errors++;
          log.warn('sample failed', { target: t.name, error: maskUrl((error as Error).message ?? String(error)) });
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
      await leases.heartbeat();
      scheduler.addJob({
        name: '__heartbeat',
        cron: HEARTBEAT_CRON,
        run: async () => {
          await leases.heartbeat();
          return 'done';
        },
      });
      for (const t of config.targets) await addTarget(t, ids.get(t.name)!);
      scheduler.addJob({
        name: '__retention',
        cron: RETENTION_CRON,
        run: async () => {
          const removed = await store.applyRetention(config.retention);
          log.info('retention applied', { ...removed });
          return 'done';
        },
      });
      scheduler.start();
      log.info('daemon started', { replica: replicaId, targets: config.targets.length, store: store.location });
    },
    async stop(timeoutMs = 10_000) {
      const finished = await scheduler.stop(timeoutMs);
      if (!finished) log.warn('stopping with samples still running; they are abandoned', {});
      await Promise.race([Promise.allSettled([...audits]), new Promise((r) => setTimeout(r, Math.min(timeoutMs, 2000)).unref())]);
      await store.leases.releaseAll(replicaId).catch(() => {});
      await Promise.all([...samplers.values()].map((s) => s.close()));
    },
    sampleNow: (target) => scheduler.runNow(target),
    jobStatus: (target) => scheduler.status(target),
    metrics: () => [...metrics].map(([target, m]) => ({ target, ...m })),
    async startAudit(name, windowMs) {
      const t = config.targets.find((x) => x.name === name);
      const sampler = samplers.get(name);
      const record = await store.targets.findTarget(name);
      if (!t || !sampler || !record) return undefined;
      const effectiveWindow = windowMs ?? config.audits.windowMs;
      const id = await store.audits.startAudit(record.id, { trigger: 'api', windowMs: effectiveWindow });
      const run = sampler
        .withTarget((target) => runAuditReport(target, t, rules, effectiveWindow, auditDeps, options.version))
        .then((report) => store.audits.finishAudit(id, { report }))
        .catch((error: unknown) => store.audits.finishAudit(id, { error: maskUrl((error as Error).message ?? String(error)) }))
        .catch(() => {})
        .finally(() => audits.delete(run));
      audits.add(run);
      return store.audits.findAudit(id);
    },
  };
}
