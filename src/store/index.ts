/**
 * The advisor's own database: the only code that talks to it. Hands out domain types, never rows.
 */
import { createAuditsRepository, type AuditsRepository } from './audits-repository.js';
import { createStoreDatabase, type StoreDatabaseOptions, type StoreKind } from './database.js';
import { createFindingsRepository, type FindingsRepository } from './findings-repository.js';
import { createLeasesRepository, type LeasesRepository } from './leases-repository.js';
import { migrateStore, type MigrateResult } from './migrate.js';
import { createOutboxRepository, type OutboxRepository } from './outbox-repository.js';
import { applyRetention, measureStoreBytes, type RetentionPolicy, type RetentionResult } from './retention.js';
import { createSamplesRepository, type SamplesRepository } from './samples-repository.js';
import { createTargetsRepository, type TargetsRepository } from './targets-repository.js';

export interface Store {
  readonly kind: StoreKind;
  /** Masked location (safe to log). */
  readonly location: string;
  readonly targets: TargetsRepository;
  readonly samples: SamplesRepository;
  readonly findings: FindingsRepository;
  readonly audits: AuditsRepository;
  readonly leases: LeasesRepository;
  /** Audit messages to chat destinations (src/notify's Outbox). */
  readonly outbox: OutboxRepository;
  migrate(): Promise<MigrateResult>;
  applyRetention(policy: RetentionPolicy, now?: Date): Promise<RetentionResult>;
  sizeBytes(): Promise<number>;
  /** Cheap round trip for readiness checks; throws when the store is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Opens the store (PGlite unless `url`); call migrate() before use. */
export function createStore(options: StoreDatabaseOptions = {}): Store {
  const database = createStoreDatabase(options);
  const { db } = database;
  return {
    kind: database.kind,
    location: database.location,
    targets: createTargetsRepository(db),
    samples: createSamplesRepository(db),
    findings: createFindingsRepository(db),
    audits: createAuditsRepository(db),
    leases: createLeasesRepository(db),
    outbox: createOutboxRepository(db),
    migrate: () => migrateStore(database),
    applyRetention: (policy, now) => applyRetention(db, policy, now),
    sizeBytes: () => measureStoreBytes(db),
    async ping() {
      await db.selectFrom('targets').select('id').limit(1).execute();
    },
    close: () => database.close(),
  };
}

export { migrateStore, MIGRATION_LOCK_KEY } from './migrate.js';
export { createStoreDatabase, DEFAULT_STORE_DIR } from './database.js';
export { DEFAULT_RETENTION } from './retention.js';
export { isStorableInstant } from './iso.js';
export { rollUpHours } from './rollup.js';
export { AuditConflictError, FindingConflictError, InvalidCursorError, StoreError } from './errors.js';
export type { LockEvent } from './dir-lock.js';
export type { MigrateResult } from './migrate.js';
export type { StoreDatabase, StoreDatabaseOptions, StoreKind } from './database.js';
export type { RetentionPolicy, RetentionResult } from './retention.js';
export type { TargetDefinition, TargetStatusUpdate, TargetsRepository } from './targets-repository.js';
export type {
  SampleInput,
  SeriesPage,
  SeriesPointInput,
  StatementDeltaInput,
  StatementOrder,
  SamplesRepository,
  StoredCheckpoint,
  TimeRange,
} from './samples-repository.js';
export type { FindingFilter, FindingPage, FindingsRepository, ActionInput } from './findings-repository.js';
export type { LifecycleChanges, LifecycleOptions } from './finding-lifecycle.js';
export type { AuditsRepository } from './audits-repository.js';
export { RUNNING_AUDIT_MAX_MS } from './audits-repository.js';
export type { LeaseState, LeasesRepository } from './leases-repository.js';
export { REPLICA_SILENCE_MS } from './leases-repository.js';
export type { OutboxRepository, OutboxRepositoryOptions } from './outbox-repository.js';
export { DEFAULT_OUTBOX_LEASE_MS } from './outbox-repository.js';
export * from './types.js';
