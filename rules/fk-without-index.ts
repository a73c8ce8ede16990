import { defineRule } from '../src/engine/define-rule.js';
import type { FindingDraft } from '../src/engine/types.js';
import type { ConstraintStat, IndexStat, TableStat } from '../src/snapshot/types.js';
import { quoteIdent, quoteQualified } from '../src/sql/quote.js';
import { formatBytes, formatCount } from './_lib/format.js';

/** Partition names listed in evidence per finding. */
const MAX_LISTED_PARTITIONS = 10;

function groupBy<T, K>(items: readonly T[], keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/** A foreign-key constraint whose referenced table the snapshot names. */
type ForeignKey = ConstraintStat & { readonly refTableOid: number };
const isForeignKey = (c: ConstraintStat): c is ForeignKey => c.type === 'f' && c.refTableOid !== null;

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * An index serves the foreign key's lookups (`where a = $1 and b = $2`) when its leading key columns are exactly
 * the FK columns in any order; expression elements never match. A hash index serves a one-column FK (equality is
 * all the check needs), as missing-index also counts it.
 */
function supportsForeignKey(index: IndexStat, columns: readonly string[]): boolean {
  if (!index.isValid || index.isPartial) return false;
  if (index.method === 'hash') return columns.length === 1 && index.columns[0] === columns[0];
  if (index.method !== 'btree') return false;
  const leading = index.columns.slice(0, columns.length);
  return new Set(leading).size === columns.length && leading.every((c) => c !== null && columns.includes(c));
}

export default defineRule({
  id: 'fk-without-index',
  title: 'Foreign key without index',
  category: 'indexes',
  defaultSeverity: 'warning',
  requires: ['tables', 'indexes', 'constraints'],
  thresholds: {
    minTableBytes: {
      default: 8 * 1024 * 1024,
      description:
        'Referencing tables (for a partitioned table: its partitions lacking the index, together) smaller than this (bytes, heap) are never reported.',
    },
  },
  docs: {
    summary: 'Finds foreign keys whose referencing columns no index on the referencing (child) table can look up.',
    why:
      'PostgreSQL indexes the referenced side of a foreign key, never the referencing side. Every DELETE ' +
      'of a parent row, and every UPDATE of its key, must check the child for rows still pointing at it ' +
      '(and cascade to them): without an index that is a sequential scan of the whole child per parent ' +
      'row, run while the parent row is locked, so deleting a thousand parents reads the child a thousand ' +
      'times. Joins and lookups from parent to children scan the same way. The cost grows with the child ' +
      'table, so it is invisible in development and sudden in production.',
    fix:
      'Create an index on the child whose leading columns are the foreign key columns, without blocking ' +
      'writes: CREATE INDEX CONCURRENTLY ON child (fk_columns) (takes longer, cannot run inside a ' +
      'transaction block, and a failed build leaves an INVALID index to drop before retrying). An existing ' +
      'index whose leading columns are the FK columns in another order serves just as well. For a ' +
      'partitioned child, build the index concurrently on each partition, then CREATE INDEX ON the ' +
      'partitioned table itself: it attaches the identical partition indexes instead of rebuilding them, ' +
      'and future partitions get the index.',
    falsePositives:
      'A supporting index is a valid, non-partial btree whose leading key columns are exactly the FK ' +
      'columns in any order (FK (a, b) is served by (b, a, c), not by (a, c, b) nor by (a) alone), or a ' +
      'hash index on a one-column FK; primary key and unique indexes count like any other; expression ' +
      'elements, partial and invalid indexes never count. Child tables under {minTableBytes} of heap are ' +
      'ignored: scanning 1,024 pages costs about a millisecond from cache, tables that small rarely hurt, ' +
      'and the finding appears by itself once the table grows. A finding is a warning when the referenced ' +
      'table has seen deletes or updates since statistics were reset (n_tup_del, n_tup_upd; for a ' +
      'partitioned referenced table, those of its partitions), otherwise info: a lookup table that is ' +
      'never deleted from pays nothing at write time and only joins benefit. Updates count although only ' +
      'key updates trigger the check, which statistics cannot tell apart. A foreign key declared on a ' +
      'partitioned table is one finding on that table, judged by its partitions (an index on the ' +
      'partitioned table creates one on each); the per-partition copies of the constraint and the ' +
      'per-partition copies PostgreSQL adds for a partitioned referenced table are not reported again. ' +
      'With several levels of partitioning, the finding names one of the partitioned tables. ' +
      'Self-referencing foreign keys count like any other.',
  },
  evaluate({ snapshot, thresholds: t }) {
    const tables = new Map(snapshot.tables.map((table) => [table.oid, table]));
    const blockSize = snapshot.settings?.blockSizeBytes ?? 8192;
    const sizeOf = (table: TableStat): number => table.heapBytes ?? table.relpages * blockSize;
    const isPartitioned = (oid: number | null): boolean => oid !== null && tables.get(oid)?.kind === 'p';
    const indexesByTable = groupBy(snapshot.indexes, (i) => i.tableOid);

    const fksByTable = groupBy(snapshot.constraints.filter(isForeignKey), (c) => c.tableOid);
    // A foreign key to a partitioned table is cloned once per referenced partition on the same child (fk → fk1,
    // fk2 …). The clones are the same foreign key: skip them, but count their partitions' deletes as the parent's.
    const targets = new Map<ConstraintStat, number[]>();
    const kept: ForeignKey[] = [];
    for (const fks of fksByTable.values()) {
      for (const fk of fks) {
        const original = fks.find(
          (o) =>
            o !== fk &&
            isPartitioned(o.refTableOid) &&
            o.refTableOid !== fk.refTableOid &&
            fk.name.length > o.name.length &&
            fk.name.startsWith(o.name) &&
            sameList(o.columns, fk.columns) &&
            sameList(o.refColumns, fk.refColumns),
        );
        if (original) {
          targets.set(original, [...(targets.get(original) ?? []), fk.refTableOid]);
          continue;
        }
        kept.push(fk);
      }
    }
    // A partitioned table's foreign key is copied, same name, onto each of its partitions: one family, judged by
    // its leaves. (The snapshot has no partition tree: an unrelated table with a same-named FK on the same columns
    // to the same parent would join the family; rare, and the generated SQL still indexes it.)
    const families = groupBy(kept, (fk) => JSON.stringify([fk.name, fk.refTableOid, fk.columns]));

    const findings: FindingDraft[] = [];
    for (const family of families.values()) {
      const members = family.flatMap((c) => {
        const table = tables.get(c.tableOid);
        return table ? [{ fk: c, table }] : [];
      });
      const roots = members
        .filter((m) => m.table.kind === 'p')
        .sort((a, b) => a.table.schema.localeCompare(b.table.schema) || a.table.name.localeCompare(b.table.name));
      const [root] = roots;
      const units = root
        ? [{ ...root, leaves: members.filter((m) => m.table.kind !== 'p').map((m) => m.table) }]
        : members.map((m) => ({ ...m, leaves: [m.table] }));

      for (const { fk, table, leaves } of units) {
        const unindexed = leaves.filter((leaf) => !(indexesByTable.get(leaf.oid) ?? []).some((i) => supportsForeignKey(i, fk.columns)));
        const tableBytes = unindexed.reduce((n, leaf) => n + sizeOf(leaf), 0);
        if (unindexed.length === 0 || tableBytes < t.minTableBytes) continue;
        const known = unindexed.filter((leaf) => leaf.reltuples >= 0);
        const rows = known.length > 0 ? Math.round(known.reduce((n, leaf) => n + leaf.reltuples, 0)) : null;

        const referenced = new Set([fk.refTableOid, ...family.flatMap((c) => targets.get(c) ?? [])]);
        const written = [...referenced].flatMap((oid) => tables.get(oid) ?? []).filter((p) => p.kind !== 'p');
        const parentDeletes = written.reduce((n, p) => n + p.nTupDel, 0);
        const parentUpdates = written.reduce((n, p) => n + p.nTupUpd, 0);
        const parent = `${fk.refSchema}.${fk.refTable}`;
        const child = `${table.schema}.${table.name}`;
        const columnList = fk.columns.map(quoteIdent).join(', ');
        const statements = unindexed.map((leaf) => `CREATE INDEX CONCURRENTLY ON ${quoteQualified(leaf.schema, leaf.name)} (${columnList});`);
        const partitioned = table.kind === 'p';

        const scanned = partitioned
          ? `${unindexed.length} partition${unindexed.length === 1 ? '' : 's'} of ${child} (${formatBytes(tableBytes)})`
          : `${child} (${formatBytes(tableBytes)})`;
        const writes =
          parentDeletes + parentUpdates > 0
            ? `${parent} has seen ${formatCount(parentDeletes)} deletes and ${formatCount(parentUpdates)} updates since statistics were reset.`
            : `${parent} has seen no deletes or updates since statistics were reset, so today joins and lookups by (${fk.columns.join(', ')}) pay the scan.`;
        findings.push({
          severity: parentDeletes + parentUpdates > 0 ? 'warning' : 'info',
          summary:
            `Foreign key ${fk.name} on ${child} (${fk.columns.join(', ')}) → ${parent} has no supporting index: ` +
            `each delete or key update on ${parent} scans ${scanned} for referencing rows. ${writes}`,
          object: { type: 'table', schema: table.schema, name: table.name, columns: [...fk.columns] },
          identity: fk.name,
          evidence: {
            constraint: fk.name,
            referencedTable: parent,
            referencedColumns: [...fk.refColumns],
            tableBytes,
            rows,
            parentDeletes,
            parentUpdates,
            ...(partitioned
              ? {
                  unindexedPartitions: unindexed.length,
                  unindexedPartitionNames: unindexed.slice(0, MAX_LISTED_PARTITIONS).map((leaf) => `${leaf.schema}.${leaf.name}`),
                }
              : {}),
          },
          recommendation: {
            text: partitioned
              ? `Index each partition without blocking writes (the statements below; CONCURRENTLY cannot build on ` +
                `the partitioned table itself), then run CREATE INDEX ON ${quoteQualified(table.schema, table.name)} ` +
                `(${columnList}); so future partitions get the index too: it attaches each partition's identical ` +
                `index instead of building another (a partition indexed differently gets a new build, under a write lock).`
              : `Create the index without blocking writes: ${statements[0]} It takes longer than a plain CREATE ` +
                `INDEX, cannot run inside a transaction block, and a failed build leaves an INVALID index to drop ` +
                `before retrying.`,
            sql: statements.join('\n'),
          },
          impact: { tableBytes },
        });
      }
    }
    return findings;
  },
});
