import type { BloatState, ColumnStat, IndexBloat, IndexStat, Settings, TableBloat, TableStat } from '../../snapshot/types.js';
import { type CollectionContext, num, schemaUsageGrant, toNumber } from '../context.js';
import { estimateBtreeBloat, estimateHeapBloat, type HeapShape, measuredHeapWaste, measuredIndexWaste } from './bloat-estimate.js';
import { DEFAULT_BLOAT_MEASURE_TTL_MS, type MeasureCache, type MeasureKey } from '../measure-cache.js';
import { SYSTEM_SCHEMA_FILTER } from './common.js';

/** Live and dropped column counts and toast sizes of user tables (for the heap model). */
export const HEAP_SHAPE_SQL = `select /* pg-advisor */ c.oid, count(a.attnum) filter (where not a.attisdropped)::int as column_count,
  count(a.attnum) filter (where a.attisdropped)::int as dropped_count,
  coalesce(t.relpages, 0)::float8 as toast_pages, greatest(coalesce(t.reltuples, 0), 0)::float8 as toast_tuples
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0
left join pg_catalog.pg_class t on t.oid = c.reltoastrelid
where c.relkind in ('r', 'm') and ${SYSTEM_SCHEMA_FILTER}
group by c.oid, t.relpages, t.reltuples`;

export const heapMeasureSql = (schema: string): string => `select /* pg-advisor */ m.table_len::float8 as table_len,
  m.approx_free_space::float8 as free_space, m.dead_tuple_len::float8 as dead_len
  from ${schema}.pgstattuple_approx($1::oid::regclass) m`;

export const indexMeasureSql = (schema: string): string => `select /* pg-advisor */ m.index_size::float8 as index_size,
  m.avg_leaf_density::float8 as avg_leaf_density, m.leaf_pages::float8 as leaf_pages
  from ${schema}.pgstatindex($1::oid::regclass) m`;

/** Relations below this size are not worth measuring (bytes). */
export const MEASURE_SIZE_FLOOR_BYTES = 8 * 1024 * 1024;
/** Estimated waste ratio above which a relation is measured. */
const MEASURE_RATIO = 0.2;
/** Most relations measured with pgstattuple per collection. */
export const MEASURE_MAX_RELATIONS = 50;

export interface BloatInputs {
  readonly tables: readonly TableStat[];
  readonly indexes: readonly IndexStat[];
  readonly columns: readonly ColumnStat[];
  readonly settings: Settings | null;
  readonly budgetBytes: number;
  /** Earlier pgstattuple results of this target, reused while valid (see MeasureCache). */
  readonly cache?: MeasureCache;
  /** How long a measurement is reused (milliseconds). */
  readonly measureTtlMs?: number;
  /** Clock for the cache (ms since the epoch). */
  readonly now?: number;
}

/** Bloat cannot be judged at all with this role; collect.ts records it as unavailable with the hint. */
export class BloatUnavailable extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

type Candidate =
  | { readonly kind: 'table'; readonly bytes: number; readonly table: TableStat }
  | { readonly kind: 'index'; readonly bytes: number; readonly index: IndexStat };

export async function collectBloat(ctx: CollectionContext, inputs: BloatInputs): Promise<{ bloat: BloatState; note?: string }> {
  const blockSize = inputs.settings?.blockSizeBytes || 8192;
  const shapes = new Map<number, HeapShape>();
  for (const r of await ctx.target.query<{ oid: number; column_count: number; dropped_count: number; toast_pages: number; toast_tuples: number }>(
    HEAP_SHAPE_SQL,
  )) {
    shapes.set(r.oid, { columnCount: r.column_count, droppedColumns: r.dropped_count, toastPages: num(r.toast_pages), toastTuples: num(r.toast_tuples) });
  }
  const columnsByTable = new Map<string, ColumnStat[]>();
  for (const c of inputs.columns) {
    const key = `${c.schema}\u0000${c.table}`;
    columnsByTable.set(key, [...(columnsByTable.get(key) ?? []), c]);
  }
  const tableByOid = new Map(inputs.tables.map((t) => [t.oid, t]));

  const tableBloat = new Map<number, TableBloat>();
  const candidates: Candidate[] = [];
  let missingStats = 0;
  let heapTables = 0;
  for (const table of inputs.tables) {
    const shape = shapes.get(table.oid);
    if (table.kind === 'p' || !shape) continue;
    const visible = columnsByTable.get(`${table.schema}\u0000${table.name}`) ?? [];
    heapTables++;
    if (visible.length < shape.columnCount) missingStats++;
    const estimate = estimateHeapBloat(table, visible, shape, blockSize);
    if (estimate) tableBloat.set(table.oid, estimate);
    const bytes = table.heapBytes;
    if (table.locked || bytes === null || bytes < MEASURE_SIZE_FLOOR_BYTES) continue;
    if (!estimate || estimate.wasteBytes > MEASURE_RATIO * estimate.tableBytes) candidates.push({ kind: 'table', bytes, table });
  }
  const indexBloat = new Map<number, IndexBloat>();
  for (const index of inputs.indexes) {
    const table = tableByOid.get(index.tableOid);
    if (!table || index.method !== 'btree') continue;
    const cols = new Map((columnsByTable.get(`${table.schema}\u0000${table.name}`) ?? []).map((c) => [c.column, c]));
    const estimate = estimateBtreeBloat(index, table, cols, blockSize);
    if (estimate) indexBloat.set(index.oid, estimate);
    const bytes = index.sizeBytes;
    if (table.locked || !index.isValid || bytes === null || bytes < MEASURE_SIZE_FLOOR_BYTES) continue;
    if (!estimate || estimate.wasteBytes > MEASURE_RATIO * estimate.indexBytes) candidates.push({ kind: 'index', bytes, index });
  }

  let skippedOverBudget = 0;
  let failed = 0;
  let reused = 0;
  if (ctx.capabilities.pgstattuple && ctx.pgstattupleSchema !== null) {
    const schema = ctx.pgstattupleSchema;
    const within = candidates.filter((c) => {
      if (c.bytes <= inputs.budgetBytes) return true;
      skippedOverBudget++;
      return false;
    });
    within.sort((a, b) => b.bytes - a.bytes);
    const now = inputs.now ?? Date.now();
    const ttl = inputs.measureTtlMs ?? DEFAULT_BLOAT_MEASURE_TTL_MS;
    for (const c of within.slice(0, MEASURE_MAX_RELATIONS)) {
      const key = measureKey(c);
      const cached = inputs.cache?.find(key, now, ttl);
      if (cached) reused++;
      try {
        const result = cached ?? (c.kind === 'table' ? await measureHeap(ctx, schema, c.table, blockSize) : await measureIndex(ctx, schema, c.index));
        if (c.kind === 'table') tableBloat.set(result.oid, result as TableBloat);
        else indexBloat.set(result.oid, result as IndexBloat);
        if (!cached) inputs.cache?.store(key, now, result);
      } catch {
        failed++; // timeout or a relation dropped meanwhile: keep the estimate, if any
      }
    }
    inputs.cache?.retain(new Set([...inputs.tables.map((t) => `table:${t.oid}`), ...inputs.indexes.map((i) => `index:${i.oid}`)]));
  }
  const grant = `GRANT SELECT ON ALL TABLES IN SCHEMA <schema> TO ${ctx.currentUser}`;
  if (missingStats > 0 && missingStats === heapTables && !ctx.capabilities.pgstattuple) {
    throw new BloatUnavailable(
      'no column statistics are visible to this role and pgstattuple is not usable, so bloat can be neither estimated nor measured',
      `${grant} (estimates need SELECT for pg_stats), or ${pgstattupleHint(ctx)}`,
    );
  }
  const notes: string[] = [];
  if (missingStats > 0) {
    notes.push(
      `${missingStats} table(s) cannot be estimated: the model needs pg_stats for every column, and pg_stats shows ` +
        `only columns this role may SELECT (${grant}; or ANALYZE)`,
    );
  }
  if (!ctx.capabilities.pgstattuple) notes.push(`not measured: ${pgstattupleHint(ctx)} for exact figures`);
  if (failed > 0) notes.push(`${failed} pgstattuple measurement(s) failed (timeout or concurrent DDL)`);
  if (reused > 0) {
    const minutes = Math.round((inputs.measureTtlMs ?? DEFAULT_BLOAT_MEASURE_TTL_MS) / 60_000);
    notes.push(`${reused} pgstattuple measurement(s) reused from earlier collections (at most ${minutes} min old, size and vacuums unchanged)`);
  }
  const bloat: BloatState = {
    tables: [...tableBloat.values()],
    indexes: [...indexBloat.values()],
    skippedOverBudget,
  };
  return notes.length > 0 ? { bloat, note: notes.join('; ') } : { bloat };
}

function measureKey(c: Candidate): MeasureKey {
  const oid = c.kind === 'table' ? c.table.oid : c.index.oid;
  const vacuums = c.kind === 'table' ? c.table.vacuumCount + c.table.autovacuumCount : 0;
  return { kind: c.kind, oid, bytes: c.bytes, vacuums };
}

function pgstattupleHint(ctx: CollectionContext): string {
  if (ctx.pgstattupleSchema === null) return 'CREATE EXTENSION pgstattuple (pg_monitor may execute it)';
  if (ctx.pgstattupleSchemaDenied) {
    return (
      `${schemaUsageGrant(ctx.pgstattupleSchemaDenied, ctx.currentUser)} (pgstattuple is installed in ` +
      `schema ${ctx.pgstattupleSchemaDenied}, which ${ctx.currentUser} cannot use)`
    );
  }
  return `GRANT pg_stat_scan_tables TO ${ctx.currentUser} (pgstattuple is installed but not executable)`;
}

async function measureHeap(ctx: CollectionContext, schema: string, table: TableStat, blockSize: number): Promise<TableBloat> {
  const [m] = await ctx.target.query<{ table_len: number; free_space: number; dead_len: number }>(heapMeasureSql(schema), [table.oid]);
  const tableBytes = num(m?.table_len) || table.relpages * blockSize;
  const freeBytes = Math.max(0, num(m?.free_space));
  const deadBytes = Math.max(0, num(m?.dead_len));
  const fillfactor = Number(table.reloptions.fillfactor ?? 100) || 100;
  return {
    oid: table.oid,
    schema: table.schema,
    name: table.name,
    method: 'pgstattuple_approx',
    tableBytes,
    wasteBytes: measuredHeapWaste(tableBytes, freeBytes, deadBytes, fillfactor),
    deadBytes,
    freeBytes,
    fillfactor,
  };
}

async function measureIndex(ctx: CollectionContext, schema: string, index: IndexStat): Promise<IndexBloat> {
  const [m] = await ctx.target.query<{ index_size: number; avg_leaf_density: number | null; leaf_pages: number }>(indexMeasureSql(schema), [index.oid]);
  const indexBytes = num(m?.index_size);
  const density = num(m?.leaf_pages) > 0 ? toNumber(m?.avg_leaf_density) : null;
  return {
    oid: index.oid,
    schema: index.schema,
    name: index.name,
    table: index.table,
    method: 'pgstatindex',
    indexBytes,
    wasteBytes: measuredIndexWaste(indexBytes, density, index.fillfactor),
    avgLeafDensity: density,
    fillfactor: index.fillfactor,
  };
}
