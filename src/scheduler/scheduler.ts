import cron, { type ScheduledTask } from 'node-cron';
import { backoffDelayMs, DEFAULT_BACKOFF, type BackoffPolicy, type CircuitState } from './backoff.js';
import { must } from '../errors/must.js';

/** What a run did: `done`, or `skipped` (e.g. another replica holds the target). A throw is a failure. */
export type RunResult = 'done' | 'skipped';

export interface JobStatus {
  readonly name: string;
  readonly running: boolean;
  readonly circuit: CircuitState;
  readonly lastRunAt: Date | null;
  readonly lastSuccessAt: Date | null;
  readonly lastErrorAt: Date | null;
  readonly lastError: string | null;
  readonly lastDurationMs: number | null;
  readonly consecutiveFailures: number;
  /** When the job will next actually run (cron tick after any backoff); null when stopped. */
  readonly nextRunAt: Date | null;
  readonly skipped: boolean;
}

/** What started a run: a cron tick (its scheduled time, whole seconds) or a direct call (null). */
export interface JobTick {
  readonly scheduledAt: Date | null;
}

export interface JobOptions {
  readonly name: string;
  /** node-cron expression (6 fields, seconds first; 5 fields start at second 0). */
  readonly cron: string;
  /** IANA time zone the cron expression is read in (default: the process's). */
  readonly timezone?: string;
  readonly run: (tick: JobTick) => Promise<RunResult>;
  /** Also run once right after start(), without waiting for the first tick. */
  readonly runOnStart?: boolean;
  readonly backoff?: BackoffPolicy;
  /** Called after every run (success, failure or skip) with the new status. Errors are swallowed. */
  readonly onStatus?: (status: JobStatus) => void | Promise<void>;
}

interface JobState {
  options: JobOptions;
  task: ScheduledTask;
  current: Promise<void> | null;
  circuit: CircuitState;
  notBefore: number;
  status: Omit<JobStatus, 'running' | 'circuit' | 'nextRunAt' | 'name'>;
}

/**
 * node-cron jobs that never overlap themselves (a tick while the previous run is busy is dropped), back
 * off exponentially with jitter after failures, and open a circuit after repeated failures (ticks are
 * dropped until the cool-down ends, then one trial run decides). Not started until start().
 */
export class Scheduler {
  readonly #jobs = new Map<string, JobState>();
  readonly #random: () => number;
  readonly #now: () => number;
  #started = false;
  #stopping = false;

  constructor(options: { random?: () => number; now?: () => number } = {}) {
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
  }

  addJob(options: JobOptions): void {
    if (this.#jobs.has(options.name)) throw new Error(`job ${options.name} already exists`);
    if (!cron.validate(options.cron)) throw new Error(`invalid cron expression for ${options.name}: ${options.cron}`);
    const task = cron.createTask(
      options.cron,
      // The tick's scheduled time (whole seconds) names the run, the same on every replica.
      (context) => this.#tick(options.name, false, new Date(Math.floor(context.date.getTime() / 1000) * 1000)),
      { name: options.name, timezone: options.timezone, noOverlap: true, logger: silentLogger },
    );
    this.#jobs.set(options.name, {
      options,
      task,
      current: null,
      circuit: 'closed',
      notBefore: 0,
      status: { lastRunAt: null, lastSuccessAt: null, lastErrorAt: null, lastError: null, lastDurationMs: null, consecutiveFailures: 0, skipped: false },
    });
    if (this.#started) this.#startJob(options.name);
  }

  start(): void {
    this.#started = true;
    for (const name of this.#jobs.keys()) this.#startJob(name);
  }

  /** Runs a job now, ignoring backoff (joins the run in progress, if any); resolves when that run ends. */
  async runNow(name: string): Promise<void> {
    await this.#tick(name, true);
  }

  /** Exactly what a cron tick does: dropped while the job runs, backs off or has its circuit open. Resolves when a started run ends. */
  async tick(name: string): Promise<void> {
    await this.#tick(name);
  }

  status(name: string): JobStatus | undefined {
    const job = this.#jobs.get(name);
    return job ? this.#statusOf(job) : undefined;
  }

  statuses(): JobStatus[] {
    return [...this.#jobs.values()].map((j) => this.#statusOf(j));
  }

  /** Stops all ticks, then waits up to `timeoutMs` for running jobs to finish. True when all finished. */
  async stop(timeoutMs = 10_000): Promise<boolean> {
    this.#stopping = true;
    for (const job of this.#jobs.values()) await job.task.destroy();
    const running = [...this.#jobs.values()].flatMap((j) => (j.current ? [j.current] : []));
    if (running.length === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const finished = await Promise.race([Promise.allSettled(running).then(() => true), timeout]);
    clearTimeout(timer);
    return finished;
  }

  #startJob(name: string): void {
    const job = must(this.#jobs.get(name), `job ${name}`);
    void job.task.start();
    if (job.options.runOnStart) void this.#tick(name);
  }

  #statusOf(job: JobState): JobStatus {
    const next = job.task.getNextRun();
    let nextRunAt: Date | null = next;
    if (next && job.notBefore > next.getTime()) {
      nextRunAt = job.task.getNextRuns(1000).find((d) => d.getTime() >= job.notBefore) ?? new Date(job.notBefore);
    }
    return { name: job.options.name, running: job.current !== null, circuit: job.circuit, nextRunAt: this.#stopping ? null : nextRunAt, ...job.status };
  }

  async #tick(name: string, force = false, scheduledAt: Date | null = null): Promise<void> {
    const job = this.#jobs.get(name);
    if (!job || (this.#stopping && !force)) return;
    if (job.current) return force ? job.current : undefined; // never overlap
    const now = this.#now();
    if (!force && now < job.notBefore) return; // backing off, or circuit open
    if (job.circuit === 'open') job.circuit = 'half-open';
    job.current = this.#run(job, scheduledAt).finally(() => {
      job.current = null;
    });
    return job.current;
  }

  async #run(job: JobState, scheduledAt: Date | null): Promise<void> {
    const started = this.#now();
    const policy = job.options.backoff ?? DEFAULT_BACKOFF;
    try {
      const result = await job.options.run({ scheduledAt });
      const end = this.#now();
      job.status = { ...job.status, lastRunAt: new Date(started), lastDurationMs: end - started, skipped: result === 'skipped' };
      if (result === 'done') {
        job.status = { ...job.status, lastSuccessAt: new Date(end), consecutiveFailures: 0 };
        job.circuit = 'closed';
        job.notBefore = 0;
      }
    } catch (error) {
      const end = this.#now();
      const failures = job.status.consecutiveFailures + 1;
      const message = error instanceof Error ? error.message : String(error);
      job.status = {
        ...job.status,
        lastRunAt: new Date(started),
        lastDurationMs: end - started,
        lastErrorAt: new Date(end),
        lastError: message,
        consecutiveFailures: failures,
        skipped: false,
      };
      if (job.circuit === 'half-open' || failures >= policy.openAfterFailures) {
        job.circuit = 'open';
        job.notBefore = end + policy.openForMs;
      } else {
        job.notBefore = end + backoffDelayMs(failures, policy, this.#random());
      }
    }
    try {
      await job.options.onStatus?.(this.#statusOf({ ...job, current: null }));
    } catch {
      // status reporting must never break the job
    }
  }
}

/** node-cron's own logging: the scheduler reports runs through JobStatus instead. */
const ignore = (): void => undefined;
const silentLogger = { info: ignore, warn: ignore, error: ignore, debug: ignore };
