import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import { maskUrl } from '../secrets/index.js';
import { acquireDirLock, type LockEvent } from './dir-lock.js';
import { StoreError } from './errors.js';
import type { Database } from './schema.js';
import { assertWholePgliteDir, pgliteOpenFailure } from './store-failure.js';

export type StoreKind = 'pglite' | 'postgres';

export interface StoreDatabaseOptions {
  /** postgres://… of a real PostgreSQL store (ADVISOR_STORE_URL); when absent, an embedded PGlite. */
  readonly url?: string;
  /** PGlite data directory (created with its parents); `memory://` for an in-memory store. */
  readonly dataDir?: string;
  /** Pool size for a PostgreSQL store (default 5). */
  readonly maxConnections?: number;
  /**
   * Changes to the embedded store's lock file noticed while running: `recreated` (it was deleted; a warning),
   * `lost` (another process replaced it: stop, or the store may be corrupted).
   */
  readonly onLockEvent?: (event: LockEvent) => void;
}

export interface StoreDatabase {
  readonly db: Kysely<Database>;
  readonly kind: StoreKind;
  /** Where the store lives, with any password masked (safe to log). */
  readonly location: string;
  /** Superuser-free, separate connection for session-level advisory locks (PostgreSQL only). */
  readonly connectionString: string | null;
  /** Resolves once the database is open; throws StoreError when an embedded store cannot be opened (damaged). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_STORE_DIR = './.pg-advisor/store';

/** Opens the store database (does not migrate). Never logs the URL unmasked. */
export function createStoreDatabase(options: StoreDatabaseOptions = {}): StoreDatabase {
  if (options.url) {
    const pool = new pg.Pool({ connectionString: options.url, max: options.maxConnections ?? 5, application_name: 'pg-advisor-store' });
    // An idle client killed by the server (restart, admin shutdown) must not crash the daemon.
    pool.on('error', () => {
      // an idle store connection the server ends is replaced; the failing query reports real errors
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, kind: 'postgres', location: maskUrl(options.url), connectionString: options.url, ready: async () => undefined, close: () => db.destroy() };
  }
  const dir = options.dataDir ?? DEFAULT_STORE_DIR;
  const memory = dir.startsWith('memory://');
  if (!memory) createDir(resolve(dir)); // PGlite does not create parent directories
  // PGlite is single-process: a second daemon on the same directory would corrupt it.
  const lock = memory ? null : acquireDirLock(resolve(dir), options.onLockEvent);
  let pglite: PGlite;
  try {
    if (!memory) assertWholePgliteDir(resolve(dir));
    pglite = new PGlite(memory ? dir : resolve(dir));
  } catch (error) {
    lock?.release();
    throw error;
  }
  // Settled either way, so an open failure nobody awaits is never an unhandled rejection.
  const opened = pglite.waitReady.then(
    () => null,
    (error: unknown) => pgliteOpenFailure(memory ? dir : resolve(dir), error),
  );
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
  return {
    db,
    kind: 'pglite',
    location: memory ? dir : resolve(dir),
    connectionString: null,
    async ready() {
      const failure = await opened;
      if (failure) throw failure;
    },
    async close() {
      try {
        // A PGlite that failed to open (its WebAssembly runtime aborted) throws the same abort again on close;
        // that failure was reported by ready() already, so closing it is skipped and only the lock released.
        if (await opened) return;
        await db.destroy();
        if (!pglite.closed) await pglite.close();
      } finally {
        lock?.release();
      }
    },
  };
}

function createDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new StoreError(`cannot create the embedded store directory ${dir} (${code})`, {
      hint: 'set store.dir (or --config) to a directory this user may write, or fix its permissions',
      cause: error,
    });
  }
}
