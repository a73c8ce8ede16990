/**
 * The daemon phase of `pg-advisor demo` (all but `--once`): after planting and the report, the daemon (the
 * real `runServe`) samples the embedded demo database as the pg_monitor-only role, with a throwaway PGlite
 * store and a random admin token, while the planted workload keeps running. After `resolveAfterMs` the
 * demo fixes one planted problem (it ends billing-worker's idle transaction, as a DBA would with
 * pg_terminate_backend) so that whoever polls the API sees a finding open and then resolve. Runs until
 * Ctrl-C / SIGTERM (demo.ts cleans up).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { CliIo, OutputStream } from '../terminal/io.js';
import type { Progress } from '../terminal/progress.js';
import { runServe, type ServeHandle } from '../daemon/index.js';
import { DEMO_RULE_SETTINGS } from './scenarios/index.js';

export const DEMO_TARGET = 'shop';
/** Samples every 10 s (intervals must divide a minute); a finding resolves after two clean samples. */
export const DEMO_INTERVAL_MS = 10_000;
export const DEMO_RESOLVE_AFTER_MISSES = 2;
/** The planted application whose idle transaction the demo ends. */
const FIXED_APPLICATION = 'billing-worker';
const URL_ENV = 'PG_ADVISOR_DEMO_TARGET_URL';

export interface DemoServeInput {
  /** Superuser URL of the demo database (used only for the fix). */
  readonly adminUrl: string;
  /** The pg_monitor-only role's URL: the daemon's target. */
  readonly monitorUrl: string;
  /** API port on 127.0.0.1 (0: a free one). */
  readonly port: number;
  readonly resolveAfterMs: number;
  readonly io: CliIo;
  /** Where the API URL, token and curl lines go (stdout after a text report, else stderr). */
  readonly out: OutputStream;
  readonly progress: Progress;
  /** Registers a step of the demo's cleanup (run before the plants are released and the server stops). */
  onCleanup(step: () => Promise<void>): void;
}

interface FindingItem {
  readonly id: number;
  readonly rule: string;
  readonly severity: string;
  readonly status: string;
  readonly title: string;
  readonly object: { readonly type?: string; readonly name?: string; readonly schema?: string };
}

/** Starts the daemon against the demo database and prints how to reach it. Returns once it listens. */
export async function startDemoDaemon(input: DemoServeInput): Promise<ServeHandle> {
  const { io, progress } = input;
  const dir = mkdtempSync(join(tmpdir(), 'pg-advisor-demo-daemon-'));
  input.onCleanup(async () => rmSync(dir, { recursive: true, force: true }));
  const token = randomBytes(24).toString('hex');
  const configFile = join(dir, 'pg-advisor.json');
  writeFileSync(
    configFile,
    JSON.stringify(
      {
        targets: [
          {
            name: DEMO_TARGET,
            urlEnv: URL_ENV,
            interval: `${DEMO_INTERVAL_MS / 1000}s`,
            rules: DEMO_RULE_SETTINGS,
          },
        ],
        store: { dir: join(dir, 'store') },
        api: { host: '127.0.0.1', port: input.port },
        lifecycle: { resolveAfterMisses: DEMO_RESOLVE_AFTER_MISSES },
        replica: { id: 'demo' },
      },
      null,
      2,
    ),
  );
  progress.note(`starting the daemon: PGlite store in ${dir}/store (removed at exit), target ${DEMO_TARGET} sampled every ${DEMO_INTERVAL_MS / 1000}s`);
  // A private environment: only the secrets this config names (nothing of the caller's ADVISOR_* / DATABASE_URL).
  const handle = await runServe({
    configFile,
    env: { [URL_ENV]: input.monitorUrl, ADVISOR_API_TOKEN: token },
    handleSignals: false,
    logLevel: io.env.ADVISOR_LOG_LEVEL ?? 'warn',
  });
  input.onCleanup(() => bounded(handle.stop(), 15_000));

  let closed = false;
  const timers = new Map<'watch' | 'fix', NodeJS.Timeout>();
  const later = (which: 'watch' | 'fix', ms: number, body: () => Promise<void>): void => {
    if (!closed) timers.set(which, setTimeout(() => void body(), ms).unref());
  };
  input.onCleanup(async () => {
    closed = true;
    for (const t of timers.values()) clearTimeout(t);
  });

  const base = handle.url;
  const auth = `-H 'Authorization: Bearer ${token}'`;
  input.out.write(
    [
      '',
      `The demo keeps running: pg-advisor's daemon samples the demo database (target ${DEMO_TARGET}, as the pg_monitor-only role,`,
      `every ${DEMO_INTERVAL_MS / 1000}s) and serves its findings over the API.`,
      '',
      `  API    ${base}`,
      `  token  ${token}   (admin scope, made up for this run)`,
      `  docs   ${base}/docs   (no token needed)`,
      '',
      'Try:',
      `  curl -s ${auth} '${base}/api/v1/findings?status=open'`,
      `  curl -s ${auth} '${base}/api/v1/findings?status=resolved'`,
      `  curl -s ${auth} ${base}/api/v1/targets`,
      `  curl -s ${auth} '${base}/api/v1/targets/${DEMO_TARGET}/series?metric=connections'`,
      '',
      `In ${formatSeconds(input.resolveAfterMs)} the demo fixes one problem (it ends ${FIXED_APPLICATION}'s idle transaction); its finding`,
      `turns resolved after ${DEMO_RESOLVE_AFTER_MISSES} clean samples. Findings opening and resolving are also noted below.`,
      '',
      'Running until Ctrl-C, which stops the daemon and PostgreSQL and removes their data.',
      '(`pg-advisor demo --once` prints the report and exits instead.)',
      '',
    ].join('\n'),
  );

  const list = async (query: string): Promise<FindingItem[]> => {
    const res = await handle.app.inject({ method: 'GET', url: `/api/v1/findings?limit=500${query}`, headers: { authorization: `Bearer ${token}` } });
    if (res.statusCode !== 200) throw new Error(`GET /api/v1/findings: ${res.statusCode}`);
    return (res.json() as { items: FindingItem[] }).items;
  };

  // Notes each finding that opens or resolves (what a DBA polling the API would see).
  const seen = new Map<number, string>();
  const watch = async (): Promise<void> => {
    if (closed) return;
    try {
      for (const f of await list('')) {
        if (seen.get(f.id) === f.status) continue;
        seen.set(f.id, f.status);
        progress.note(`[${clock()}] ${f.status.padEnd(8)} #${f.id} ${f.severity} ${f.rule}: ${describeObject(f.object)}`);
      }
    } catch {
      // The daemon is stopping or busy: the next round tries again.
    }
    later('watch', 3000, watch);
  };
  void watch();

  // The fix: once the delay has passed and the finding is open (bounded wait), end the idle transaction.
  const fixAt = Date.now() + input.resolveAfterMs;
  const fix = async (): Promise<void> => {
    if (closed) return;
    const open = await list(`&rule=idle-in-transaction&status=open`).catch(() => []);
    const ready = open.some((f) => f.object.name === FIXED_APPLICATION);
    if (!ready && Date.now() < fixAt + 6 * DEMO_INTERVAL_MS) {
      later('fix', 2000, fix);
      return;
    }
    try {
      const ended = await terminateApplication(input.adminUrl, FIXED_APPLICATION);
      progress.note(
        `[${clock()}] fixed: ended ${FIXED_APPLICATION}'s idle transaction (pg_terminate_backend on ${ended} session(s), as a superuser); ` +
          `its idle-in-transaction finding resolves after ${DEMO_RESOLVE_AFTER_MISSES} clean samples`,
      );
    } catch (error) {
      progress.note(`[${clock()}] could not fix ${FIXED_APPLICATION}: ${(error as Error).message}`);
    }
  };
  later('fix', input.resolveAfterMs, fix);
  return handle;
}

async function terminateApplication(adminUrl: string, application: string): Promise<number> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'pg-advisor-demo' });
  client.on('error', () => {
    // a session the server ends shows up as the next query's error
  });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      `select count(*) filter (where pg_catalog.pg_terminate_backend(pid))::int as n
         from pg_catalog.pg_stat_activity where application_name = $1 and pid <> pg_catalog.pg_backend_pid()`,
      [application],
    );
    return rows[0]?.n ?? 0;
  } finally {
    await client.end().catch(() => {
      // best effort: the demo's server is removed at exit
    });
  }
}

function describeObject(o: FindingItem['object']): string {
  const name = o.schema && o.name ? `${o.schema}.${o.name}` : (o.name ?? '');
  return [o.type, name].filter((x) => x).join(' ');
}

function clock(): string {
  return new Date().toISOString().slice(11, 19);
}

function formatSeconds(ms: number): string {
  return ms % 60_000 === 0 && ms > 0 ? `${ms / 60_000} min` : `${Math.round(ms / 100) / 10}s`;
}

function bounded(promise: Promise<void>, ms: number): Promise<void> {
  // Bounded wait for a cleanup step; its failure cannot be acted on during shutdown.
  return Promise.race([promise.catch(() => undefined), new Promise<void>((resolve) => setTimeout(resolve, ms).unref())]);
}
