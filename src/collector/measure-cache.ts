/**
 * pgstattuple results kept per target between collections, so a daemon sampling every minute does not
 * read the same large relations again and again (pgstatindex reads the whole index). A result is reused
 * while it is younger than the TTL, the relation's size moved by at most 10 %, and — for heaps — no
 * (auto)vacuum ran since (a vacuum changes free and dead space). A rewrite (VACUUM FULL, REINDEX,
 * pg_repack) changes the size, so a fixed relation is measured again at the next collection.
 */
import type { IndexBloat, TableBloat } from '../snapshot/types.js';
import { perTarget } from './per-target.js';

/** How long a measurement is reused by default (milliseconds). */
export const DEFAULT_BLOAT_MEASURE_TTL_MS = 60 * 60_000;
const SIZE_TOLERANCE = 0.1;

export interface MeasureKey {
  readonly kind: 'table' | 'index';
  readonly oid: number;
  /** Size when measured (bytes). */
  readonly bytes: number;
  /** Vacuums of the table so far (heaps only; indexes use 0). */
  readonly vacuums: number;
}

interface Entry {
  readonly key: MeasureKey;
  readonly at: number;
  readonly result: TableBloat | IndexBloat;
}

export class MeasureCache {
  private readonly entries = new Map<string, Entry>();

  /** The stored result when still valid for `key` at `now` (ms); undefined otherwise. */
  find(key: MeasureKey, now: number, ttlMs: number): TableBloat | IndexBloat | undefined {
    const entry = this.entries.get(`${key.kind}:${key.oid}`);
    if (!entry || ttlMs <= 0 || now - entry.at > ttlMs || now < entry.at) return undefined;
    if (entry.key.vacuums !== key.vacuums) return undefined;
    if (Math.abs(key.bytes - entry.key.bytes) > SIZE_TOLERANCE * entry.key.bytes) return undefined;
    return entry.result;
  }

  store(key: MeasureKey, now: number, result: TableBloat | IndexBloat): void {
    this.entries.set(`${key.kind}:${key.oid}`, { key, at: now, result });
  }

  /** Drops entries of relations no longer present (dropped tables and indexes). */
  retain(present: ReadonlySet<string>): void {
    for (const k of this.entries.keys()) if (!present.has(k)) this.entries.delete(k);
  }
}

/** The measurement cache of a target (created on first use). */
export const measureCacheFor = perTarget(() => new MeasureCache());
