/**
 * hypopg verification of missing-index suggestions (detection.md §2.2 step 6). Runs in a throwaway
 * read-only transaction per check: generic plan, hypothetical index, re-plan, reset. Never EXPLAIN
 * ANALYZE (nothing is executed), never a real index. Failures are recorded per check, never thrown.
 */
import { readPlanJson } from './plan.js';
import { findIndexCandidates, INDEX_CANDIDATE_THRESHOLDS, type IndexCandidateThresholds } from '../../analysis/query-index-candidates.js';
import { resolveThresholdSpecs } from '../../engine/evaluate.js';
import { analyzeStatement, initSqlParser, quoteIdent, quoteQualified } from '../../sql/index.js';
import type { IndexVerification, Snapshot } from '../../snapshot/types.js';
import type { Window } from '../../snapshot/window-types.js';
import type { Target } from '../api.js';
import { canSelectTable, explainHelperUsable, verifyWithExplainHelper } from './explain-helper.js';

export const HYPOPG_SCHEMA_SQL = `select /* pg-advisor */ n.nspname as schema
  from pg_catalog.pg_extension e join pg_catalog.pg_namespace n on n.oid = e.extnamespace
  where e.extname = 'hypopg'`;
/** Each PREPARE gets a fresh name: one left behind by a failed check must not break the next. */
let preparedCounter = 0;

export interface VerifyOptions {
  /** Most (candidate index, statement) checks per run (count, default 40). */
  readonly maxChecks?: number;
  /** statement_timeout for each planning statement (ms, default 2000). */
  readonly statementTimeoutMs?: number;
  /** The window the rules will see, so candidates match theirs; null = cumulative counters. */
  readonly window?: Window | null;
  /** The missing-index rule's resolved thresholds (its candidate keys are used; defaults for any absent). */
  readonly thresholds?: Readonly<Partial<IndexCandidateThresholds>>;
}

type Query = Target['query'];

/** Highest `$n` in a normalised text (the parameters a generic plan needs). */
function parameterCount(text: string): number {
  let max = 0;
  for (const m of text.matchAll(/\$(\d+)/g)) max = Math.max(max, Number(m[1]));
  return max;
}

function totalCost(rows: readonly Record<string, unknown>[]): { cost: number; indexNames: string[] } {
  return readPlanJson(rows[0]?.['QUERY PLAN'], 'EXPLAIN');
}

/** Generic-plan cost of a normalised text: EXPLAIN (GENERIC_PLAN) on PG16+, else PREPARE + EXECUTE(NULL…). */
export async function planGenericCost(q: Query, text: string, serverVersionNum: number): Promise<{ cost: number; indexNames: string[] }> {
  if (serverVersionNum >= 160000) {
    return totalCost(await q(`explain /* pg-advisor */ (generic_plan, format json) ${text}`));
  }
  const name = `pg_advisor_verify_${++preparedCounter}`;
  await q(`set /* pg-advisor */ local plan_cache_mode = force_generic_plan`);
  await q(`prepare /* pg-advisor */ ${name} as ${text}`);
  const args = Array.from({ length: parameterCount(text) }, () => 'null').join(', ');
  // Errors propagate as they are; the transaction is then aborted and the (uniquely named) statement is
  // left to the session rather than masking the error with a failed DEALLOCATE.
  const plan = totalCost(await q(`explain /* pg-advisor */ (format json) execute ${name}${args ? `(${args})` : ''}`));
  // A prepared statement keeps its cached generic plan: re-prepare after creating the hypothetical index.
  await q(`deallocate /* pg-advisor */ ${name}`);
  return plan;
}

/** Checks every current suggestion against its statements; returns one verification per check. */
export async function verifyIndexSuggestions(target: Target, snapshot: Snapshot, options: VerifyOptions = {}): Promise<IndexVerification[]> {
  await initSqlParser();
  const suggestions = findIndexCandidates(snapshot, options.window ?? null, resolveThresholdSpecs(INDEX_CANDIDATE_THRESHOLDS, options.thresholds));
  // Each suggestion is compared with its alternatives (a one-column prefix, other ranges, the sort key), so
  // the rule can keep the index with the largest saving. hypopg builds btree indexes here; GIN is not verified.
  const variants = suggestions
    .filter((s) => s.method === 'btree')
    .flatMap((s) => {
      const lists = [s.columns, ...(s.columns.length > 1 ? [s.columns.slice(0, 1)] : []), ...s.alternatives];
      const unique = lists.filter((l, i) => lists.findIndex((o) => o.length === l.length && o.every((c, k) => l[k] === c)) === i);
      return unique.map((columns) => ({ ...s, columns, opclasses: columns.map((c) => s.opclasses[s.columns.indexOf(c)] ?? null) }));
    });
  const checks = variants.flatMap((s) => s.statements.map((st) => ({ s, st }))).slice(0, options.maxChecks ?? 40);
  if (checks.length === 0) return [];
  const fail = (s: (typeof checks)[number]['s'], queryId: string, reason: string): IndexVerification => ({
    schema: s.schema,
    table: s.table,
    columns: s.columns,
    queryId,
    status: 'failed',
    costBefore: null,
    costAfter: null,
    usesIndex: false,
    reason,
  });
  if (!snapshot.meta.capabilities.hypopg) {
    return checks.map(({ s, st }) => fail(s, st.queryId, 'hypopg is not installed in this database (CREATE EXTENSION hypopg)'));
  }
  if (!target.withReadOnlyTransaction) {
    return checks.map(({ s, st }) => fail(s, st.queryId, 'the target connection offers no single-session transaction'));
  }
  const schemaRows = await target.query<{ schema: string }>(HYPOPG_SCHEMA_SQL).catch(() => []);
  const hypopgSchema = schemaRows[0]?.schema;
  if (!hypopgSchema) return checks.map(({ s, st }) => fail(s, st.queryId, 'hypopg is not installed in this database'));
  const fn = (name: string): string => `${quoteIdent(hypopgSchema)}.${name}`;
  // Never above the session's statement_timeout: the client-side deadline would end the session first.
  const ceiling = target.deadlines?.statementTimeoutMs ?? Number.POSITIVE_INFINITY;
  const timeout = Math.max(100, Math.min(ceiling, Math.round(options.statementTimeoutMs ?? 2000)));
  // A role that may not SELECT a table cannot EXPLAIN its statements; the explain helper (setup --with-helpers) can.
  const helperUsable = await explainHelperUsable(target);

  const out: IndexVerification[] = [];
  for (const { s, st } of checks) {
    const analysis = analyzeStatement(st.query);
    if (!analysis.analysable) {
      out.push(fail(s, st.queryId, `statement not analysable: ${analysis.reason}`));
      continue;
    }
    if (helperUsable && !(await canSelectTable(target, s.schema, s.table))) {
      const keys = s.columns.map((c, i) => (s.opclasses[i] ? `${quoteIdent(c)} ${s.opclasses[i]}` : quoteIdent(c)));
      const ddl = `create index on ${quoteQualified(s.schema, s.table)} (${keys.join(', ')})`;
      const check = { schema: s.schema, table: s.table, columns: s.columns, queryId: st.queryId, ddl, predicate: s.predicate };
      const viaHelper = (q: Query) => verifyWithExplainHelper(q, check, snapshot.meta.searchPath, timeout);
      out.push(await target.withReadOnlyTransaction(viaHelper).catch((e: unknown) => fail(s, st.queryId, String(e))));
      continue;
    }
    try {
      const result = await target.withReadOnlyTransaction(async (q) => {
        await q(`set /* pg-advisor */ local statement_timeout = ${timeout}`);
        await q(`select /* pg-advisor */ ${fn('hypopg_reset')}()`);
        try {
          const before = await planGenericCost(q, st.query, snapshot.meta.serverVersionNum);
          const keys = s.columns.map((c, i) => (s.opclasses[i] ? `${quoteIdent(c)} ${s.opclasses[i]}` : quoteIdent(c)));
          const ddl = `create index on ${quoteQualified(s.schema, s.table)} (${keys.join(', ')})${s.predicate ? ` where ${s.predicate}` : ''}`;
          const created = await q<{ indexname: string }>(`select /* pg-advisor */ indexname from ${fn('hypopg_create_index')}($1)`, [ddl]);
          const name = created[0]?.indexname;
          const after = await planGenericCost(q, st.query, snapshot.meta.serverVersionNum);
          return { before: before.cost, after: after.cost, usesIndex: name !== undefined && after.indexNames.includes(name) };
        } finally {
          await q(`select /* pg-advisor */ ${fn('hypopg_reset')}()`).catch(() => {
            // the read-only transaction is rolled back next, which drops the hypothetical index anyway
          });
        }
      });
      out.push({
        schema: s.schema,
        table: s.table,
        columns: s.columns,
        queryId: st.queryId,
        status: 'verified',
        costBefore: result.before,
        costAfter: result.after,
        usesIndex: result.usesIndex,
        reason: null,
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const hint = /permission denied/i.test(message)
        ? ' (grant the advisor role SELECT on the table so it may EXPLAIN the statement, or install the explain helper: pg-advisor setup --with-helpers)'
        : '';
      out.push(fail(s, st.queryId, `${message}${hint}`));
    }
  }
  return out;
}
