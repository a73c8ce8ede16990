/** Resolution of raw table and column names against a snapshot (search_path, known columns). */
import type { AnalysisContext, ColumnRef, StatementAnalysis, TableRef, TableResolution } from './analysis-types.js';
import type { RawAnalysis } from './extract.js';
import type { RawColumn } from './conditions.js';

function resolveTable(schema: string | null, name: string, ctx: AnalysisContext): { schema: string | null; oid: number | null; resolution: TableResolution } {
  if (schema !== null) return { schema, oid: ctx.tablesByQualifiedName.get(`${schema}.${name}`) ?? null, resolution: 'qualified' };
  const holders = ctx.schemasByTableName.get(name) ?? [];
  for (const s of ctx.searchPath) {
    if (holders.includes(s)) return { schema: s, oid: ctx.tablesByQualifiedName.get(`${s}.${name}`) ?? null, resolution: 'search-path' };
  }
  const [s] = holders;
  if (ctx.uniqueNameFallback && holders.length === 1 && s !== undefined) {
    return { schema: s, oid: ctx.tablesByQualifiedName.get(`${s}.${name}`) ?? null, resolution: 'unique-name' };
  }
  return { schema: null, oid: null, resolution: ctx.uniqueNameFallback && holders.length > 1 ? 'ambiguous' : 'unresolved' };
}

export function resolveAnalysis(raw: RawAnalysis, ctx: AnalysisContext): StatementAnalysis {
  const tables: TableRef[] = raw.tables.map((t) => {
    const r = resolveTable(t.schema, t.name, ctx);
    return Object.freeze({ schema: r.schema, name: t.name, oid: r.oid, resolution: r.resolution, aliases: Object.freeze([...t.aliases]) });
  });
  let unresolved = false;
  const column = <T extends RawColumn>(c: T): (Omit<T, 'candidates'> & ColumnRef) | null => {
    if (c.table >= 0) {
      const { candidates: _ignored, ...rest } = c;
      return rest;
    }
    const holders = (c.candidates ?? []).filter((i) => {
      const oid = tables[i]?.oid;
      return oid !== null && oid !== undefined && ctx.knownColumns.get(oid)?.has(c.column) === true;
    });
    const [holder] = holders;
    if (holders.length !== 1 || holder === undefined) {
      unresolved = true;
      return null;
    }
    const { candidates: _ignored, ...rest } = c;
    return { ...rest, table: holder };
  };
  const predicates = raw.predicates.map(column).filter((p) => p !== null);
  const hasUnresolvedPredicates = unresolved;
  unresolved = false;
  const orderBy = raw.orderBy.map(column).filter((p) => p !== null);
  const orderByExpression = raw.orderByExpression || unresolved;
  const joins = raw.joins.flatMap((j) => {
    const left = column(j.left);
    const right = column(j.right);
    return left && right ? [{ left, right, joinType: j.joinType }] : [];
  });
  const outputColumns = raw.outputColumns.map(column).filter((p) => p !== null);
  return Object.freeze({
    analysable: true as const,
    kind: raw.kind,
    tables: Object.freeze(tables),
    mainTables: Object.freeze([...raw.mainTables]),
    hasDerivedSources: raw.hasDerivedSources,
    predicates: Object.freeze(predicates),
    hasUnanalysedConditions: raw.hasUnanalysedConditions || hasUnresolvedPredicates,
    joins: Object.freeze(joins),
    orderBy: Object.freeze(orderBy),
    orderByExpression,
    limit: raw.limit,
    offset: raw.offset,
    outputColumns: Object.freeze(outputColumns),
    outputStarTables: Object.freeze([...raw.outputStarTables]),
    aggregates: raw.aggregates,
    windowFunctions: raw.windowFunctions,
    groupBy: raw.groupBy,
    distinct: raw.distinct,
    setOperation: raw.setOperation,
    ctes: Object.freeze([...raw.ctes]),
    subqueries: raw.subqueries,
    locking: Object.freeze([...raw.locking]),
    onConflict: raw.onConflict,
    returning: raw.returning,
    writtenColumns: Object.freeze([...raw.writtenColumns]),
  });
}
