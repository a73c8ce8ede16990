import { describe, expect, it } from 'vitest';
import { estimateBtreeBloat, estimateHeapBloat, measuredHeapWaste, measuredIndexWaste } from '../../src/collector/sources/bloat-estimate.js';
import type { ColumnStat, IndexStat, TableStat } from '../../src/snapshot/types.js';

const col = (column: string, avgWidth: number, extra: Partial<ColumnStat> = {}): ColumnStat => ({
  schema: 's',
  table: 't',
  column,
  dataType: 'integer',
  nullFrac: 0,
  avgWidth,
  nDistinct: -1,
  topFrequency: null,
  correlation: 1,
  ...extra,
});

const table = (relpages: number, reltuples: number, extra: Partial<TableStat> = {}): TableStat => ({
  oid: 1,
  schema: 's',
  name: 't',
  kind: 'r',
  relpages,
  reltuples,
  relallvisible: 0,
  heapBytes: relpages * 8192,
  totalBytes: relpages * 8192,
  reloptions: {},
  nLiveTup: reltuples,
  nDeadTup: 0,
  nModSinceAnalyze: 0,
  nInsSinceVacuum: 0,
  seqScan: 0,
  seqTupRead: 0,
  idxScan: 0,
  nTupIns: 0,
  nTupUpd: 0,
  nTupDel: 0,
  nTupHotUpd: 0,
  lastVacuumAgeSeconds: null,
  lastAutovacuumAgeSeconds: null,
  lastAnalyzeAgeSeconds: null,
  lastAutoanalyzeAgeSeconds: null,
  vacuumCount: 0,
  autovacuumCount: 0,
  analyzeCount: 0,
  autoanalyzeCount: 0,
  xidAge: 1,
  mxidAge: 0,
  locked: false,
  ...extra,
});

const index = (relpages: number, reltuples: number, extra: Partial<IndexStat> = {}): IndexStat => ({
  oid: 2,
  schema: 's',
  name: 'i',
  tableOid: 1,
  table: 't',
  definition: '',
  method: 'btree',
  columns: ['id'],
  includeColumns: [],
  isUnique: true,
  isPrimary: true,
  isValid: true,
  isPartial: false,
  relpages,
  reltuples,
  sizeBytes: relpages * 8192,
  idxScan: 0,
  isReady: true,
  buildInProgress: false,
  dropInProgress: false,
  fillfactor: 90,
  ...extra,
});

// (id int, pad text ~101 bytes): tuple = 4 + 24 + 112 = 140 bytes → ~58 per page; 100k rows ≈ 1725 pages packed.
const shape = { columnCount: 2, toastPages: 0, toastTuples: 0 };
const cols = [col('id', 4), col('pad', 101, { dataType: 'text' })];

describe('estimateHeapBloat', () => {
  it('is near zero for a packed table and about half for a half-empty one', () => {
    const packed = estimateHeapBloat(table(1725, 100_000), cols, shape, 8192)!;
    expect(packed.wasteBytes / packed.tableBytes).toBeLessThan(0.05);
    const half = estimateHeapBloat(table(1725, 50_000), cols, shape, 8192)!;
    expect(half.wasteBytes / half.tableBytes).toBeGreaterThan(0.45);
    expect(half.wasteBytes / half.tableBytes).toBeLessThan(0.55);
    expect(half.freeBytes).toBeGreaterThanOrEqual(half.wasteBytes);
  });
  it('subtracts the fillfactor reserve', () => {
    const ff = estimateHeapBloat(table(1725 / 0.7, 100_000, { reloptions: { fillfactor: '70' } }), cols, shape, 8192)!;
    expect(ff.fillfactor).toBe(70);
    expect(ff.wasteBytes / ff.tableBytes).toBeLessThan(0.05);
  });
  it('does not apply with missing, stale or name-typed stats, tiny tables or negative results', () => {
    expect(estimateHeapBloat(table(1725, 50_000), cols.slice(0, 1), shape, 8192)).toBeNull();
    expect(estimateHeapBloat(table(1725, 50_000, { nModSinceAnalyze: 20_000 }), cols, shape, 8192)).toBeNull();
    expect(estimateHeapBloat(table(1725, -1), cols, shape, 8192)).toBeNull();
    expect(estimateHeapBloat(table(1725, 50_000), [cols[0]!, col('pad', 64, { dataType: 'name' })], shape, 8192)).toBeNull();
    expect(estimateHeapBloat(table(5, 100), cols, shape, 8192)).toBeNull();
    expect(estimateHeapBloat(table(1000, 100_000), cols, shape, 8192)).toBeNull(); // would be negative
    // A dropped column's bytes stay in old rows: the model would report them as bloat.
    expect(estimateHeapBloat(table(1725, 50_000), cols, { ...shape, droppedColumns: 1 }, 8192)).toBeNull();
  });
});

describe('estimateBtreeBloat', () => {
  const byName = new Map(cols.map((c) => [c.column, c]));
  it('estimates unique btrees', () => {
    // int4 key: entry 4 + align8(8 + 4) = 20 bytes → 366 per page at ff 90; 100k entries ≈ 275 pages.
    const fresh = estimateBtreeBloat(index(275, 100_000), table(1725, 100_000), byName, 8192)!;
    expect(fresh.wasteBytes).toBe(0);
    const bloated = estimateBtreeBloat(index(550, 100_000), table(1725, 100_000), byName, 8192)!;
    expect(bloated.wasteBytes / bloated.indexBytes).toBeCloseTo(0.5, 1);
  });
  it('skips duplicate-heavy leading columns, expressions and non-btrees', () => {
    const dupes = new Map([['n', col('n', 4, { nDistinct: 5 })]]);
    expect(estimateBtreeBloat(index(550, 100_000, { columns: ['n'], isUnique: false }), table(1725, 100_000), dupes, 8192)).toBeNull();
    expect(estimateBtreeBloat(index(550, 100_000, { columns: [null] }), table(1725, 100_000), byName, 8192)).toBeNull();
    expect(estimateBtreeBloat(index(550, 100_000, { method: 'gin' }), table(1725, 100_000), byName, 8192)).toBeNull();
    expect(estimateBtreeBloat(index(100, 100_000), table(1725, 100_000), byName, 8192)).toBeNull(); // negative
  });
});

describe('measured waste', () => {
  it('subtracts the fillfactor reserve and never goes negative', () => {
    expect(measuredHeapWaste(1000, 600, 100, 100)).toBe(700);
    expect(measuredHeapWaste(1000, 250, 0, 70)).toBe(0);
    expect(measuredIndexWaste(1000, 45, 90)).toBe(500);
    expect(measuredIndexWaste(1000, 95, 90)).toBe(0);
    expect(measuredIndexWaste(1000, null, 90)).toBe(0);
  });
});
