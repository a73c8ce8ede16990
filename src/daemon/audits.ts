/**
 * Audits that post to chat. Each configured audit schedule (node-cron expression read in its time
 * zone, never overlapping itself) audits its targets one after the other: sample (optional window) →
 * evaluate → compare with the target's previous audit → digest → one outbox message per destination,
 * written in the same transaction as the audit's report. The outbox pump (one scheduler job per
 * destination, so a failing destination never holds up the others) delivers them at least once.
 * `POST /api/v1/targets/{name}/audits` goes through the same completion, so it posts too.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Target } from '../collector/api.js';
import { maskUrl } from '../secrets/index.js';
import type { AuditScheduleConfig, DaemonConfig, DaemonTargetConfig } from '../config/daemon/index.js';
import type { AnyRule } from '../engine/types.js';
import type { Report } from '../report/index.js';
import { buildAuditDigest } from '../notify/audit.js';
import { createDispatcher, type Dispatcher } from '../notify/dispatcher.js';
import { buildOutboxDrafts, runOutboxOnce, type OutboxDraft, type OutboxRunSummary } from '../notify/outbox.js';
import type { Destination } from '../notify/types.js';
import { intervalToCron, type Scheduler } from '../scheduler/index.js';
import type { AuditRecord, Store } from '../store/index.js';
import { runAuditReport, type AuditDeps } from './audit.js';

interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface AuditRunnerOptions {
  readonly config: DaemonConfig;
  readonly store: Store;
  readonly rules: readonly AnyRule[];
  readonly version: string;
  readonly deps: AuditDeps;
  readonly replicaId: string;
  readonly log: Logger;
  /** Runs `body` on the target's pool (the sampler's, so the per-target connection cap holds). */
  readonly withTarget: <T>(name: string, body: (target: Target) => Promise<T>) => Promise<T>;
  /** Called after an audit wrote messages (the daemon kicks the outbox pump). */
  readonly onMessages?: () => void;
}

export interface AuditRunner {
  /**
   * Starts an audit of one target now; resolves with the stored record (status `running`) once it is
   * registered, and `done` with the promise of its completion.
   */
  start(
    target: string,
    input: { readonly trigger: 'api' | 'schedule'; readonly windowMs: number; readonly schedules: readonly AuditScheduleConfig[] },
  ): Promise<{ record: AuditRecord; done: Promise<void> } | undefined>;
  /** The configured schedules that audit a target (what an API audit of it posts to). */
  schedulesOf(target: string): AuditScheduleConfig[];
  /**
   * Runs one configured audit schedule over all its targets (what a cron tick does). `slot` is the
   * tick's time: of the replicas whose cron fires for it, only the first to claim (schedule, target,
   * slot) audits the target. Without a slot (tests, tools) the run is claimed as now.
   */
  runSchedule(name: string, slot?: Date): Promise<void>;
  /** Starts the cron tasks. */
  startSchedules(): void;
  /** Each schedule's next tick (null before start and after stop). */
  nextRuns(): { readonly name: string; readonly nextRunAt: Date | null }[];
  /** Stops the cron tasks and waits (up to timeoutMs) for audits in progress. */
  stop(timeoutMs: number): Promise<void>;
}

export function createAuditRunner(options: AuditRunnerOptions): AuditRunner {
  const { config, store, log } = options;
  const destinations = new Map(config.destinations.map((d) => [d.name, d]));
  const inFlight = new Set<Promise<void>>();
  const running = new Set<string>();
  const tasks = new Map<string, ScheduledTask>();
  let stopping = false;

  const targetConfig = (name: string): DaemonTargetConfig | undefined => config.targets.find((t) => t.name === name);

  async function complete(auditId: number, targetId: number, targetName: string, report: Report, schedules: readonly AuditScheduleConfig[]): Promise<number> {
    const current = report.findings;
    const previous = await store.outbox.previousFindings(targetId, auditId);
    const fingerprints = [...current, ...(previous ?? [])].map((f) => f.fingerprint);
    const findingIds = schedules.length > 0 && config.publicBaseUrl ? await store.outbox.findingIds(targetId, fingerprints) : {};
    const auditedAt = report.collectedAt;
    const drafts: OutboxDraft[] = [];
    for (const schedule of schedules) {
      const digest = buildAuditDigest({
        target: targetName,
        previous,
        current,
        minSeverity: schedule.minSeverity,
        publicBaseUrl: config.publicBaseUrl ?? undefined,
        findingIds,
        auditedAt,
      });
      const dests = schedule.destinations.map((n) => destinations.get(n)).filter((d): d is Destination => d !== undefined);
      const mine = buildOutboxDrafts({ auditId, digest, destinations: dests, quietWhenUnchanged: schedule.quietWhenUnchanged });
      // Two schedules naming the same destination: one message per (audit, destination).
      for (const d of mine) if (!drafts.some((x) => x.idempotencyKey === d.idempotencyKey)) drafts.push(d);
      log.info('audit digest', {
        target: targetName,
        audit: schedule.name,
        new: digest.counts.new,
        escalated: digest.counts.escalated,
        resolved: digest.counts.resolved,
        unchanged: digest.unchanged,
        messages: mine.length,
      });
    }
    await store.outbox.finishAuditWithMessages(auditId, report, drafts);
    return drafts.length;
  }

  async function start(
    name: string,
    input: { trigger: 'api' | 'schedule'; windowMs: number; schedules: readonly AuditScheduleConfig[] },
  ): Promise<{ record: AuditRecord; done: Promise<void> } | undefined> {
    const t = targetConfig(name);
    const record = await store.targets.findTarget(name);
    if (!t || !record) return undefined;
    const id = await store.audits.startAudit(record.id, { trigger: input.trigger, windowMs: input.windowMs });
    const done = options
      .withTarget(name, (target) => runAuditReport(target, t, options.rules, input.windowMs, options.deps, options.version))
      .then(async (report) => {
        const messages = await complete(id, record.id, name, report, input.schedules);
        if (messages > 0) options.onMessages?.();
      })
      .catch(async (error: unknown) => {
        const message = maskUrl((error as Error).message ?? String(error));
        log.warn('audit failed', { target: name, error: message });
        await store.audits.finishAudit(id, { error: message }).catch(() => {});
      })
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
    const stored = await store.audits.findAudit(id);
    return stored ? { record: stored, done } : undefined;
  }

  async function runSchedule(name: string, slot: Date = new Date()): Promise<void> {
    const schedule = config.audits.schedules.find((s) => s.name === name);
    if (!schedule || running.has(name) || stopping) return; // never overlaps itself
    running.add(name);
    try {
      for (const target of schedule.targets) {
        if (stopping) break;
        try {
          if (!(await store.outbox.claimAuditSlot(name, target, slot, options.replicaId))) continue; // another replica runs it
          const started = await start(target, { trigger: 'schedule', windowMs: schedule.windowMs, schedules: [schedule] });
          await started?.done;
        } catch (error) {
          log.warn('scheduled audit failed', { audit: name, target, error: maskUrl((error as Error).message ?? String(error)) });
        }
      }
    } finally {
      running.delete(name);
    }
  }

  return {
    start,
    nextRuns: () => config.audits.schedules.map((s) => ({ name: s.name, nextRunAt: tasks.get(s.name)?.getNextRun() ?? null })),
    schedulesOf: (target) => config.audits.schedules.filter((s) => s.targets.includes(target)),
    runSchedule,
    startSchedules() {
      for (const s of config.audits.schedules) {
        // The tick's scheduled time (whole seconds) names the run, the same on every replica.
        const task = cron.createTask(s.cron, (context) => runSchedule(s.name, new Date(Math.floor(context.date.getTime() / 1000) * 1000)), { name: `audit:${s.name}`, timezone: s.timezone, noOverlap: true, logger: silent });
        void task.start();
        tasks.set(s.name, task);
      }
    },
    async stop(timeoutMs) {
      stopping = true;
      for (const task of tasks.values()) await task.destroy();
      tasks.clear();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}

export interface OutboxPumpOptions {
  readonly config: DaemonConfig;
  readonly store: Store;
  readonly scheduler: Scheduler;
  readonly log: Logger;
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
        if (summary.claimed > 0) log.info('outbox delivered', { job, ...summary });
        if (summary.retrying + summary.failed > 0) log.warn('outbox deliveries not done', { job, retrying: summary.retrying, failed: summary.failed });
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


const silent = { info() {}, warn() {}, error() {}, debug() {} };
