import { mkdirSync } from 'node:fs';
import { acquireDirLock } from './dir-lock.js';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import { maskUrl } from '../secrets/index.js';
import type { Database } from './schema.js';

export type StoreKind = 'pglite' | 'postgres';

export interface StoreDatabaseOptions {
  /** postgres://… of a real PostgreSQL store (ADVISOR_STORE_URL); when absent, an embedded PGlite. */
  readonly url?: string;
  /** PGlite data directory (created with its parents); `memory://` for an in-memory store. */
  readonly dataDir?: string;
  /** Pool size for a PostgreSQL store (default 5). */
  readonly maxConnections?: number;
}

export interface StoreDatabase {
  readonly db: Kysely<Database>;
  readonly kind: StoreKind;
  /** Where the store lives, with any password masked (safe to log). */
  readonly location: string;
  /** Superuser-free, separate connection for session-level advisory locks (PostgreSQL only). */
  readonly connectionString: string | null;
  close(): Promise<void>;
}

export const DEFAULT_STORE_DIR = './.pg-advisor/store';

/** Opens the store database (does not migrate). Never logs the URL unmasked. */
export function createStoreDatabase(options: StoreDatabaseOptions = {}): StoreDatabase {
  if (options.url) {
    const pool = new pg.Pool({ connectionString: options.url, max: options.maxConnections ?? 5, application_name: 'pg-advisor-store' });
    // An idle client killed by the server (restart, admin shutdown) must not crash the daemon.
    pool.on('error', () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, kind: 'postgres', location: maskUrl(options.url), connectionString: options.url, close: () => db.destroy() };
  }
  const dir = options.dataDir ?? DEFAULT_STORE_DIR;
  const memory = dir.startsWith('memory://');
  if (!memory) mkdirSync(resolve(dir), { recursive: true }); // PGlite does not create parent directories
  // PGlite is single-process: a second daemon on the same directory would corrupt it.
  const lock = memory ? null : acquireDirLock(resolve(dir));
  const pglite = new PGlite(memory ? dir : resolve(dir));
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
  return {
    db,
    kind: 'pglite',
    location: memory ? dir : resolve(dir),
    connectionString: null,
    async close() {
      try {
        await db.destroy();
        if (!pglite.closed) await pglite.close();
      } finally {
        lock?.release();
      }
    },
  };
}
