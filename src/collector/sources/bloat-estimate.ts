import type { ColumnStat, IndexBloat, IndexStat, TableBloat, TableStat } from '../../snapshot/types.js';

/**
 * Statistical bloat estimates (ioguix pgsql-bloat-estimation, see detection.md §3.1). Pure. Each returns
 * null when the model does not apply: missing or stale column statistics, `name` columns, never analysed,
 * tiny relations, btrees with duplicate-heavy leading columns, or an estimate that comes out negative.
 */

const PAGE_HEADER = 24;
const BTREE_SPECIAL = 16;
const MIN_PAGES = 10;

export interface HeapShape {
  /** Live (non-dropped) user columns of the table. */
  readonly columnCount: number;
  /** Dropped columns: old rows still carry their bytes until rewritten, which pg_stats cannot see. */
  readonly droppedColumns?: number;
  readonly toastPages: number;
  readonly toastTuples: number;
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

function statsFresh(table: TableStat): boolean {
  return table.reltuples >= 0 && table.nModSinceAnalyze <= 0.2 * table.reltuples;
}

export function estimateHeapBloat(table: TableStat, columns: readonly ColumnStat[], shape: HeapShape, blockSizeBytes: number): TableBloat | null {
  if (table.kind === 'p' || table.relpages < MIN_PAGES || !statsFresh(table)) return null;
  if (columns.length < shape.columnCount || columns.some((c) => c.dataType === 'name')) return null;
  // Rows written before a DROP COLUMN still hold its bytes: the model would call them bloat.
  if ((shape.droppedColumns ?? 0) > 0) return null;
  const fillfactor = Number(table.reloptions.fillfactor ?? 100) || 100;
  const anyNull = columns.some((c) => c.nullFrac > 0);
  const header = align8(23 + (anyNull ? Math.ceil(shape.columnCount / 8) : 0));
  const data = align8(columns.reduce((sum, c) => sum + (1 - c.nullFrac) * c.avgWidth, 0));
  const tupleBytes = 4 + header + data;
  const usable = blockSizeBytes - PAGE_HEADER;
  const toastEstimate = Math.ceil(shape.toastTuples / 4);
  const expectedAtFillfactor = Math.ceil(table.reltuples / ((usable * fillfactor) / 100 / tupleBytes)) + toastEstimate;
  const expectedPacked = Math.ceil(table.reltuples / (usable / tupleBytes)) + toastEstimate;
  const actual = table.relpages + shape.toastPages;
  const wastePages = actual - expectedAtFillfactor;
  if (!Number.isFinite(wastePages) || wastePages < 0) return null;
  return {
    oid: table.oid,
    schema: table.schema,
    name: table.name,
    method: 'estimate',
    tableBytes: actual * blockSizeBytes,
    wasteBytes: wastePages * blockSizeBytes,
    deadBytes: 0,
    freeBytes: Math.max(0, actual - expectedPacked) * blockSizeBytes,
    fillfactor,
  };
}

export function estimateBtreeBloat(
  index: IndexStat,
  table: TableStat,
  columnsByName: ReadonlyMap<string, ColumnStat>,
  blockSizeBytes: number,
): IndexBloat | null {
  if (index.method !== 'btree' || index.relpages < MIN_PAGES || index.reltuples < 0 || !statsFresh(table)) return null;
  const names = [...index.columns, ...index.includeColumns];
  const stats: ColumnStat[] = [];
  for (const name of names) {
    const stat = name === null ? undefined : columnsByName.get(name);
    if (!stat || stat.dataType === 'name') return null;
    stats.push(stat);
  }
  const leading = stats[0];
  if (!leading) return null;
  // PG13+ deduplication packs duplicates into posting lists the model cannot see.
  const distinct = leading.nDistinct < 0 ? -leading.nDistinct * table.reltuples : leading.nDistinct;
  const lowDuplicates = distinct > 0 && table.reltuples / distinct < 2;
  if (!(index.isUnique || lowDuplicates)) return null;
  const anyNull = stats.some((c) => c.nullFrac > 0);
  const data = stats.reduce((sum, c) => sum + (1 - c.nullFrac) * c.avgWidth, 0);
  const entryBytes = 4 + align8((anyNull ? 12 : 8) + data);
  const perPage = Math.floor(((blockSizeBytes - PAGE_HEADER - BTREE_SPECIAL) * index.fillfactor) / 100 / entryBytes);
  if (perPage < 1) return null;
  const expected = 1 + Math.ceil(index.reltuples / perPage);
  const wastePages = index.relpages - expected;
  if (wastePages < 0) return null;
  return {
    oid: index.oid,
    schema: index.schema,
    name: index.name,
    table: index.table,
    method: 'estimate',
    indexBytes: index.relpages * blockSizeBytes,
    wasteBytes: wastePages * blockSizeBytes,
    avgLeafDensity: null,
    fillfactor: index.fillfactor,
  };
}

/** Waste from a pgstattuple_approx measure, beyond the fillfactor reserve (bytes, ≥ 0). */
export function measuredHeapWaste(tableBytes: number, freeBytes: number, deadBytes: number, fillfactor: number): number {
  return Math.max(0, Math.round(freeBytes + deadBytes - (tableBytes * (100 - fillfactor)) / 100));
}

/** Waste from pgstatindex's avg_leaf_density (percent) against the fillfactor (bytes, ≥ 0). */
export function measuredIndexWaste(indexBytes: number, avgLeafDensity: number | null, fillfactor: number): number {
  if (avgLeafDensity === null || !Number.isFinite(avgLeafDensity)) return 0;
  return Math.max(0, Math.round(indexBytes * (1 - avgLeafDensity / fillfactor)));
}
