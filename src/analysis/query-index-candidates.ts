/**
 * Missing-index candidates (detection.md §2.2 steps 1–5), shared by the `missing-index` rule and the
 * collector's hypopg enrichment, so both judge exactly the same suggestions. Pure.
 */
import { analyzeStatement, buildAnalysisContext, type StatementAnalysis } from '../sql/index.js';
import type { ColumnStat, Snapshot, TableStat } from '../snapshot/types.js';
import type { Window } from '../snapshot/window-types.js';
import { cumulativeStatements, windowStatements, type Basis, type StatementFigures } from './query-statements.js';

export const INDEX_CANDIDATE_THRESHOLDS = {
  minDbTimeShare: { default: 0.01, description: 'Share of total execution time (0–1) that makes a statement a candidate.' },
  minMeanMs: { default: 5, description: 'Mean execution time (ms) that, with minCalls, makes a statement a candidate.' },
  minCalls: { default: 50, description: 'Calls (count) that, with minMeanMs, make a statement a candidate.' },
  minTableRows: { default: 10_000, description: 'Tables with fewer rows (reltuples) are never reported.' },
  minTableBlocks: { default: 100, description: 'Tables with fewer pages (relpages, 8 kB) are never reported.' },
  minTableReadShare: { default: 0.3, description: 'Shared blocks per call as a share of relpages (0–1) that counts as reading the table.' },
  maxSelectivityFraction: { default: 0.01, description: 'Highest fraction of the table (0–1) the filter may return to be worth an index.' },
  maxColumnSelectivityFraction: { default: 0.1, description: 'Equality columns matching more than this fraction of rows (pg_stats) are not indexed.' },
  maxTopValueFraction: { default: 0.3, description: 'Equality columns whose most common value covers this fraction (0–1) of rows are skipped (skew).' },
  maxOneColumnRows: { default: 50, description: 'Rows per key value (count) above which a second (range or ORDER BY) column is added.' },
} as const;

export type IndexCandidateThresholds = { readonly [K in keyof typeof INDEX_CANDIDATE_THRESHOLDS]: number };

export interface CandidateStatement {
  readonly queryId: string;
  readonly userId: number;
  readonly query: string;
  readonly calls: number;
  readonly totalExecTimeMs: number;
  readonly rowsPerCall: number;
  readonly blocksPerCall: number;
  /** Fraction of rows the filter returns (0–1). */
  readonly selectivity: number;
  readonly selectivitySource: 'pg_stats' | 'observed';
  readonly basis: Basis;
  /** This statement's share of execution time on its basis (0–1). */
  readonly dbTimeShare: number;
  /**
   * Observed selectivity of a statement with LIMIT whose calls all returned the same number of rows: the
   * LIMIT, not the filter, may have decided the count, so the filter's selectivity is unknown.
   */
  readonly limitBound: boolean;
}

export interface IndexSuggestion {
  readonly tableOid: number;
  readonly schema: string;
  readonly table: string;
  /** Key columns in index order (≤ 2). */
  readonly columns: readonly string[];
  /** Table size used for the gates: reltuples (rows) and relpages (pages), or their fallbacks. */
  readonly tableRows: number;
  readonly tablePages: number;
  readonly statements: readonly CandidateStatement[];
  /** Basis of the statement that costs the most. */
  readonly basis: Basis;
}

const EQUALITY_OPS = new Set(['equality', 'in-list', 'any-array']);
const NO_BTREE_TYPES = /^(json|jsonb|point|polygon|box|circle|line|lseg|path|tsvector|tsquery|xml)\b|\[\]$/;

function columnSelectivity(stat: ColumnStat, table: TableStat): number {
  const nd = stat.nDistinct > 0 ? stat.nDistinct : -stat.nDistinct * Math.max(table.reltuples, 1);
  return nd > 0 ? (1 - stat.nullFrac) / nd : 1;
}

/** The index one statement wants on its table, or null (detection.md §2.2 steps 3–5). */
function suggestColumns(
  a: StatementAnalysis,
  s: StatementFigures,
  table: TableStat,
  stats: ReadonlyMap<string, ColumnStat>,
  t: IndexCandidateThresholds,
): { columns: string[]; equalityColumns: string[]; selectivity: number; source: 'pg_stats' | 'observed'; limitBound: boolean } | null {
  const preds = a.predicates.filter((p) => !p.inJoin && a.tables[p.table]?.oid === table.oid);
  const usable = preds.filter((p) => !NO_BTREE_TYPES.test(stats.get(p.column)?.dataType ?? ''));
  const eqCols = [...new Set(usable.filter((p) => EQUALITY_OPS.has(p.op)).map((p) => p.column))];
  const rangeCols = [...new Set(usable.filter((p) => p.op === 'range').map((p) => p.column))];
  const selectivities = new Map<string, number>();
  const kept: string[] = [];
  for (const c of eqCols) {
    const stat = stats.get(c);
    if (stat) {
      const sel = columnSelectivity(stat, table);
      if ((stat.topFrequency ?? 0) >= t.maxTopValueFraction || sel > t.maxColumnSelectivityFraction) continue; // booleans, status columns
      selectivities.set(c, sel);
    }
    kept.push(c);
  }
  if (eqCols.length > 0 && kept.length === 0) return null; // every equality filter is low-selectivity
  kept.sort((x, y) => (selectivities.get(x) ?? 1) - (selectivities.get(y) ?? 1));

  const fromStats = kept.length > 0 && kept.every((c) => selectivities.has(c)) && rangeCols.length === 0;
  const aggregateLike = a.aggregates || a.groupBy || a.distinct;
  const rowsPerCall = s.rows / s.calls;
  let selectivity: number;
  let source: 'pg_stats' | 'observed';
  if (fromStats) {
    selectivity = kept.slice(0, 2).reduce((p, c) => p * selectivities.get(c)!, 1);
    source = 'pg_stats';
  } else if (!aggregateLike) {
    selectivity = rowsPerCall / table.reltuples;
    source = 'observed';
  } else {
    return null; // an aggregate's rows say nothing about its filter: a report that may legitimately scan
  }
  if (selectivity > t.maxSelectivityFraction) return null;

  const columns = kept.slice(0, 2);
  const orderCol = a.limit !== null && a.orderBy.length === 1 && !a.orderByExpression && a.tables[a.orderBy[0]!.table]?.oid === table.oid
    ? a.orderBy[0]!.column
    : null;
  if (columns.length === 0) {
    if (rangeCols.length !== 1) return null; // several ranges: which one leads is a planner question
    columns.push(rangeCols[0]!);
  } else if (columns.length === 1) {
    // Rows per key value: from pg_stats, else observed rows per call (a LIMIT may cap it; then the smaller
    // index is suggested — Dexter's rule keeps the smallest prefix that achieves the benefit).
    const rowsPerValue = selectivity * table.reltuples;
    // Observed rows are what all filters together return, so they cannot tell whether the equality column
    // alone is selective: then the range column is added (the pair serves both cases).
    const wide = rowsPerValue > t.maxOneColumnRows;
    if (rangeCols.length === 1 && rangeCols[0] !== columns[0] && (wide || source === 'observed')) columns.push(rangeCols[0]!);
    else if (rangeCols.length === 0 && orderCol && orderCol !== columns[0] && wide) columns.push(orderCol);
  }
  const limitBound = source === 'observed' && a.limit !== null && Number.isInteger(rowsPerCall);
  return { columns, equalityColumns: kept, selectivity, source, limitBound };
}

/**
 * A table never analysed has reltuples = -1 and relpages = 0 (PG14+): fall back to n_live_tup and the heap
 * size so a freshly loaded table is not invisible.
 */
function sized(table: TableStat, blockSize: number): TableStat {
  if (table.reltuples >= 0 && table.relpages > 0) return table;
  const reltuples = table.reltuples >= 0 ? table.reltuples : table.nLiveTup;
  const relpages = table.relpages > 0 ? table.relpages : Math.floor((table.heapBytes ?? 0) / blockSize);
  return { ...table, reltuples, relpages };
}

/** Every suggestion on the snapshot, merged per table; prefixes of other suggestions dropped. */
export function findIndexCandidates(snapshot: Snapshot, window: Window | null, t: IndexCandidateThresholds): IndexSuggestion[] {
  const ctx = buildAnalysisContext(snapshot);
  // Per statement: the window's numbers when the window saw it often enough, else the cumulative ones
  // (a slow statement that ran before the window is not invisible because other traffic filled it).
  const cumulative = cumulativeStatements(snapshot);
  const windowed = window ? windowStatements(snapshot, window) : null;
  const inWindow = new Map((windowed?.statements ?? []).filter((s) => s.calls >= t.minCalls).map((s) => [s.key, s]));
  const picks = cumulative.statements.map((s) => {
    const w = inWindow.get(s.key);
    return w ? { s: w, set: windowed! } : { s, set: cumulative };
  });
  const tables = new Map(snapshot.tables.map((x) => [x.oid, x]));
  const statsByTable = new Map<string, Map<string, ColumnStat>>();
  for (const c of snapshot.columns) {
    const key = `${c.schema}.${c.table}`;
    if (!statsByTable.has(key)) statsByTable.set(key, new Map());
    statsByTable.get(key)!.set(c.column, c);
  }

  const byIndex = new Map<string, { table: TableStat; columns: string[]; statements: CandidateStatement[] }>();
  for (const { s, set } of picks) {
    if (s.calls <= 0) continue;
    const mean = s.totalExecTimeMs / s.calls;
    const share = set.totalExecTimeMs > 0 ? s.totalExecTimeMs / set.totalExecTimeMs : 0;
    if (share < t.minDbTimeShare && !(mean >= t.minMeanMs && s.calls >= t.minCalls)) continue;
    const r = analyzeStatement(s.query, ctx, { queryId: s.queryId });
    if (!r.analysable || !['select', 'update', 'delete'].includes(r.kind)) continue;
    if (r.mainTables.length !== 1 || r.setOperation || r.hasDerivedSources) continue;
    const oid = r.tables[r.mainTables[0]!]?.oid;
    const found = oid === null || oid === undefined ? undefined : tables.get(oid);
    const table = found && sized(found, snapshot.settings?.blockSizeBytes ?? 8192);
    if (!table || table.reltuples < t.minTableRows || table.relpages < t.minTableBlocks) continue;
    const blocksPerCall = s.sharedBlks / s.calls;
    if (blocksPerCall < t.minTableReadShare * table.relpages) continue; // it does not read the table
    const suggestion = suggestColumns(r, s, table, statsByTable.get(`${table.schema}.${table.name}`) ?? new Map(), t);
    if (!suggestion) continue;
    // An index already leading with one of the equality columns should serve the statement; if the
    // statement still reads the table, that index is unusable for it (types, collation) — a planner question.
    const leading = suggestion.equalityColumns.length > 0 ? suggestion.equalityColumns : suggestion.columns.slice(0, 1);
    if (leading.some((c) => isCovered(snapshot, table.oid, c))) continue;
    const key = `${table.oid}:${JSON.stringify(suggestion.columns)}`;
    const entry = byIndex.get(key) ?? { table, columns: suggestion.columns, statements: [] };
    entry.statements.push({
      queryId: s.queryId, userId: s.userId, query: s.query, calls: s.calls, totalExecTimeMs: s.totalExecTimeMs,
      rowsPerCall: s.rows / s.calls, blocksPerCall, selectivity: suggestion.selectivity, selectivitySource: suggestion.source,
      basis: set.basis, dbTimeShare: share, limitBound: suggestion.limitBound,
    });
    byIndex.set(key, entry);
  }

  // Merge: a suggestion that is a prefix of another on the same table is served by it.
  const entries = [...byIndex.values()];
  const isPrefix = (short: readonly string[], long: readonly string[]): boolean =>
    short.length < long.length && short.every((c, i) => long[i] === c);
  const out: IndexSuggestion[] = [];
  for (const e of entries) {
    if (entries.some((o) => o !== e && o.table.oid === e.table.oid && isPrefix(e.columns, o.columns))) continue;
    const served = entries.filter((o) => o === e || (o.table.oid === e.table.oid && isPrefix(o.columns, e.columns)));
    out.push({
      tableOid: e.table.oid, schema: e.table.schema, table: e.table.name, columns: e.columns,
      tableRows: Math.round(e.table.reltuples), tablePages: e.table.relpages,
      statements: served.flatMap((o) => o.statements).sort((x, y) => y.totalExecTimeMs - x.totalExecTimeMs),
      basis: [...served.flatMap((o) => o.statements)].sort((x, y) => y.dbTimeShare - x.dbTimeShare)[0]!.basis,
    });
  }
  return out;
}

/**
 * An existing valid btree/hash index already leads with the column. Partial indexes count too: whether
 * their predicate matches is a planner question, and suggesting a near-duplicate is worse than a miss.
 */
function isCovered(snapshot: Snapshot, tableOid: number, firstColumn: string): boolean {
  return snapshot.indexes.some(
    (i) => i.tableOid === tableOid && i.isValid && (i.method === 'btree' || i.method === 'hash') && i.columns[0] === firstColumn,
  );
}
