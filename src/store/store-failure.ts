import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AdvisorError, SQLSTATE, sqlState } from '../errors/errors.js';
import { LOCK_FILE } from './dir-lock.js';
import { StoreError } from './errors.js';

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ECONNRESET',
  'EAI_AGAIN',
  SQLSTATE.CANNOT_CONNECT_NOW,
  SQLSTATE.ADMIN_SHUTDOWN,
  SQLSTATE.TOO_MANY_CONNECTIONS,
]);

/** A PGlite directory that is not a whole store; the hint says how to start over without losing it. */
export function damagedStore(dir: string, what: string, cause?: unknown): StoreError {
  return new StoreError(`the embedded store ${dir} is damaged: ${what}`, {
    hint:
      `stop every pg-advisor using it, move it aside (mv ${dir} ${dir}.damaged) and start again for an empty store ` +
      '(findings and history start over), or restore the directory from a backup',
    cause,
  });
}

/**
 * Checks, before PGlite opens it, that a non-empty directory looks like a whole PGlite store. PGlite would
 * otherwise initialise a fresh cluster over a half-deleted one (silently losing what is left) or abort.
 */
export function assertWholePgliteDir(dir: string): void {
  const entries = readdirSync(dir).filter((e) => e !== LOCK_FILE);
  if (entries.length === 0) return; // new store
  const missing = ['PG_VERSION', 'base', join('global', 'pg_control')].filter((p) => !existsSync(join(dir, p)));
  if (missing.length > 0) {
    throw damagedStore(dir, `it holds ${entries.length} entries but no ${missing.join(', ')} (half-deleted, or not a pg-advisor store directory)`);
  }
}

/** Why PGlite could not open a directory that looked whole (corrupt control file, WAL, catalog). */
export function pgliteOpenFailure(dir: string, cause: unknown): StoreError {
  const text = cause instanceof Error ? cause.message : String(cause);
  return damagedStore(dir, `PGlite cannot open it (${text.split('\n')[0]?.slice(0, 200)})`, cause);
}

/**
 * A failure of the store before or during migrations, classified: unreachable, login refused, missing
 * database, missing privilege, or (PGlite) damaged. Typed AdvisorErrors pass through.
 */
export function classifyStoreFailure(
  error: unknown,
  store: { readonly kind: 'pglite' | 'postgres'; readonly location: string },
  migration?: string,
): AdvisorError {
  if (error instanceof AdvisorError) return error;
  const code = sqlState(error);
  const text = error instanceof Error ? error.message : String(error);
  const where = migration ? `store migration ${migration} failed on ${store.location}` : `the store ${store.location} cannot be used`;
  // PGlite: a failure that is no SQL error (an aborted WebAssembly runtime), or a data-corruption / system error
  // class (XX001 data_corrupted, 58P01 undefined_file …), means the directory itself is broken.
  if (store.kind === 'pglite' && (!code?.match(/^[0-9A-Z]{5}$/) || /^(XX|58)/.test(code))) return pgliteOpenFailure(store.location, error);
  if (code && CONNECTION_CODES.has(code)) {
    return new StoreError(`cannot reach the store ${store.location}: ${text}`, {
      hint: 'check that the store server is up and that ADVISOR_STORE_URL names the right host and port',
      cause: error,
    });
  }
  if (code === SQLSTATE.INVALID_PASSWORD || code === SQLSTATE.INVALID_AUTHORIZATION) {
    return new StoreError(`the store ${store.location} refused the login: ${text}`, {
      hint: 'check the user and password in ADVISOR_STORE_URL (and pg_hba.conf)',
      cause: error,
    });
  }
  if (code === SQLSTATE.INVALID_CATALOG_NAME) {
    return new StoreError(`the store database does not exist: ${text}`, {
      hint: 'create it (createdb) or fix the database name in ADVISOR_STORE_URL',
      cause: error,
    });
  }
  if (code === SQLSTATE.INSUFFICIENT_PRIVILEGE) {
    return new StoreError(`${where}: ${text}`, {
      hint: 'the store user must be allowed to create tables in its schema the first time; grant it (or run `pg-advisor migrate` as the owner)',
      cause: error,
    });
  }
  return new StoreError(`${where}: ${text}`, {
    hint: 'run `pg-advisor migrate` to retry; if it fails again, see the daemon log (--debug) and report it',
    cause: error,
  });
}
