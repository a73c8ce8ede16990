/** Readers for the parts of an outermost query block: SELECT list/RETURNING, ORDER BY, LIMIT, locking, aggregates. */
import { fieldsOf, listOf, namesOf, stringOf, stripCasts, walk, type AstNode } from './ast.js';
import type { LimitKind } from './analysis-types.js';
import type { ColumnResolver } from './conditions.js';
import type { RawAnalysis, RawJoinEdge } from './extract.js';

export interface Source {
  /** Alias or table name it is referenced by. */
  readonly name: string;
  /** Index into tables; null for sub-selects, functions, VALUES and CTE references. */
  readonly table: number | null;
}

const AGGREGATES = new Set(
  (
    'count sum avg min max array_agg string_agg json_agg jsonb_agg json_object_agg jsonb_object_agg bool_and ' +
    'bool_or every bit_and bit_or bit_xor stddev stddev_pop stddev_samp variance var_pop var_samp corr covar_pop ' +
    'covar_samp regr_count percentile_cont percentile_disc mode xmlagg range_agg range_intersect_agg any_value'
  ).split(' '),
);

export function readSelectBlock(
  f: AstNode,
  out: RawAnalysis,
  resolveColumn: ColumnResolver,
  addConditions: (expr: unknown, joinType: RawJoinEdge['joinType']) => void,
): void {
  if (f.whereClause !== undefined) addConditions(f.whereClause, 'where');
  out.groupBy = listOf(f.groupClause).length > 0;
  out.distinct = f.distinctClause !== undefined;
  if (f.havingClause !== undefined) out.aggregates = true;
  for (const item of listOf(f.sortClause)) {
    const sort = fieldsOf(item, 'SortBy');
    const ref = fieldsOf(stripCasts(sort?.node), 'ColumnRef');
    const col = ref ? resolveColumn(ref) : null;
    if (!sort || !col) {
      out.orderByExpression = true;
      continue;
    }
    const dir = sort.sortby_dir === 'SORTBY_DESC' ? 'desc' : sort.sortby_dir === 'SORTBY_ASC' ? 'asc' : 'default';
    out.orderBy.push({ ...col, direction: dir });
  }
  out.limit = limitKindOf(f.limitCount);
  out.offset = limitKindOf(f.limitOffset);
  for (const item of listOf(f.lockingClause)) {
    const lock = fieldsOf(item, 'LockingClause');
    if (!lock) continue;
    const strength = LOCK_STRENGTH[stringOf(lock.strength) ?? ''] ?? 'FOR UPDATE';
    const wait = lock.waitPolicy === 'LockWaitSkip' ? ' SKIP LOCKED' : lock.waitPolicy === 'LockWaitError' ? ' NOWAIT' : '';
    out.locking.push(strength + wait);
  }
  walk([f.targetList, f.havingClause, f.sortClause], (type, fields) => {
    if (type === 'SubLink') return false;
    if (type !== 'FuncCall') return;
    if (fields.over !== undefined) out.windowFunctions = true;
    else if (
      fields.agg_star === true ||
      fields.agg_filter !== undefined ||
      fields.agg_within_group === true ||
      AGGREGATES.has((namesOf(fields.funcname).pop() ?? '').toLowerCase())
    ) {
      out.aggregates = true;
    }
  });
}

const LOCK_STRENGTH: Readonly<Record<string, string>> = {
  LCS_FORUPDATE: 'FOR UPDATE',
  LCS_FORNOKEYUPDATE: 'FOR NO KEY UPDATE',
  LCS_FORSHARE: 'FOR SHARE',
  LCS_FORKEYSHARE: 'FOR KEY SHARE',
};

function limitKindOf(value: unknown): LimitKind {
  if (value === undefined) return null;
  const inner = stripCasts(value);
  if (fieldsOf(inner, 'ParamRef')) return 'parameter';
  const c = fieldsOf(inner, 'A_Const');
  if (c) return c.isnull === true ? null : 'constant';
  return 'expression';
}

export function readTargetList(list: unknown, out: RawAnalysis, resolveColumn: ColumnResolver, sources: readonly Source[]): void {
  for (const item of listOf(list)) {
    const target = fieldsOf(item, 'ResTarget');
    const ref = fieldsOf(stripCasts(target?.val), 'ColumnRef');
    if (!ref) continue;
    const names = namesOf(ref.fields);
    if (names[names.length - 1] === '*') {
      const qualifier = names.length > 1 ? names[names.length - 2] : undefined;
      for (const s of sources) {
        if (s.table !== null && (qualifier === undefined || s.name === qualifier) && !out.outputStarTables.includes(s.table)) {
          out.outputStarTables.push(s.table);
        }
      }
      continue;
    }
    const col = resolveColumn(ref);
    if (col) out.outputColumns.push(col);
  }
}
