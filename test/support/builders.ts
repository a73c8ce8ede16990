/**
 * Snapshot builders for rule tests: healthy defaults (PostgreSQL 17, every source `ok`, default GUCs)
 * so a case states only what matters. Every call returns fresh objects; the tester freezes them.
 */
import { SNAPSHOT_FORMAT_VERSION } from '../../src/snapshot/types.js';
import type {
  Backend,
  BloatState,
  LockHolder,
  ReplicationSlot,
  ReplicationState,
  LocksState,
  LockWait,
  ColumnStat,
  ConstraintStat,
  DatabaseStat,
  HorizonHolder,
  IndexBloat,
  IndexStat,
  RoleStat,
  SequenceStat,
  SequencesState,
  Settings,
  Snapshot,
  SnapshotMeta,
  SourceName,
  StatementStat,
  TableBloat,
  TableStat,
  VacuumProgress,
  VacuumState,
} from '../../src/snapshot/types.js';
import type { Sample, TableDelta, Window } from '../../src/snapshot/window-types.js';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

type SnapshotOverrides = Partial<Omit<Snapshot, 'meta' | 'settings' | 'vacuum' | 'bloat'>> & {
  readonly meta?: Partial<SnapshotMeta>;
  readonly settings?: Partial<Settings> | null;
  readonly vacuum?: Partial<VacuumState> | null;
  readonly bloat?: Partial<BloatState> | null;
};

const ALL_SOURCES: readonly SourceName[] = [
  'settings',
  'statements',
  'activity',
  'databases',
  'roles',
  'tables',
  'indexes',
  'constraints',
  'columns',
  'vacuum',
  'bloat',
  'sequences',
  'locks',
  'replication',
];

export function makeSettings(overrides: Partial<Settings> = {}): Settings {
  return {
    maxConnections: 100,
    superuserReservedConnections: 3,
    reservedConnections: 0,
    autovacuum: true,
    trackCounts: true,
    autovacuumNaptimeSeconds: 60,
    autovacuumMaxWorkers: 3,
    autovacuumVacuumThreshold: 50,
    autovacuumVacuumScaleFactor: 0.2,
    autovacuumVacuumMaxThreshold: null,
    autovacuumVacuumInsertThreshold: 1000,
    autovacuumVacuumInsertScaleFactor: 0.2,
    autovacuumAnalyzeThreshold: 50,
    autovacuumAnalyzeScaleFactor: 0.1,
    autovacuumFreezeMaxAge: 200_000_000,
    autovacuumMultixactFreezeMaxAge: 400_000_000,
    vacuumFailsafeAge: 1_600_000_000,
    vacuumMultixactFailsafeAge: 1_600_000_000,
    idleInTransactionSessionTimeoutMs: 0,
    blockSizeBytes: 8192,
    trackActivityQuerySize: 1024,
    ...overrides,
  };
}

export function makeMeta(overrides: Partial<SnapshotMeta> = {}): SnapshotMeta {
  const sources = Object.fromEntries(ALL_SOURCES.map((s) => [s, { status: 'ok' as const }]));
  return {
    formatVersion: SNAPSHOT_FORMAT_VERSION,
    collectedAt: '2026-01-01T12:00:00.000Z',
    serverVersionNum: 170010,
    serverVersion: '17.10',
    database: 'app',
    currentUser: 'advisor',
    searchPath: ['public'],
    capabilities: {
      superuser: false,
      pgMonitor: true,
      readAllStats: true,
      pgssLoaded: true,
      pgssVersion: '1.11',
      pgstattuple: true,
      hypopg: false,
    },
    pgssStatsReset: null,
    pgssDealloc: 0,
    collectDurationMs: 120,
    ...overrides,
    sources: { ...sources, ...overrides.sources },
  };
}

export function makeVacuumState(overrides: Partial<VacuumState> = {}): VacuumState {
  return { progress: [], horizonHolders: [], autovacuumWorkers: 0, nextXid: 1_000_000, ...overrides };
}

export function makeSnapshot(overrides: SnapshotOverrides = {}): Snapshot {
  const { meta, settings, vacuum, bloat, ...rest } = overrides;
  return {
    meta: makeMeta(meta),
    settings: settings === null ? null : makeSettings(settings),
    statements: [],
    activity: [makeBackend({ pid: 1000, applicationName: 'pg-advisor', userName: 'advisor', state: 'active', isSelf: true })],
    databases: [makeDatabase()],
    roles: [makeRole({ name: 'advisor', backends: 1 })],
    tables: [],
    indexes: [],
    constraints: [],
    columns: [],
    ...rest,
    vacuum: vacuum === null ? null : makeVacuumState(vacuum),
    bloat: bloat === null ? null : { tables: [], indexes: [], skippedOverBudget: 0, ...bloat },
  };
}

let nextPid = 2000;
export function makeBackend(overrides: Partial<Backend> = {}): Backend {
  return {
    pid: nextPid++,
    database: 'app',
    userName: 'app',
    applicationName: 'web',
    clientAddr: '10.0.0.5',
    state: 'idle',
    waitEventType: 'Client',
    waitEvent: 'ClientRead',
    backendAgeSeconds: 600,
    xactAgeSeconds: null,
    stateAgeSeconds: 2,
    queryAgeSeconds: 2,
    queryId: null,
    xminAge: null,
    xidAge: null,
    isSelf: false,
    ...overrides,
  };
}

/** `count` backends sharing the given fields (a client-side pool). */
export function makeBackends(count: number, overrides: Partial<Backend> = {}): Backend[] {
  return Array.from({ length: count }, () => makeBackend(overrides));
}

export function makeDatabase(overrides: Partial<DatabaseStat> = {}): DatabaseStat {
  return {
    oid: 16384,
    name: 'app',
    connLimit: -1,
    allowConn: true,
    isTemplate: false,
    xidAge: 5_000_000,
    mxidAge: 10,
    backends: 1,
    sessions: 100,
    sizeBytes: 500 * MiB,
    statsObservedSeconds: 30 * 86_400,
    statsObservedFrom: 'stats_reset',
    ...overrides,
  };
}

export function makeRole(overrides: Partial<RoleStat> = {}): RoleStat {
  return { oid: 16400, name: 'app', connLimit: -1, superuser: false, canLogin: true, backends: 0, searchPath: null, ...overrides };
}

export function makeTable(overrides: Partial<TableStat> = {}): TableStat {
  return {
    oid: 16500,
    schema: 'public',
    name: 'orders',
    kind: 'r',
    relpages: 12_800,
    reltuples: 1_000_000,
    relallvisible: 12_800,
    heapBytes: 100 * MiB,
    totalBytes: 150 * MiB,
    reloptions: {},
    nLiveTup: 1_000_000,
    nDeadTup: 1_000,
    nModSinceAnalyze: 1_000,
    nInsSinceVacuum: 0,
    seqScan: 10,
    seqTupRead: 10_000_000,
    idxScan: 100_000,
    nTupIns: 1_000_000,
    nTupUpd: 50_000,
    nTupDel: 1_000,
    nTupHotUpd: 20_000,
    lastVacuumAgeSeconds: null,
    lastAutovacuumAgeSeconds: 1_800,
    lastAnalyzeAgeSeconds: null,
    lastAutoanalyzeAgeSeconds: 1_800,
    vacuumCount: 0,
    autovacuumCount: 20,
    analyzeCount: 0,
    autoanalyzeCount: 20,
    xidAge: 3_000_000,
    mxidAge: 5,
    locked: false,
    ...overrides,
  };
}

export function makeIndex(overrides: Partial<IndexStat> = {}): IndexStat {
  return {
    oid: 16600,
    schema: 'public',
    name: 'orders_pkey',
    tableOid: 16500,
    table: 'orders',
    definition: 'CREATE UNIQUE INDEX orders_pkey ON public.orders USING btree (id)',
    method: 'btree',
    columns: ['id'],
    includeColumns: [],
    isUnique: true,
    isPrimary: true,
    isValid: true,
    isPartial: false,
    isReady: true,
    buildInProgress: false,
    dropInProgress: false,
    relpages: 2_800,
    reltuples: 1_000_000,
    sizeBytes: 22 * MiB,
    idxScan: 100_000,
    fillfactor: 90,
    ...overrides,
  };
}

export function makeStatement(overrides: Partial<StatementStat> = {}): StatementStat {
  return {
    userId: 16400,
    userName: 'app',
    dbId: 16384,
    queryId: '-4242424242424242424',
    toplevel: true,
    query: 'SELECT * FROM orders WHERE id = $1',
    calls: 1_000,
    rows: 1_000,
    totalExecTimeMs: 50,
    meanExecTimeMs: 0.05,
    totalPlanTimeMs: 0,
    sharedBlksHit: 3_000,
    sharedBlksRead: 0,
    sharedBlksDirtied: 0,
    tempBlksWritten: 0,
    statsSince: null,
    ...overrides,
  };
}

export function makeConstraint(overrides: Partial<ConstraintStat> = {}): ConstraintStat {
  return {
    schema: 'public',
    table: 'orders',
    tableOid: 16500,
    name: 'orders_pkey',
    type: 'p',
    columns: ['id'],
    refSchema: null,
    refTable: null,
    refTableOid: null,
    refColumns: [],
    ...overrides,
  };
}

export function makeColumn(overrides: Partial<ColumnStat> = {}): ColumnStat {
  return {
    schema: 'public',
    table: 'orders',
    column: 'id',
    dataType: 'bigint',
    nullFrac: 0,
    avgWidth: 8,
    nDistinct: -1,
    topFrequency: null,
    correlation: 1,
    ...overrides,
  };
}

export function makeHorizonHolder(overrides: Partial<HorizonHolder> = {}): HorizonHolder {
  return { kind: 'backend', name: '4242', xminAge: 320_000, ageSeconds: 43, detail: 'idle in transaction, application psql', ...overrides };
}

export function makeVacuumProgress(overrides: Partial<VacuumProgress> = {}): VacuumProgress {
  return {
    pid: 3000,
    schema: 'public',
    table: 'orders',
    phase: 'scanning heap',
    heapBlksTotal: 12_800,
    heapBlksScanned: 1_000,
    runningSeconds: 30,
    isAutovacuum: true,
    isWraparound: false,
    ...overrides,
  };
}

export function makeTableBloat(overrides: Partial<TableBloat> = {}): TableBloat {
  return {
    oid: 16500,
    schema: 'public',
    name: 'orders',
    method: 'pgstattuple_approx',
    tableBytes: 100 * MiB,
    wasteBytes: 1 * MiB,
    deadBytes: 0,
    freeBytes: 1 * MiB,
    fillfactor: 100,
    ...overrides,
  };
}

export function makeIndexBloat(overrides: Partial<IndexBloat> = {}): IndexBloat {
  return {
    oid: 16600,
    schema: 'public',
    name: 'orders_pkey',
    table: 'orders',
    method: 'pgstatindex',
    indexBytes: 22 * MiB,
    wasteBytes: 1 * MiB,
    avgLeafDensity: 86,
    fillfactor: 90,
    ...overrides,
  };
}

export function makeSample(overrides: Partial<Sample> = {}): Sample {
  const elapsed = overrides.elapsedSeconds ?? 0;
  return {
    collectedAt: new Date(Date.parse('2026-01-01T12:00:00.000Z') + elapsed * 1000).toISOString(),
    elapsedSeconds: elapsed,
    statements: [],
    activity: [],
    tables: [],
    databases: [],
    nextXid: 1_000_000,
    pgssDealloc: 0,
    ...overrides,
  };
}

export function makeTableDelta(overrides: Partial<TableDelta> = {}): TableDelta {
  return {
    oid: 16500,
    schema: 'public',
    name: 'orders',
    seqTupRead: 0,
    seqScan: 0,
    idxScan: 0,
    writes: 0,
    updates: 0,
    hotUpdates: 0,
    vacuums: 0,
    ...overrides,
  };
}

/**
 * A window; when `samples` is a number, that many 1-second samples are made, each filled by `perSample(i)`.
 */
export function makeWindow(
  overrides: Partial<Omit<Window, 'samples'>> & {
    readonly samples?: readonly Sample[] | number;
    readonly perSample?: (index: number) => Partial<Sample>;
  } = {},
): Window {
  const { samples: spec = 10, perSample, ...rest } = overrides;
  const samples: Sample[] = typeof spec === 'number' ? Array.from({ length: spec }, (_, i) => makeSample({ elapsedSeconds: i, ...perSample?.(i) })) : [...spec];
  const last = samples[samples.length - 1];
  return {
    durationSeconds: last ? last.elapsedSeconds : 0,
    samples,
    statements: [],
    tables: [],
    xidPerSecond: null,
    ...rest,
  };
}

export function makeSequence(overrides: Partial<SequenceStat> = {}): SequenceStat {
  return {
    schema: 'public',
    name: 'orders_id_seq',
    dataType: 'bigint',
    startValue: '1',
    minValue: '1',
    maxValue: '9223372036854775807',
    incrementBy: '1',
    cycle: false,
    lastValue: '1000',
    column: { schema: 'public', table: 'orders', name: 'id', type: 'bigint', identity: false },
    ...overrides,
  };
}

export function makeSequencesState(overrides: Partial<SequencesState> = {}): SequencesState {
  const sequences = overrides.sequences ?? [];
  return { sequences, unreadable: [], total: sequences.length, truncated: 0, ...overrides };
}

export function makeLockWait(overrides: Partial<LockWait> = {}): LockWait {
  return { pid: nextPid++, lockType: 'relation', mode: 'AccessShareLock', schema: 'public', relation: 'orders', waitSeconds: 30, blockedBy: [], ...overrides };
}

export function makeLockHolder(overrides: Partial<LockHolder> = {}): LockHolder {
  return {
    pid: nextPid++,
    backendType: 'client backend',
    applicationName: 'batch',
    userName: 'app',
    state: 'idle in transaction',
    waitEventType: 'Client',
    xactAgeSeconds: 900,
    queryAgeSeconds: 880,
    grantedModes: ['RowExclusiveLock'],
    ...overrides,
  };
}

export function makeLocksState(overrides: Partial<LocksState> = {}): LocksState {
  return { waits: [], holders: [], held: [], truncated: 0, ...overrides };
}

export function makeSlot(overrides: Partial<ReplicationSlot> = {}): ReplicationSlot {
  return {
    name: 'standby_1',
    type: 'physical',
    plugin: null,
    database: null,
    temporary: false,
    active: true,
    activePid: 4321,
    xminAge: null,
    catalogXminAge: null,
    retainedBytes: 16 * MiB,
    walStatus: 'reserved',
    safeWalSizeBytes: null,
    inactiveSeconds: null,
    invalidationReason: null,
    ...overrides,
  };
}

export function makeReplicationState(overrides: Partial<ReplicationState> = {}): ReplicationState {
  return { slots: [], maxSlotWalKeepSizeBytes: null, ...overrides };
}
