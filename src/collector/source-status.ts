import type { SourceName, SourceStatus } from '../snapshot/types.js';
import { AdvisorError, ConnectionError, PermissionError, SQLSTATE, sqlState, TargetError } from '../errors/errors.js';
import { type CollectionContext, schemaUsageGrant, versionAtLeast } from './context.js';
import { BloatUnavailable } from './sources/bloat.js';

export const PGSS_SETUP_HINT = 'add pg_stat_statements to shared_preload_libraries, restart, then CREATE EXTENSION pg_stat_statements in this database';

/** Hint of a standby: what it cannot tell, and where to look instead. */
export const STANDBY_HINT = 'run pg-advisor against the primary for vacuum and dead-tuple judgements (the standby replays them, it does not keep them)';

/** Why a source cannot run at all, decided from capabilities before querying; null when it may run. */
export function unavailableUpFront(source: SourceName, ctx: CollectionContext): SourceStatus | null {
  if (source === 'vacuum' && ctx.inRecovery === true) {
    return {
      status: 'unavailable',
      reason:
        'the server is a standby (in recovery): vacuum does not run here and dead-tuple and vacuum statistics ' +
        '(n_dead_tup, last autovacuum, autovacuum progress) are not maintained, so rules needing them cannot judge',
      hint: STANDBY_HINT,
    };
  }
  if (source !== 'statements') return null;
  const caps = ctx.capabilities;
  if (caps.pgssVersion === null) {
    return {
      status: 'unavailable',
      reason: `the pg_stat_statements extension is not installed in database ${ctx.database}`,
      hint: caps.pgssLoaded ? `CREATE EXTENSION pg_stat_statements in database ${ctx.database}` : PGSS_SETUP_HINT,
    };
  }
  if (ctx.pgssSchemaDenied) {
    return {
      status: 'unavailable',
      reason: `pg_stat_statements is installed in schema ${ctx.pgssSchemaDenied}, on which ${ctx.currentUser} has no USAGE`,
      hint: schemaUsageGrant(ctx.pgssSchemaDenied, ctx.currentUser),
    };
  }
  if (!caps.pgssLoaded) {
    return {
      status: 'unavailable',
      reason: 'pg_stat_statements is installed but its library is not loaded',
      hint: 'add pg_stat_statements to shared_preload_libraries and restart PostgreSQL',
    };
  }
  if (!versionAtLeast(caps.pgssVersion, '1.8')) {
    return {
      status: 'unavailable',
      reason: `pg_stat_statements ${caps.pgssVersion} is older than 1.8`,
      hint: 'ALTER EXTENSION pg_stat_statements UPDATE',
    };
  }
  if (ctx.computeQueryId === 'off') {
    return {
      status: 'unavailable',
      reason: 'compute_query_id = off: no query identifier is computed, so pg_stat_statements records no new statements ' + 'and its counters are stale',
      hint: "ALTER SYSTEM SET compute_query_id = 'auto'; SELECT pg_reload_conf(); (and remove any database or role setting that turns it off)",
    };
  }
  return null;
}

/**
 * A source's status after its statement failed: `unavailable` when a privilege or an extension is missing
 * (the exact grant or extension that fixes it), `failed` for everything else (timeout, lock, unexpected error).
 */
export function failedSourceStatus(source: SourceName, error: unknown, ctx: CollectionContext): SourceStatus {
  if (error instanceof BloatUnavailable) return { status: 'unavailable', reason: error.message, hint: error.hint };
  const code = sqlState(error);
  const message = error instanceof Error ? error.message : String(error);
  const reason = code ? `${message} (SQLSTATE ${code})` : message;
  const role = ctx.currentUser;
  switch (code) {
    case SQLSTATE.INSUFFICIENT_PRIVILEGE:
      return {
        status: 'unavailable',
        reason,
        hint: source === 'bloat' ? `GRANT pg_stat_scan_tables TO ${role} (or pg_monitor) to run pgstattuple` : `GRANT pg_monitor TO ${role}`,
      };
    case SQLSTATE.UNDEFINED_TABLE:
    case SQLSTATE.UNDEFINED_FUNCTION:
      return {
        status: source === 'statements' || source === 'bloat' ? 'unavailable' : 'failed',
        reason,
        hint:
          source === 'statements'
            ? PGSS_SETUP_HINT
            : source === 'bloat'
              ? 'CREATE EXTENSION pgstattuple'
              : 'report this as a bug: a catalog object is missing on this server version',
      };
    case SQLSTATE.OBJECT_NOT_IN_PREREQUISITE_STATE:
      return source === 'statements' ? { status: 'unavailable', reason, hint: PGSS_SETUP_HINT } : { status: 'failed', reason, hint: 'check the server log' };
    case SQLSTATE.QUERY_CANCELED:
      return {
        status: 'failed',
        reason,
        hint: 'the query hit statement_timeout (large catalogs or a busy server); raise --statement-timeout (statementTimeout) or collect off-peak',
      };
    case SQLSTATE.LOCK_NOT_AVAILABLE:
      return { status: 'failed', reason, hint: 'another session held a conflicting lock beyond lock_timeout; retry later' };
    default:
      return { status: 'failed', reason, hint: 'retry; if it persists, report it with the message above' };
  }
}

/** Server info is required: its failure ends the collection with a typed error and a hint. */
export function describeServerInfoError(error: unknown): Error {
  if (error instanceof AdvisorError) return error;
  const code = sqlState(error);
  const message = `Cannot read server information: ${error instanceof Error ? error.message : String(error)}`;
  switch (code) {
    case SQLSTATE.INSUFFICIENT_PRIVILEGE:
      return new PermissionError(message, { hint: 'GRANT pg_monitor TO <role>', cause: error });
    case SQLSTATE.QUERY_CANCELED:
      return new TargetError(message, { hint: 'the server is too busy to answer within statement_timeout; retry or raise statementTimeoutMs', cause: error });
    case SQLSTATE.ADMIN_SHUTDOWN:
    case SQLSTATE.CANNOT_CONNECT_NOW:
      return new ConnectionError(message, { hint: 'the server is shutting down or restarting; retry later', cause: error });
    case undefined:
    case 'ECONNRESET':
    case 'ECONNREFUSED':
    case 'EPIPE':
      return new ConnectionError(message, { hint: 'the connection to the target was lost; retry later', cause: error });
    default:
      return new ConnectionError(message, { hint: 'check that the target is reachable and retry', cause: error });
  }
}

/** The session died (server shutdown, network) rather than one statement failing. */
export function isConnectionLost(error: unknown): boolean {
  if (error instanceof ConnectionError) return true; // e.g. a statement past its client-side deadline
  const code = sqlState(error);
  if (code === SQLSTATE.ADMIN_SHUTDOWN || code === SQLSTATE.CANNOT_CONNECT_NOW) return true;
  if (code !== undefined && /^[0-9A-Z]{5}$/.test(code)) return false;
  const message = error instanceof Error ? error.message : String(error);
  return (
    /Connection terminated|ECONNRESET|ECONNREFUSED|EPIPE|timeout exceeded when trying to connect/i.test(message) ||
    code === 'ECONNRESET' ||
    code === 'ECONNREFUSED' ||
    code === 'EPIPE'
  );
}
