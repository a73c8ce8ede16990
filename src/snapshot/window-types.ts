import type { Backend, DatabaseStat, SequenceStat, StatementStat, TableStat } from './types.js';

/** The statement fields a window needs (a full StatementStat is one). */
export type SampleStatement = Pick<
  StatementStat,
  'userId' | 'userName' | 'dbId' | 'queryId' | 'toplevel' | 'query' | 'calls' | 'rows' | 'totalExecTimeMs' | 'sharedBlksHit' | 'sharedBlksRead' | 'statsSince'
>;

/** The table fields a window needs (a full TableStat is one). */
export type SampleTable = Pick<
  TableStat,
  | 'oid'
  | 'schema'
  | 'name'
  | 'nDeadTup'
  | 'seqScan'
  | 'seqTupRead'
  | 'idxScan'
  | 'nTupIns'
  | 'nTupUpd'
  | 'nTupDel'
  | 'nTupHotUpd'
  | 'vacuumCount'
  | 'autovacuumCount'
>;

/** The sequence fields a window needs: where each sequence stood (for its consumption rate). */
export type SampleSequence = Pick<SequenceStat, 'schema' | 'name' | 'lastValue'>;

/**
 * A light sample taken about once a second during `--window`: only the cheap, fast-moving sources.
 * Counters are cumulative as read; use the deltas in `Window` rather than differencing by hand.
 */
export interface Sample {
  /** ISO-8601 server time of the sample. */
  readonly collectedAt: string;
  /** Seconds since the first sample of the window. */
  readonly elapsedSeconds: number;
  readonly statements: readonly SampleStatement[];
  readonly activity: readonly Backend[];
  readonly tables: readonly SampleTable[];
  readonly databases: readonly DatabaseStat[];
  /** Readable sequences' last values; absent in samples from before the `sequences` source. */
  readonly sequences?: readonly SampleSequence[];
  /** Next transaction id (epoch-extended); null when unknown. */
  readonly nextXid: number | null;
  /** pg_stat_statements_info.dealloc (count); null when unknown. */
  readonly pgssDealloc: number | null;
}

/** Key of a pg_stat_statements entry. */
export interface StatementKey {
  readonly userId: number;
  readonly dbId: number;
  readonly queryId: string;
  readonly toplevel: boolean;
}

/**
 * Change of one statement's counters over the window. Never negative: an interval in which a counter
 * went down, stats_since changed or pgss evicted entries restarts the series at that interval.
 */
export interface StatementDelta extends StatementKey {
  readonly userName: string | null;
  readonly query: string | null;
  /** Δcalls (count). */
  readonly calls: number;
  /** Δrows (count). */
  readonly rows: number;
  /** Δtotal_exec_time (milliseconds). */
  readonly totalExecTimeMs: number;
  /** Δ(shared_blks_hit + shared_blks_read) (blocks). */
  readonly sharedBlks: number;
  /** Per-interval Δcalls (count), one entry per interval between consecutive samples. */
  readonly callsSeries: readonly number[];
  /** Per-interval Δrows (count). */
  readonly rowsSeries: readonly number[];
  /** Number of intervals whose counters were restarted (reset or eviction). */
  readonly restarts: number;
}

export interface TableDelta {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  /** Δseq_tup_read (rows). */
  readonly seqTupRead: number;
  /** Δseq_scan (count). */
  readonly seqScan: number;
  /** Δidx_scan (count). */
  readonly idxScan: number;
  /** Δ(n_tup_ins + n_tup_upd + n_tup_del) (rows). */
  readonly writes: number;
  /** Δn_tup_upd / Δn_tup_hot_upd (rows). */
  readonly updates: number;
  readonly hotUpdates: number;
  /** Δautovacuum_count + Δvacuum_count (count). */
  readonly vacuums: number;
}

export interface Window {
  /** Seconds between the first and last sample. */
  readonly durationSeconds: number;
  readonly samples: readonly Sample[];
  readonly statements: readonly StatementDelta[];
  readonly tables: readonly TableDelta[];
  /** Transactions consumed per second over the window; null when unknown. */
  readonly xidPerSecond: number | null;
}
