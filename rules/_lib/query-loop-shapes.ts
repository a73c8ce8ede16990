/**
 * Structural part of N+1 detection (detection.md §1.2 steps 1–2): which statements can be the repeated
 * child of a loop, and which statements can feed it through a key.
 */
import type { AnalysisContext, StatementAnalysis } from '../../src/sql/index.js';
import type { ConstraintStat, IndexStat, Snapshot } from '../../src/snapshot/types.js';

export type KeyKind = 'unique' | 'foreign-key' | 'name';

/** A child: one-table SELECT filtering `key = $n` (one parameter, no list). */
export interface ChildShape {
  readonly tableOid: number;
  readonly schema: string;
  readonly table: string;
  readonly keyColumn: string;
  readonly keyKinds: readonly KeyKind[];
}

export type LinkType = 'belongs-to' | 'has-many';

export interface Link {
  readonly type: LinkType;
  /** 'foreign-key' when declared, 'name' for the `user_id` ↔ `users.id` fallback. */
  readonly source: 'foreign-key' | 'name';
  /** The parent's column whose values feed the child's key. */
  readonly parentTableOid: number;
  readonly parentColumn: string;
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
  return singulars(table).some((s) => column === `${s}_id` || column === `${s}Id`);
}

/** Child shapes of an analysis (one per key predicate), or [] when it is not a loop child. */
export function childShapes(a: StatementAnalysis, keys: KeyCatalog): ChildShape[] {
  if (a.kind !== 'select' || a.tables.length !== 1 || a.mainTables.length !== 1) return [];
  if (a.hasDerivedSources || a.joins.length > 0 || a.setOperation || a.groupBy || a.subqueries) return [];
  if (a.ctes.length > 0 || a.windowFunctions || a.locking.length > 0) return [];
  const table = a.tables[0]!;
  if (table.oid === null || table.schema === null) return [];
  const oid = table.oid;
  const out: ChildShape[] = [];
  for (const p of a.predicates) {
    if (p.op !== 'equality' || p.value !== 'parameter' || p.parameterCount !== 1 || p.inJoin) continue;
    const kinds: KeyKind[] = [];
    if (keys.uniqueLeading.get(oid)?.has(p.column)) kinds.push('unique');
    if (keys.foreignKeys.some((f) => f.tableOid === oid && f.columns[0] === p.column)) kinds.push('foreign-key');
    if (kinds.length === 0 && (p.column === 'id' || /_id$|[a-z]Id$/.test(p.column))) kinds.push('name');
    if (kinds.length > 0 && !out.some((c) => c.keyColumn === p.column)) {
      out.push({ tableOid: oid, schema: table.schema, table: table.name, keyColumn: p.column, keyKinds: kinds });
    }
  }
  return out;
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

/** Links through which `parent`'s rows can feed `child`'s key, strongest first. */
export function findLinks(child: ChildShape, parent: StatementAnalysis, keys: KeyCatalog, ctx: AnalysisContext): Link[] {
  if (parent.kind !== 'select') return [];
  const links: Link[] = [];
  const parentOids = new Set(parent.mainTables.map((i) => parent.tables[i]?.oid).filter((o): o is number => typeof o === 'number'));
  // belongs-to: a parent table has FK f → child(key); the parent outputs f.
  for (const fk of keys.foreignKeys) {
    if (fk.refTableOid !== child.tableOid || fk.refColumns[0] !== child.keyColumn) continue;
    if (parentOids.has(fk.tableOid) && outputs(parent, fk.tableOid, fk.columns[0]!, ctx)) {
      links.push({ type: 'belongs-to', source: 'foreign-key', parentTableOid: fk.tableOid, parentColumn: fk.columns[0]! });
    }
  }
  // has-many: child(key) has FK → parent table(pk); the parent outputs pk.
  for (const fk of keys.foreignKeys) {
    if (fk.tableOid !== child.tableOid || fk.columns[0] !== child.keyColumn) continue;
    const target = fk.refTableOid!;
    if (parentOids.has(target) && outputs(parent, target, fk.refColumns[0]!, ctx)) {
      links.push({ type: 'has-many', source: 'foreign-key', parentTableOid: target, parentColumn: fk.refColumns[0]! });
    }
  }
  if (links.length > 0 || !child.keyKinds.includes('name') && !child.keyKinds.includes('unique')) return links;
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
        if (parent.tables[c.table]?.oid === oid && isNameKeyFor(c.column, child.table)) {
          links.push({ type: 'belongs-to', source: 'name', parentTableOid: oid, parentColumn: c.column });
        }
      }
    } else if (isNameKeyFor(child.keyColumn, parentName) && outputs(parent, oid, 'id', ctx)) {
      links.push({ type: 'has-many', source: 'name', parentTableOid: oid, parentColumn: 'id' });
    }
  }
  return links;
}
