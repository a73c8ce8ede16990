/**
 * Helpers of the missing-index candidate search: table sizes (partitioned roots summed from their
 * partitions), whether an existing index already serves a choice (and which ones cannot: wrong access method
 * or operator class), joins (the inner side's join key), and the foreign-key check statements that belong to
 * fk-without-index. Pure.
 */
import type { StatementAnalysis } from '../sql/index.js';
import type { ColumnStat, IndexStat, Snapshot, TableStat } from '../snapshot/types.js';
import { parseIndexDefinition } from './index-definition.js';
import { chooseColumns, columnSelectivity, type BlockFigures, type ColumnChoice, type ColumnChoiceThresholds } from './query-index-columns.js';

export interface ResolvedTable {
  /** The relation the statement reads (sized). */
  readonly table: TableStat;
  /** Where an index is recommended: the partitioned root of a partition, else the table itself (sized). */
  readonly report: TableStat;
}

export interface SizedTables {
  resolve(oid: number | null): ResolvedTable | null;
  indexesOf(r: ResolvedTable): readonly IndexStat[];
}

/**
 * A table never analysed has reltuples = -1 and relpages = 0 (PG14+): fall back to n_live_tup and the heap
 * size so a freshly loaded table is not invisible. A partitioned table has no storage: sum its partitions.
 */
export function sizedTables(snapshot: Snapshot): SizedTables {
  const blockSize = snapshot.settings?.blockSizeBytes ?? 8192;
  const byOid = new Map(snapshot.tables.map((x) => [x.oid, x]));
  const rootOf = new Map((snapshot.relations?.partitions ?? []).map((p) => [p.oid, p.rootOid]));
  const sized = (table: TableStat): TableStat => {
    if (table.kind === 'p') {
      const parts = [...rootOf]
        .filter(([, root]) => root === table.oid)
        .flatMap(([oid]) => {
          const leaf = byOid.get(oid);
          return leaf?.kind === 'r' ? [sized(leaf)] : [];
        });
      return { ...table, reltuples: parts.reduce((n, x) => n + Math.max(0, x.reltuples), 0), relpages: parts.reduce((n, x) => n + x.relpages, 0) };
    }
    if (table.reltuples >= 0 && table.relpages > 0) return table;
    const reltuples = table.reltuples >= 0 ? table.reltuples : table.nLiveTup;
    const relpages = table.relpages > 0 ? table.relpages : Math.floor((table.heapBytes ?? 0) / blockSize);
    return { ...table, reltuples, relpages };
  };
  return {
    resolve(oid) {
      const found = oid === null ? undefined : byOid.get(oid);
      if (!found) return null;
      const root = byOid.get(rootOf.get(found.oid) ?? -1);
      const table = sized(found);
      return { table, report: root ? sized(root) : table };
    },
    indexesOf(r) {
      return snapshot.indexes.filter((i) => i.tableOid === r.table.oid || i.tableOid === r.report.oid);
    },
  };
}

/** A referential-integrity check (ri_triggers.c) on the referencing table: fk-without-index reports those. */
export function isForeignKeyCheck(text: string, a: StatementAnalysis): boolean {
  return a.kind === 'select' && a.locking.some((l) => /^FOR (KEY )?SHARE/.test(l)) && /\bFROM\s+ONLY\b/i.test(text) && /OPERATOR\(pg_catalog\.=\)/i.test(text);
}

/**
 * Whether a valid index leading with the choice's leading column (any of its equality columns) serves its
 * predicate, and the indexes leading with it that cannot (a BRIN, GiST or hash index for a range, a btree
 * without text_pattern_ops for LIKE …). Partial indexes count: whether their predicate matches is a planner
 * question, and suggesting a near-duplicate is worse than a miss.
 */
export function coverageOf(indexes: readonly IndexStat[], choice: ColumnChoice): { covered: boolean; unusable: string[] } {
  if (choice.predicate !== null) {
    // A partial choice is served by an index with that predicate, or by a btree leading with the NULL-tested column.
    const norm = (x: string) => x.replace(/[()"\s]/g, '').toLowerCase();
    const wanted = norm(choice.predicate);
    const covered = indexes.some((i) => {
      const predicate = parseIndexDefinition(i.definition)?.predicate;
      const lead = i.columns[0];
      return (
        i.isValid &&
        ((predicate && norm(predicate).includes(wanted)) ||
          (i.method === 'btree' && lead !== null && lead !== undefined && wanted.startsWith(`${norm(lead)}is`)))
      );
    });
    return { covered, unusable: [] };
  }
  const leads = choice.equalityColumns.length > 0 ? choice.equalityColumns : choice.columns.slice(0, 1);
  const role = choice.equalityColumns.length > 0 ? 'equality' : (choice.reasons[0]?.role ?? 'equality');
  const unusable: string[] = [];
  let covered = false;
  for (const i of indexes) {
    const column = i.columns[0];
    if (!i.isValid || column === null || column === undefined || !leads.includes(column)) continue;
    const element = parseIndexDefinition(i.definition)?.keys[0]?.text ?? '';
    if (serves(i.method, element, role, choice)) covered = true;
    else unusable.push(`${i.name} (${i.method}${/_ops\b/.test(element) ? ` ${element.split(' ').pop()}` : ''})`);
  }
  return { covered, unusable: covered ? [] : unusable };
}

function serves(method: string, element: string, role: string, choice: ColumnChoice): boolean {
  if (choice.method === 'gin') return /gin_trgm_ops|gist_trgm_ops/.test(element);
  if (role === 'pattern') return method === 'btree' && (choice.opclasses[0] === null || /_pattern_ops\b/.test(element));
  if (method === 'hash') return role === 'equality';
  // A btree with a pattern operator class serves LIKE and equality, not ranges or ORDER BY.
  if (method === 'btree') return role === 'equality' || !/_pattern_ops\b/.test(element);
  return false;
}

const EQUALITY_OPS = new Set(['equality', 'in-list', 'any-array']);

/**
 * Join blocks: each large table's own filter (judged on pg_stats only: the statement's rows are the join's),
 * and the inner side's join key when the outer side is selective and the inner table is read whole per call.
 */
export function findJoinChoices(
  a: StatementAnalysis,
  fig: BlockFigures,
  tables: SizedTables,
  statsOf: (table: TableStat) => ReadonlyMap<string, ColumnStat>,
  t: ColumnChoiceThresholds,
  readsTable: (table: TableStat) => boolean,
): { table: TableStat; choice: ColumnChoice; unusable: string[] }[] {
  const out: { table: TableStat; choice: ColumnChoice; unusable: string[] }[] = [];
  const own = new Set<number>();
  for (const ti of a.mainTables) {
    const r = tables.resolve(a.tables[ti]?.oid ?? null);
    if (!r || !readsTable(r.table)) continue;
    const choice = chooseColumns(a, ti, { ...fig, rowsAreStatementRows: false }, r.table, statsOf(r.table), false, t);
    if (!choice || choice.equalityColumns.length === 0) continue;
    own.add(ti);
    const coverage = coverageOf(tables.indexesOf(r), choice);
    if (!coverage.covered) out.push({ table: r.report, choice, unusable: coverage.unusable });
  }
  const aggregateLike = a.aggregates || a.groupBy || a.distinct;
  for (const edge of a.joins) {
    if (edge.joinType === 'full') continue;
    for (const [inner, outer] of [
      [edge.left, edge.right],
      [edge.right, edge.left],
    ] as const) {
      if (own.has(inner.table) || inner.table === outer.table) continue;
      const ri = tables.resolve(a.tables[inner.table]?.oid ?? null);
      const ro = tables.resolve(a.tables[outer.table]?.oid ?? null);
      if (!ri || !ro || !readsTable(ri.table)) continue;
      const outerRows = selectiveOuterRows(a, outer.table, ro, tables, statsOf(ro.table), t);
      if (outerRows === null) continue;
      const bound = t.maxSelectivityFraction * ri.table.reltuples;
      const observed = fig.rowsAreStatementRows && !aggregateLike ? fig.rowsPerCall : null;
      if (outerRows.rows > bound || (observed !== null && observed > bound)) continue;
      const choice: ColumnChoice = {
        method: 'btree',
        columns: [inner.column],
        opclasses: [null],
        predicate: null,
        equalityColumns: [inner.column],
        selectivity: outerRows.rows / Math.max(1, ri.table.reltuples),
        source: outerRows.source,
        limitBound: false,
        requiresVerification: false,
        reasons: [{ column: inner.column, role: 'join', selectivity: outerRows.rows / Math.max(1, ri.table.reltuples) }],
        rejected: {},
        alternatives: [],
      };
      const coverage = coverageOf(tables.indexesOf(ri), choice);
      if (!coverage.covered) out.push({ table: ri.report, choice, unusable: coverage.unusable });
    }
  }
  return out;
}

/** Rows the outer side of a join contributes per call, when its filter is selective (or it is small); else null. */
function selectiveOuterRows(
  a: StatementAnalysis,
  ti: number,
  outer: ResolvedTable,
  tables: SizedTables,
  stats: ReadonlyMap<string, ColumnStat>,
  t: ColumnChoiceThresholds,
): { rows: number; source: 'pg_stats' | 'observed' } | null {
  const preds = a.predicates.filter((p) => p.table === ti && EQUALITY_OPS.has(p.op));
  let best: { rows: number; source: 'pg_stats' | 'observed' } | null = null;
  const consider = (rows: number, source: 'pg_stats' | 'observed') => {
    if (!best || rows < best.rows) best = { rows, source };
  };
  const indexes = tables.indexesOf(outer);
  for (const p of preds) {
    const stat = stats.get(p.column);
    if (stat) consider(columnSelectivity(stat, outer.table) * Math.max(1, p.parameterCount) * outer.table.reltuples, 'pg_stats');
    const index = indexes.find((i) => i.isValid && i.columns[0] === p.column && (i.method === 'btree' || i.method === 'hash'));
    if (index) consider(index.isUnique && index.columns.length === 1 ? Math.max(1, p.parameterCount) : t.maxOneColumnRows, 'observed');
  }
  if (preds.length === 0 && outer.table.reltuples < 10 * t.maxOneColumnRows) consider(Math.max(1, outer.table.reltuples), 'observed');
  return best;
}
