import pg from 'pg';
import type { ConnectTarget, Target, TargetOptions } from './api.js';
import { ConnectionError, PermissionError, SQLSTATE, sqlState, UsageError } from '../errors/errors.js';
import { maskUrl } from '../secrets/index.js';
import { APPLICATION_NAME } from './sql-marker.js';

/** Advisor sessions of this role in this database other than this one, and the session settings in force. */
export const SESSION_CHECK_SQL = `select /* pg-advisor */
  (select count(*)::int from pg_catalog.pg_stat_activity a
    where a.application_name = $1 and a.usename = current_user and a.pid <> pg_catalog.pg_backend_pid()
      and a.datname = pg_catalog.current_database()
      and a.backend_type = 'client backend') as others,
  pg_catalog.current_setting('default_transaction_read_only') as read_only,
  pg_catalog.current_setting('application_name') as application_name`;

/**
 * Runs first on every new session: remembers the server's idle_in_transaction_session_timeout (what the
 * application's sessions get) in a custom setting, then sets the advisor's own, shorter one. Sent as a
 * startup option instead, the server's value would be invisible to the settings source.
 */
export const IDLE_TIMEOUT_SQL =
  `select /* pg-advisor */ pg_catalog.set_config('pg_advisor.server_idle_in_transaction_session_timeout', ` +
  `pg_catalog.current_setting('idle_in_transaction_session_timeout'), false); ` +
  `select /* pg-advisor */ pg_catalog.set_config('idle_in_transaction_session_timeout', $IDLE$, false)`;

export const BEGIN_READ_ONLY_SQL = 'begin /* pg-advisor */ transaction read only';
export const ROLLBACK_SQL = 'rollback /* pg-advisor */';

const HARD_CAP = 5;
const DEFAULTS = { statementTimeoutMs: 5000, lockTimeoutMs: 1000, connectTimeoutMs: 5000, idleInTransactionMs: 10_000 };

/**
 * Opens a bounded, read-only pool to a target. Every session: application_name=pg-advisor,
 * default_transaction_read_only=on, statement_timeout, lock_timeout, idle_in_transaction_session_timeout
 * (server-side, sent as startup options). Refuses when this role already has as many advisor sessions
 * open as the cap allows. Throws ConnectionError / PermissionError with a hint; never leaks the password.
 */
export const connectTarget: ConnectTarget = async (options: TargetOptions): Promise<Target> => {
  const max = Math.max(1, Math.min(options.maxConnections ?? 2, HARD_CAP));
  const statementTimeoutMs = positive(options.statementTimeoutMs, DEFAULTS.statementTimeoutMs, 'statementTimeoutMs');
  const lockTimeoutMs = positive(options.lockTimeoutMs, DEFAULTS.lockTimeoutMs, 'lockTimeoutMs');
  const connectTimeoutMs = positive(options.connectTimeoutMs, DEFAULTS.connectTimeoutMs, 'connectTimeoutMs');
  const masked = maskUrl(options.url);
  const sessionOptions = [
    `-c default_transaction_read_only=on`,
    `-c statement_timeout=${statementTimeoutMs}`,
    `-c lock_timeout=${lockTimeoutMs}`,
  ].join(' ');
  const pool = new pg.Pool({
    connectionString: options.url,
    max,
    application_name: APPLICATION_NAME,
    options: sessionOptions,
    statement_timeout: statementTimeoutMs,
    lock_timeout: lockTimeoutMs,
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: 10_000,
  });
  // A session killed by the server (idle timeout, admin shutdown) must not crash the process.
  pool.on('error', () => {});
  // Every session runs IDLE_TIMEOUT_SQL once, before its first statement (awaited, never concurrent).
  const prepared = new WeakSet<pg.PoolClient>();
  const acquire = async (): Promise<pg.PoolClient> => {
    const client = await pool.connect();
    if (!prepared.has(client)) {
      try {
        await client.query(IDLE_TIMEOUT_SQL.replace('$IDLE$', `'${DEFAULTS.idleInTransactionMs}'`));
      } catch (error) {
        client.release(true);
        throw error;
      }
      prepared.add(client);
    }
    return client;
  };
  const run = async <R extends pg.QueryResultRow>(sql: string, params?: readonly unknown[]): Promise<R[]> => {
    const client = await acquire();
    let broken = false;
    try {
      return (await client.query<R>(sql, params ? [...params] : undefined)).rows;
    } catch (error) {
      broken = sqlState(error) === undefined; // a protocol/connection failure: drop that session
      throw error;
    } finally {
      client.release(broken);
    }
  };

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await pool.end();
  };

  try {
    const rows = await run<{ others: number; read_only: string; application_name: string }>(SESSION_CHECK_SQL, [
      APPLICATION_NAME,
    ]);
    const row = rows[0];
    if (!row || row.read_only !== 'on' || row.application_name !== APPLICATION_NAME) {
      throw new UsageError(`The session settings of ${masked} override the advisor's safety settings`, {
        hint: 'remove options/application_name/default_transaction_read_only from the connection URL',
      });
    }
    if (row.others >= max) {
      throw new ConnectionError(
        `${row.others} pg-advisor connection(s) of this role are already open on ${masked} (cap ${max})`,
        { hint: 'another pg-advisor run is still sampling this target; wait for it to finish or stop it' },
      );
    }
  } catch (error) {
    await close().catch(() => {});
    if (error instanceof UsageError || error instanceof ConnectionError) throw error;
    throw describeConnectError(error, masked, connectTimeoutMs);
  }

  const query: Target['query'] = async <R extends Record<string, unknown>>(sql: string, params?: readonly unknown[]) => {
    return run<R>(sql, params);
  };

  return {
    query,
    async withReadOnlyTransaction<T>(body: (q: Target['query']) => Promise<T>): Promise<T> {
      const client = await acquire();
      let broken = false;
      try {
        await client.query(BEGIN_READ_ONLY_SQL);
        return await body(async <R extends Record<string, unknown>>(sql: string, params?: readonly unknown[]) => {
          const result = await client.query<R>(sql, params ? [...params] : undefined);
          return result.rows;
        });
      } finally {
        try {
          await client.query(ROLLBACK_SQL);
        } catch {
          broken = true;
        }
        client.release(broken);
      }
    },
    close,
  };
};

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${name} must be a positive number of milliseconds`);
  return Math.round(value);
}

/** Maps a failed first connection to a typed error whose hint says what to do. Exported for tests. */
export function describeConnectError(error: unknown, masked: string, connectTimeoutMs: number): Error {
  const code = sqlState(error);
  const text = error instanceof Error ? error.message : String(error);
  const fail = (what: string, hint: string): ConnectionError =>
    new ConnectionError(`Cannot connect to ${masked}: ${what}`, { hint, cause: error });
  switch (code) {
    case 'ECONNREFUSED':
      return fail('connection refused', 'check host and port, and that PostgreSQL is running and listening there (listen_addresses, firewall)');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return fail(`host name not resolved (${code})`, 'check the host name in the connection URL and your DNS');
    case 'ECONNRESET':
      return fail('connection reset by the server', 'check sslmode and that the port belongs to PostgreSQL');
    case SQLSTATE.INVALID_PASSWORD:
      return fail('password authentication failed', 'check the user name and password in the connection URL (or PGPASSWORD / ~/.pgpass)');
    case SQLSTATE.INVALID_AUTHORIZATION:
      return fail(`the server rejected this client (${text})`, 'add a pg_hba.conf entry for this user, database and client address, then reload PostgreSQL');
    case SQLSTATE.INVALID_CATALOG_NAME:
      return fail('the database does not exist', 'check the database name in the connection URL (psql -l lists them)');
    case SQLSTATE.TOO_MANY_CONNECTIONS:
      return fail('too many connections', 'the server or this role is at its connection limit; free connections or raise max_connections / the role CONNECTION LIMIT');
    case SQLSTATE.CANNOT_CONNECT_NOW:
      return fail('the server is starting up or shutting down', 'retry in a few seconds');
    case SQLSTATE.INSUFFICIENT_PRIVILEGE:
      return new PermissionError(`Cannot connect to ${masked}: permission denied (${text})`, {
        hint: 'GRANT CONNECT ON DATABASE <db> TO <role>, and make sure the role has LOGIN',
        cause: error,
      });
    default:
      if (/timeout|timed out/i.test(text)) {
        return fail(`no answer within ${connectTimeoutMs} ms`, 'check host, port and firewall, or raise the connect timeout');
      }
      return fail(text.replaceAll(/:\/\/[^@\s]*@/g, '://***@'), 'check the connection URL');
  }
}
