import pg from 'pg';
import type { ConnectTarget, Target, TargetOptions } from './api.js';
import { ConnectionError, PermissionError, SQLSTATE, sqlState, UsageError } from '../errors/errors.js';
import { CLOSE_GRACE_MS, collectionDeadlineMs, destroyClientSocket, queryDeadlineMs, queryWithin } from './deadline.js';
import { maskUrl } from '../secrets/index.js';
import {
  refuseUnsafeUrl,
  SAFETY_CHECK_SQL,
  safetyMismatches,
  safetySettingsSql,
  startupOptions,
  type SafetyCheckRow,
  type SafetySettings,
} from './session-safety.js';
import { APPLICATION_NAME } from './sql-marker.js';

export const BEGIN_READ_ONLY_SQL = 'begin /* pg-advisor */ transaction read only';
export const ROLLBACK_SQL = 'rollback /* pg-advisor */';

const HARD_CAP = 5;
/** Idle time before the first TCP keepalive probe (milliseconds). */
const KEEPALIVE_INITIAL_DELAY_MS = 10_000;
const DEFAULTS = { statementTimeoutMs: 5000, lockTimeoutMs: 1000, connectTimeoutMs: 5000, idleInTransactionMs: 10_000 };

/**
 * Opens a bounded, read-only pool to a target. Refuses a URL that overrides a safety setting (before
 * connecting). Every session: application_name=pg-advisor, default_transaction_read_only=on, statement_timeout,
 * lock_timeout (startup options, then set again after connect with idle_in_transaction_session_timeout) and TCP
 * keepalive; the first session verifies all of them. Every statement has a client-side deadline a little above
 * statement_timeout (a frozen server fails instead of hanging); close() is bounded whatever the server does.
 * Refuses when this role already has as many advisor sessions open as the cap allows. Throws UsageError /
 * ConnectionError / PermissionError with a hint; never leaks the password.
 */
export const connectTarget: ConnectTarget = async (options: TargetOptions): Promise<Target> => {
  const max = Math.max(1, Math.min(options.maxConnections ?? 2, HARD_CAP));
  const statementTimeoutMs = positive(options.statementTimeoutMs, DEFAULTS.statementTimeoutMs, 'statementTimeoutMs');
  const lockTimeoutMs = positive(options.lockTimeoutMs, DEFAULTS.lockTimeoutMs, 'lockTimeoutMs');
  const connectTimeoutMs = positive(options.connectTimeoutMs, DEFAULTS.connectTimeoutMs, 'connectTimeoutMs');
  const masked = maskUrl(options.url);
  refuseUnsafeUrl(options.url, masked);
  const safety: SafetySettings = { statementTimeoutMs, lockTimeoutMs, idleInTransactionMs: DEFAULTS.idleInTransactionMs };
  const deadlineMs = queryDeadlineMs(statementTimeoutMs);
  const pool = new pg.Pool({
    connectionString: options.url,
    max,
    application_name: APPLICATION_NAME,
    options: startupOptions(safety),
    statement_timeout: statementTimeoutMs,
    lock_timeout: lockTimeoutMs,
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: 10_000,
    // A peer that vanishes without a FIN (host down, network cut) is noticed by the kernel.
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
  });
  // A session killed by the server (idle timeout, admin shutdown) must not crash the process.
  pool.on('error', () => {
    // a session the server ends shows up as the next query's error, which is reported
  });
  // Every live session, so close() can destroy their sockets when the server does not answer.
  const sessions = new Set<pg.PoolClient>();
  pool.on('connect', (client) => {
    sessions.add(client);
    // A socket destroyed by a deadline while the client is checked out: its query gets the error instead.
    client.on('error', () => {
      // as above: the failing query reports it
    });
  });
  pool.on('remove', (client) => sessions.delete(client));
  const send = <R extends pg.QueryResultRow>(client: pg.PoolClient, sql: string, params?: readonly unknown[]) =>
    queryWithin<R>(client, sql, params, deadlineMs, statementTimeoutMs);
  // Every session runs the safety settings once, before its first statement (awaited, never concurrent).
  const prepared = new WeakSet<pg.PoolClient>();
  const acquire = async (): Promise<pg.PoolClient> => {
    const client = await pool.connect();
    if (!prepared.has(client)) {
      try {
        await send(client, safetySettingsSql(safety));
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
      return (await send<R>(client, sql, params)).rows;
    } catch (error) {
      broken = sqlState(error) === undefined || error instanceof ConnectionError; // a lost session: drop it
      throw error;
    } finally {
      client.release(broken);
    }
  };

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    // A graceful end when the server answers; otherwise the sockets are destroyed (a frozen server never
    // acknowledges a Terminate, and pool.end() would wait for checked-out sessions forever).
    const ended = pool.end().then(
      () => true,
      () => true,
    );
    let timer: NodeJS.Timeout | undefined;
    const graceful = await Promise.race([ended, new Promise<false>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS, false)))]);
    clearTimeout(timer);
    if (!graceful) for (const client of sessions) destroyClientSocket(client);
  };

  try {
    const rows = await run<SafetyCheckRow>(SAFETY_CHECK_SQL, [APPLICATION_NAME]);
    const row = rows[0];
    const mismatches = row ? safetyMismatches(row, safety) : ['no answer'];
    if (!row || mismatches.length > 0) {
      throw new UsageError(`The session settings of ${masked} override the advisor's safety settings (${mismatches.join(', ')})`, {
        hint: 'remove options, application_name and timeouts from the connection URL, and check for a pooler or proxy that rewrites session settings',
      });
    }
    if (row.others >= max) {
      throw new ConnectionError(`${row.others} pg-advisor connection(s) of this role are already open on ${masked} (cap ${max})`, {
        hint: 'another pg-advisor run is still sampling this target; wait for it to finish or stop it',
      });
    }
  } catch (error) {
    await close().catch(() => {
      // the connect error below is what the caller needs; a failed close adds nothing
    });
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
        await send(client, BEGIN_READ_ONLY_SQL);
        return await body(async <R extends Record<string, unknown>>(sql: string, params?: readonly unknown[]) => {
          const result = await send<R>(client, sql, params);
          return result.rows;
        });
      } finally {
        try {
          await send(client, ROLLBACK_SQL);
        } catch {
          broken = true;
        }
        client.release(broken);
      }
    },
    deadlines: { queryMs: deadlineMs, collectionMs: collectionDeadlineMs(statementTimeoutMs), statementTimeoutMs },
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
  const fail = (what: string, hint: string): ConnectionError => new ConnectionError(`Cannot connect to ${masked}: ${what}`, { hint, cause: error });
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
      return fail(
        'too many connections',
        'the server or this role is at its connection limit; free connections or raise max_connections / the role CONNECTION LIMIT',
      );
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
