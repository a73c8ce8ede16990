/**
 * Missing-index candidates (detection.md §2.2 steps 1–5), shared by the `missing-index` rule and the
 * collector's hypopg enrichment, so both judge exactly the same suggestions. Pure.
 *
 * A statement is looked at block by block (its own, CTE bodies, sub-selects, and a CTE/view/sub-select it
 * merely filters, merged onto the base table); a single-table block gets the index its filter wants, a join
 * the index on the inner side's join key. Partitions are reported on their partitioned root.
 */
import { analyzeQueryBlocks, buildAnalysisContext, type QueryBlock, type StatementAnalysis } from '../sql/index.js';
import type { ColumnStat, Snapshot, TableStat } from '../snapshot/types.js';
import type { Window } from '../snapshot/window-types.js';
import { chooseColumns, type ColumnChoice, type ColumnReason } from './query-index-columns.js';
import { coverageOf, findJoinChoices, isForeignKeyCheck, sizedTables, type SizedTables } from './query-index-shapes.js';
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
  maxPartialIndexFraction: { default: 0.05, description: 'An IS [NOT] NULL matching at most this fraction (0–1) of rows (pg_stats) becomes a partial index.' },
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
  /** Fraction of rows the filter returns (0–1); null when unknown (then only hypopg can justify the index). */
  readonly selectivity: number | null;
  readonly selectivitySource: 'pg_stats' | 'observed' | 'unknown';
  readonly basis: Basis;
  /** This statement's share of execution time on its basis (0–1). */
  readonly dbTimeShare: number;
  /**
   * Observed selectivity of a statement with LIMIT whose calls all returned the same number of rows: the
   * LIMIT, not the filter, may have decided the count, so the filter's selectivity is unknown.
   */
  readonly limitBound: boolean;
  /** The heuristics cannot tell whether the index helps this statement: report it only when hypopg shows it. */
  readonly requiresVerification: boolean;
  /** Where in the statement the filter sits: the statement, a CTE, a view, a sub-select, a join. */
  readonly origin: string;
}

export interface IndexSuggestion {
  readonly tableOid: number;
  readonly schema: string;
  readonly table: string;
  /** Key columns in index order (≤ 2). */
  readonly columns: readonly string[];
  readonly method: 'btree' | 'gin';
  /** Operator class per key column (null = default). */
  readonly opclasses: readonly (string | null)[];
  /** Partial-index predicate (SQL), or null. */
  readonly predicate: string | null;
  /** Table size used for the gates: reltuples (rows) and relpages (pages), or their fallbacks. */
  readonly tableRows: number;
  readonly tablePages: number;
  readonly statements: readonly CandidateStatement[];
  /** Basis of the statement that costs the most. */
  readonly basis: Basis;
  /** Why each key column is there (of the statement that costs the most). */
  readonly reasons: readonly ColumnReason[];
  /** Columns of the statements' filters left out, and why. */
  readonly rejected: Readonly<Record<string, string>>;
  /** Other key-column lists hypopg should compare with this one. */
  readonly alternatives: readonly (readonly string[])[];
  /** Existing indexes on the column that cannot serve the predicate (wrong access method or operator class). */
  readonly unusableIndexes: readonly string[];
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
    return w && windowed ? { s: w, set: windowed } : { s, set: cumulative };
  });
  const tables = sizedTables(snapshot);
  const statsByTable = new Map<string, Map<string, ColumnStat>>();
  for (const c of snapshot.columns) {
    const key = `${c.schema}.${c.table}`;
    let stats = statsByTable.get(key);
    if (!stats) statsByTable.set(key, (stats = new Map()));
    stats.set(c.column, c);
  }
  const statsOf = (table: TableStat) => statsByTable.get(`${table.schema}.${table.name}`) ?? new Map<string, ColumnStat>();
  const pgTrgm = snapshot.meta.capabilities.pgTrgm === true;

  const byIndex = new Map<string, Entry>();
  for (const { s, set } of picks) {
    if (s.calls <= 0) continue;
    const mean = s.totalExecTimeMs / s.calls;
    const share = set.totalExecTimeMs > 0 ? s.totalExecTimeMs / set.totalExecTimeMs : 0;
    if (share < t.minDbTimeShare && !(mean >= t.minMeanMs && s.calls >= t.minCalls)) continue;
    const blocks = analyzeQueryBlocks(s.query, ctx, { queryId: s.queryId });
    const top = blocks[0]?.analysis;
    if (!top || !['select', 'update', 'delete'].includes(top.kind) || isForeignKeyCheck(s.query, top)) continue;
    const blocksPerCall = s.sharedBlks / s.calls;
    const seen = new Set<string>();
    for (const block of blocks) {
      for (const found of blockChoices(block, s, blocksPerCall, tables, statsOf, pgTrgm, t)) {
        const { table, choice } = found;
        const key = `${table.oid}:${choice.method}:${JSON.stringify(choice.columns)}:${JSON.stringify(choice.opclasses)}:${choice.predicate ?? ''}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const entry = byIndex.get(key) ?? { table, choice, unusable: found.unusable, statements: [] };
        entry.statements.push({
          queryId: s.queryId,
          userId: s.userId,
          query: s.query,
          calls: s.calls,
          totalExecTimeMs: s.totalExecTimeMs,
          rowsPerCall: s.rows / s.calls,
          blocksPerCall,
          selectivity: choice.selectivity,
          selectivitySource: choice.source,
          basis: set.basis,
          dbTimeShare: share,
          limitBound: choice.limitBound,
          requiresVerification: choice.requiresVerification,
          origin: found.origin,
        });
        byIndex.set(key, entry);
      }
    }
  }
  return mergePrefixes([...byIndex.values()]);
}

interface Entry {
  readonly table: TableStat;
  readonly choice: ColumnChoice;
  readonly unusable: readonly string[];
  readonly statements: CandidateStatement[];
}

interface Found {
  readonly table: TableStat;
  readonly choice: ColumnChoice;
  readonly unusable: readonly string[];
  readonly origin: string;
}

function blockChoices(
  block: QueryBlock,
  s: StatementFigures,
  blocksPerCall: number,
  tables: SizedTables,
  statsOf: (table: TableStat) => ReadonlyMap<string, ColumnStat>,
  pgTrgm: boolean,
  t: IndexCandidateThresholds,
): Found[] {
  const a: StatementAnalysis = block.analysis;
  if (a.setOperation || a.hasDerivedSources || a.mainTables.length === 0) return [];
  const origin = block.via === null ? block.origin : `${block.origin} ${block.via}`;
  const fig = { rowsPerCall: s.rows / s.calls, rowsAreStatementRows: block.rowsAreStatementRows };
  const readsTable = (table: TableStat) =>
    table.reltuples >= t.minTableRows && table.relpages >= t.minTableBlocks && blocksPerCall >= t.minTableReadShare * table.relpages;
  if (a.mainTables.length > 1) {
    return findJoinChoices(a, fig, tables, statsOf, t, readsTable).map((j) => ({ ...j, origin: `join (${origin})` }));
  }
  const [ti] = a.mainTables;
  if (ti === undefined) return [];
  const read = tables.resolve(a.tables[ti]?.oid ?? null);
  if (!read || !readsTable(read.table)) return [];
  const choice = chooseColumns(a, ti, fig, read.table, statsOf(read.table), pgTrgm, t);
  if (!choice) return [];
  // An index already serving the leading column: if the statement still reads the table, that is a planner
  // question (types, collation, a stale plan), not a missing index.
  const coverage = coverageOf(tables.indexesOf(read), choice);
  if (coverage.covered) return [];
  return [{ table: read.report, choice, unusable: coverage.unusable, origin }];
}

/** Merge: a suggestion that is a btree prefix of another on the same table (same predicate) is served by it. */
function mergePrefixes(entries: readonly Entry[]): IndexSuggestion[] {
  const compatible = (x: Entry, y: Entry) =>
    x !== y && x.table.oid === y.table.oid && x.choice.method === 'btree' && y.choice.method === 'btree' && x.choice.predicate === y.choice.predicate;
  const isPrefix = (short: Entry, long: Entry): boolean =>
    short.choice.columns.length < long.choice.columns.length &&
    short.choice.columns.every((c, i) => long.choice.columns[i] === c && long.choice.opclasses[i] === short.choice.opclasses[i]);
  const out: IndexSuggestion[] = [];
  for (const e of entries) {
    if (entries.some((o) => compatible(e, o) && isPrefix(e, o))) continue;
    const served = entries.filter((o) => o === e || (compatible(o, e) && isPrefix(o, e)));
    const statements = served.flatMap((o) => o.statements).sort((x, y) => y.totalExecTimeMs - x.totalExecTimeMs);
    const c = e.choice;
    out.push({
      tableOid: e.table.oid,
      schema: e.table.schema,
      table: e.table.name,
      columns: c.columns,
      method: c.method,
      opclasses: c.opclasses,
      predicate: c.predicate,
      tableRows: Math.round(e.table.reltuples),
      tablePages: e.table.relpages,
      statements,
      // The statement with the largest share of database time decides (the first on a tie); served is never empty.
      basis: statements.reduce((top, x) => (x.dbTimeShare > top.dbTimeShare ? x : top)).basis,
      reasons: c.reasons,
      rejected: Object.assign({}, ...served.map((o) => o.choice.rejected)) as Record<string, string>,
      alternatives: dedupe(served.flatMap((o) => [o.choice.columns, ...o.choice.alternatives]).filter((x) => !same(x, c.columns))),
      unusableIndexes: [...new Set(served.flatMap((o) => o.unusable))],
    });
  }
  return out;
}

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => b[i] === x);
function dedupe(lists: readonly (readonly string[])[]): (readonly string[])[] {
  const out: (readonly string[])[] = [];
  for (const l of lists) if (!out.some((o) => same(o, l))) out.push(l);
  return out;
}
