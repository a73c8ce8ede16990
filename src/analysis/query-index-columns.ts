/**
 * Which index one query block wants on one of its tables (detection.md §2.2 steps 3–5): equality columns
 * (most selective first), then a range or the ORDER BY of a top-N; a partial index for a rare IS [NOT] NULL;
 * a pattern index for LIKE/ILIKE. Every column chosen or rejected says why (evidence). Pure.
 */
import { must } from '../errors/must.js';
import type { Predicate, StatementAnalysis } from '../sql/index.js';
import type { ColumnStat, TableStat } from '../snapshot/types.js';

/** The thresholds the choice needs (a subset of the candidate thresholds). */
export interface ColumnChoiceThresholds {
  readonly maxSelectivityFraction: number;
  readonly maxColumnSelectivityFraction: number;
  readonly maxTopValueFraction: number;
  readonly maxOneColumnRows: number;
  readonly maxPartialIndexFraction: number;
}

export type ColumnRole = 'equality' | 'range' | 'sort' | 'null-test' | 'pattern' | 'join';

/** Why a column is in the index: its role and, when known, the fraction of rows it keeps (0–1). */
export interface ColumnReason {
  readonly column: string;
  readonly role: ColumnRole;
  readonly selectivity: number | null;
}

export interface IndexShape {
  readonly method: 'btree' | 'gin';
  readonly columns: readonly string[];
  /** Operator class per column (null = the default). */
  readonly opclasses: readonly (string | null)[];
  /** Partial-index predicate (SQL, identifiers quoted), or null. */
  readonly predicate: string | null;
}

export interface ColumnChoice extends IndexShape {
  /** Equality columns that survived, most selective first (an index leading with one already serves). */
  readonly equalityColumns: readonly string[];
  /** Fraction of rows the filter returns (0–1); null when neither pg_stats nor rows per call tell. */
  readonly selectivity: number | null;
  readonly source: 'pg_stats' | 'observed' | 'unknown';
  /** Observed selectivity of a LIMIT statement whose calls all returned the same count: the LIMIT decided. */
  readonly limitBound: boolean;
  /** Only a hypothetical index could show it helps (unknown selectivity, several equal ranges, a guess). */
  readonly requiresVerification: boolean;
  readonly reasons: readonly ColumnReason[];
  /** Columns left out and why. */
  readonly rejected: Readonly<Record<string, string>>;
  /** Other column lists worth comparing with hypopg (btree only). */
  readonly alternatives: readonly (readonly string[])[];
}

export interface BlockFigures {
  readonly rowsPerCall: number;
  /** pg_stat_statements rows per call describe this block (the statement itself or an inlined source). */
  readonly rowsAreStatementRows: boolean;
}

const EQUALITY_OPS = new Set(['equality', 'in-list', 'any-array']);
export const NO_BTREE_TYPES = /^(json|jsonb|point|polygon|box|circle|line|lseg|path|tsvector|tsquery|xml)\b|\[\]$/;
const C_COLLATIONS = new Set(['C', 'POSIX', 'ucs_basic', 'pg_c_utf8']);

export function columnSelectivity(stat: ColumnStat, table: TableStat): number {
  const nd = stat.nDistinct > 0 ? stat.nDistinct : -stat.nDistinct * Math.max(table.reltuples, 1);
  return nd > 0 ? (1 - stat.nullFrac) / nd : 1;
}

const pct = (x: number): string => `${+(x * 100).toPrecision(2)} %`;
const quote = (name: string): string => (/^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`);

/** An equality column's selectivity, or the reason it is useless for an index. */
function judgeEquality(stat: ColumnStat | undefined, table: TableStat, values: number, t: ColumnChoiceThresholds): number | string | null {
  if (!stat) return null;
  const sel = Math.min(1, columnSelectivity(stat, table) * Math.max(1, values));
  if (stat.nDistinct === 1) return 'a single value in the whole column';
  const top = stat.topFrequency ?? 0;
  if (top >= t.maxTopValueFraction) return `low cardinality: its most common value covers ${pct(top)} of rows`;
  if (sel > t.maxColumnSelectivityFraction) return `low cardinality: each value matches about ${pct(sel)} of rows`;
  return sel;
}

/**
 * The index for table `ti` of block `a`, or null when none is worth it. `stats` are the table's pg_stats
 * columns (empty for a pg_monitor-only role); `pgTrgm` says whether trigram indexes are available.
 */
export function chooseColumns(
  a: StatementAnalysis,
  ti: number,
  fig: BlockFigures,
  table: TableStat,
  stats: ReadonlyMap<string, ColumnStat>,
  pgTrgm: boolean,
  t: ColumnChoiceThresholds,
): ColumnChoice | null {
  const all = a.predicates.filter((p) => !p.inJoin && p.table === ti);
  const rejected: Record<string, string> = {};
  const usable = all.filter((p) => {
    const type = stats.get(p.column)?.dataType ?? '';
    if (NO_BTREE_TYPES.test(type)) rejected[p.column] = `type ${type} has no btree operator class`;
    return !NO_BTREE_TYPES.test(type);
  });
  const sel = new Map<string, number>();
  const kept: string[] = [];
  for (const p of usable.filter((x) => EQUALITY_OPS.has(x.op))) {
    if (kept.includes(p.column) || rejected[p.column]) continue;
    const verdict = judgeEquality(stats.get(p.column), table, p.op === 'equality' ? 1 : p.parameterCount, t);
    if (typeof verdict === 'string') rejected[p.column] = verdict;
    else {
      if (verdict !== null) sel.set(p.column, verdict);
      kept.push(p.column);
    }
  }
  kept.sort((x, y) => (sel.get(x) ?? 1) - (sel.get(y) ?? 1));
  const ranges = rangeColumns(usable);
  const nulls = usable.filter((p) => p.op === 'null-test');
  const patterns = usable.filter((p) => p.operator === '~~' || p.operator === '~~*');
  const sort = a.limit !== null && !a.orderByExpression && a.orderBy.length > 0 && a.orderBy.every((o) => o.table === ti) ? sortColumns(a) : [];
  const aggregateLike = a.aggregates || a.groupBy || a.distinct;
  const observed = fig.rowsAreStatementRows && !aggregateLike ? fig.rowsPerCall / Math.max(table.reltuples, 1) : null;

  // A rare IS [NOT] NULL becomes the predicate of a partial index (pg_stats null_frac).
  let predicate: string | null = null;
  let nullSel: number | null = null;
  for (const p of nulls) {
    const stat = stats.get(p.column);
    if (!stat) continue;
    const s = p.operator === 'IS NULL' ? stat.nullFrac : 1 - stat.nullFrac;
    if (s <= t.maxPartialIndexFraction && (nullSel === null || s < nullSel)) {
      predicate = `${quote(p.column)} ${p.operator}`;
      nullSel = s;
    } else if (s > t.maxPartialIndexFraction) rejected[p.column] = `${p.operator} matches ${pct(s)} of rows`;
  }
  const reasons: ColumnReason[] = [];
  const alternatives: string[][] = [];
  const base = { method: 'btree' as const, predicate, rejected, alternatives, reasons };
  const eqReasons = (cols: readonly string[]) => cols.map((c) => ({ column: c, role: 'equality' as const, selectivity: sel.get(c) ?? null }));

  const sortLead = sort[0];
  const lead = kept[0];
  if (lead !== undefined) {
    const keptSel = kept.map((c) => sel.get(c));
    const known = keptSel.every((s) => s !== undefined) && ranges.length === 0;
    const statsSel = known ? keptSel.slice(0, 2).reduce((x, s) => x * s, nullSel ?? 1) : null;
    const selectivity = statsSel ?? observed;
    const source = statsSel !== null ? 'pg_stats' : observed !== null ? 'observed' : 'unknown';
    if (selectivity !== null && selectivity > t.maxSelectivityFraction) return null;
    const columns = kept.slice(0, 2);
    reasons.push(...eqReasons(columns));
    const range = ranges[0];
    const rowsPerValue = (selectivity ?? 1) * table.reltuples;
    const wide = rowsPerValue > t.maxOneColumnRows;
    const leadSel = sel.get(lead);
    if (range && columns.length === 1 && leadSel !== undefined && leadSel > t.maxSelectivityFraction && observed !== null && observed < leadSel / 10) {
      // The range, not the weak equality, does the filtering: lead with it (the pair is compared with hypopg).
      alternatives.push([lead, range.column]);
      return choice([range.column], [{ column: range.column, role: 'range', selectivity: observed / leadSel }], observed, 'observed');
    }
    if (columns.length === 1 && range && range.column !== lead && (wide || source === 'observed')) {
      columns.push(range.column);
      reasons.push({ column: range.column, role: 'range', selectivity: null });
    } else if (columns.length === 1 && ranges.length === 0 && sortLead !== undefined && !sort.includes(lead) && wide) {
      columns.push(sortLead);
      reasons.push({ column: sortLead, role: 'sort', selectivity: null });
    }
    if (columns.length > 1) alternatives.push(columns.slice(0, 1));
    for (const r of ranges.slice(0, 2)) if (!columns.includes(r.column)) alternatives.push([lead, r.column]);
    const limitBound = source === 'observed' && a.limit !== null && Number.isInteger(fig.rowsPerCall);
    return {
      ...base,
      columns,
      opclasses: columns.map(() => null),
      equalityColumns: kept,
      selectivity,
      source,
      limitBound,
      requiresVerification: source === 'unknown',
    };
  }
  if (all.some((p) => EQUALITY_OPS.has(p.op)) && ranges.length === 0 && predicate === null) return null; // only low-cardinality filters

  if (predicate !== null) {
    const partial = predicate;
    const keyLead =
      sortLead ??
      must(
        nulls.find((p) => partial.startsWith(quote(p.column))),
        'the null test behind the partial-index predicate',
      ).column;
    const key = sortLead !== undefined ? sort : [keyLead];
    reasons.push({ column: keyLead, role: sortLead !== undefined ? 'sort' : 'null-test', selectivity: nullSel });
    return choice(key, reasons, nullSel, 'pg_stats');
  }
  const [best, second] = ranges;
  if (best) {
    // Several ranges: the two-sided one (BETWEEN, or both bounds) is likely the narrowest; equals are a guess.
    const ambiguous = second !== undefined && second.twoSided === best.twoSided;
    for (const r of ranges.slice(1)) alternatives.push([r.column]);
    if (observed !== null && observed > t.maxSelectivityFraction) return null;
    return choice(
      [best.column],
      [{ column: best.column, role: 'range', selectivity: observed }],
      observed,
      observed === null ? 'unknown' : 'observed',
      ambiguous,
    );
  }
  const [pattern] = patterns;
  if (pattern) return patternChoice(pattern, stats.get(pattern.column), pgTrgm, observed, t, base);
  const unknownNull = nulls.find((p) => !stats.has(p.column));
  if (unknownNull && observed !== null && observed <= t.maxSelectivityFraction && !(a.limit !== null && sort.length === 0)) {
    const key = sort.length > 0 ? sort : [unknownNull.column];
    const withPredicate = { ...base, predicate: `${quote(unknownNull.column)} ${unknownNull.operator}` };
    reasons.push({ column: sortLead ?? unknownNull.column, role: sortLead !== undefined ? 'sort' : 'null-test', selectivity: observed });
    return {
      ...withPredicate,
      columns: key,
      opclasses: key.map(() => null),
      equalityColumns: [],
      selectivity: observed,
      source: 'observed',
      limitBound: false,
      requiresVerification: a.limit !== null,
    };
  }
  if (all.length === 0 && !a.hasUnanalysedConditions && sort.length > 0 && observed !== null && observed <= t.maxSelectivityFraction) {
    // Top-N without a filter: the index on the sort key returns the first rows without sorting the table.
    return choice(
      sort,
      sort.map((c) => ({ column: c, role: 'sort' as const, selectivity: null })),
      observed,
      'observed',
    );
  }
  return null;

  function choice(columns: string[], why: ColumnReason[], selectivity: number | null, source: ColumnChoice['source'], guess = false): ColumnChoice {
    return {
      ...base,
      columns,
      opclasses: columns.map(() => null),
      reasons: why,
      equalityColumns: [],
      selectivity,
      source,
      limitBound: false,
      requiresVerification: guess || source === 'unknown',
    };
  }
}

interface RangeColumn {
  readonly column: string;
  readonly twoSided: boolean;
}

/** Range columns, two-sided (BETWEEN, or a lower and an upper bound) first. */
function rangeColumns(preds: readonly Predicate[]): RangeColumn[] {
  const out = new Map<string, { lower: boolean; upper: boolean; between: boolean }>();
  for (const p of preds.filter((x) => x.op === 'range')) {
    const r = out.get(p.column) ?? { lower: false, upper: false, between: false };
    if (p.operator === 'BETWEEN') r.between = true;
    else if (p.operator.startsWith('>')) r.lower = true;
    else r.upper = true;
    out.set(p.column, r);
  }
  return [...out].map(([column, r]) => ({ column, twoSided: r.between || (r.lower && r.upper) })).sort((x, y) => Number(y.twoSided) - Number(x.twoSided));
}

/** ORDER BY columns an index can return in order: all one direction (a backward scan serves DESC), ≤ 2. */
function sortColumns(a: StatementAnalysis): string[] {
  const dir = (d: string) => (d === 'desc' ? 'desc' : 'asc');
  const [head] = a.orderBy;
  if (!head) return [];
  const first = dir(head.direction);
  const same = a.orderBy.every((o) => dir(o.direction) === first);
  return (same ? a.orderBy.slice(0, 2) : a.orderBy.slice(0, 1)).map((o) => o.column);
}

/**
 * LIKE/ILIKE: a left-anchored LIKE prefix is served by a btree (text_pattern_ops unless the column's
 * collation is C); `%…%`, ILIKE, or a pattern hidden behind a parameter only by a trigram GIN index.
 */
function patternChoice(
  p: Predicate,
  stat: ColumnStat | undefined,
  pgTrgm: boolean,
  observed: number | null,
  t: ColumnChoiceThresholds,
  base: Pick<ColumnChoice, 'predicate' | 'alternatives' | 'reasons'> & { readonly rejected: Record<string, string> },
): ColumnChoice | null {
  if (observed !== null && observed > t.maxSelectivityFraction) return null;
  const anchored = p.pattern === undefined ? null : p.pattern !== '' && !/^[%_]/.test(p.pattern);
  const common = { equalityColumns: [], selectivity: observed, source: observed === null ? ('unknown' as const) : ('observed' as const), limitBound: false };
  const reasons = [{ column: p.column, role: 'pattern' as const, selectivity: observed }];
  if (p.operator === '~~' && anchored === true) {
    const collation = stat?.collation ?? null;
    const c = collation !== null && C_COLLATIONS.has(collation);
    return {
      ...base,
      ...common,
      reasons,
      method: 'btree',
      columns: [p.column],
      opclasses: [c ? null : 'text_pattern_ops'],
      requiresVerification: observed === null,
    };
  }
  if (!pgTrgm) {
    base.rejected[p.column] =
      `${p.operator === '~~*' ? 'ILIKE' : anchored === false ? "LIKE '%…'" : 'LIKE with a parameter pattern'} needs a trigram index (CREATE EXTENSION pg_trgm)`;
    return null;
  }
  return {
    ...base,
    ...common,
    reasons,
    method: 'gin',
    columns: [p.column],
    opclasses: ['gin_trgm_ops'],
    predicate: null,
    requiresVerification: observed === null,
  };
}
