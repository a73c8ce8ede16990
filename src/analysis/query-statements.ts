/**
 * Statement statistics for the query rules on one basis: the `--window` deltas when the window saw the
 * statement often enough, else the cumulative pg_stat_statements counters (and evidence says which).
 */
import type { Snapshot, StatementStat } from '../snapshot/types.js';
import type { StatementDelta, Window } from '../snapshot/window-types.js';

export type Basis = 'window' | 'cumulative';

/** One pg_stat_statements entry with the numbers of the chosen basis. */
export interface StatementFigures {
  readonly key: string;
  readonly userId: number;
  readonly queryId: string;
  readonly toplevel: boolean;
  readonly query: string;
  /** calls (count) */
  readonly calls: number;
  /** rows (count) */
  readonly rows: number;
  /** total execution time (ms) */
  readonly totalExecTimeMs: number;
  /** shared blocks hit + read (blocks) */
  readonly sharedBlks: number;
  readonly callsSeries: readonly number[] | null;
  readonly rowsSeries: readonly number[] | null;
}

export interface StatementSet {
  readonly basis: Basis;
  /** Seconds the counters cover; null when unknown (cumulative counters without a known reset time). */
  readonly seconds: number | null;
  readonly statements: readonly StatementFigures[];
  readonly totalCalls: number;
  readonly totalExecTimeMs: number;
}

const MARKER = '/* pg-advisor */';

export function statementKey(s: { userId: number; queryId: string; toplevel: boolean }): string {
  return `${s.userId}/${s.queryId}/${s.toplevel ? 't' : 'n'}`;
}

/** dbid of the snapshot's database, when the databases source names it. */
function currentDbId(snapshot: Snapshot): number | null {
  return snapshot.databases.find((d) => d.name === snapshot.meta.database)?.oid ?? null;
}

function keep(s: { dbId: number; query: string | null }, dbId: number | null): s is { dbId: number; query: string } {
  return s.query !== null && (dbId === null || s.dbId === dbId) && !s.query.includes(MARKER);
}

export function cumulativeStatements(snapshot: Snapshot): StatementSet {
  const dbId = currentDbId(snapshot);
  const statements = snapshot.statements
    .filter((s): s is StatementStat & { query: string } => keep(s, dbId))
    .map((s) => ({
      key: statementKey(s),
      userId: s.userId,
      queryId: s.queryId,
      toplevel: s.toplevel,
      query: s.query,
      calls: s.calls,
      rows: s.rows,
      totalExecTimeMs: s.totalExecTimeMs,
      sharedBlks: s.sharedBlksHit + s.sharedBlksRead,
      callsSeries: null,
      rowsSeries: null,
    }));
  const reset = snapshot.meta.pgssStatsReset ? Date.parse(snapshot.meta.pgssStatsReset) : NaN;
  const at = Date.parse(snapshot.meta.collectedAt);
  const seconds = Number.isFinite(reset) && Number.isFinite(at) && at > reset ? (at - reset) / 1000 : null;
  return summarise('cumulative', seconds, statements);
}

export function windowStatements(snapshot: Snapshot, window: Window): StatementSet {
  const dbId = currentDbId(snapshot);
  const texts = new Map(snapshot.statements.map((s) => [statementKey(s), s.query]));
  const statements = window.statements
    .map((d: StatementDelta) => ({ ...d, query: d.query ?? texts.get(statementKey(d)) ?? null }))
    .filter((d): d is StatementDelta & { query: string } => keep(d, dbId))
    .map((d) => ({
      key: statementKey(d),
      userId: d.userId,
      queryId: d.queryId,
      toplevel: d.toplevel,
      query: d.query,
      calls: d.calls,
      rows: d.rows,
      totalExecTimeMs: d.totalExecTimeMs,
      sharedBlks: d.sharedBlks,
      callsSeries: d.callsSeries,
      rowsSeries: d.rowsSeries,
    }));
  return summarise('window', window.durationSeconds > 0 ? window.durationSeconds : null, statements);
}

function summarise(basis: Basis, seconds: number | null, statements: StatementFigures[]): StatementSet {
  let totalCalls = 0;
  let totalExecTimeMs = 0;
  for (const s of statements) {
    totalCalls += s.calls;
    totalExecTimeMs += s.totalExecTimeMs;
  }
  return { basis, seconds, statements, totalCalls, totalExecTimeMs };
}
