/**
 * Structural part of N+1 detection (detection.md §1.2 steps 1–2): which statements can be the repeated
 * child of a loop, and which statements can feed it through a key. Pure.
 */
import type { AnalysisContext, StatementAnalysis, TableResolution } from '../../src/sql/index.js';
import type { ConstraintStat, IndexStat, Snapshot } from '../../src/snapshot/types.js';

export type KeyKind = 'unique' | 'foreign-key' | 'name';

/**
 * A child: a SELECT filtering `key = $n` (or `key IN ($n)`, which PostgreSQL plans as equality) with one
 * parameter. It may join other tables (a many-to-many through its link table, a belongs-to through the
 * parent's own table) as long as every table is joined by an equality and the key filters the result.
 */
export interface ChildShape {
  /** The table the key column belongs to. */
  readonly tableOid: number;
  readonly schema: string;
  readonly table: string;
  readonly keyColumn: string;
  readonly keyKinds: readonly KeyKind[];
  readonly keyOperator: '=' | 'IN';
  /** The key sits in an inner join's ON clause rather than in WHERE. */
  readonly keyInJoin: boolean;
  /** Other tables of the child ("schema.name"), e.g. the tags joined through post_tags. */
  readonly joinedTables: readonly string[];
  readonly joinedOids: readonly number[];
  /** How the key table's name was resolved (a role's search_path, a name unique across schemas …). */
  readonly resolution: TableResolution;
}

export type LinkType = 'belongs-to' | 'has-many';

export interface Link {
  readonly type: LinkType;
  /** 'foreign-key' when declared, 'name' for the `user_id` ↔ `users.id` fallback. */
  readonly source: 'foreign-key' | 'name';
  /** The parent's table and column whose values feed the child's key. */
  readonly parentTableOid: number;
  readonly parentColumn: string;
  /** The child filters on the parent row's own key and joins the related rows to it. */
  readonly throughParentKey: boolean;
}

export interface KeyCatalog {
  readonly uniqueLeading: ReadonlyMap<number, ReadonlySet<string>>;
  readonly foreignKeys: readonly ConstraintStat[];
  readonly tableNames: ReadonlyMap<number, string>;
}

export function buildKeyCatalog(snapshot: Snapshot): KeyCatalog {
  const uniqueLeading = new Map<number, Set<string>>();
  const add = (oid: number, column: string | null | undefined): void => {
    if (!column) return;
    let set = uniqueLeading.get(oid);
    if (!set) uniqueLeading.set(oid, (set = new Set()));
    set.add(column);
  };
  for (const c of snapshot.constraints) if (c.type !== 'f') add(c.tableOid, c.columns[0]);
  for (const i of snapshot.indexes as readonly IndexStat[]) if (i.isUnique && i.isValid && !i.isPartial) add(i.tableOid, i.columns[0]);
  return {
    uniqueLeading,
    foreignKeys: snapshot.constraints.filter((c) => c.type === 'f' && c.columns.length === 1 && c.refTableOid !== null),
    tableNames: new Map(snapshot.tables.map((t) => [t.oid, t.name])),
  };
}

/** Singular spellings of a table name for the `<singular>_id` convention (users → user, categories → category). */
function singulars(table: string): string[] {
  const out = new Set([table]);
  if (table.endsWith('ies')) out.add(`${table.slice(0, -3)}y`);
  if (table.endsWith('es')) out.add(table.slice(0, -2));
  if (table.endsWith('s')) out.add(table.slice(0, -1));
  return [...out];
}

function isNameKeyFor(column: string, table: string): boolean {
  const t = table.toLowerCase();
  const c = column.toLowerCase();
  return singulars(t).some((s) => c === `${s}_id` || c === `${s}id`);
}

const isNameKey = (column: string): boolean => column === 'id' || /_id$|[a-z]Id$/.test(column);

/** PG18 squashes `IN ($1, $2, …)` to `IN ($1 /*, ... *\/)`: a batch, not a one-element list. */
const SQUASHED_LIST = '/*, ... */';

/** Every table of a multi-table child is reached from the others through equality edges (no cross join). */
function connected(a: StatementAnalysis): boolean {
  const reached = new Set([0]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const j of a.joins) {
      if (reached.has(j.left.table) !== reached.has(j.right.table)) {
        reached.add(j.left.table).add(j.right.table);
        grew = true;
      }
    }
  }
  return reached.size === a.tables.length;
}

/** Child shapes of an analysis (one per key predicate), or [] when it is not a loop child. */
export function childShapes(a: StatementAnalysis, keys: KeyCatalog, text: string): ChildShape[] {
  if (a.kind !== 'select' || a.tables.length === 0 || a.mainTables.length !== a.tables.length) return [];
  if (a.hasDerivedSources || a.setOperation || a.groupBy || a.subqueries) return [];
  if (a.ctes.length > 0 || a.windowFunctions || a.locking.length > 0) return [];
  if (a.tables.length > 1 && !connected(a)) return [];
  const squashed = text.includes(SQUASHED_LIST);
  const out: ChildShape[] = [];
  for (const p of a.predicates) {
    if (p.value !== 'parameter' || p.parameterCount !== 1) continue;
    if (p.op !== 'equality' && !(p.op === 'in-list' && !squashed)) continue;
    if (p.joinType !== 'where' && p.joinType !== 'inner') continue; // an outer join's ON clause filters nothing
    const table = a.tables[p.table];
    if (!table || table.oid === null || table.schema === null) continue;
    const oid = table.oid;
    const kinds: KeyKind[] = [];
    if (keys.uniqueLeading.get(oid)?.has(p.column)) kinds.push('unique');
    if (keys.foreignKeys.some((f) => f.tableOid === oid && f.columns[0] === p.column)) kinds.push('foreign-key');
    if (kinds.length === 0 && isNameKey(p.column)) kinds.push('name');
    if (kinds.length === 0 || out.some((c) => c.tableOid === oid && c.keyColumn === p.column)) continue;
    const others = a.tables.filter((_, i) => i !== p.table);
    out.push({
      tableOid: oid,
      schema: table.schema,
      table: table.name,
      keyColumn: p.column,
      keyKinds: kinds,
      keyOperator: p.op === 'equality' ? '=' : 'IN',
      keyInJoin: p.inJoin,
      resolution: table.resolution,
      joinedTables: others.map((t) => `${t.schema ?? '?'}.${t.name}`),
      joinedOids: others.flatMap((t) => (t.oid === null ? [] : [t.oid])),
    });
  }
  return out;
}

/**
 * When `a` loads the child's key in batches (a multi-element IN list, PG18's squashed one, or `= ANY($n)`), its
 * shape without list lengths: statements differing only in the number of keys (one queryid per length before
 * PG18) share it, while an ORM's two batches per page (link rows, then the tags) do not. Null otherwise.
 */
export function batchSignature(a: StatementAnalysis, child: ChildShape, text: string): string | null {
  if (a.kind !== 'select') return null;
  const batched = a.predicates.some(
    (p) =>
      a.tables[p.table]?.oid === child.tableOid &&
      p.column === child.keyColumn &&
      (p.op === 'any-array' || (p.op === 'in-list' && (p.parameterCount > 1 || text.includes(SQUASHED_LIST)))),
  );
  if (!batched) return null;
  const tables = a.tables
    .map((t) => t.oid ?? t.name)
    .sort()
    .join(',');
  const predicates = a.predicates
    .map((p) => `${a.tables[p.table]?.oid}.${p.column}${p.op}`)
    .sort()
    .join(',');
  return `${tables}|${predicates}`;
}

/** Does the parent output `column` of the table with `oid` (by name, or through `*`)? */
function outputs(parent: StatementAnalysis, oid: number, column: string, ctx: AnalysisContext): boolean {
  for (const c of parent.outputColumns) {
    const t = parent.tables[c.table];
    if (t?.oid === oid && c.column === column) return true;
  }
  for (const i of parent.outputStarTables) {
    if (parent.tables[i]?.oid === oid && (ctx.knownColumns.get(oid)?.has(column) ?? false)) return true;
  }
  return false;
}

const declaredBetween = (keys: KeyCatalog, a: number, b: number): boolean =>
  keys.foreignKeys.some((f) => (f.tableOid === a && f.refTableOid === b) || (f.tableOid === b && f.refTableOid === a));

/** Links through which `parent`'s rows can feed `child`'s key, strongest first. */
export function findLinks(child: ChildShape, parent: StatementAnalysis, keys: KeyCatalog, ctx: AnalysisContext): Link[] {
  if (parent.kind !== 'select') return [];
  const links: Link[] = [];
  const parentOids = new Set(parent.mainTables.map((i) => parent.tables[i]?.oid).filter((o): o is number => typeof o === 'number'));
  const link = (type: LinkType, source: Link['source'], oid: number, column: string, throughParentKey = false): void => {
    links.push({ type, source, parentTableOid: oid, parentColumn: column, throughParentKey });
  };
  // belongs-to: a parent table has FK f → child(key); the parent outputs f.
  for (const fk of keys.foreignKeys) {
    if (fk.refTableOid !== child.tableOid || fk.refColumns[0] !== child.keyColumn) continue;
    const [column] = fk.columns;
    if (column !== undefined && parentOids.has(fk.tableOid) && outputs(parent, fk.tableOid, column, ctx))
      link('belongs-to', 'foreign-key', fk.tableOid, column);
  }
  // has-many: child(key) has FK → parent table(pk); the parent outputs pk.
  for (const fk of keys.foreignKeys) {
    if (fk.tableOid !== child.tableOid || fk.columns[0] !== child.keyColumn) continue;
    const target = fk.refTableOid;
    const [refColumn] = fk.refColumns;
    if (target !== null && refColumn !== undefined && parentOids.has(target) && outputs(parent, target, refColumn, ctx)) {
      link('has-many', 'foreign-key', target, refColumn);
    }
  }
  // Through the parent's own key: the child filters the parent's table by its unique key and joins the related
  // rows to it (`users JOIN posts … WHERE posts.id = $1` after a posts page). Never for a one-table child,
  // which would be a re-read of the same row (a show page next to a list page looks the same).
  if (child.joinedOids.length > 0 && parentOids.has(child.tableOid) && outputs(parent, child.tableOid, child.keyColumn, ctx)) {
    if (child.keyKinds.includes('unique') || child.keyColumn === 'id') {
      const declared = child.joinedOids.some((o) => declaredBetween(keys, o, child.tableOid));
      link('belongs-to', declared && child.keyKinds.includes('unique') ? 'foreign-key' : 'name', child.tableOid, child.keyColumn, true);
    }
  }
  if (links.length > 0 || (!child.keyKinds.includes('name') && !child.keyKinds.includes('unique'))) return links;
  // Name fallback, only where no FK is declared for the key: users.id ↔ posts.user_id.
  const declared = keys.foreignKeys.some(
    (f) => (f.tableOid === child.tableOid && f.columns[0] === child.keyColumn) || (f.refTableOid === child.tableOid && f.refColumns[0] === child.keyColumn),
  );
  if (declared) return links;
  for (const oid of parentOids) {
    const parentName = keys.tableNames.get(oid);
    if (!parentName) continue;
    if (child.keyColumn === 'id') {
      for (const c of parent.outputColumns) {
        if (parent.tables[c.table]?.oid === oid && isNameKeyFor(c.column, child.table)) link('belongs-to', 'name', oid, c.column);
      }
    } else if (isNameKeyFor(child.keyColumn, parentName) && outputs(parent, oid, 'id', ctx)) {
      link('has-many', 'name', oid, 'id');
    }
  }
  return links;
}

/**
 * The parent already loads what the child loads, through the link: it outputs the child's rows, joined by an
 * edge between the link's parent column and the child's key (`posts JOIN users ON users.id = posts.user_id` for
 * a users-by-id child) or holding every table of a multi-table child. Such an eager page cannot be what drives
 * a loop of that child.
 */
export function isEagerFor(parent: StatementAnalysis, child: ChildShape, link: Link): boolean {
  // A parent that joins the child's table only to filter its own rows (and outputs none of it) loads nothing.
  const childOids = [child.tableOid, ...child.joinedOids].filter((o) => o !== link.parentTableOid);
  const outputsChild =
    childOids.length === 0 ||
    parent.outputColumns.some((c) => childOids.includes(parent.tables[c.table]?.oid ?? -1)) ||
    parent.outputStarTables.some((i) => childOids.includes(parent.tables[i]?.oid ?? -1));
  if (!outputsChild) return false;
  const at = (c: { table: number; column: string }, oid: number, column: string): boolean => parent.tables[c.table]?.oid === oid && c.column === column;
  for (const j of parent.joins) {
    for (const [x, y] of [
      [j.left, j.right],
      [j.right, j.left],
    ] as const) {
      const trivial = x.table === y.table && x.column === y.column;
      if (!trivial && at(x, link.parentTableOid, link.parentColumn) && at(y, child.tableOid, child.keyColumn)) return true;
    }
  }
  if (child.joinedOids.length === 0) return false;
  const oids = new Set(parent.tables.map((t) => t.oid));
  return oids.has(child.tableOid) && child.joinedOids.every((o) => oids.has(o)) && parent.tables.length > 1;
}
