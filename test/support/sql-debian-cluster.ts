/**
 * A throwaway Debian PostgreSQL 15 cluster (initdb/pg_ctl as the postgres OS user, in a temp dir) for the
 * hypopg tests: embedded clusters cannot load extensions that are not bundled with them.
 * CI: `apt-get update && apt-get install -y postgresql-15 postgresql-15-hypopg`.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const BIN = '/usr/lib/postgresql/15/bin';
const HYPOPG_SO = '/usr/lib/postgresql/15/lib/hypopg.so';

export interface DebianCluster {
  readonly url: string;
  stop(): void;
}

/** Why the cluster cannot be started here, or null when it can. */
export function debianHypopgUnavailableReason(): string | null {
  if (!existsSync(join(BIN, 'initdb'))) return `no Debian PostgreSQL 15 at ${BIN} (apt-get install -y postgresql-15)`;
  if (!existsSync(HYPOPG_SO)) return 'hypopg is not installed for PostgreSQL 15 (apt-get install -y postgresql-15-hypopg)';
  if (process.getuid?.() !== 0) return 'starting a cluster as the postgres OS user needs root';
  try {
    execFileSync('id', ['postgres'], { stdio: 'ignore' });
  } catch {
    return 'no postgres OS user';
  }
  return null;
}

function asPostgres(command: string, args: string[]): void {
  execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { stdio: 'pipe', timeout: 60_000 });
}

export function startDebianCluster(): DebianCluster {
  const dir = mkdtempSync(join(tmpdir(), 'pga-pg15-'));
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  const port = 20_000 + Math.floor(Math.random() * 12_000);
  asPostgres(join(BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c shared_preload_libraries=pg_stat_statements',
    '-c compute_query_id=on',
    '-c fsync=off',
    '-c max_connections=40',
  ].join(' ');
  asPostgres(join(BIN, 'pg_ctl'), ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        asPostgres(join(BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export interface HypopgApp {
  readonly cluster: DebianCluster;
  /** Superuser URL of database `app`. */
  readonly appUrl: string;
  /** URL of `app` as `role` with password `pw`. */
  roleUrl(role: string): string;
}

/**
 * A Debian PostgreSQL 15 cluster with database `app`: pg_stat_statements, hypopg and `setupSql` (the index plant of
 * the test, roles …) run as the superuser. The caller stops `cluster`.
 */
export async function startHypopgApp(setupSql: readonly string[]): Promise<HypopgApp> {
  const cluster = startDebianCluster();
  const server = new pg.Client({ connectionString: cluster.url });
  await server.connect();
  try {
    await server.query('create database app');
  } finally {
    await server.end();
  }
  const appUrl = cluster.url.replace(/\/postgres$/, '/app');
  const admin = new pg.Client({ connectionString: appUrl });
  await admin.connect();
  try {
    await admin.query('create extension pg_stat_statements; create extension hypopg');
    for (const sql of setupSql) await admin.query(sql);
  } finally {
    await admin.end();
  }
  return { cluster, appUrl, roleUrl: (role) => appUrl.replace('postgres@', `${role}:pw@`) };
}
