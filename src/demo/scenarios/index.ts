/**
 * Planted-problem scenarios: each plants one kind of problem the rules detect, next to healthy
 * look-alikes that must stay silent. Used by `demo` and by the rule integration tests.
 *
 * Planting order matters (plantAll keeps it): index hygiene first (its concurrent index build must not wait
 * for other plants' open transactions), then idle-in-transaction, so its session has aged by the
 * time the advisor looks; the bloat plants before anything holds the xmin horizon (their VACUUM must be
 * able to remove the deleted rows); the query scenarios next (missing-index runs its statements while
 * planting; n-plus-one leaves its loops running through the check window); pool-exhaustion last, because
 * it fills the server's remaining connection slots up to its target (counting n-plus-one's six).
 */
import { idleInTransactionScenario } from './idle-in-transaction.js';
import { indexHygieneScenario } from './index-hygiene.js';
import { indexBloatScenario } from './index-bloat.js';
import { missingIndexScenario } from './missing-index.js';
import { nPlusOneScenario } from './n-plus-one.js';
import { poolExhaustionScenario } from './pool-exhaustion.js';
import { tableBloatScenario } from './table-bloat.js';
import type { Planted, PlantContext, Scenario } from './types.js';
import { vacuumLagScenario } from './vacuum-lag.js';
import { xidWraparoundScenario } from './xid-wraparound.js';

export type { ObjectExpectation, Planted, PlantContext, Scenario } from './types.js';
export { plantHealthyConnections } from './pool-exhaustion.js';

/**
 * Server settings the scenarios assume: few connection slots (so pool-exhaustion fills them cheaply),
 * prepared transactions (the horizon holders) and an autovacuum naptime short enough that autovacuum
 * visibly retries the blocked table during the demo. Not 1 s: vacuum-lag skips a table whose vacuum is
 * in progress, and the blocked table's retries were in progress in 0.65 % of samples at 5 s (measured).
 */
export const DEMO_CLUSTER_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  max_connections: '60',
  max_prepared_transactions: '10',
  autovacuum_naptime: '15s',
});

/**
 * Rule thresholds the demo needs so it does not wait a minute: billing-worker is idle in transaction
 * only for as long as the other plants take (about 20 s), below the rule's 60 s default.
 */
export const DEMO_RULE_SETTINGS: Readonly<Record<string, { readonly thresholds: Readonly<Record<string, number>> }>> = Object.freeze({
  'idle-in-transaction': { thresholds: { maxIdleSeconds: 10 } },
});

export const scenarios: readonly Scenario[] = Object.freeze([
  indexHygieneScenario,
  idleInTransactionScenario,
  tableBloatScenario,
  indexBloatScenario,
  vacuumLagScenario,
  xidWraparoundScenario,
  missingIndexScenario,
  nPlusOneScenario,
  poolExhaustionScenario,
]);

/**
 * Plants the scenarios (all, or those whose id is in `only`) one after the other, in the order above.
 * If one fails, the ones already planted are released and the error is rethrown.
 */
export async function plantAll(ctx: PlantContext, options: { only?: readonly string[] } = {}): Promise<Planted> {
  const only = options.only;
  if (only) {
    const unknown = only.filter((id) => !scenarios.some((s) => s.id === id));
    if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${scenarios.map((s) => s.id).join(', ')}`);
  }
  const selected = scenarios.filter((s) => !only || only.includes(s.id));
  const planted: Planted[] = [];
  const release = async (): Promise<void> => {
    for (const p of [...planted].reverse()) await p.release().catch(() => undefined /* release the others too: the server is removed at exit in any case */);
  };
  try {
    for (const [i, scenario] of selected.entries()) {
      ctx.onProgress?.(i, selected.length, scenario.title);
      planted.push(await scenario.plant(ctx));
    }
    ctx.onProgress?.(selected.length, selected.length, 'planted');
  } catch (error) {
    await release();
    throw error;
  }
  return { descriptions: planted.flatMap((p) => p.descriptions), release };
}
