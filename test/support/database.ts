import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { collectSnapshot, connectTarget } from '../../src/collector/index.js';
import type { Snapshot } from '../../src/snapshot/types.js';

export interface TestDatabase {
  /** Database name (random, lowercase). */
  readonly name: string;
  /** Superuser URL of this database. */
  readonly adminUrl: string;
  /** A superuser pool on this database, for planting problems. */
  readonly admin: pg.Pool;
  /** Creates a LOGIN role in pg_monitor with CONNECT on this database only; returns its URL. */
  createMonitorRole(options?: { pgMonitor?: boolean }): Promise<string>;
  /** Creates a plain LOGIN role (no pg_monitor); returns its name and URL. */
  createRole(options?: { connectionLimit?: number; grants?: string[] }): Promise<{ name: string; url: string }>;
  /** Drops the database and the roles this helper created; closes pools. */
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string, user?: string, password?: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  if (user !== undefined) u.username = encodeURIComponent(user);
  if (password !== undefined) u.password = encodeURIComponent(password);
  return u.toString();
}

function newPool(connectionString: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString, max });
  pool.on('error', () => {}); // an idle client killed by the server must not crash the run
  return pool;
}

/**
 * A fresh database for one test file, with pg_stat_statements (and pgstattuple when asked) created.
 * Roles created through it are dropped with it.
 */
export async function createTestDatabase(options: { extensions?: string[] } = {}): Promise<TestDatabase> {
  const serverUrl = inject('pgAdminUrl');
  const name = `t_${randomBytes(5).toString('hex')}`;
  const server = new pg.Client({ connectionString: serverUrl });
  await server.connect();
  try {
    await server.query(`create database ${name}`);
  } finally {
    await server.end();
  }
  const adminUrl = withDatabase(serverUrl, name);
  const admin = newPool(adminUrl);
  for (const ext of ['pg_stat_statements', ...(options.extensions ?? [])]) {
    await admin.query(`create extension if not exists ${ext}`);
  }
  const roles: string[] = [];

  const makeRole = async (attrs: string, grants: string[]): Promise<{ name: string; url: string }> => {
    const role = `r_${randomBytes(5).toString('hex')}`;
    const password = randomBytes(8).toString('hex');
    await admin.query(`create role ${role} login password '${password}' ${attrs}`);
    roles.push(role);
    await admin.query(`grant connect on database ${name} to ${role}`);
    for (const g of grants) await admin.query(g.replaceAll('$ROLE', role));
    return { name: role, url: withDatabase(serverUrl, name, role, password) };
  };

  return {
    name,
    adminUrl,
    admin,
    async createMonitorRole({ pgMonitor = true } = {}) {
      const { url } = await makeRole(pgMonitor ? 'in role pg_monitor' : '', []);
      return url;
    },
    async createRole({ connectionLimit, grants = [] } = {}) {
      return makeRole(connectionLimit === undefined ? '' : `connection limit ${connectionLimit}`, grants);
    },
    async drop() {
      await admin.end();
      const server2 = new pg.Client({ connectionString: serverUrl });
      await server2.connect();
      try {
        await server2.query(`drop database if exists ${name} with (force)`);
        for (const role of roles) await server2.query(`drop role if exists ${role}`);
      } finally {
        await server2.end();
      }
    },
  };
}

/** Runs `body` on `clients` parallel connections until `durationMs` elapses or `iterations` are done. */
export async function runWorkload(
  url: string,
  body: (client: pg.Client, iteration: number) => Promise<void>,
  options: { clients?: number; durationMs?: number; iterations?: number; applicationName?: string } = {},
): Promise<number> {
  const { clients = 2, durationMs = 1000, iterations = Number.POSITIVE_INFINITY, applicationName } = options;
  const deadline = Date.now() + durationMs;
  let done = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      const client = new pg.Client({ connectionString: url, application_name: applicationName });
      await client.connect();
      try {
        while (Date.now() < deadline && done < iterations) {
          await body(client, done++);
        }
      } finally {
        await client.end();
      }
    }),
  );
  return done;
}

/** Opens `count` connections and keeps them until released (for connection-pressure scenarios). */
export async function holdConnections(
  url: string,
  count: number,
  options: { applicationName?: string; setup?: (client: pg.Client) => Promise<void> } = {},
): Promise<{ clients: pg.Client[]; release(): Promise<void> }> {
  const clients: pg.Client[] = [];
  for (let i = 0; i < count; i++) {
    const client = new pg.Client({ connectionString: url, application_name: options.applicationName });
    client.on('error', () => {});
    await client.connect();
    if (options.setup) await options.setup(client);
    clients.push(client);
  }
  return {
    clients,
    async release() {
      await Promise.all(clients.map((c) => c.end().catch(() => {})));
    },
  };
}

/** One snapshot of the database at `url` through a fresh target, closed afterwards. */
export async function snapshotAs(url: string): Promise<Snapshot> {
  const target = await connectTarget({ url });
  try {
    return await collectSnapshot(target);
  } finally {
    await target.close();
  }
}
