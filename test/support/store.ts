/**
 * The advisor's store for a test file, on each kind the daemon supports: PGlite in memory, or a real
 * PostgreSQL database of its own (dropped by close()).
 */
import { createStore, type Store } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export const STORE_KINDS = ['pglite', 'postgres'] as const;
export type TestStoreKind = (typeof STORE_KINDS)[number];

export interface TestStore {
  readonly store: Store;
  /** The PostgreSQL store's database (for a second store on the same data); null on PGlite. */
  readonly database: TestDatabase | null;
  /** Closes the store and drops its database. */
  close(): Promise<void>;
}

/** Opens (and by default migrates) a fresh store of `kind`. */
export async function openTestStore(kind: TestStoreKind, options: { migrate?: boolean } = {}): Promise<TestStore> {
  const database = kind === 'postgres' ? await createTestDatabase() : null;
  const store = database ? createStore({ url: database.adminUrl }) : createStore({ dataDir: 'memory://' });
  if (options.migrate ?? true) await store.migrate();
  return {
    store,
    database,
    async close() {
      await store.close();
      await database?.drop();
    },
  };
}
