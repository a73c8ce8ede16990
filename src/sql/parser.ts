/**
 * The real PostgreSQL grammar (libpg-query, WASM). Loading is asynchronous and happens once per process
 * (`initSqlParser`); everything after that is synchronous so pure rules can use it.
 */
import { loadModule, parseSync, scanSync, type ScanToken } from 'libpg-query';

let loading: Promise<void> | null = null;
let ready = false;

/** Loads the parser once; later calls return the same promise. Call it at startup (CLI, daemon, tests). */
export function initSqlParser(): Promise<void> {
  if (!loading) {
    loading = loadModule().then(
      () => {
        ready = true;
      },
      (error: unknown) => {
        loading = null;
        throw new Error('could not load the SQL parser (libpg-query WASM)', { cause: error });
      },
    );
  }
  return loading;
}

/** True once `initSqlParser()` has resolved. */
export function isSqlParserReady(): boolean {
  return ready;
}

export type ParseOutcome = { readonly ok: true; readonly stmts: readonly unknown[] } | { readonly ok: false; readonly reason: string };

/** Parses synchronously. Never throws: a parser that is not loaded or a syntax error is an outcome. */
export function parseSqlSync(text: string): ParseOutcome {
  if (!ready) return { ok: false, reason: 'SQL parser not loaded (initSqlParser() was not awaited)' };
  try {
    const result = parseSync(text) as { stmts?: { stmt?: unknown }[] };
    return { ok: true, stmts: (result.stmts ?? []).map((s) => s.stmt) };
  } catch (error) {
    return { ok: false, reason: `does not parse: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** Lexical tokens (the server's scanner), or null when the parser is not loaded or the scanner fails. */
export function scanSqlSync(text: string): readonly ScanToken[] | null {
  if (!ready) return null;
  try {
    return scanSync(text).tokens;
  } catch {
    return null;
  }
}
