/**
 * Entry points of the long-running advisor: `serve` (migrate, sample on a schedule, serve the API) and
 * `migrate`. They never set the exit code: src/cli does that from what these return or throw.
 */
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { allRules } from '../../rules/index.js';
import { assertSafeBind, buildApp } from '../api/index.js';
import { packageVersion } from '../version.js';
import { describeDaemonConfig, loadDaemonConfig, type DaemonConfig } from '../config/daemon/index.js';
import type { AnyRule } from '../engine/types.js';
import { initSqlParser } from '../sql/index.js';
import { createStore, type MigrateResult } from '../store/index.js';
import { createDaemon } from './daemon.js';

export interface ServeOptions {
  /** Daemon config file (YAML or JSON). */
  readonly configFile?: string;
  /** Environment for secrets and overrides (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Override api.host / api.port (e.g. from flags). */
  readonly host?: string;
  readonly port?: number;
  /** Stop gracefully on SIGTERM/SIGINT (default true). */
  readonly handleSignals?: boolean;
  /** pino log level of the daemon and API (default ADVISOR_LOG_LEVEL or info). */
  readonly logLevel?: string;
  readonly rules?: readonly AnyRule[];
}

export interface ServeHandle {
  /** http://host:port of the API. */
  readonly url: string;
  readonly config: DaemonConfig;
  readonly app: FastifyInstance;
  /** Stops sampling (finishing or abandoning the current samples), closes the API, pools and the store. Idempotent. */
  stop(): Promise<void>;
  /** Resolves once the daemon has stopped (after a signal or stop()). */
  readonly stopped: Promise<void>;
}

/**
 * Starts the daemon: validates the config, opens and migrates the store, starts the scheduler and the API.
 * Resolves when the API listens. Throws UsageError (config, unsafe bind) or AdvisorError (store).
 */
export async function runServe(options: ServeOptions = {}): Promise<ServeHandle> {
  const env = options.env ?? process.env;
  const rules = options.rules ?? allRules;
  const config = loadDaemonConfig({ file: options.configFile, env, rules });
  const host = options.host ?? config.api.host;
  const port = options.port ?? config.api.port;
  assertSafeBind(host, config.api.tokens);

  await initSqlParser();
  // One pino logger for the daemon and the API (fastify adds its request serializers to a child of it).
  const log = pino({ level: options.logLevel ?? env.ADVISOR_LOG_LEVEL ?? 'info' });
  let stopRef: (() => Promise<void>) | undefined;
  const store = createStore({
    url: config.store.url ?? undefined,
    dataDir: config.store.dir,
    maxConnections: config.store.maxConnections,
    // The embedded store's lock file changed under us: recreated (warn), or taken by another process (stop).
    onLockEvent: (event) => {
      if (event.kind === 'recreated') return log.warn({ lock: event.path }, event.message);
      log.error({ lock: event.path }, event.message);
      void stopRef?.();
    },
  });
  let app: FastifyInstance | undefined;
  try {
    await store.migrate();
    const version = packageVersion();
    const daemon = createDaemon({ config, store, rules, version, logger: log });
    const server = await buildApp({
      store,
      rules,
      tokens: config.api.tokens,
      daemon,
      version,
      rateLimit: config.api.rateLimit,
      host,
      loggerInstance: log,
    });
    app = server;
    app.log.info({ config: describeDaemonConfig(config) }, 'configuration');
    await daemon.start();
    const address = await app.listen({ host, port });
    const url = address.replace('[::1]', 'localhost');

    let stopping: Promise<void> | undefined;
    let resolveStopped!: () => void;
    const stopped = new Promise<void>((r) => (resolveStopped = r));
    const onSignal = (signal: NodeJS.Signals) => {
      app?.log.info({ signal }, 'shutting down');
      void stop();
    };
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        try {
          await daemon.stop(10_000);
          await server.close();
        } finally {
          await store.close();
          resolveStopped();
        }
      })();
      return stopping;
    };
    stopRef = stop;
    if (options.handleSignals ?? true) {
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    }
    app.log.info({ url, replica: daemon.replicaId, store: store.location }, 'pg-advisor daemon listening');
    return { url, config, app, stop, stopped };
  } catch (error) {
    await app?.close().catch(() => {
      // shutting down after a start failure: that failure is what gets reported
    });
    await store.close().catch(() => {
      // as above
    });
    throw error;
  }
}

export interface MigrateOptions {
  readonly configFile?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Brings the store to the latest migration and reports what ran. Safe to run while daemons run. */
export async function runMigrate(options: MigrateOptions = {}): Promise<MigrateResult & { readonly location: string }> {
  const config = loadDaemonConfig({ file: options.configFile, env: options.env ?? process.env, rules: allRules, storeOnly: true });
  const store = createStore({ url: config.store.url ?? undefined, dataDir: config.store.dir });
  try {
    const result = await store.migrate();
    return { ...result, location: store.location };
  } finally {
    await store.close();
  }
}

export { createDaemon } from './daemon.js';
export type { Daemon, DaemonLogger, DaemonOptions } from './daemon.js';
export type { DaemonControl, NotificationControl, TargetMetrics } from '../api/deps.js';
