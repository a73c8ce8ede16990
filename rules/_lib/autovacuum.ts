/**
 * Autovacuum arithmetic as the server does it (autovacuum.c `relation_needs_vacanalyze`), with per-table
 * reloptions overriding the GUCs. Pure functions of a table and the settings in force.
 */
import type { Settings, TableStat } from '../../src/snapshot/types.js';

/** A numeric reloption, or undefined when absent or not a number. */
export function numericReloption(table: TableStat, key: string): number | undefined {
  const raw = table.reloptions[key];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

/** Boolean reloption parsing as PostgreSQL accepts it (true/false, on/off, yes/no, 1/0, prefixes). */
export function booleanReloption(table: TableStat, key: string): boolean | undefined {
  const raw = table.reloptions[key]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return undefined;
  if (['t', 'tr', 'tru', 'true', 'on', 'y', 'ye', 'yes', '1'].includes(raw)) return true;
  if (['f', 'fa', 'fal', 'fals', 'false', 'off', 'of', 'n', 'no', '0'].includes(raw)) return false;
  return undefined;
}

/** Whether autovacuum may process the table for dead tuples (anti-wraparound vacuums run regardless). */
export function autovacuumEnabledFor(table: TableStat, settings: Settings): boolean {
  return settings.autovacuum && settings.trackCounts && booleanReloption(table, 'autovacuum_enabled') !== false;
}

/**
 * Dead tuples above which autovacuum vacuums the table: threshold + scale_factor × reltuples
 * (reltuples < 0, never analysed, counts as 0), capped by autovacuum_vacuum_max_threshold (PG18+;
 * reloption -1 disables the cap, an absent reloption falls back to the GUC).
 */
export function vacuumThresholdTuples(table: TableStat, settings: Settings): number {
  const base = numericReloption(table, 'autovacuum_vacuum_threshold') ?? settings.autovacuumVacuumThreshold;
  const scale = numericReloption(table, 'autovacuum_vacuum_scale_factor') ?? settings.autovacuumVacuumScaleFactor;
  const tuples = Math.max(0, table.reltuples);
  const threshold = base + scale * tuples;
  const cap = numericReloption(table, 'autovacuum_vacuum_max_threshold') ?? settings.autovacuumVacuumMaxThreshold ?? -1;
  return cap >= 0 && threshold > cap ? cap : threshold;
}

/**
 * Rows modified since the last ANALYZE above which autovacuum analyzes the table: threshold + scale_factor ×
 * reltuples (reltuples < 0, never analysed, counts as 0), reloptions over the GUCs; null when the snapshot
 * predates the analyze settings.
 */
export function analyzeThresholdTuples(table: TableStat, settings: Settings): number | null {
  const base = numericReloption(table, 'autovacuum_analyze_threshold') ?? settings.autovacuumAnalyzeThreshold;
  const scale = numericReloption(table, 'autovacuum_analyze_scale_factor') ?? settings.autovacuumAnalyzeScaleFactor;
  if (base === undefined || scale === undefined) return null;
  return base + scale * Math.max(0, table.reltuples);
}

/** Most recent manual or auto analyze (seconds ago), or null when the table was never analysed. */
export function lastAnalyzeAgeSeconds(table: TableStat): number | null {
  const ages = [table.lastAnalyzeAgeSeconds, table.lastAutoanalyzeAgeSeconds].filter((a): a is number => a !== null);
  return ages.length > 0 ? Math.min(...ages) : null;
}

/** min(GUC autovacuum_freeze_max_age, reloption): the reloption can only lower it. */
export function effectiveFreezeMaxAge(table: TableStat | null, settings: Settings): number {
  const rel = table ? numericReloption(table, 'autovacuum_freeze_max_age') : undefined;
  return rel !== undefined && rel >= 0 ? Math.min(settings.autovacuumFreezeMaxAge, rel) : settings.autovacuumFreezeMaxAge;
}

/** min(GUC autovacuum_multixact_freeze_max_age, reloption). */
export function effectiveMultixactFreezeMaxAge(table: TableStat | null, settings: Settings): number {
  const rel = table ? numericReloption(table, 'autovacuum_multixact_freeze_max_age') : undefined;
  return rel !== undefined && rel >= 0 ? Math.min(settings.autovacuumMultixactFreezeMaxAge, rel) : settings.autovacuumMultixactFreezeMaxAge;
}

/** Most recent manual or auto vacuum (seconds ago), or null when the table was never vacuumed. */
export function lastVacuumAgeSeconds(table: TableStat): number | null {
  const ages = [table.lastVacuumAgeSeconds, table.lastAutovacuumAgeSeconds].filter((a): a is number => a !== null);
  return ages.length > 0 ? Math.min(...ages) : null;
}

/** Heap size in bytes: the measured size, else relpages × block size. */
export function heapBytesOf(table: TableStat, settings: Settings | null): number {
  return table.heapBytes ?? table.relpages * (settings?.blockSizeBytes ?? 8192);
}
