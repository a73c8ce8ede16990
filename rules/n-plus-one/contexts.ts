/**
 * Name resolution as each application role sees it: pg_stat_statements keeps unqualified names, which mean
 * what the *sending* session's search_path made them mean, not the advisor's. Pure.
 */
import { buildAnalysisContext, withSearchPath, type AnalysisContext } from '../../src/sql/index.js';
import type { Snapshot } from '../../src/snapshot/types.js';

/** 'role': the search_path configured for the statement's role; 'advisor': the advisor's own session's. */
export type SearchPathSource = 'role' | 'advisor';

export interface RoleContext {
  readonly ctx: AnalysisContext;
  readonly searchPathSource: SearchPathSource;
}

/**
 * Context per statement role (pg_stat_statements userid): the role's configured search_path where one is
 * set (pg_db_role_setting), else the advisor's; either way a name on none of those schemas resolves to the
 * one schema holding it, and stays unresolved when several do (a client-side `SET search_path` is invisible).
 */
export function roleContexts(snapshot: Snapshot): (userId: number) => RoleContext {
  const base = buildAnalysisContext(snapshot);
  const fallback: RoleContext = { ctx: withSearchPath(base, base.searchPath, { uniqueNameFallback: true }), searchPathSource: 'advisor' };
  const byRole = new Map<number, RoleContext>();
  for (const r of snapshot.roles) {
    const path = r.searchPath ?? null; // recorded snapshots from before the field have none
    if (path && path.length > 0) byRole.set(r.oid, { ctx: withSearchPath(base, path, { uniqueNameFallback: true }), searchPathSource: 'role' });
  }
  return (userId) => byRole.get(userId) ?? fallback;
}
