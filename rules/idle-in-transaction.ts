import { defineRule } from '../src/engine/define-rule.js';
import type { FindingDraft } from '../src/engine/types.js';
import type { Backend } from '../src/snapshot/types.js';
import { quoteIdent } from '../src/sql/quote.js';
import { formatCount, formatDuration } from './_lib/format.js';
import { oldestHorizonHolder } from './_lib/horizon.js';

/** pids listed in evidence per finding. */
const MAX_PIDS = 5;

export default defineRule({
  id: 'idle-in-transaction',
  title: 'Sessions idle in transaction',
  category: 'connections',
  defaultSeverity: 'warning',
  requires: ['settings', 'activity'],
  thresholds: {
    maxIdleSeconds: { default: 60, description: 'A session idle inside a transaction for at least this long (seconds, since its last statement) is reported.' },
    criticalIdleSeconds: { default: 3600, description: 'Critical when a session has been idle in transaction this long (seconds).' },
    criticalXminAge: { default: 10_000_000, description: 'Critical when an idle session holds the oldest xmin and it is at least this old (transactions).' },
  },
  docs: {
    summary: 'Finds client sessions that opened a transaction and then went quiet ("idle in transaction"), grouped per application and role.',
    why:
      'An idle transaction keeps its connection out of the pool, keeps its locks (blocking DDL and, behind ' +
      'it, every query on the table), and holds back the xmin horizon so vacuum cannot remove dead rows ' +
      'anywhere in the database. It usually means application code that does slow work (HTTP calls, user ' +
      'think time) inside a transaction, or a missing commit/rollback on an error path.',
    fix:
      'Commit or roll back before slow non-database work; make error paths roll back. Set ' +
      'idle_in_transaction_session_timeout (for the application role, e.g. ALTER ROLE app SET ' +
      "idle_in_transaction_session_timeout = '5min') so forgotten transactions are ended by the server.",
    falsePositives:
      'Only sessions idle inside a transaction for at least {maxIdleSeconds} since their last statement ' +
      'count (long enough that no request-scoped transaction pauses that long between statements, short ' +
      'enough to catch a pool slowly filling with them) (interactive psql sessions included: they hold the ' +
      "same resources). The advisor's own session is ignored, and so are sessions connected to other " +
      'databases of the cluster (check each database, or give the daemon one target per database). One ' +
      'finding per (application_name, role) so fifty idle sessions of one application make one finding; it ' +
      'is critical only past {criticalIdleSeconds} or when the session holds the oldest xmin holding ' +
      'back this database at an age of {criticalXminAge} transactions or more.',
  },
  evaluate({ snapshot, thresholds: t }) {
    const settings = snapshot.settings;
    // Sessions of the checked database only: another database's sessions are that database's finding.
    const idle = snapshot.activity.filter(
      (b) =>
        !b.isSelf &&
        b.database === snapshot.meta.database &&
        (b.state?.startsWith('idle in transaction') ?? false) &&
        b.stateAgeSeconds !== null &&
        b.stateAgeSeconds >= t.maxIdleSeconds,
    );
    const groups = new Map<string, Backend[]>();
    for (const b of idle) {
      const key = JSON.stringify([b.applicationName, b.userName]);
      groups.set(key, [...(groups.get(key) ?? []), b]);
    }
    // The oldest xmin holding back this database: horizon holders when the vacuum source has them, and its
    // own backends (a backend of another database does not hold this one's tables back, PostgreSQL 14+).
    const holder = oldestHorizonHolder(snapshot, snapshot.meta.database);
    const local = snapshot.activity.filter((b) => !b.isSelf && b.database === snapshot.meta.database);
    const oldestXmin = Math.max(holder?.xminAge ?? 0, ...local.map((b) => b.xminAge ?? 0));

    const findings: FindingDraft[] = [];
    for (const sessions of groups.values()) {
      const sorted = [...sessions].sort((a, b) => (b.stateAgeSeconds ?? 0) - (a.stateAgeSeconds ?? 0));
      const [longest] = sorted;
      if (!longest) continue; // groups hold at least one session
      const longestIdle = longest.stateAgeSeconds ?? 0;
      const maxXmin = Math.max(0, ...sessions.map((b) => b.xminAge ?? 0));
      const holdsOldest = maxXmin > 0 && maxXmin >= oldestXmin;
      const critical = longestIdle >= t.criticalIdleSeconds || (holdsOldest && maxXmin >= t.criticalXminAge);
      const app = longest.applicationName || '(no application_name)';
      const timeoutMs = settings?.idleInTransactionSessionTimeoutMs ?? null;
      const user = longest.userName;
      findings.push({
        severity: critical ? 'critical' : 'warning',
        summary:
          `${sessions.length} session${sessions.length === 1 ? '' : 's'} of ` +
          `${app}${user ? ` (role ${user})` : ''} idle in transaction, the longest for ${formatDuration(longestIdle)}` +
          `${holdsOldest ? `, holding the oldest xmin (age ${formatCount(maxXmin)}) so vacuum cannot remove dead rows` : ''}.`,
        object: { type: 'application', name: app },
        identity: user ?? '',
        evidence: {
          userName: user,
          sessions: sessions.length,
          abortedSessions: sessions.filter((b) => b.state === 'idle in transaction (aborted)').length,
          pids: sorted.slice(0, MAX_PIDS).map((b) => b.pid),
          longestIdleSeconds: longestIdle,
          longestXactSeconds: Math.max(0, ...sessions.map((b) => b.xactAgeSeconds ?? 0)),
          xminAge: maxXmin > 0 ? maxXmin : null,
          holdsOldestXmin: holdsOldest,
          idleInTransactionSessionTimeoutMs: timeoutMs,
        },
        recommendation: {
          text:
            `Make ${app} commit or roll back before slow non-database work and on every error path.` +
            (timeoutMs
              ? ` idle_in_transaction_session_timeout is ${formatDuration(timeoutMs / 1000)}; lower it for this role if that is too long.`
              : ' Set idle_in_transaction_session_timeout so the server ends forgotten transactions.') +
            ` To end the longest one now: SELECT pg_terminate_backend(${longest.pid});`,
          sql: user ? `ALTER ROLE ${quoteIdent(user)} SET idle_in_transaction_session_timeout = '5min';` : undefined,
        },
        impact: { idleSeconds: longestIdle },
      });
    }
    return findings;
  },
});
