import { defineRule } from '../src/engine/define-rule.js';
import type { FindingDraft } from '../src/engine/types.js';
import type { Backend, Snapshot } from '../src/snapshot/types.js';
import { quoteIdent } from '../src/sql/quote.js';
import { formatCount, formatDuration } from './_lib/format.js';
import { oldestHorizonHolder } from './_lib/horizon.js';

/** pids listed in evidence per finding. */
const MAX_PIDS = 5;
/** States of a session running inside its transaction; idle in transaction belongs to idle-in-transaction. */
const RUNNING_STATES = new Set(['active', 'fastpath function call']);
/** Logical backup tools: long read-only transactions by design, reported apart as info. */
const BACKUP_APPLICATIONS = new Set(['pg_dump', 'pg_dumpall']);

export default defineRule({
  id: 'long-running-transaction',
  title: 'Long-running transactions',
  category: 'connections',
  defaultSeverity: 'warning',
  requires: ['activity'],
  thresholds: {
    maxXactSeconds: {
      default: 300,
      description: 'A session running a statement inside a transaction that started at least this long ago (seconds) is reported.',
    },
    criticalXactSeconds: { default: 3600, description: 'Critical when the transaction is this old (seconds).' },
    criticalXminAge: { default: 10_000_000, description: 'Critical when the transaction holds the oldest xmin and it is at least this old (transactions).' },
  },
  docs: {
    summary:
      'Finds client sessions busy in a transaction (state active) that started long ago, grouped per ' +
      'application and role, with what they hold back: the xmin horizon, the locks they hold and the ' +
      'sessions queued behind those locks.',
    why:
      'A long transaction keeps its snapshot, so vacuum can remove no row deleted or updated after it ' +
      'began, anywhere in the database: tables and indexes bloat and queries slow down. It keeps every ' +
      'lock it took until it ends, so a migration that needs an ACCESS EXCLUSIVE lock waits behind it and ' +
      'every query on that table queues behind the migration. Usually a batch job doing everything in one ' +
      'transaction, a runaway query, or a report on the primary.',
    fix:
      'Split batch work into short transactions (commit every few thousand rows); move reports to a ' +
      'replica; cancel a runaway statement with pg_cancel_backend(pid). Put a ceiling on the role: ' +
      'statement_timeout for single statements and, on PostgreSQL 17+, transaction_timeout for whole ' +
      'transactions.',
    falsePositives:
      'Only sessions in state active (or fastpath) whose transaction is at least {maxXactSeconds} old count; ' +
      "sessions idle in a transaction are the idle-in-transaction rule's, never reported twice. " +
      'Autovacuum, WAL senders and other background processes are not client backends and are never ' +
      "counted; the advisor's own session and sessions of other databases are ignored. pg_dump and " +
      'pg_dumpall are reported apart, as info (they hold a snapshot for the whole dump by design), unless ' +
      'they hold the oldest xmin past {criticalXminAge} transactions. Locks held are counted for the 1,000 ' +
      'sessions of this database holding the most (null when the locks source did not run). Critical past ' +
      '{criticalXactSeconds}, or when the session holds the oldest xmin holding back this database at {criticalXminAge} ' +
      'transactions or more.',
  },
  evaluate({ snapshot, thresholds: t }) {
    const others = snapshot.activity.filter((b) => !b.isSelf);
    const long = others.filter(
      (b) =>
        b.database === snapshot.meta.database &&
        b.state !== null &&
        RUNNING_STATES.has(b.state) &&
        b.xactAgeSeconds !== null &&
        b.xactAgeSeconds >= t.maxXactSeconds,
    );
    const groups = new Map<string, Backend[]>();
    for (const b of long) {
      const key = JSON.stringify([b.applicationName, b.userName]);
      groups.set(key, [...(groups.get(key) ?? []), b]);
    }
    const holder = oldestHorizonHolder(snapshot, snapshot.meta.database);
    // The oldest xmin holding back this database: its own sessions, prepared transactions, slots and standbys.
    const local = others.filter((b) => b.database === snapshot.meta.database);
    const oldestXmin = Math.max(holder?.xminAge ?? 0, ...local.map((b) => b.xminAge ?? 0));

    const findings: FindingDraft[] = [];
    for (const sessions of groups.values()) {
      const sorted = [...sessions].sort((a, b) => (b.xactAgeSeconds ?? 0) - (a.xactAgeSeconds ?? 0));
      const [longest] = sorted;
      if (!longest) continue;
      const longestXact = longest.xactAgeSeconds ?? 0;
      const maxXmin = Math.max(0, ...sessions.map((b) => b.xminAge ?? 0));
      const holdsOldest = maxXmin > 0 && maxXmin >= oldestXmin;
      const xminCritical = holdsOldest && maxXmin >= t.criticalXminAge;
      const backup = BACKUP_APPLICATIONS.has(longest.applicationName);
      const blocked = waitingBehind(new Set(sessions.map((b) => b.pid)), others);
      const severity = backup ? (xminCritical ? 'warning' : 'info') : longestXact >= t.criticalXactSeconds || xminCritical ? 'critical' : 'warning';
      const app = longest.applicationName || '(no application_name)';
      const user = longest.userName;
      const readOnly = sessions.every((b) => b.xidAge === null);
      const locks = locksHeldBy(snapshot, sessions);
      findings.push({
        severity,
        summary:
          `${sessions.length} session${sessions.length === 1 ? '' : 's'} of ` +
          `${app}${user ? ` (role ${user})` : ''} ${backup ? 'dumping' : 'running'} in a transaction, the ` +
          `oldest started ${formatDuration(longestXact)} ago` +
          `${holdsOldest ? `, holding the oldest xmin (age ${formatCount(maxXmin)}) so vacuum cannot remove dead rows` : ''}` +
          (locks.accessExclusiveLocksHeld
            ? `, holding ${locks.accessExclusiveLocksHeld} ACCESS EXCLUSIVE lock${locks.accessExclusiveLocksHeld === 1 ? '' : 's'}` +
              ' (every query on those tables waits)'
            : '') +
          `${blocked.length > 0 ? `, with ${blocked.length} session${blocked.length === 1 ? '' : 's'} waiting behind its locks` : ''}.`,
        object: { type: 'application', name: app },
        identity: `${user ?? ''}${backup ? '/backup' : ''}`,
        evidence: {
          userName: user,
          sessions: sessions.length,
          pids: sorted.slice(0, MAX_PIDS).map((b) => b.pid),
          longestXactSeconds: longestXact,
          longestQuerySeconds: longest.queryAgeSeconds,
          queryId: longest.queryId,
          readOnly,
          backupTool: backup,
          xminAge: maxXmin > 0 ? maxXmin : null,
          holdsOldestXmin: holdsOldest,
          blockedSessions: blocked.length,
          blockedPids: blocked.slice(0, MAX_PIDS),
          waitingOnLock: sessions.some((b) => (b.blockedBy?.length ?? 0) > 0),
          ...locks,
        },
        recommendation: recommend(app, user, longest.pid, backup, snapshot.meta.serverVersionNum),
        impact: { xactSeconds: longestXact },
      });
    }
    return findings;
  },
});

/** Relation locks the sessions hold, when the locks source ran; null otherwise (not zero: unknown). */
function locksHeldBy(snapshot: Snapshot, sessions: readonly Backend[]): { relationLocksHeld: number | null; accessExclusiveLocksHeld: number | null } {
  const held = snapshot.meta.sources.locks?.status === 'ok' ? snapshot.locks?.held : undefined;
  if (!held) return { relationLocksHeld: null, accessExclusiveLocksHeld: null };
  const mine = held.filter((h) => sessions.some((b) => b.pid === h.pid));
  return {
    relationLocksHeld: mine.reduce((sum, h) => sum + h.relationLocks, 0),
    accessExclusiveLocksHeld: mine.reduce((sum, h) => sum + h.accessExclusiveLocks, 0),
  };
}

/** Sessions waiting, directly or through a queue of waiters, on one of `roots` (pids, sorted). */
function waitingBehind(roots: ReadonlySet<number>, sessions: readonly Backend[]): number[] {
  const reached = new Set<number>(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const b of sessions) {
      if (!reached.has(b.pid) && (b.blockedBy ?? []).some((pid) => reached.has(pid))) {
        reached.add(b.pid);
        grew = true;
      }
    }
  }
  return [...reached].filter((pid) => !roots.has(pid)).sort((a, b) => a - b);
}

function recommend(app: string, user: string | null, pid: number, backup: boolean, serverVersionNum: number): { text: string; sql?: string } {
  if (backup) {
    return { text: `${app} holds one snapshot for the whole dump: run it against a replica, or at a quiet hour, so vacuum is not held back on the primary.` };
  }
  const transactionTimeout = serverVersionNum >= 170000;
  return {
    text:
      `Make ${app} commit in shorter transactions (batch jobs: every few thousand rows) and run long reports on a replica.` +
      ` Bound it on the server with ${transactionTimeout ? 'transaction_timeout (PostgreSQL 17+)' : 'statement_timeout'} for the role.` +
      ` To cancel the oldest statement now: SELECT pg_cancel_backend(${pid});`,
    sql: user ? `ALTER ROLE ${quoteIdent(user)} SET ${transactionTimeout ? 'transaction_timeout' : 'statement_timeout'} = '1h';` : undefined,
  };
}
