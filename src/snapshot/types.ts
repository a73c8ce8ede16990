/**
 * Snapshot: one collection from one target database at one instant.
 *
 * Contract: plain, JSON-serialisable data, deep-frozen once built. Every numeric field states its unit
 * and the catalog column it comes from. Ages are computed by the server (`now() - x`, `age(xid)`) so
 * client clock skew never enters a finding. Object ids (oid) are numbers (< 2^32); pg_stat_statements
 * queryids are strings (int8, may be negative and beyond 2^53).
 */

export const SNAPSHOT_FORMAT_VERSION = 1;

/** Names of the collector's sources; each has a status in `meta.sources`. */
export type SourceName =
  | 'settings'
  | 'statements'
  | 'activity'
  | 'databases'
  | 'roles'
  | 'tables'
  | 'indexes'
  | 'constraints'
  | 'columns'
  | 'vacuum'
  | 'bloat'
  | 'relations'
  | 'sequences'
  | 'locks'
  | 'replication';

/**
 * `unavailable`: the source cannot run with this role or server (a missing extension, privilege or setting):
 * rules needing it are skipped, with the hint. `failed`: it should have run but did not (a timeout, a lock, an
 * error): rules needing it could not judge, and `check` exits 2.
 */
export type SourceStatus =
  | { readonly status: 'ok'; readonly note?: string }
  | { readonly status: 'unavailable'; readonly reason: string; readonly hint: string }
  | { readonly status: 'failed'; readonly reason: string; readonly hint: string };

export interface Capabilities {
  /** current_user is a superuser (rolsuper). */
  readonly superuser: boolean;
  /** current_user is a member of pg_monitor (or a superuser). */
  readonly pgMonitor: boolean;
  /** current_user may read other sessions' query text and xmin (pg_read_all_stats or superuser). */
  readonly readAllStats: boolean;
  /** pg_stat_statements is in shared_preload_libraries (its view answers). */
  readonly pgssLoaded: boolean;
  /** Version of the pg_stat_statements extension installed in this database, e.g. "1.10"; null if absent. */
  readonly pgssVersion: string | null;
  /** pgstattuple is installed and current_user may execute pgstattuple_approx/pgstatindex. */
  readonly pgstattuple: boolean;
  /** hypopg is installed in this database. */
  readonly hypopg: boolean;
  /** pg_trgm is installed in this database (trigram GIN indexes serve LIKE '%…%' and ILIKE); absent in old snapshots. */
  readonly pgTrgm?: boolean;
}

export interface SnapshotMeta {
  readonly formatVersion: typeof SNAPSHOT_FORMAT_VERSION;
  /** ISO-8601 timestamp of the server's now() when collection started. */
  readonly collectedAt: string;
  /** server_version_num, e.g. 170010. */
  readonly serverVersionNum: number;
  /** server_version, e.g. "17.10". */
  readonly serverVersion: string;
  /** current_database(). */
  readonly database: string;
  readonly currentUser: string;
  /** The connection's search_path, as schema names (current_schemas(false)). */
  readonly searchPath: readonly string[];
  readonly capabilities: Capabilities;
  /** pg_stat_statements_info.stats_reset (ISO) when visible. */
  readonly pgssStatsReset: string | null;
  /** pg_stat_statements_info.dealloc: entries evicted since the last reset (count). */
  readonly pgssDealloc: number | null;
  /** Per-source status; a source that could not run is `unavailable` or `failed` with a hint, never silently empty. */
  readonly sources: Readonly<Partial<Record<SourceName, SourceStatus>>>;
  /** Wall time the collection took (milliseconds, client-side). */
  readonly collectDurationMs: number;
}

export interface Settings {
  /** max_connections (connections). */
  readonly maxConnections: number;
  /** superuser_reserved_connections (connections). */
  readonly superuserReservedConnections: number;
  /** reserved_connections (connections, PG16+; 0 before). */
  readonly reservedConnections: number;
  /** autovacuum (GUC) and track_counts both on. */
  readonly autovacuum: boolean;
  readonly trackCounts: boolean;
  /** autovacuum_naptime (seconds). */
  readonly autovacuumNaptimeSeconds: number;
  /** autovacuum_max_workers (workers). */
  readonly autovacuumMaxWorkers: number;
  /** autovacuum_vacuum_threshold (tuples). */
  readonly autovacuumVacuumThreshold: number;
  /** autovacuum_vacuum_scale_factor (fraction of reltuples). */
  readonly autovacuumVacuumScaleFactor: number;
  /** autovacuum_vacuum_max_threshold (tuples, PG18+; null before or when -1). */
  readonly autovacuumVacuumMaxThreshold: number | null;
  /** autovacuum_vacuum_insert_threshold (tuples; -1 disables). */
  readonly autovacuumVacuumInsertThreshold: number;
  /** autovacuum_vacuum_insert_scale_factor (fraction). */
  readonly autovacuumVacuumInsertScaleFactor: number;
  /** autovacuum_analyze_threshold (tuples; absent in snapshots from before it was collected). */
  readonly autovacuumAnalyzeThreshold?: number;
  /** autovacuum_analyze_scale_factor (fraction of reltuples; absent in older snapshots). */
  readonly autovacuumAnalyzeScaleFactor?: number;
  /** autovacuum_freeze_max_age (transactions). */
  readonly autovacuumFreezeMaxAge: number;
  /** autovacuum_multixact_freeze_max_age (multixacts). */
  readonly autovacuumMultixactFreezeMaxAge: number;
  /** vacuum_failsafe_age (transactions). */
  readonly vacuumFailsafeAge: number;
  /** vacuum_multixact_failsafe_age (multixacts). */
  readonly vacuumMultixactFailsafeAge: number;
  /** idle_in_transaction_session_timeout (milliseconds; 0 = off). */
  readonly idleInTransactionSessionTimeoutMs: number;
  /** block_size (bytes). */
  readonly blockSizeBytes: number;
  /** track_activity_query_size (bytes). */
  readonly trackActivityQuerySize: number;
}

/** One pg_stat_statements entry; counters are cumulative since the entry's creation. */
export interface StatementStat {
  /** userid (role oid). */
  readonly userId: number;
  /** Role name of userid, when resolvable. */
  readonly userName: string | null;
  /** dbid (database oid). */
  readonly dbId: number;
  /** queryid as a decimal string (int8). */
  readonly queryId: string;
  /** toplevel (PG14+ / pgss 1.9+); true when absent. */
  readonly toplevel: boolean;
  /** Normalised text from the text cache; null when not (yet) fetched or not visible. */
  readonly query: string | null;
  /** calls (count). */
  readonly calls: number;
  /** rows (count, total over all calls). */
  readonly rows: number;
  /** total_exec_time (milliseconds). */
  readonly totalExecTimeMs: number;
  /** mean_exec_time (milliseconds). */
  readonly meanExecTimeMs: number;
  /** total_plan_time (milliseconds; 0 when planning is not tracked). */
  readonly totalPlanTimeMs: number;
  /** shared_blks_hit (8 kB blocks). */
  readonly sharedBlksHit: number;
  /** shared_blks_read (8 kB blocks). */
  readonly sharedBlksRead: number;
  /** shared_blks_dirtied (blocks). */
  readonly sharedBlksDirtied: number;
  /** temp_blks_written (blocks). */
  readonly tempBlksWritten: number;
  /** stats_since (ISO, pgss 1.11+/PG17+); null before. A change means the entry was reset. */
  readonly statsSince: string | null;
}

/** A client backend from pg_stat_activity (backend_type = 'client backend'). */
export interface Backend {
  readonly pid: number;
  readonly database: string | null;
  readonly userName: string | null;
  readonly applicationName: string;
  /** client_addr as text; null for unix sockets. */
  readonly clientAddr: string | null;
  /** state: active, idle, idle in transaction, idle in transaction (aborted), fastpath function call, disabled; null when not visible. */
  readonly state: string | null;
  readonly waitEventType: string | null;
  readonly waitEvent: string | null;
  /** now() - backend_start (seconds). */
  readonly backendAgeSeconds: number | null;
  /** now() - xact_start (seconds); null when no transaction. */
  readonly xactAgeSeconds: number | null;
  /** now() - state_change (seconds). */
  readonly stateAgeSeconds: number | null;
  /** now() - query_start (seconds). */
  readonly queryAgeSeconds: number | null;
  /** query_id (PG14+), string; null when unknown. */
  readonly queryId: string | null;
  /** age(backend_xmin) (transactions); null when the backend holds no snapshot. */
  readonly xminAge: number | null;
  /** age(backend_xid) (transactions); null when no xid assigned. */
  readonly xidAge: number | null;
  /** The advisor's own connection. */
  readonly isSelf: boolean;
  /**
   * pg_blocking_pids(pid) while waiting on a heavyweight lock (wait_event_type Lock), else empty: the pids
   * holding or queued ahead for a conflicting lock. Absent in snapshots from before this field.
   */
  readonly blockedBy?: readonly number[];
}

export interface DatabaseStat {
  readonly oid: number;
  readonly name: string;
  /** datconnlimit (connections; -1 = unlimited). */
  readonly connLimit: number;
  readonly allowConn: boolean;
  readonly isTemplate: boolean;
  /** age(datfrozenxid) (transactions). */
  readonly xidAge: number;
  /** mxid_age(datminmxid) (multixacts). */
  readonly mxidAge: number;
  /** Client backends connected to it now (count). */
  readonly backends: number;
  /** pg_stat_database.sessions (count, PG14+; null before). */
  readonly sessions: number | null;
  /** pg_database_size (bytes); null when not permitted. */
  readonly sizeBytes: number | null;
  /**
   * now() - pg_stat_database.stats_reset, or, when never reset, now() - pg_postmaster_start_time() (seconds): how
   * long its cumulative statistics (idx_scan, seq_scan…) have been counting, at least. Absent in older snapshots.
   */
  readonly statsObservedSeconds?: number | null;
  /** What statsObservedSeconds counts from: the last statistics reset, or the server start (never reset). */
  readonly statsObservedFrom?: 'stats_reset' | 'server_start';
}

export interface RoleStat {
  readonly oid: number;
  readonly name: string;
  /** rolconnlimit (connections; -1 = unlimited). */
  readonly connLimit: number;
  readonly superuser: boolean;
  readonly canLogin: boolean;
  /** Client backends of this role now (count). */
  readonly backends: number;
  /**
   * search_path its sessions start with when one is configured for it (`ALTER ROLE … [IN DATABASE …] SET`,
   * else `ALTER DATABASE … SET`; pg_db_role_setting), as schema names with `$user` replaced by the role
   * name; null when none is configured (the server default, or whatever the client sets, applies).
   */
  readonly searchPath: readonly string[] | null;
}

export interface TableStat {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  /** relkind: r (table), p (partitioned), m (matview). */
  readonly kind: 'r' | 'p' | 'm';
  /** pg_class.relpages (pages, as of the last VACUUM/ANALYZE). */
  readonly relpages: number;
  /** pg_class.reltuples (rows, estimate; -1 = never analysed). */
  readonly reltuples: number;
  /** pg_class.relallvisible (pages). */
  readonly relallvisible: number;
  /** pg_relation_size(main fork) (bytes); null when skipped (locked) or not permitted. */
  readonly heapBytes: number | null;
  /** pg_total_relation_size (bytes, heap + toast + indexes); null when skipped. */
  readonly totalBytes: number | null;
  /** Storage parameters, parsed from pg_class.reloptions (key → value text). */
  readonly reloptions: Readonly<Record<string, string>>;
  /** n_live_tup (rows, estimate). */
  readonly nLiveTup: number;
  /** n_dead_tup (rows, estimate). */
  readonly nDeadTup: number;
  /** n_mod_since_analyze (rows). */
  readonly nModSinceAnalyze: number;
  /** n_ins_since_vacuum (rows). */
  readonly nInsSinceVacuum: number;
  /** seq_scan (count). */
  readonly seqScan: number;
  /** seq_tup_read (rows). */
  readonly seqTupRead: number;
  /** idx_scan (count; 0 when null). */
  readonly idxScan: number;
  /** n_tup_ins / n_tup_upd / n_tup_del / n_tup_hot_upd (rows). */
  readonly nTupIns: number;
  readonly nTupUpd: number;
  readonly nTupDel: number;
  readonly nTupHotUpd: number;
  /** now() - last_vacuum / last_autovacuum / last_analyze / last_autoanalyze (seconds); null = never. */
  readonly lastVacuumAgeSeconds: number | null;
  readonly lastAutovacuumAgeSeconds: number | null;
  readonly lastAnalyzeAgeSeconds: number | null;
  readonly lastAutoanalyzeAgeSeconds: number | null;
  /** vacuum_count / autovacuum_count / analyze_count / autoanalyze_count (count). */
  readonly vacuumCount: number;
  readonly autovacuumCount: number;
  readonly analyzeCount: number;
  readonly autoanalyzeCount: number;
  /** greatest(age(relfrozenxid), age(toast.relfrozenxid)) (transactions). */
  readonly xidAge: number;
  /** mxid_age(relminmxid) (multixacts). */
  readonly mxidAge: number;
  /** An AccessExclusiveLock was held or requested (a DDL waiting in the queue) at collection time; sizes were skipped. */
  readonly locked: boolean;
}

export interface IndexStat {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  readonly tableOid: number;
  readonly table: string;
  /** pg_get_indexdef. */
  readonly definition: string;
  /** Access method: btree, hash, gin, gist, brin, spgist… */
  readonly method: string;
  /** Key columns in order; null entries are expressions. */
  readonly columns: readonly (string | null)[];
  /** INCLUDE columns (not part of the key). */
  readonly includeColumns: readonly string[];
  readonly isUnique: boolean;
  readonly isPrimary: boolean;
  /** indisvalid and indisready: the planner may use it. */
  readonly isValid: boolean;
  /**
   * indisready: writes maintain it (and a unique one checks new rows against it) even while it is not
   * valid. False for a CREATE INDEX CONCURRENTLY that failed or was cancelled before its build finished.
   */
  readonly isReady: boolean;
  /**
   * A CREATE INDEX CONCURRENTLY / REINDEX CONCURRENTLY is running on it now (pg_stat_progress_create_index,
   * this database), so an invalid index may still become valid. True when the build names it as index_relid
   * or, for an invalid index, when a concurrent build runs on its table: index_relid can be 0 early on, and
   * REINDEX CONCURRENTLY names the old index, not its new `_ccnew` copy, until the copy is built. An old
   * invalid index of that table is therefore silent until the build ends. Without pg_read_all_stats another
   * role's build hides its relid; the ShareUpdateExclusiveLocks held by that pid name the table instead.
   */
  readonly buildInProgress: boolean;
  /**
   * Invalid and held in ShareUpdateExclusiveLock by another session with no build running on it: a DROP
   * INDEX CONCURRENTLY is waiting to finish (it marks the index invalid first, then waits for other
   * transactions).
   */
  readonly dropInProgress: boolean;
  readonly isPartial: boolean;
  /** pg_class.relpages (pages). */
  readonly relpages: number;
  /** pg_class.reltuples (index entries, estimate). */
  readonly reltuples: number;
  /** pg_relation_size (bytes); null when skipped (locked). */
  readonly sizeBytes: number | null;
  /** idx_scan (count). */
  readonly idxScan: number;
  /** now() - last_idx_scan (seconds, PostgreSQL 16+); null when never scanned since the reset or before 16; absent in older snapshots. */
  readonly lastIdxScanAgeSeconds?: number | null;
  /** indisexclusion: the index of an exclusion constraint (absent in older snapshots). */
  readonly isExclusion?: boolean;
  /** fillfactor reloption (percent), or the access method's default (btree 90). */
  readonly fillfactor: number;
}

export interface ConstraintStat {
  readonly schema: string;
  readonly table: string;
  readonly tableOid: number;
  readonly name: string;
  /** p = primary key, u = unique, f = foreign key. */
  readonly type: 'p' | 'u' | 'f';
  readonly columns: readonly string[];
  /** Referenced table (foreign keys only). */
  readonly refSchema: string | null;
  readonly refTable: string | null;
  readonly refTableOid: number | null;
  readonly refColumns: readonly string[];
}

/** pg_stats summary of one column (visible only where the role may SELECT the column). */
export interface ColumnStat {
  readonly schema: string;
  readonly table: string;
  readonly column: string;
  /** format_type of the column, e.g. "integer", "text". */
  readonly dataType: string;
  /** null_frac (fraction 0–1). */
  readonly nullFrac: number;
  /** avg_width (bytes). */
  readonly avgWidth: number;
  /** n_distinct (>0: distinct values; <0: negated fraction of rows). */
  readonly nDistinct: number;
  /** most_common_freqs[1] (fraction); null when no MCV list. */
  readonly topFrequency: number | null;
  /** correlation (-1..1); null when unknown. */
  readonly correlation: number | null;
  /** Effective collation name (the database's for `default`, e.g. "C", "en_US.utf8"); null for types without one. */
  readonly collation?: string | null;
}

export interface VacuumProgress {
  readonly pid: number;
  readonly schema: string | null;
  readonly table: string | null;
  readonly phase: string;
  /** heap_blks_total / heap_blks_scanned (pages). */
  readonly heapBlksTotal: number;
  readonly heapBlksScanned: number;
  /** now() - the worker's xact_start (seconds). */
  readonly runningSeconds: number | null;
  readonly isAutovacuum: boolean;
  readonly isWraparound: boolean;
}

/** Something that holds back the xmin horizon, so vacuum cannot remove dead rows. */
export interface HorizonHolder {
  readonly kind: 'backend' | 'prepared-transaction' | 'replication-slot' | 'standby';
  /** pid, gid, slot name or standby application_name. */
  readonly name: string;
  /** age of the held xmin (transactions). */
  readonly xminAge: number;
  /** How long it has been held (seconds); null when unknown (slots). */
  readonly ageSeconds: number | null;
  /**
   * False when the held xmin is merely another running transaction's xid (a session whose snapshot saw
   * that transaction running): it would move on once that transaction ends, so it is not the root holder.
   * Absent in snapshots from before this field existed (treated as true).
   */
  readonly ownsXmin?: boolean;
  /** Human detail: state, application, database, slot type… */
  readonly detail: string;
  /**
   * The database of a backend or prepared transaction; null for slots and standbys, which hold every database's
   * horizon. Absent in older snapshots.
   */
  readonly database?: string | null;
}

export interface VacuumState {
  readonly progress: readonly VacuumProgress[];
  readonly horizonHolders: readonly HorizonHolder[];
  /** autovacuum worker backends running now (count). */
  readonly autovacuumWorkers: number;
  /** pg_snapshot_xmax(pg_current_snapshot()) as a number (transactions, epoch-extended); null if unknown. */
  readonly nextXid: number | null;
}

export interface TableBloat {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  /** 'pgstattuple_approx' (measured) or 'estimate' (pg_stats model). */
  readonly method: 'pgstattuple_approx' | 'estimate';
  /** Size the measure refers to (bytes). */
  readonly tableBytes: number;
  /** Reclaimable space beyond the fillfactor reserve (bytes, ≥ 0). */
  readonly wasteBytes: number;
  /** Dead tuples' space (bytes, ≥ 0) — pgstattuple only, else 0. */
  readonly deadBytes: number;
  /** Free space (bytes, ≥ 0). */
  readonly freeBytes: number;
  /** Fillfactor used for the reserve (percent). */
  readonly fillfactor: number;
}

export interface IndexBloat {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  readonly table: string;
  readonly method: 'pgstatindex' | 'estimate';
  /** Index size (bytes). */
  readonly indexBytes: number;
  /** Reclaimable space (bytes, ≥ 0). */
  readonly wasteBytes: number;
  /** avg_leaf_density (percent) when measured. */
  readonly avgLeafDensity: number | null;
  readonly fillfactor: number;
}

export interface BloatState {
  readonly tables: readonly TableBloat[];
  readonly indexes: readonly IndexBloat[];
  /** Relations over the size budget that were not measured (count). */
  readonly skippedOverBudget: number;
}

/**
 * Result of checking one suggested index against one statement with a hypothetical index (hypopg), on
 * generic plans in a throwaway read-only session. Produced by the collector's enrichment step.
 */
export interface IndexVerification {
  readonly schema: string;
  readonly table: string;
  /** Suggested key columns, in index order. */
  readonly columns: readonly string[];
  /** pg_stat_statements queryid of the statement that was planned. */
  readonly queryId: string;
  readonly status: 'verified' | 'failed';
  /** Generic-plan total cost without the hypothetical index (planner cost units); null when failed. */
  readonly costBefore: number | null;
  /** Generic-plan total cost with it (planner cost units); null when failed. */
  readonly costAfter: number | null;
  /** The plan with the hypothetical index uses it. */
  readonly usesIndex: boolean;
  /** Why verification failed (status `failed`), e.g. permission denied or hypopg missing; null otherwise. */
  readonly reason: string | null;
}

/** Facts that only a live query could tell, attached by enrichment steps after collection. */
export interface Enrichments {
  readonly indexVerifications?: readonly IndexVerification[];
}

export interface Snapshot {
  /** Optional enrichment results (absent when no enrichment ran). */
  readonly enrichments?: Enrichments;
  readonly meta: SnapshotMeta;
  readonly settings: Settings | null;
  readonly statements: readonly StatementStat[];
  readonly activity: readonly Backend[];
  readonly databases: readonly DatabaseStat[];
  readonly roles: readonly RoleStat[];
  readonly tables: readonly TableStat[];
  readonly indexes: readonly IndexStat[];
  readonly constraints: readonly ConstraintStat[];
  readonly columns: readonly ColumnStat[];
  readonly vacuum: VacuumState | null;
  readonly bloat: BloatState | null;
  /** Views and partition trees (absent in snapshots from before the `relations` source). */
  readonly relations?: RelationsState | null;
  /** Sequences and the columns they feed (absent in snapshots from before the `sequences` source). */
  readonly sequences?: SequencesState | null;
  /** Lock waits and who they wait for (absent in snapshots from before the `locks` source). */
  readonly locks?: LocksState | null;
  /** Replication slots (absent in snapshots from before the `replication` source). */
  readonly replication?: ReplicationState | null;
}

/** One row of pg_replication_slots (cluster-wide). */
export interface ReplicationSlot {
  readonly name: string;
  readonly type: 'physical' | 'logical';
  /** Output plugin (logical slots). */
  readonly plugin: string | null;
  /** Database of a logical slot; null for physical slots. */
  readonly database: string | null;
  readonly temporary: boolean;
  /** A consumer is connected to it now. */
  readonly active: boolean;
  readonly activePid: number | null;
  /** age(xmin) (transactions): held by a physical slot with hot_standby_feedback; null when none. */
  readonly xminAge: number | null;
  /** age(catalog_xmin) (transactions): held by a logical slot for the system catalogs; null when none. */
  readonly catalogXminAge: number | null;
  /** WAL kept for it: current (or last received) WAL position − restart_lsn (bytes); null without restart_lsn. */
  readonly retainedBytes: number | null;
  /** wal_status: reserved, extended, unreserved or lost. */
  readonly walStatus: string | null;
  /** safe_wal_size (bytes) before the slot is lost under max_slot_wal_keep_size; null when unlimited. */
  readonly safeWalSizeBytes: number | null;
  /** now() - inactive_since (seconds, PostgreSQL 17+); null when active or unknown. */
  readonly inactiveSeconds: number | null;
  /** invalidation_reason (PostgreSQL 17+), e.g. wal_removed, rows_removed; null when valid or unknown. */
  readonly invalidationReason: string | null;
}

export interface ReplicationState {
  /** Replication slots of the cluster, by name, bounded. */
  readonly slots: readonly ReplicationSlot[];
  /** max_slot_wal_keep_size (bytes); null when unlimited (-1). */
  readonly maxSlotWalKeepSizeBytes: number | null;
}

/** A session of this database waiting for a heavyweight lock (pg_locks, not granted). */
export interface LockWait {
  readonly pid: number;
  /** pg_locks.locktype: relation, tuple, transactionid, object, advisory… */
  readonly lockType: string;
  /** The mode it waits for, e.g. AccessExclusiveLock. */
  readonly mode: string;
  /** The relation waited on (relation and tuple locks of this database); null otherwise. */
  readonly schema: string | null;
  readonly relation: string | null;
  /** now() - waitstart (seconds; the statement's age while waitstart is not yet set). */
  readonly waitSeconds: number | null;
  /** pg_blocking_pids(pid): holders of conflicting locks and sessions queued ahead of it. */
  readonly blockedBy: readonly number[];
}

/** A session that others wait for (any backend type: autovacuum can block too). */
export interface LockHolder {
  readonly pid: number;
  /** pg_stat_activity.backend_type, e.g. "client backend", "autovacuum worker". */
  readonly backendType: string | null;
  readonly applicationName: string;
  readonly userName: string | null;
  readonly state: string | null;
  readonly waitEventType: string | null;
  /** now() - xact_start (seconds); null when no transaction. */
  readonly xactAgeSeconds: number | null;
  /** now() - query_start (seconds). */
  readonly queryAgeSeconds: number | null;
  /** Relation lock modes it holds granted on the relations waited for. */
  readonly grantedModes: readonly string[];
}

export interface LocksState {
  /** Waiting sessions, longest wait first, bounded. */
  readonly waits: readonly LockWait[];
  /** The sessions the listed waits are blocked by. */
  readonly holders: readonly LockHolder[];
  /** Granted locks per session of this database, most first, bounded (absent in older snapshots). */
  readonly held?: readonly LocksHeld[];
  /** Waiting sessions left out by the bound (count). */
  readonly truncated: number;
}

/** Granted locks of one session. */
export interface LocksHeld {
  readonly pid: number;
  /** Relation-level locks held (count). */
  readonly relationLocks: number;
  /** ACCESS EXCLUSIVE relation locks held (count): every query on those relations waits. */
  readonly accessExclusiveLocks: number;
}

/** The integer column a sequence feeds (owned by it, identity, or calling it in its default). */
export interface SequenceColumn {
  readonly schema: string;
  readonly table: string;
  readonly name: string;
  /** format_type of the column, e.g. "integer", "bigint", "numeric(20,0)". */
  readonly type: string;
  /** An identity column (GENERATED … AS IDENTITY). */
  readonly identity: boolean;
}

/**
 * One sequence from pg_sequence. Values are decimal strings: int8, beyond 2^53, negative for descending
 * sequences; compare them with BigInt.
 */
export interface SequenceStat {
  readonly schema: string;
  readonly name: string;
  /** The sequence's type: smallint, integer or bigint. */
  readonly dataType: string;
  /** seqstart / seqmin / seqmax / seqincrement (sequence values, int8 as text). */
  readonly startValue: string;
  readonly minValue: string;
  readonly maxValue: string;
  readonly incrementBy: string;
  readonly cycle: boolean;
  /** pg_sequence_last_value (int8 as text); null when the sequence was never used (or reset and not called). */
  readonly lastValue: string | null;
  /** The column it feeds; null when none is known. */
  readonly column: SequenceColumn | null;
}

export interface SequencesState {
  /** Sequences current_user may read (SELECT or USAGE), most used first, at most a bounded number. */
  readonly sequences: readonly SequenceStat[];
  /** Per schema, sequences current_user may not read, so their use is unknown (count). */
  readonly unreadable: readonly { readonly schema: string; readonly count: number }[];
  /** Sequences in user schemas (count). */
  readonly total: number;
  /** Readable sequences left out by the bound (count; the least used ones). */
  readonly truncated: number;
}

/** A view and its definition (pg_get_viewdef), so statements on it can be resolved to base tables. */
export interface ViewDefinition {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  /** pg_get_viewdef(oid): the SELECT the view stands for. */
  readonly definition: string;
}

/** A partition and the root of its partition tree (pg_partition_root). */
export interface PartitionLink {
  readonly oid: number;
  readonly rootOid: number;
}

export interface RelationsState {
  readonly views: readonly ViewDefinition[];
  readonly partitions: readonly PartitionLink[];
}
