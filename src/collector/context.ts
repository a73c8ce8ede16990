import type { Capabilities } from '../snapshot/types.js';
import { quoteIdent } from '../sql/quote.js';
import type { Target } from './api.js';

/** Built once per collection by server-info and passed to every source. */
export interface CollectionContext {
  readonly target: Target;
  readonly serverVersionNum: number;
  readonly serverVersion: string;
  readonly database: string;
  readonly databaseOid: number;
  readonly currentUser: string;
  readonly searchPath: readonly string[];
  readonly capabilities: Capabilities;
  /** Schema of the pg_stat_statements extension (quoted for SQL), null when absent. */
  readonly pgssSchema: string | null;
  /** Schema of the pgstattuple extension (quoted for SQL), null when absent. */
  readonly pgstattupleSchema: string | null;
  readonly pgssStatsReset: string | null;
  readonly pgssDealloc: number | null;
  /** Schema of pg_stat_statements (unquoted) when current_user lacks USAGE on it; null otherwise. */
  readonly pgssSchemaDenied?: string | null;
  /** Schema of pgstattuple (unquoted) when current_user lacks USAGE on it; null otherwise. */
  readonly pgstattupleSchemaDenied?: string | null;
  /** pg_is_in_recovery(): a standby, where vacuum does not run and dead-tuple statistics are not kept. */
  readonly inRecovery?: boolean;
  /** compute_query_id as this session sees it (PG14+; null before). */
  readonly computeQueryId?: string | null;
  readonly collectedAt: string;
}

/** The exact grant that lets the advisor's role use an extension installed in `schema`. */
export function schemaUsageGrant(schema: string, role: string): string {
  return `GRANT USAGE ON SCHEMA ${quoteIdent(schema)} TO ${quoteIdent(role)}`;
}

/** Compares dotted extension versions: "1.10" ≥ "1.9". */
export function versionAtLeast(version: string | null, wanted: string): boolean {
  if (version === null) return false;
  const a = version.split('.').map((p) => Number.parseInt(p, 10) || 0);
  const b = wanted.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

/** Converts a timestamptz as node-pg returns it (Date) or a string to ISO-8601; null stays null. */
export function toIso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  return new Date(String(value)).toISOString();
}

/** Numbers arrive as number (int4, float8, oid) or string (int8, numeric); null stays null. */
export function toNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

export function num(value: unknown): number {
  return toNumber(value) ?? 0;
}
