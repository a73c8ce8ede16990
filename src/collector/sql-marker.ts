/**
 * The marker every collector statement carries right after its first keyword, so the advisor can
 * recognise (and exclude) its own statements in pg_stat_statements and pg_stat_activity. Never at the
 * very start of a statement: PostgreSQL 18 drops a leading comment from the text pg_stat_statements keeps.
 */
export const SQL_MARKER = '/* pg-advisor */';

/** The application_name of every advisor session. */
export const APPLICATION_NAME = 'pg-advisor';

/** True when a query text was issued by the advisor. */
export function isAdvisorQuery(text: string | null | undefined): boolean {
  return text != null && text.includes(SQL_MARKER);
}
