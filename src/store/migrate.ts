import { Migrator, NO_MIGRATIONS, type MigrationResult } from 'kysely/migration';
import pg from 'pg';
import { migrations } from '../../migrations/index.js';
import type { StoreDatabase } from './database.js';
import { classifyStoreFailure } from './store-failure.js';

/** Key of the session-level advisory lock that serialises migrators of one PostgreSQL store. */
export const MIGRATION_LOCK_KEY = 7_406_151_001;

export interface MigrateResult {
  /** Names of the migrations applied by this call (empty when the store was up to date). */
  readonly applied: readonly string[];
  /** Every migration known to this version, in order. */
  readonly known: readonly string[];
}

/**
 * Brings the store to the latest migration. Idempotent; safe when several processes start at once:
 * on PostgreSQL a session-level advisory lock held on a separate connection serialises migrators
 * (kysely's own lock table is created by the migrator itself, which two first runs can race on).
 * Throws StoreError: unreachable, refused, damaged (PGlite), or naming the failed migration.
 */
export async function migrateStore(store: StoreDatabase, options: { direction?: 'latest' | 'down-all' } = {}): Promise<MigrateResult> {
  await store.ready();
  let lock: { release(): Promise<void> } | null = null;
  try {
    lock = store.kind === 'postgres' && store.connectionString ? await acquireLock(store.connectionString) : null;
  } catch (error) {
    throw classifyStoreFailure(error, store);
  }
  try {
    const migrator = new Migrator({ db: store.db, provider: { getMigrations: async () => ({ ...migrations }) } });
    const { error, results } = options.direction === 'down-all' ? await migrateAllDown(migrator) : await migrator.migrateToLatest();
    if (error) throw classifyStoreFailure(error, store, results?.find((r) => r.status === 'Error')?.migrationName);
    return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName), known: Object.keys(migrations) };
  } finally {
    if (lock) await lock.release();
  }
}

async function migrateAllDown(migrator: Migrator): Promise<{ error?: unknown; results?: MigrationResult[] }> {
  return migrator.migrateTo(NO_MIGRATIONS);
}

async function acquireLock(connectionString: string): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString, application_name: 'pg-advisor-migrate' });
  client.on('error', () => {
    // the migration query that fails reports it
  });
  await client.connect();
  await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  return {
    async release() {
      try {
        await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      } finally {
        await client.end();
      }
    },
  };
}
