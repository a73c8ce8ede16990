import { must } from '../../src/errors/must.js';
import { defineRule } from '../../src/engine/define-rule.js';
import type { EvidenceValue, FindingDraft } from '../../src/engine/types.js';
import { chainsOf, PREPARED_TRANSACTION_PID } from './chains.js';
import type { LockHolder, Snapshot } from '../../src/snapshot/types.js';
import { quoteQualified } from '../../src/sql/quote.js';
import { formatDuration } from '../_lib/format.js';

/** pids listed in evidence per finding. */
const MAX_PIDS = 10;
/** Table-level modes that DDL takes (ALTER/DROP/TRUNCATE, CREATE INDEX, CREATE TRIGGER, REFRESH …). */
const DDL_MODES = new Set(['AccessExclusiveLock', 'ExclusiveLock', 'ShareRowExclusiveLock', 'ShareLock']);

export default defineRule({
  id: 'lock-contention',
  title: 'Sessions queued on locks',
  category: 'connections',
  defaultSeverity: 'warning',
  requires: ['locks'],
  thresholds: {
    minWaitSeconds: { default: 10, description: 'A blocking chain is reported when its longest wait has lasted at least this long (seconds).' },
    criticalWaitSeconds: { default: 300, description: 'Critical when a session has waited this long (seconds).' },
    criticalWaitingCount: { default: 10, description: 'Critical when this many sessions wait in one chain (sessions).' },
  },
  docs: {
    summary:
      'Finds blocking chains (pg_blocking_pids): the root blocker that holds the lock, how many sessions ' +
      'wait behind it and for how long, and the lock modes, per table waited on; it names the classic ' +
      'incident where a migration waits for ACCESS EXCLUSIVE behind a long transaction while every ' +
      'ordinary query on the table queues behind the migration.',
    why:
      'Lock requests queue in order: once a DDL statement waits for ACCESS EXCLUSIVE, even plain SELECTs ' +
      'on that table queue behind it, so one forgotten transaction plus one ALTER TABLE stops all traffic ' +
      "on a table and the application's pool fills with waiting connections within seconds.",
    fix:
      'End the root blocker (SELECT pg_terminate_backend(pid): cancelling only its statement leaves its ' +
      'transaction, and its locks, open until the client rolls back). Run migrations with SET lock_timeout ' +
      "= '5s' and retry them, so a DDL gives up instead of stopping the table; keep transactions short " +
      '(see long-running-transaction and idle-in-transaction).',
    falsePositives:
      'A chain counts only once its longest wait has lasted {minWaitSeconds}: ordinary row-lock contention ' +
      'resolves in milliseconds. It is critical when it has the DDL queue shape (a DDL lock waited for ' +
      'with other sessions queued behind it), when a wait reaches {criticalWaitSeconds}, or when {criticalWaitingCount} sessions wait. ' +
      'Only waits of sessions in the checked database are seen, at most the 500 longest. Deadlock cycles ' +
      'have no root and are left to the deadlock detector. Without pg_read_all_stats (pg_monitor) the ' +
      "state and transaction age of other roles' blockers are hidden. One snapshot shows one instant: a " +
      'chain that forms and dissolves between samples is not seen.',
  },
  evaluate({ snapshot, thresholds: t }) {
    const locks = snapshot.locks;
    if (!locks) return [];
    const findings: FindingDraft[] = [];
    for (const chain of chainsOf(locks.waits, locks.holders)) {
      const longest = Math.max(0, ...chain.waiters.map((w) => w.waitSeconds ?? 0));
      if (longest < t.minWaitSeconds) continue;
      const root = describeRoot(chain.roots, locks.holders, snapshot);
      const ddl =
        chain.waiters.find((w) => w.lockType === 'relation' && DDL_MODES.has(w.mode) && chain.waiters.some((o) => o.blockedBy.includes(w.pid))) ?? null;
      const queuedBehindDdl = ddl ? chain.waiters.filter((w) => w.blockedBy.includes(ddl.pid)).length : 0;
      const critical = ddl !== null || longest >= t.criticalWaitSeconds || chain.waiters.length >= t.criticalWaitingCount;
      const { schema, name } = chain.object;
      const target = chain.object.type === 'table' && schema && name ? `table ${quoteQualified(schema, name)}` : `locks of ${name}`;
      const ddlText = ddl
        ? ` A DDL statement (pid ${ddl.pid}, ${ddl.mode}) has waited ${formatDuration(ddl.waitSeconds ?? 0)} ` +
          `behind it and ${queuedBehindDdl} ordinary request${queuedBehindDdl === 1 ? '' : 's'} queue behind ` +
          `the DDL: the table is stopped.`
        : '';
      findings.push({
        severity: critical ? 'critical' : 'warning',
        summary:
          `${chain.waiters.length} session${chain.waiters.length === 1 ? '' : 's'} wait on ${target}, the longest for ${formatDuration(longest)}, ` +
          `behind pid ${root.pid} (${root.label}).${ddlText}`,
        object: chain.object,
        evidence: {
          rootBlocker: root.evidence,
          rootBlockerPids: chain.roots.slice(0, MAX_PIDS),
          waitingSessions: chain.waiters.length,
          waitingPids: chain.waiters
            .map((w) => w.pid)
            .sort((a, b) => a - b)
            .slice(0, MAX_PIDS),
          longestWaitSeconds: longest,
          waitedModes: [...new Set(chain.waiters.map((w) => w.mode))].sort(),
          ddlWaiter: ddl ? { pid: ddl.pid, mode: ddl.mode, waitSeconds: ddl.waitSeconds } : null,
          queuedBehindDdl,
          truncatedWaits: locks.truncated,
        },
        recommendation: recommend(root.pid, ddl !== null),
        impact: { waitingSessions: chain.waiters.length },
      });
    }
    return findings;
  },
});

/** The root blocker with the oldest transaction among a chain's roots. */
function describeRoot(roots: readonly number[], holders: readonly LockHolder[], snapshot: Snapshot): { pid: number; label: string; evidence: EvidenceValue } {
  const known = roots.map((pid) => ({ pid, holder: holders.find((h) => h.pid === pid) ?? null }));
  const oldest = must([...known].sort((a, b) => (b.holder?.xactAgeSeconds ?? -1) - (a.holder?.xactAgeSeconds ?? -1))[0], 'a root blocker of the chain');
  if (oldest.pid === PREPARED_TRANSACTION_PID) {
    return {
      pid: oldest.pid,
      label: 'a prepared transaction (pg_prepared_xacts)',
      evidence: { pid: 0, application: null, role: null, backendType: 'prepared transaction', state: null, xactAgeSeconds: null, heldModes: [] },
    };
  }
  const h = oldest.holder;
  const backend = snapshot.activity.find((b) => b.pid === oldest.pid);
  const application = h?.applicationName ?? backend?.applicationName ?? null;
  const state = h?.state ?? backend?.state ?? null;
  const xactAge = h?.xactAgeSeconds ?? backend?.xactAgeSeconds ?? null;
  const label = [
    application || '(no application_name)',
    h?.backendType && h.backendType !== 'client backend' ? h.backendType : null,
    state,
    xactAge === null ? null : `transaction ${formatDuration(xactAge)} old`,
  ]
    .filter(Boolean)
    .join(', ');
  return {
    pid: oldest.pid,
    label,
    evidence: {
      pid: oldest.pid,
      application,
      role: h?.userName ?? backend?.userName ?? null,
      backendType: h?.backendType ?? null,
      state,
      xactAgeSeconds: xactAge,
      heldModes: h?.grantedModes ?? [],
    },
  };
}

function recommend(rootPid: number, ddl: boolean): { text: string; sql?: string } {
  const migrations = ddl ? " Run migrations with SET lock_timeout = '5s' and retry them, so a DDL gives up instead of stopping the table." : '';
  if (rootPid === PREPARED_TRANSACTION_PID) {
    return {
      text:
        `A prepared (two-phase) transaction holds the lock and no session will end it: find it in ` +
        `pg_prepared_xacts and have its transaction manager finish it, or COMMIT PREPARED / ROLLBACK ` +
        `PREPARED it by gid.${migrations}`,
    };
  }
  return {
    text:
      `End the root blocker after checking what it does: pg_terminate_backend frees its locks ` +
      `(pg_cancel_backend leaves an open transaction holding them until the client rolls back).${migrations}`,
    sql: `SELECT pg_terminate_backend(${rootPid});`,
  };
}
