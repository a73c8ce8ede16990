/**
 * hypopg verification through the SECURITY DEFINER helper `advisor_helper.explain_generic` (issue 15), for a role
 * that may not SELECT the table and so may not EXPLAIN the statement itself. The helper takes a queryid, never SQL
 * text; `pg-advisor setup --with-helpers` prints it (src/setup/explain-helper-sql.ts) and
 * docs/decisions/explain-helper.md gives its design and risks. Never throws: failures become failed verifications.
 */
import { readPlanJson } from './plan.js';
import { quoteQualified } from '../../sql/quote.js';
import type { IndexVerification } from '../../snapshot/types.js';
import type { Target } from '../api.js';
import { EXPLAIN_HELPER } from '../explain-helper-names.js';

const SIGNATURE = `${EXPLAIN_HELPER.schema}.${EXPLAIN_HELPER.function}(bigint,text,text[])`;

/** Whether this role may call the helper. */
export const EXPLAIN_HELPER_USABLE_SQL = `select /* pg-advisor */
  coalesce(pg_catalog.has_schema_privilege(n.oid, 'usage') and pg_catalog.has_function_privilege(p.oid, 'execute'), false) as usable
  from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
  where p.oid = pg_catalog.to_regprocedure('${SIGNATURE}')`;

/** Whether this role may SELECT a table ($1 = quoted schema.table); false when it does not exist. */
export const CAN_SELECT_SQL = `select /* pg-advisor */
  coalesce(pg_catalog.has_table_privilege(pg_catalog.to_regclass($1), 'select'), false) as can_select`;

const EXPLAIN_SQL = `select /* pg-advisor */ ${EXPLAIN_HELPER.schema}.${EXPLAIN_HELPER.function}($1::bigint, $2::text, $3::text[]) as result`;

type Query = Target['query'];

export async function explainHelperUsable(target: Target): Promise<boolean> {
  // A catalog error here only means "no helper": verification then takes the direct path and reports its own error.
  const rows = await target.query<{ usable: boolean }>(EXPLAIN_HELPER_USABLE_SQL).catch(() => []);
  return rows[0]?.usable === true;
}

export async function canSelectTable(target: Target, schema: string, table: string): Promise<boolean> {
  const rows = await target.query<{ can_select: boolean }>(CAN_SELECT_SQL, [quoteQualified(schema, table)]).catch(() => []);
  return rows[0]?.can_select === true;
}

interface HelperResult {
  readonly plan?: unknown;
  readonly planWithoutIndex?: unknown;
  readonly hypotheticalIndex?: unknown;
}

const readPlan = (output: unknown): { cost: number; indexNames: string[] } => readPlanJson(output, 'the explain helper');

/** One suggestion to verify through the helper. */
export interface HelperCheck {
  readonly schema: string;
  readonly table: string;
  readonly columns: readonly string[];
  readonly queryId: string;
  /** The CREATE INDEX statement hypopg would get directly (plain columns; the helper rebuilds it). */
  readonly ddl: string;
  /** A partial index's predicate: the helper refuses predicates (they are expressions). */
  readonly predicate: string | null;
}

/**
 * Plans the statement without and with the hypothetical index through the helper. Run it in a read-only
 * transaction: `timeoutMs` becomes its local statement_timeout (the helper refuses to run without one ≤ 10 s).
 */
export async function verifyWithExplainHelper(q: Query, check: HelperCheck, searchPath: readonly string[], timeoutMs: number): Promise<IndexVerification> {
  const base = { schema: check.schema, table: check.table, columns: [...check.columns], queryId: check.queryId };
  if (check.predicate !== null) {
    return {
      ...base,
      status: 'failed',
      costBefore: null,
      costAfter: null,
      usesIndex: false,
      reason: 'a partial index cannot be verified through the explain helper (it accepts plain column lists only)',
    };
  }
  try {
    await q(`set /* pg-advisor */ local statement_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
    const rows = await q<{ result: HelperResult | null }>(EXPLAIN_SQL, [check.queryId, check.ddl, searchPath]);
    const result = rows[0]?.result;
    const before = readPlan(result?.planWithoutIndex);
    const after = readPlan(result?.plan);
    const hypothetical = typeof result?.hypotheticalIndex === 'string' ? result.hypotheticalIndex : null;
    const usesIndex = hypothetical !== null && after.indexNames.includes(hypothetical);
    return { ...base, status: 'verified', costBefore: before.cost, costAfter: after.cost, usesIndex, reason: null };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const hint = /permission denied for table/i.test(message)
      ? ` (the helper's owner may SELECT only the schemas named at setup: rerun pg-advisor setup ` +
        `--with-helpers --schemas …, or GRANT SELECT ON the table TO the helper's owner, ` +
        `${EXPLAIN_HELPER.owner} unless --helper-owner named another; UPDATE/DELETE statements are refused ` +
        `by design)`
      : '';
    return { ...base, status: 'failed', costBefore: null, costAfter: null, usesIndex: false, reason: `through the explain helper: ${message}${hint}` };
  }
}
