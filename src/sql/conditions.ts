/** Classification of one WHERE/ON conjunct into a predicate on a base-table column or a join edge. */
import { fieldsOf, listOf, namesOf, stringOf, stripCasts, walk, type AstNode } from './ast.js';
import type { PredicateOp, ValueKind } from './analysis-types.js';

/** A column reference before resolution: `table` = -1 with `candidates` when unqualified among several tables. */
export interface RawColumn {
  readonly table: number;
  readonly column: string;
  readonly candidates?: readonly number[];
}

/** Resolves a ColumnRef's fields to a base-table column, or null (sub-select, CTE, unknown qualifier). */
export type ColumnResolver = (ref: AstNode) => RawColumn | null;

export interface RawCondition extends RawColumn {
  readonly op: PredicateOp;
  readonly operator: string;
  readonly value: ValueKind;
  readonly parameterCount: number;
  /** LIKE/ILIKE compared with a string constant: the pattern (tells a left-anchored prefix from `%…%`). */
  readonly pattern?: string;
}

export type ConditionResult =
  | { readonly type: 'predicate'; readonly predicate: RawCondition }
  | { readonly type: 'join'; readonly left: RawColumn; readonly right: RawColumn }
  | { readonly type: 'unanalysed' };

const UNANALYSED: ConditionResult = { type: 'unanalysed' };

const OP_CLASS: Readonly<Record<string, PredicateOp>> = {
  '=': 'equality',
  '<': 'range',
  '<=': 'range',
  '>': 'range',
  '>=': 'range',
  '~~': 'like-prefix',
};

const FLIPPED: Readonly<Record<string, string>> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** Parameter count and kind of a compared value; null when it references columns (correlated, not a filter). */
function valueOf(expr: unknown): { value: ValueKind; parameterCount: number } | null {
  const inner = stripCasts(expr);
  if (fieldsOf(inner, 'ParamRef')) return { value: 'parameter', parameterCount: 1 };
  if (fieldsOf(inner, 'A_Const')) return { value: 'constant', parameterCount: 0 };
  let params = 0;
  let columns = 0;
  walk(inner, (type) => {
    if (type === 'ParamRef') params++;
    if (type === 'ColumnRef' || type === 'SubLink') columns++;
  });
  if (columns > 0) return null;
  return { value: 'expression', parameterCount: params };
}

function columnOf(expr: unknown, resolve: ColumnResolver): RawColumn | null {
  const ref = fieldsOf(stripCasts(expr), 'ColumnRef');
  return ref ? resolve(ref) : null;
}

function isPlainColumn(expr: unknown): boolean {
  return fieldsOf(expr, 'ColumnRef') !== null || fieldsOf(fieldsOf(expr, 'CollateClause')?.arg, 'ColumnRef') !== null;
}

/** Classifies one conjunct; never guesses — anything unfamiliar is `unanalysed`. */
export function classifyCondition(expr: unknown, resolve: ColumnResolver): ConditionResult {
  const nullTest = fieldsOf(expr, 'NullTest');
  if (nullTest) {
    if (!isPlainColumn(nullTest.arg)) return UNANALYSED;
    const col = columnOf(nullTest.arg, resolve);
    if (!col) return UNANALYSED;
    const operator = nullTest.nulltesttype === 'IS_NOT_NULL' ? 'IS NOT NULL' : 'IS NULL';
    return { type: 'predicate', predicate: { ...col, op: 'null-test', operator, value: 'constant', parameterCount: 0 } };
  }
  const a = fieldsOf(expr, 'A_Expr');
  if (!a) return UNANALYSED;
  const kind = stringOf(a.kind) ?? '';
  const name = namesOf(a.name).pop() ?? '';

  // column on the left is the usual form; `$1 = col` is flipped for plain operators.
  let lexpr = a.lexpr;
  let rexpr = a.rexpr;
  let operator = name;
  if (kind === 'AEXPR_OP' && !isPlainColumn(lexpr) && isPlainColumn(rexpr)) {
    [lexpr, rexpr] = [rexpr, lexpr];
    operator = FLIPPED[name] ?? name;
  }
  if (!isPlainColumn(lexpr)) return UNANALYSED; // function-wrapped or cast column: not index-usable as is
  const col = columnOf(lexpr, resolve);
  if (!col) return UNANALYSED;

  switch (kind) {
    case 'AEXPR_OP': {
      if (isPlainColumn(rexpr)) {
        const other = columnOf(rexpr, resolve);
        if (!other || operator !== '=') return UNANALYSED;
        return { type: 'join', left: col, right: other };
      }
      const v = valueOf(rexpr);
      if (!v) return UNANALYSED;
      return { type: 'predicate', predicate: { ...col, op: OP_CLASS[operator] ?? 'other', operator, ...v } };
    }
    case 'AEXPR_OP_ANY':
    case 'AEXPR_OP_ALL': {
      const v = valueOf(rexpr);
      if (!v) return UNANALYSED;
      const isAny = kind === 'AEXPR_OP_ANY' && name === '=';
      const op: PredicateOp = isAny ? 'any-array' : 'other';
      return { type: 'predicate', predicate: { ...col, op, operator: `${name} ${kind === 'AEXPR_OP_ANY' ? 'ANY' : 'ALL'}`, ...v } };
    }
    case 'AEXPR_IN': {
      const items = listOf(fieldsOf(rexpr, 'List')?.items ?? rexpr);
      const values = items.map(valueOf).filter((v) => v !== null);
      if (values.length < items.length) return UNANALYSED;
      const [first] = values;
      const value: ValueKind = first && values.every((v) => v.value === first.value) ? first.value : 'expression';
      const parameterCount = values.reduce((n, v) => n + v.parameterCount, 0);
      const op: PredicateOp = name === '=' ? 'in-list' : 'other';
      return { type: 'predicate', predicate: { ...col, op, operator: name === '=' ? 'IN' : 'NOT IN', value, parameterCount } };
    }
    case 'AEXPR_LIKE':
    case 'AEXPR_ILIKE': {
      const v = valueOf(rexpr);
      if (!v) return UNANALYSED;
      const op: PredicateOp = kind === 'AEXPR_LIKE' && name === '~~' ? 'like-prefix' : 'other';
      const pattern = stringOf((fieldsOf(stripCasts(rexpr), 'A_Const')?.sval as AstNode | undefined)?.sval);
      return { type: 'predicate', predicate: { ...col, op, operator: name, ...v, ...(pattern === null ? {} : { pattern }) } };
    }
    case 'AEXPR_BETWEEN':
    case 'AEXPR_BETWEEN_SYM': {
      const bounds = listOf(fieldsOf(rexpr, 'List')?.items ?? rexpr).map(valueOf);
      const [low, high] = bounds;
      if (bounds.length !== 2 || !low || !high) return UNANALYSED;
      const value: ValueKind = low.value === high.value ? low.value : 'expression';
      return {
        type: 'predicate',
        predicate: { ...col, op: 'range', operator: 'BETWEEN', value, parameterCount: low.parameterCount + high.parameterCount },
      };
    }
    default:
      return UNANALYSED;
  }
}
