/**
 * The audit runner: audits that post to chat. Each configured audit schedule is a scheduler job (its cron
 * expression read in its time zone, never overlapping itself) that audits its targets one after the
 * other through the audit pipeline (optional window) → compare with the target's previous audit →
 * digest → one outbox message per destination, written in the same transaction as the audit's report.
 * The outbox pump (outbox-pump.ts) delivers them. `POST /api/v1/targets/{name}/audits` goes through the
 * same completion, so it posts too.
 */
import type { Target } from '../collector/api.js';
import type { AuditScheduleConfig, DaemonConfig, DaemonTargetConfig } from '../config/daemon/index.js';
import type { AnyRule } from '../engine/types.js';
import { buildAuditDigest } from '../notify/audit.js';
import { buildOutboxDrafts, type OutboxDraft } from '../notify/outbox.js';
import type { Destination } from '../notify/types.js';
import type { Report } from '../report/index.js';
import type { Scheduler } from '../scheduler/index.js';
import { maskUrl } from '../secrets/index.js';
import type { AuditRecord, Store } from '../store/index.js';
import { runAuditReport, type AuditDeps } from './audit.js';
import type { Logger } from '../logger.js';

/** Scheduler job names of audit schedules (a target name cannot contain a colon). */
export const AUDIT_JOB_PREFIX = 'audit:';

export interface AuditRunnerOptions {
  readonly config: DaemonConfig;
  readonly store: Store;
  readonly rules: readonly AnyRule[];
  readonly version: string;
  readonly deps: AuditDeps;
  readonly replicaId: string;
  readonly log: Pick<Logger, 'info' | 'warn'>;
  /** Runs the audit schedules' cron ticks (in each schedule's time zone). */
  readonly scheduler: Scheduler;
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
  /** Adds one scheduler job per audit schedule (they tick once the scheduler starts). */
  addSchedules(): void;
  /** Each schedule's next tick (null before start and after stop). */
  nextRuns(): { readonly name: string; readonly nextRunAt: Date | null }[];
  /** Stops starting audits and waits (up to timeoutMs) for audits in progress; the scheduler stops the ticks. */
  stop(timeoutMs: number): Promise<void>;
}

export function createAuditRunner(options: AuditRunnerOptions): AuditRunner {
  const { config, store, log } = options;
  const destinations = new Map(config.destinations.map((d) => [d.name, d]));
  const inFlight = new Set<Promise<void>>();
  const running = new Set<string>();
  let stopping = false;

  const targetConfig = (name: string): DaemonTargetConfig | undefined => config.targets.find((t) => t.name === name);

  async function complete(auditId: number, targetId: number, targetName: string, report: Report, schedules: readonly AuditScheduleConfig[]): Promise<number> {
    const current = report.findings;
    const previous = await store.audits.previousFindings(targetId, auditId);
    const fingerprints = [...current, ...(previous ?? [])].map((f) => f.fingerprint);
    const findingIds = schedules.length > 0 && config.publicBaseUrl ? await store.audits.findingIds(targetId, fingerprints) : {};
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
      log.info(
        {
          target: targetName,
          audit: schedule.name,
          new: digest.counts.new,
          escalated: digest.counts.escalated,
          resolved: digest.counts.resolved,
          unchanged: digest.unchanged,
          messages: mine.length,
        },
        'audit digest',
      );
    }
    await store.audits.finishAuditWithMessages(auditId, report, drafts);
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
        log.warn({ target: name, error: message }, 'audit failed');
        await store.audits.finishAudit(id, { error: message }).catch(() => {
          // the audit failure is logged above; a store that cannot record it is reported by its own next write
        });
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
          if (!(await store.audits.claimAuditSlot(name, target, slot, options.replicaId))) continue; // another replica runs it
          const started = await start(target, { trigger: 'schedule', windowMs: schedule.windowMs, schedules: [schedule] });
          await started?.done;
        } catch (error) {
          log.warn({ audit: name, target, error: maskUrl((error as Error).message ?? String(error)) }, 'scheduled audit failed');
        }
      }
    } finally {
      running.delete(name);
    }
  }

  return {
    start,
    nextRuns: () =>
      config.audits.schedules.map((s) => ({ name: s.name, nextRunAt: options.scheduler.status(`${AUDIT_JOB_PREFIX}${s.name}`)?.nextRunAt ?? null })),
    schedulesOf: (target) => config.audits.schedules.filter((s) => s.targets.includes(target)),
    runSchedule,
    addSchedules() {
      for (const s of config.audits.schedules) {
        options.scheduler.addJob({
          name: `${AUDIT_JOB_PREFIX}${s.name}`,
          cron: s.cron,
          timezone: s.timezone,
          // A failed target is logged and recorded per audit; the schedule itself never backs off.
          run: async ({ scheduledAt }) => {
            await runSchedule(s.name, scheduledAt ?? undefined);
            return 'done';
          },
        });
      }
    },
    async stop(timeoutMs) {
      stopping = true;
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
