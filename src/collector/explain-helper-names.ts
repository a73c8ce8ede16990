/**
 * Names of the SECURITY DEFINER explain helper (issue 15): `pg-advisor setup --with-helpers` creates them
 * (src/setup) and the hypopg enrichment looks for them. Not `pg_…`: that prefix is reserved for roles and schemas.
 */
export const EXPLAIN_HELPER = {
  schema: 'advisor_helper',
  function: 'explain_generic',
  owner: 'advisor_helper_owner',
} as const;
