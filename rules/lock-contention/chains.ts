/**
 * Blocking chains from pg_blocking_pids(): who waits behind which root blocker (a session others wait for
 * that does not wait itself), and which object a chain is about. Pure.
 */
import type { FindingObject } from '../../src/engine/types.js';
import type { LockHolder, LockWait } from '../../src/snapshot/types.js';

/** pg_blocking_pids() reports a prepared transaction holding the lock as pid 0. */
export const PREPARED_TRANSACTION_PID = 0;

export interface Chain {
  readonly object: FindingObject;
  /** Root blocker pids, ascending. */
  readonly roots: number[];
  readonly waiters: LockWait[];
}

/** Blocking chains: per root blocker (a pid others wait for that does not wait itself), grouped per object. */
export function chainsOf(waits: readonly LockWait[], holders: readonly LockHolder[]): Chain[] {
  const waiting = new Map(waits.map((w) => [w.pid, w]));
  const roots = [...new Set(waits.flatMap((w) => w.blockedBy))].filter((pid) => !waiting.has(pid)).sort((a, b) => a - b);
  const chains = new Map<string, Chain>();
  for (const root of roots) {
    const behind = waitersBehind(root, waits);
    const object = objectOf(root, behind, holders);
    const key = JSON.stringify(object);
    const chain = chains.get(key);
    if (!chain) {
      chains.set(key, { object, roots: [root], waiters: behind });
    } else {
      chain.roots.push(root);
      for (const w of behind) if (!chain.waiters.includes(w)) chain.waiters.push(w);
    }
  }
  return [...chains.values()];
}

function waitersBehind(root: number, waits: readonly LockWait[]): LockWait[] {
  const reached = new Set<number>([root]);
  const out: LockWait[] = [];
  let grew = true;
  while (grew) {
    grew = false;
    for (const w of waits) {
      if (!reached.has(w.pid) && w.blockedBy.some((pid) => reached.has(pid))) {
        reached.add(w.pid);
        out.push(w);
        grew = true;
      }
    }
  }
  return out;
}

/** The table most of the root's direct waiters wait on; else any waiter's; else the root's application. */
function objectOf(root: number, behind: readonly LockWait[], holders: readonly LockHolder[]): FindingObject {
  const direct = behind.filter((w) => w.blockedBy.includes(root));
  for (const group of [direct, behind]) {
    const counts = new Map<string, { schema: string; name: string; n: number }>();
    for (const w of group) {
      if (w.schema === null || w.relation === null) continue;
      const key = JSON.stringify([w.schema, w.relation]);
      const c = counts.get(key) ?? { schema: w.schema, name: w.relation, n: 0 };
      counts.set(key, { ...c, n: c.n + 1 });
    }
    const best = [...counts.values()].sort((a, b) => b.n - a.n || a.schema.localeCompare(b.schema) || a.name.localeCompare(b.name))[0];
    if (best) return { type: 'table', schema: best.schema, name: best.name };
  }
  if (root === PREPARED_TRANSACTION_PID) return { type: 'application', name: '(prepared transaction)' };
  return { type: 'application', name: holders.find((h) => h.pid === root)?.applicationName || '(no application_name)' };
}
