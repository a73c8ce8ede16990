/**
 * `analyzeQueryBlocks`: the statement's own analysis plus one analysis per query block an index could serve
 * that the outermost block hides — CTE bodies, sub-selects, and a CTE, sub-select or view the outer query
 * merely filters (`WITH x AS (SELECT … FROM t) SELECT … FROM x WHERE c = $1`), merged into one block on the
 * base table, as the planner inlines it. Synchronous and total: on any surprise only the plain analysis is
 * returned.
 */
import { fieldsOf, listOf, namesOf, nodeOf, stringOf, walk, type AstNode } from './ast.js';
import type { AnalysisContext, StatementAnalysis } from './analysis-types.js';
import { analyzeStatement, type AnalyzeOptions } from './analyze.js';
import { extractStatement } from './extract.js';
import { parseSqlSync } from './parser.js';
import { resolveAnalysis } from './resolve.js';

export type BlockOrigin = 'statement' | 'cte' | 'subquery' | 'inlined-cte' | 'inlined-subquery' | 'view';

export interface QueryBlock {
  readonly origin: BlockOrigin;
  /** The CTE, view or sub-select alias the block comes from; null for the statement itself. */
  readonly via: string | null;
  /** The block returns the statement's rows (so pg_stat_statements rows per call describe it). */
  readonly rowsAreStatementRows: boolean;
  readonly analysis: StatementAnalysis;
}

const blockCache = new WeakMap<AnalysisContext, Map<string, readonly QueryBlock[]>>();

/** Blocks of one normalised statement; empty when the statement is not analysable. Never throws. */
export function analyzeQueryBlocks(text: string, ctx: AnalysisContext, options: AnalyzeOptions = {}): readonly QueryBlock[] {
  const top = analyzeStatement(text, ctx, options);
  if (!top.analysable) return [];
  const own: QueryBlock = { origin: 'statement', via: null, rowsAreStatementRows: true, analysis: top };
  const key = `${options.queryId ?? ''}:${text}`;
  let perContext = blockCache.get(ctx);
  const hit = perContext?.get(key);
  if (hit) return hit;
  let blocks: readonly QueryBlock[];
  try {
    blocks = Object.freeze([own, ...innerBlocks(text, ctx)]);
  } catch {
    // An unexpected parse-tree shape: the statement's own analysis is still right, only the extras are lost.
    blocks = Object.freeze([own]);
  }
  if (!perContext) blockCache.set(ctx, (perContext = new Map()));
  perContext.set(key, blocks);
  return blocks;
}

function analyse(select: AstNode, ctx: AnalysisContext): StatementAnalysis | null {
  try {
    return resolveAnalysis(extractStatement({ SelectStmt: select }), ctx);
  } catch {
    return null;
  }
}

function isPlainSelect(f: AstNode | null): f is AstNode {
  return f !== null && (f.op === undefined || f.op === 'SETOP_NONE') && f.valuesLists === undefined;
}

function innerBlocks(text: string, ctx: AnalysisContext): QueryBlock[] {
  const parsed = parseSqlSync(text);
  if (!parsed.ok || parsed.stmts.length !== 1) return [];
  const node = nodeOf(parsed.stmts[0]);
  if (!node) return [];
  const f = node.fields;
  const out: QueryBlock[] = [];
  const withClause = f.withClause as AstNode | undefined;
  const recursive = withClause?.recursive === true;
  const ctes = new Map<string, AstNode>();
  for (const item of listOf(withClause?.ctes)) {
    const cte = fieldsOf(item, 'CommonTableExpr');
    const body = fieldsOf(cte?.ctequery, 'SelectStmt');
    const name = stringOf(cte?.ctename);
    if (!cte || !name || !isPlainSelect(body)) continue;
    ctes.set(name, cte);
    const a = recursive ? null : analyse(body, ctx);
    if (a) out.push({ origin: 'cte', via: name, rowsAreStatementRows: false, analysis: a });
  }
  // Sub-selects anywhere outside the WITH clause (FROM, WHERE, SELECT list).
  const rest = { ...f, withClause: undefined };
  walk(rest, (type, fields) => {
    const sub = type === 'SubLink' ? fieldsOf(fields.subselect, 'SelectStmt') : type === 'RangeSubselect' ? fieldsOf(fields.subquery, 'SelectStmt') : null;
    if (isPlainSelect(sub)) {
      const a = analyse(sub, ctx);
      if (a) out.push({ origin: 'subquery', via: stringOf((fields.alias as AstNode | undefined)?.aliasname), rowsAreStatementRows: false, analysis: a });
    }
  });
  if (node.type === 'SelectStmt' && isPlainSelect(f)) {
    const merged = inlineSingleSource(f, ctes, recursive, text, ctx);
    if (merged) out.push(merged);
  }
  return out;
}

/** The outer block's only FROM item when it is a CTE, view or sub-select the planner would inline. */
function inlineSingleSource(f: AstNode, ctes: ReadonlyMap<string, AstNode>, recursive: boolean, text: string, ctx: AnalysisContext): QueryBlock | null {
  const from = listOf(f.fromClause);
  if (from.length !== 1) return null;
  const item = nodeOf(from[0]);
  if (!item) return null;
  let body: AstNode | null = null;
  let names: readonly string[] | null = null;
  let origin: BlockOrigin;
  let via: string;
  let alias: string;
  if (item.type === 'RangeSubselect') {
    if (item.fields.lateral === true) return null;
    body = fieldsOf(item.fields.subquery, 'SelectStmt');
    origin = 'inlined-subquery';
    alias = stringOf((item.fields.alias as AstNode | undefined)?.aliasname) ?? '';
    via = alias;
  } else if (item.type === 'RangeVar') {
    const schema = stringOf(item.fields.schemaname);
    const relname = stringOf(item.fields.relname) ?? '';
    alias = stringOf((item.fields.alias as AstNode | undefined)?.aliasname) ?? relname;
    via = schema ? `${schema}.${relname}` : relname;
    const cte = schema === null ? ctes.get(relname) : undefined;
    if (cte) {
      // PG12+ inlines a non-recursive CTE referenced once unless it is MATERIALIZED.
      if (recursive || cte.ctematerialized === 'CTEMaterializeAlways' || countReferences(text, relname) > 2) return null;
      body = fieldsOf(cte.ctequery, 'SelectStmt');
      names = listOf(cte.aliascolnames).map((n) => stringOf(fieldsOf(n, 'String')?.sval) ?? '');
      origin = 'inlined-cte';
    } else {
      const definition = viewDefinition(schema, relname, ctx);
      if (definition === null) return null;
      const parsed = parseSqlSync(definition);
      body = parsed.ok && parsed.stmts.length === 1 ? fieldsOf(parsed.stmts[0], 'SelectStmt') : null;
      origin = 'view';
    }
  } else {
    return null;
  }
  if (!isPlainSelect(body) || body.withClause !== undefined) return null;
  const inner = analyse(body, ctx);
  if (
    !inner ||
    inner.mainTables.length !== 1 ||
    inner.hasDerivedSources ||
    inner.aggregates ||
    inner.windowFunctions ||
    inner.groupBy ||
    inner.distinct ||
    inner.limit !== null ||
    inner.offset !== null ||
    listOf(body.fromClause).length !== 1
  ) {
    return null;
  }
  const outputs = outputMap(body, names);
  if (!outputs) return null;
  const substitute = (value: unknown): unknown => substituteColumns(value, alias, outputs);
  const whereParts = [body.whereClause, substitute(f.whereClause)].filter((w) => w !== undefined);
  const merged: AstNode = {
    ...f,
    withClause: undefined,
    fromClause: body.fromClause,
    targetList: substitute(f.targetList),
    sortClause: substitute(f.sortClause),
    whereClause: whereParts.length === 2 ? { BoolExpr: { boolop: 'AND_EXPR', args: whereParts } } : whereParts[0],
  };
  const analysis = analyse(merged, ctx);
  return analysis ? { origin, via, rowsAreStatementRows: true, analysis } : null;
}

/** Occurrences of an identifier in the text (a cheap reference count; the definition itself is one). */
function countReferences(text: string, name: string): number {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return (text.match(new RegExp(`(^|[^A-Za-z0-9_$"])"?${escaped}"?(?![A-Za-z0-9_$])`, 'g')) ?? []).length;
}

function viewDefinition(schema: string | null, name: string, ctx: AnalysisContext): string | null {
  if (!ctx.views) return null;
  if (schema !== null) return ctx.views.get(`${schema}.${name}`) ?? null;
  for (const s of ctx.searchPath) {
    if (ctx.tablesByQualifiedName.has(`${s}.${name}`)) return null; // a table of that name comes first
    const hit = ctx.views.get(`${s}.${name}`);
    if (hit !== undefined) return hit;
  }
  return null;
}

interface Outputs {
  readonly byName: ReadonlyMap<string, unknown>;
  /** The body outputs `*`: unknown names pass through as plain columns. */
  readonly star: boolean;
}

function outputMap(body: AstNode, names: readonly string[] | null): Outputs | null {
  const byName = new Map<string, unknown>();
  let star = false;
  listOf(body.targetList).forEach((item, i) => {
    const target = fieldsOf(item, 'ResTarget');
    const ref = fieldsOf(target?.val, 'ColumnRef');
    const refNames = ref ? namesOf(ref.fields) : [];
    if (refNames[refNames.length - 1] === '*') {
      star = true;
      return;
    }
    const name = names?.[i] || stringOf(target?.name) || refNames[refNames.length - 1];
    if (name) byName.set(name, target?.val);
  });
  if (star && names && names.length > 0) return null;
  return { byName, star };
}

/** Replaces references to the derived source's columns (`alias.col` or `col`) by the body's expressions. */
function substituteColumns(value: unknown, alias: string, outputs: Outputs): unknown {
  if (Array.isArray(value)) return value.map((v) => substituteColumns(v, alias, outputs));
  if (value === null || typeof value !== 'object') return value;
  const ref = fieldsOf(value, 'ColumnRef');
  if (ref) {
    const names = namesOf(ref.fields);
    const column = names[names.length - 1];
    const qualifier = names.length > 1 ? names[names.length - 2] : alias;
    if (!column || column === '*' || qualifier !== alias) return value;
    const mapped = outputs.byName.get(column);
    if (mapped !== undefined) return mapped;
    return outputs.star ? { ColumnRef: { fields: [{ String: { sval: column } }] } } : value;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = substituteColumns(v, alias, outputs);
  return out;
}
