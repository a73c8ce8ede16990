/**
 * `analyzeStatement`: parse once (cached by queryid + text hash), resolve names per snapshot (cached per
 * context). Synchronous and total: every failure is `{ analysable: false, reason }`.
 */
import { createHash } from 'node:crypto';
import type { Snapshot } from '../snapshot/types.js';
import type { AnalysisContext, AnalysisResult, NotAnalysable, StatementKind } from './analysis-types.js';
import { extractStatement, statementKindOf, type RawAnalysis } from './extract.js';
import { isSqlParserReady, parseSqlSync } from './parser.js';
import { resolveAnalysis } from './resolve.js';

type RawResult = RawAnalysis | NotAnalysable;

/** Raw (snapshot-independent) analyses; bounded, oldest evicted first. */
const rawCache = new Map<string, RawResult>();
const RAW_CACHE_LIMIT = 50_000;
/** Resolved analyses per context (a context lives as long as its snapshot). */
const resolvedCache = new WeakMap<AnalysisContext, Map<string, AnalysisResult>>();
const contextCache = new WeakMap<Snapshot, AnalysisContext>();

const EMPTY_CONTEXT: AnalysisContext = Object.freeze({
  searchPath: Object.freeze(['public']),
  tablesByQualifiedName: new Map(),
  schemasByTableName: new Map(),
  knownColumns: new Map(),
});

/** A context with no tables (names stay unresolved; search_path = public). */
export function emptyAnalysisContext(): AnalysisContext {
  return EMPTY_CONTEXT;
}

/** Builds (once per snapshot) what name resolution needs: tables, search_path, known columns. */
export function buildAnalysisContext(snapshot: Snapshot): AnalysisContext {
  const cached = contextCache.get(snapshot);
  if (cached) return cached;
  const tablesByQualifiedName = new Map<string, number>();
  const schemasByTableName = new Map<string, string[]>();
  const oidByName = new Map<string, number>();
  for (const t of snapshot.tables) {
    tablesByQualifiedName.set(`${t.schema}.${t.name}`, t.oid);
    oidByName.set(`${t.schema}.${t.name}`, t.oid);
    const list = schemasByTableName.get(t.name) ?? [];
    list.push(t.schema);
    schemasByTableName.set(t.name, list);
  }
  const knownColumns = new Map<number, Set<string>>();
  const add = (oid: number | undefined, column: string | null): void => {
    if (oid === undefined || column === null) return;
    let set = knownColumns.get(oid);
    if (!set) knownColumns.set(oid, (set = new Set()));
    set.add(column);
  };
  for (const i of snapshot.indexes) for (const c of [...i.columns, ...i.includeColumns]) add(i.tableOid, c);
  for (const c of snapshot.constraints) {
    for (const col of c.columns) add(c.tableOid, col);
    if (c.refTableOid !== null) for (const col of c.refColumns) add(c.refTableOid, col);
  }
  for (const c of snapshot.columns) add(oidByName.get(`${c.schema}.${c.table}`), c.column);
  const views = new Map((snapshot.relations?.views ?? []).map((v) => [`${v.schema}.${v.name}`, v.definition]));
  const context: AnalysisContext = {
    searchPath: snapshot.meta.searchPath.length > 0 ? snapshot.meta.searchPath : ['public'],
    tablesByQualifiedName,
    schemasByTableName,
    knownColumns,
    ...(views.size > 0 ? { views } : {}),
  };
  contextCache.set(snapshot, context);
  return context;
}

const variantCache = new WeakMap<AnalysisContext, Map<string, AnalysisContext>>();

/**
 * The same tables resolved as another session would: `searchPath` in its place (a role's configured
 * search_path; `$user` already replaced) and, with `uniqueNameFallback`, an unqualified name on none of
 * those schemas taken from the one schema holding it. Cached per base context, so analyses are too.
 */
export function withSearchPath(base: AnalysisContext, searchPath: readonly string[], options: { uniqueNameFallback?: boolean } = {}): AnalysisContext {
  const uniqueNameFallback = options.uniqueNameFallback ?? false;
  const key = `${uniqueNameFallback ? 'u' : 'p'}\u0000${searchPath.join('\u0000')}`;
  let variants = variantCache.get(base);
  if (!variants) variantCache.set(base, (variants = new Map()));
  let ctx = variants.get(key);
  if (!ctx) variants.set(key, (ctx = Object.freeze({ ...base, searchPath: Object.freeze([...searchPath]), uniqueNameFallback })));
  return ctx;
}

function hashText(text: string): string {
  return createHash('sha1').update(text).digest('base64url').slice(0, 22);
}

const FIRST_WORD_KIND: Readonly<Record<string, StatementKind>> = {
  select: 'select',
  with: 'unknown',
  insert: 'insert',
  update: 'update',
  delete: 'delete',
  merge: 'merge',
  values: 'select',
  table: 'select',
};

/** Statement kind from the first keyword (for texts that do not parse, e.g. PG17's `SAVEPOINT $1`). */
function kindFromText(text: string): StatementKind {
  const stripped = text
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/--[^\n]*/g, ' ')
    .trimStart();
  const word = /^[a-zA-Z]+/.exec(stripped)?.[0]?.toLowerCase();
  if (!word) return 'unknown';
  return FIRST_WORD_KIND[word] ?? 'utility';
}

function analyzeRaw(text: string): RawResult {
  const parsed = parseSqlSync(text);
  if (!parsed.ok) return { analysable: false, kind: kindFromText(text), reason: parsed.reason };
  if (parsed.stmts.length !== 1) {
    return {
      analysable: false,
      kind: parsed.stmts.length === 0 ? 'unknown' : statementKindOf(parsed.stmts[0]),
      reason: `${parsed.stmts.length} statements in one text`,
    };
  }
  const stmt = parsed.stmts[0];
  const kind = statementKindOf(stmt);
  if (kind === 'utility') return { analysable: false, kind, reason: 'utility statement' };
  if (kind === 'unknown') return { analysable: false, kind, reason: 'empty statement' };
  try {
    return extractStatement(stmt);
  } catch (error) {
    return { analysable: false, kind, reason: `unsupported shape: ${error instanceof Error ? error.message : String(error)}` };
  }
}

export interface AnalyzeOptions {
  /** pg_stat_statements queryid, part of the cache key. */
  readonly queryId?: string;
}

/**
 * Analyses one normalised statement. Synchronous, never throws; before `initSqlParser()` has resolved
 * every statement is "not analysable" (the result is not cached then).
 */
export function analyzeStatement(text: string, ctx: AnalysisContext = EMPTY_CONTEXT, options: AnalyzeOptions = {}): AnalysisResult {
  try {
    if (!isSqlParserReady()) return { analysable: false, kind: kindFromText(text), reason: 'SQL parser not loaded' };
    const key = `${options.queryId ?? ''}:${hashText(text)}`;
    let perContext = ctx === EMPTY_CONTEXT ? undefined : resolvedCache.get(ctx);
    const hit = perContext?.get(key);
    if (hit) return hit;
    let raw = rawCache.get(key);
    if (!raw) {
      raw = analyzeRaw(text);
      const oldest = rawCache.size >= RAW_CACHE_LIMIT ? rawCache.keys().next().value : undefined;
      if (oldest !== undefined) rawCache.delete(oldest);
      rawCache.set(key, raw);
    }
    const result: AnalysisResult = 'analysable' in raw ? raw : resolveAnalysis(raw, ctx);
    // The empty context lives forever: keep only the (bounded) raw cache for it.
    if (ctx !== EMPTY_CONTEXT) {
      if (!perContext) resolvedCache.set(ctx, (perContext = new Map()));
      perContext.set(key, result);
    }
    return result;
  } catch (error) {
    return { analysable: false, kind: 'unknown', reason: `internal error: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** Drops every cached analysis (benchmarks measure cold analysis with it). */
export function clearAnalysisCache(): void {
  rawCache.clear();
}
