/**
 * Public surface of the collector — the only code that talks to a target database.
 * (Contract file: implementations live in connect.ts, server-info.ts, collect.ts, window.ts and sources/.)
 */
import type { Snapshot } from '../snapshot/types.js';
import type { Window } from '../snapshot/window-types.js';

export interface TargetOptions {
  /** libpq-style connection URL (postgres://…). */
  readonly url: string;
  /** statement_timeout for every advisor statement (ms, default 5000). */
  readonly statementTimeoutMs?: number;
  /** lock_timeout (ms, default 1000). */
  readonly lockTimeoutMs?: number;
  /** Connect timeout (ms, default 5000): an unreachable host fails fast. */
  readonly connectTimeoutMs?: number;
  /** Connections the advisor may open to this target (default 2, hard cap 5). */
  readonly maxConnections?: number;
}

export interface CollectOptions {
  /** Longest query text fetched from pg_stat_statements (characters, default 20000). */
  readonly maxQueryTextLength?: number;
  /** Largest relation measured with pgstattuple_approx/pgstatindex (bytes, default 10 GiB). */
  readonly bloatMeasureBudgetBytes?: number;
  /**
   * How long a pgstattuple result is reused by later collections on the same Target while the relation's
   * size (±10 %) and vacuum count are unchanged (milliseconds, default 1 h; 0 = measure every time).
   */
  readonly bloatMeasureTtlMs?: number;
}

export interface WindowOptions extends CollectOptions {
  /** Total sampling time (ms). */
  readonly durationMs: number;
  /** Interval between light samples (ms, default 1000). */
  readonly intervalMs?: number;
  /** Called after each light sample (for progress output). */
  readonly onSample?: (index: number, total: number) => void;
}

export interface Target {
  /** Runs one read-only advisor statement (the marker comment is the caller's job). */
  query<R extends Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /**
   * Runs `body` on one connection inside a READ ONLY transaction (rolled back at the end), so
   * `SET LOCAL` (e.g. a tighter statement_timeout) applies to its statements only. Optional: a Target
   * without it runs the statements through `query`.
   */
  withReadOnlyTransaction?<T>(body: (query: Target['query']) => Promise<T>): Promise<T>;
  /**
   * Client-side deadlines (milliseconds) of a pool from connectTarget: `queryMs` for one statement (a little
   * above statement_timeout), `collectionMs` for one whole snapshot, and the session's `statementTimeoutMs`.
   * Absent on hand-built Targets (no deadline).
   */
  readonly deadlines?: { readonly queryMs: number; readonly collectionMs: number; readonly statementTimeoutMs: number };
  /** Ends the sessions; bounded in time whatever the server does (sockets are destroyed if it does not answer). */
  close(): Promise<void>;
}

export type ConnectTarget = (options: TargetOptions) => Promise<Target>;
export type CollectSnapshot = (target: Target, options?: CollectOptions) => Promise<Snapshot>;
export type CollectWindow = (target: Target, options: WindowOptions) => Promise<{ snapshot: Snapshot; window: Window }>;
