/**
 * Extraction of the analysis from one parsed statement, before names are resolved against a snapshot.
 * Pure; may throw on shapes it does not expect — `analyzeStatement` turns that into "not analysable".
 */
import { fieldsOf, listOf, namesOf, nodeOf, stringOf, walk, type AstNode } from './ast.js';
import type { JoinEdge, LimitKind, OrderItem, Predicate, PredicateOp, StatementKind, ValueKind } from './analysis-types.js';
import { readSelectBlock, readTargetList, type Source } from './select-block.js';
import { classifyCondition, type ColumnResolver, type RawColumn } from './conditions.js';

export interface RawTable {
  readonly schema: string | null;
  readonly name: string;
  readonly aliases: string[];
}

/** A column reference before resolution: `table` = -1 with `candidates` when unqualified among several tables. */
export type { RawColumn } from './conditions.js';
export type RawPredicate = Omit<Predicate, 'table'> & RawColumn;
export interface RawJoinEdge extends Omit<JoinEdge, 'left' | 'right'> {
  readonly left: RawColumn;
  readonly right: RawColumn;
}
export type RawOrderItem = Omit<OrderItem, 'table'> & RawColumn;

export interface RawAnalysis {
  readonly kind: StatementKind;
  readonly tables: RawTable[];
  readonly mainTables: number[];
  hasDerivedSources: boolean;
  readonly predicates: RawPredicate[];
  hasUnanalysedConditions: boolean;
  readonly joins: RawJoinEdge[];
  readonly orderBy: RawOrderItem[];
  orderByExpression: boolean;
  limit: LimitKind;
  offset: LimitKind;
  readonly outputColumns: RawColumn[];
  readonly outputStarTables: number[];
  aggregates: boolean;
  windowFunctions: boolean;
  groupBy: boolean;
  distinct: boolean;
  setOperation: boolean;
  readonly ctes: string[];
  subqueries: boolean;
  readonly locking: string[];
  onConflict: boolean;
  returning: boolean;
  readonly writtenColumns: string[];
}

const KIND_BY_NODE: Readonly<Record<string, StatementKind>> = {
  SelectStmt: 'select',
  InsertStmt: 'insert',
  UpdateStmt: 'update',
  DeleteStmt: 'delete',
  MergeStmt: 'merge',
};

export function statementKindOf(stmt: unknown): StatementKind {
  const node = nodeOf(stmt);
  if (!node) return 'unknown';
  return KIND_BY_NODE[node.type] ?? 'utility';
}

/** Extracts the raw analysis of a DML statement node (SelectStmt, InsertStmt, UpdateStmt, DeleteStmt, MergeStmt). */
export function extractStatement(stmt: unknown): RawAnalysis {
  const node = nodeOf(stmt);
  if (!node) throw new Error('empty statement');
  const kind = statementKindOf(stmt);
  const out: RawAnalysis = {
    kind,
    tables: [],
    mainTables: [],
    hasDerivedSources: false,
    predicates: [],
    hasUnanalysedConditions: false,
    joins: [],
    orderBy: [],
    orderByExpression: false,
    limit: null,
    offset: null,
    outputColumns: [],
    outputStarTables: [],
    aggregates: false,
    windowFunctions: false,
    groupBy: false,
    distinct: false,
    setOperation: false,
    ctes: [],
    subqueries: false,
    locking: [],
    onConflict: false,
    returning: false,
    writtenColumns: [],
  };

  // One pass collects CTE names, sub-selects and RangeVars; RangeVars are registered once CTE names are known.
  const rangeVars: AstNode[] = [];
  walk(stmt, (type, f) => {
    if (type === 'RangeVar') rangeVars.push(f);
    else if (type === 'CommonTableExpr') out.ctes.push(stringOf(f.ctename) ?? '');
    else if (type === 'SubLink' || type === 'RangeSubselect') out.subqueries = true;
  });
  const cteNames = new Set(out.ctes);
  const registered = new Map<string, { readonly index: number; readonly table: RawTable }>();
  const isCteRef = (f: AstNode): boolean => f.schemaname === undefined && cteNames.has(stringOf(f.relname) ?? '');
  const registerTable = (f: AstNode): number => {
    const schema = stringOf(f.schemaname);
    const name = stringOf(f.relname) ?? '';
    const key = `${schema ?? ''}\u0000${name}`;
    let entry = registered.get(key);
    if (!entry) {
      entry = { index: out.tables.length, table: { schema, name, aliases: [] } };
      out.tables.push(entry.table);
      registered.set(key, entry);
    }
    const alias = stringOf((f.alias as AstNode | undefined)?.aliasname);
    if (alias && alias !== name && !entry.table.aliases.includes(alias)) entry.table.aliases.push(alias);
    return entry.index;
  };
  for (const f of rangeVars) if (!isCteRef(f)) registerTable(f);

  const sources: Source[] = [];
  const pendingQuals: { quals: unknown; joinType: RawJoinEdge['joinType'] }[] = [];
  const addRangeVar = (f: AstNode): void => {
    const alias = stringOf((f.alias as AstNode | undefined)?.aliasname);
    const name = alias ?? stringOf(f.relname) ?? '';
    if (isCteRef(f)) {
      out.hasDerivedSources = true;
      sources.push({ name, table: null });
      return;
    }
    const table = registerTable(f);
    if (!out.mainTables.includes(table)) out.mainTables.push(table);
    sources.push({ name, table });
  };
  const addFromItem = (item: unknown): void => {
    const n = nodeOf(item);
    if (!n) return;
    if (n.type === 'RangeVar') return addRangeVar(n.fields);
    if (n.type === 'JoinExpr') {
      addFromItem(n.fields.larg);
      addFromItem(n.fields.rarg);
      const jt = stringOf(n.fields.jointype) ?? 'JOIN_INNER';
      const joinType = jt === 'JOIN_LEFT' ? 'left' : jt === 'JOIN_RIGHT' ? 'right' : jt === 'JOIN_FULL' ? 'full' : 'inner';
      if (n.fields.quals !== undefined) pendingQuals.push({ quals: n.fields.quals, joinType });
      if (listOf(n.fields.usingClause).length > 0) out.hasUnanalysedConditions = true;
      return;
    }
    const alias = stringOf((n.fields.alias as AstNode | undefined)?.aliasname);
    out.hasDerivedSources = true;
    sources.push({ name: alias ?? '', table: null });
  };

  const resolveColumn: ColumnResolver = (ref) => {
    const names = namesOf(ref.fields);
    const column = names[names.length - 1];
    if (!column || column === '*') return null;
    if (names.length === 1) {
      const only = sources.length === 1 ? sources[0] : undefined;
      if (only) return only.table === null ? null : { table: only.table, column };
      const candidates = sources.flatMap((s) => (s.table === null ? [] : [s.table]));
      const [first] = candidates;
      if (first === undefined || candidates.length < sources.length) return null;
      return new Set(candidates).size === 1 ? { table: first, column } : { table: -1, column, candidates };
    }
    const qualifier = names[names.length - 2]; // names has at least two parts here
    const source = sources.find((s) => s.name === qualifier);
    if (!source || source.table === null) return null;
    return { table: source.table, column };
  };

  const addConditions = (expr: unknown, joinType: RawJoinEdge['joinType']): void => {
    const conjuncts: unknown[] = [];
    const flatten = (e: unknown): void => {
      const b = fieldsOf(e, 'BoolExpr');
      if (b && b.boolop === 'AND_EXPR') listOf(b.args).forEach(flatten);
      else conjuncts.push(e);
    };
    flatten(expr);
    for (const c of conjuncts) {
      const result = classifyCondition(c, resolveColumn);
      if (result.type === 'predicate') out.predicates.push({ ...result.predicate, inJoin: joinType !== 'where', joinType });
      else if (result.type === 'join') out.joins.push({ left: result.left, right: result.right, joinType });
      else out.hasUnanalysedConditions = true;
    }
  };

  const f = node.fields;
  switch (node.type) {
    case 'SelectStmt': {
      if (f.op !== undefined && f.op !== 'SETOP_NONE') {
        out.setOperation = true;
        break;
      }
      listOf(f.fromClause).forEach(addFromItem);
      readSelectBlock(f, out, resolveColumn, addConditions);
      break;
    }
    case 'UpdateStmt': {
      addFromItem({ RangeVar: f.relation });
      listOf(f.fromClause).forEach(addFromItem);
      for (const t of listOf(f.targetList)) out.writtenColumns.push(stringOf(fieldsOf(t, 'ResTarget')?.name) ?? '');
      break;
    }
    case 'DeleteStmt': {
      addFromItem({ RangeVar: f.relation });
      listOf(f.usingClause).forEach(addFromItem);
      break;
    }
    case 'InsertStmt': {
      addFromItem({ RangeVar: f.relation });
      for (const t of listOf(f.cols)) out.writtenColumns.push(stringOf(fieldsOf(t, 'ResTarget')?.name) ?? '');
      const select = fieldsOf(f.selectStmt, 'SelectStmt');
      if (select && select.valuesLists === undefined) out.hasDerivedSources = true;
      out.onConflict = f.onConflictClause !== undefined;
      break;
    }
    case 'MergeStmt': {
      addFromItem({ RangeVar: f.relation });
      addFromItem(f.sourceRelation);
      if (f.joinCondition !== undefined) pendingQuals.push({ quals: f.joinCondition, joinType: 'inner' });
      break;
    }
    default:
      throw new Error(`unexpected statement node ${node.type}`);
  }
  if (node.type === 'UpdateStmt' || node.type === 'DeleteStmt') {
    if (f.whereClause !== undefined) addConditions(f.whereClause, 'where');
  }
  for (const p of pendingQuals) addConditions(p.quals, p.joinType);
  // PG18's grammar wraps RETURNING in a ReturningClause (for OLD/NEW); older trees had returningList.
  const returning = (f.returningClause as AstNode | undefined)?.exprs ?? f.returningList;
  if (returning !== undefined) {
    out.returning = true;
    readTargetList(returning, out, resolveColumn, sources);
  }
  if (node.type === 'SelectStmt' && !out.setOperation) readTargetList(f.targetList, out, resolveColumn, sources);
  return out;
}

export type { PredicateOp, ValueKind };
