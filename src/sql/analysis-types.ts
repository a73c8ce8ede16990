/**
 * What query-text analysis tells rules about one normalised statement. Plain data; identifiers are as
 * PostgreSQL folds them (unquoted names lower-cased, quoted names kept).
 */

export type StatementKind = 'select' | 'insert' | 'update' | 'delete' | 'merge' | 'utility' | 'unknown';

/** Operator class of a predicate, as index design sees it. `other` covers <>, jsonb and text-search operators… */
export type PredicateOp = 'equality' | 'range' | 'like-prefix' | 'null-test' | 'in-list' | 'any-array' | 'other';

/** What the column is compared with. `expression` = anything else (a function call, arithmetic, a sub-select). */
export type ValueKind = 'parameter' | 'constant' | 'expression';

export type TableResolution = 'qualified' | 'search-path' | 'unique-name' | 'ambiguous' | 'unresolved';

/** A base table the statement reads or writes, resolved against the snapshot when possible. */
export interface TableRef {
  /** Schema: as written, else the first search_path schema holding the table; null when unknown. */
  readonly schema: string | null;
  readonly name: string;
  /** pg_class oid from the snapshot; null when the table is not in the snapshot. */
  readonly oid: number | null;
  /**
   * How the schema was found: written in the text, the first search_path schema holding the name, the only
   * schema holding it (contexts built with `uniqueNameFallback`), or not at all (`ambiguous`: several
   * schemas off the search_path hold the name).
   */
  readonly resolution: TableResolution;
  /** Aliases it is referenced by in the statement (table name itself excluded). */
  readonly aliases: readonly string[];
}

/** A qualified column of a base table (`table` indexes `StatementAnalysis.tables`). */
export interface ColumnRef {
  readonly table: number;
  readonly column: string;
}

export interface Predicate extends ColumnRef {
  readonly op: PredicateOp;
  /** The operator as written after normalisation: "=", "<", "~~", "IS NULL", "IN", "= ANY"… */
  readonly operator: string;
  readonly value: ValueKind;
  /** Parameters in the compared value (1 for `= $1`, n for `IN ($1, …, $n)`; 1 for PG18's squashed list). */
  readonly parameterCount: number;
  /** The predicate sits in a JOIN … ON clause rather than WHERE. */
  readonly inJoin: boolean;
  /** LIKE/ILIKE compared with a string constant: the pattern (pg_stat_statements usually leaves `$n`). */
  readonly pattern?: string;
  /** The join whose ON clause holds it ('where' for WHERE): only inner joins filter the result. */
  readonly joinType: JoinEdge['joinType'];
}

/** An equality between columns of two base tables (`a.x = b.y`), from ON or WHERE. */
export interface JoinEdge {
  readonly left: ColumnRef;
  readonly right: ColumnRef;
  readonly joinType: 'inner' | 'left' | 'right' | 'full' | 'where';
}

export interface OrderItem extends ColumnRef {
  readonly direction: 'asc' | 'desc' | 'default';
}

export type LimitKind = 'parameter' | 'constant' | 'expression' | null;

export interface StatementAnalysis {
  readonly analysable: true;
  readonly kind: StatementKind;
  /** Every base table anywhere in the statement (CTE names and sub-selects are not tables). */
  readonly tables: readonly TableRef[];
  /** Tables in the outermost query block's FROM (or the target of INSERT/UPDATE/DELETE), as indexes into `tables`. */
  readonly mainTables: readonly number[];
  /** Outermost block's FROM also holds sub-selects, functions, VALUES or CTE references. */
  readonly hasDerivedSources: boolean;
  /** AND-ed predicates of the outermost block on its base tables. */
  readonly predicates: readonly Predicate[];
  /** WHERE holds OR/NOT trees, sub-selects or column expressions the predicates above leave out. */
  readonly hasUnanalysedConditions: boolean;
  readonly joins: readonly JoinEdge[];
  readonly orderBy: readonly OrderItem[];
  /** ORDER BY holds something other than plain columns of base tables. */
  readonly orderByExpression: boolean;
  readonly limit: LimitKind;
  readonly offset: LimitKind;
  /** Output columns of the outermost block (SELECT list or RETURNING). */
  readonly outputColumns: readonly ColumnRef[];
  /** Tables whose `*` is output (`*` or `t.*`). */
  readonly outputStarTables: readonly number[];
  readonly aggregates: boolean;
  readonly windowFunctions: boolean;
  readonly groupBy: boolean;
  readonly distinct: boolean;
  readonly setOperation: boolean;
  readonly ctes: readonly string[];
  readonly subqueries: boolean;
  /** Row-locking clauses, e.g. "FOR UPDATE SKIP LOCKED". */
  readonly locking: readonly string[];
  readonly onConflict: boolean;
  readonly returning: boolean;
  /** Columns assigned by UPDATE … SET / INSERT column list (target table). */
  readonly writtenColumns: readonly string[];
}

export interface NotAnalysable {
  readonly analysable: false;
  readonly kind: StatementKind;
  readonly reason: string;
}

export type AnalysisResult = StatementAnalysis | NotAnalysable;

/** What resolution needs from the snapshot; build it once per snapshot with `buildAnalysisContext`. */
export interface AnalysisContext {
  /** Schemas in search_path order. */
  readonly searchPath: readonly string[];
  /** Resolve an unqualified name found on no search_path schema when exactly one schema holds it. */
  readonly uniqueNameFallback?: boolean;
  /** "schema.name" → table oid. */
  readonly tablesByQualifiedName: ReadonlyMap<string, number>;
  /** name → schemas holding a table of that name. */
  readonly schemasByTableName: ReadonlyMap<string, readonly string[]>;
  /** table oid → columns known from indexes, constraints and pg_stats (may be incomplete). */
  readonly knownColumns: ReadonlyMap<number, ReadonlySet<string>>;
  /** "schema.name" → view definition (pg_get_viewdef), when the snapshot has them. */
  readonly views?: ReadonlyMap<string, string>;
}
