import { defineRule } from '../../src/engine/define-rule.js';
import type { FindingDraft, Severity } from '../../src/engine/types.js';
import { activitySeries, confirmedIn, countBy, isBusy } from './connections.js';
import { formatCount, formatDuration, formatPercent, roundRatio } from '../_lib/format.js';
import { observePools, steadySize } from './pools.js';
import { fitLine } from './trend.js';

/** A pool needs at least this many samples before it can be called pegged and saturated. */
const MIN_POOL_SAMPLES = 3;

export default defineRule({
  id: 'pool-exhaustion',
  title: 'Connection pool exhaustion',
  category: 'connections',
  defaultSeverity: 'warning',
  requires: ['settings', 'activity', 'databases', 'roles'],
  thresholds: {
    warningUtilisationRatio: { default: 0.8, description: 'Client backends / usable connection slots (0–1) for a warning.' },
    criticalUtilisationRatio: { default: 0.95, description: 'Utilisation (0–1) for critical, in at least two samples (or 100 % in one).' },
    limitWarningRatio: { default: 0.9, description: "Sessions / a role's or database's CONNECTION LIMIT (ratio) for a warning." },
    limitCriticalRatio: { default: 1, description: 'Sessions / CONNECTION LIMIT (ratio) for critical: new logins are refused.' },
    minPoolConnections: { default: 5, description: 'Smallest application pool (connections) that can be reported as pegged.' },
    poolPeggedFraction: { default: 0.8, description: 'Fraction of samples (0–1) in which the pool size stays within ±1 for it to count as pegged.' },
    poolBusyFraction: { default: 0.9, description: "Fraction of a pool's backends (0–1) active or idle in transaction for a sample to count as saturated." },
    poolSaturatedFraction: { default: 0.8, description: 'Fraction of samples (0–1) that must be saturated.' },
    forecastMinSamples: { default: 5, description: 'Samples needed for a trend forecast.' },
    forecastMinFitRatio: { default: 0.8, description: 'Minimum R² (0–1) of the least-squares trend of client backends over time.' },
    forecastWarningSeconds: { default: 3600, description: 'Warning when the trend reaches the usable slots within this many seconds.' },
    forecastCriticalSeconds: { default: 300, description: 'Critical when the trend reaches the usable slots within this many seconds.' },
  },
  docs: {
    summary:
      "Finds connection slots running out: the server's usable slots, a role's or database's CONNECTION " +
      'LIMIT, or an application pool that is pegged at its size with every connection busy.',
    why:
      'When the slots run out, new logins fail ("remaining connection slots are reserved", "too many ' +
      'connections for role") and the application errors out. When an application\'s own pool is pegged ' +
      'and busy, its threads queue for a connection, which looks like a slow database although the ' +
      'database never sees the wait.',
    fix:
      'Put a transaction-pooling proxy (PgBouncer) in front, or shrink per-instance pools so that ' +
      'instances × pool size fits the usable slots; find what keeps connections busy (slow queries, lock ' +
      "waits, idle-in-transaction sessions); raise a role's or database's CONNECTION LIMIT only if the " +
      'server has headroom. Raising max_connections costs memory per backend and is rarely the answer.',
    falsePositives:
      'Only client backends count (background workers and walsenders have their own slots); usable = ' +
      'max_connections − superuser_reserved_connections − reserved_connections. One burst sample is never ' +
      'critical: critical needs two samples (or all slots taken). A fixed-size pool that is mostly idle is ' +
      'healthy and never reported; pools are judged only over at least 3 samples (a --window, or the ' +
      'recent history the daemon keeps), because a single snapshot cannot tell a pegged pool from a ' +
      "momentary burst. The advisor's own session is counted in the server's utilisation but a role, " +
      'database or pool made only of it is never reported; superuser roles are exempt from role limits. ' +
      'Behind PgBouncer the database sees few stable backends, so client-side waiting is invisible here.',
  },
  evaluate({ snapshot, window, thresholds: t }) {
    const settings = snapshot.settings;
    if (!settings) return [];
    const findings: FindingDraft[] = [];
    const series = activitySeries(snapshot, window);
    const n = series.length;
    const latest = series[n - 1];
    if (!latest) return []; // activitySeries always holds at least the snapshot's own sample
    const rank = (s: Severity | null): number => (s === null ? -1 : ['info', 'warning', 'critical'].indexOf(s));
    const worst = (a: Severity | null, b: Severity | null): Severity | null => (rank(a) >= rank(b) ? a : b);

    // Server-wide slots.
    const usable = Math.max(1, settings.maxConnections - settings.superuserReservedConnections - settings.reservedConnections);
    const util = series.map((s) => s.backends.length / usable);
    let severity: Severity | null = null;
    if (util.filter((u) => u >= t.criticalUtilisationRatio).length >= 2 || util.some((u) => u >= 1)) severity = 'critical';
    else if (confirmedIn(util, t.warningUtilisationRatio)) severity = 'warning';
    const used = latest.backends.length;
    const fit = n >= t.forecastMinSamples ? fitLine(series.map((s) => [s.elapsedSeconds, s.backends.length] as const)) : null;
    const trend = fit && fit.slope > 0 && fit.r2 >= t.forecastMinFitRatio ? fit : null;
    const secondsToExhaustion = trend ? Math.max(0, (usable - used) / trend.slope) : null;
    if (secondsToExhaustion !== null) {
      severity = worst(
        severity,
        secondsToExhaustion < t.forecastCriticalSeconds ? 'critical' : secondsToExhaustion < t.forecastWarningSeconds ? 'warning' : null,
      );
    }
    const othersSeen = series.some((s) => s.backends.some((b) => !b.isSelf));
    if (severity && othersSeen) {
      const now = latest.backends;
      const maxUtil = Math.max(...util);
      findings.push({
        severity,
        summary:
          `${formatCount(used)} of ${formatCount(usable)} usable connection slots are taken (${formatPercent(used / usable)}, peak ${formatPercent(maxUtil)})` +
          `${secondsToExhaustion !== null ? `; at the current trend they run out in ~${formatDuration(secondsToExhaustion)}` : ''}.`,
        object: { type: 'database', name: snapshot.meta.database },
        identity: 'max_connections',
        evidence: {
          usedConnections: used,
          usableConnections: usable,
          maxConnections: settings.maxConnections,
          superuserReservedConnections: settings.superuserReservedConnections,
          reservedConnections: settings.reservedConnections,
          utilisationRatio: roundRatio(used / usable),
          maxUtilisationRatio: roundRatio(maxUtil),
          sampleCount: n,
          samplesAtWarning: util.filter((u) => u >= t.warningUtilisationRatio).length,
          samplesAtCritical: util.filter((u) => u >= t.criticalUtilisationRatio).length,
          busyConnections: now.filter(isBusy).length,
          selfConnections: now.filter((b) => b.isSelf).length,
          connectionsByDatabase: countBy(now, (b) => b.database),
          secondsToExhaustion: secondsToExhaustion === null ? null : Math.round(secondsToExhaustion),
          trendConnectionsPerSecond: trend ? roundRatio(trend.slope) : null,
          trendFitRatio: trend ? roundRatio(trend.r2) : null,
          windowSeconds: window ? window.durationSeconds : null,
        },
        recommendation: {
          text:
            'Pool connections in front of the server (PgBouncer in transaction mode) or shrink per-instance ' +
            'application pools so their sum fits the usable slots; look for slow queries, lock waits and ' +
            'idle-in-transaction sessions that keep connections busy.',
        },
        impact: { utilisationRatio: roundRatio(maxUtil) },
      });
    }

    // Role and database CONNECTION LIMITs.
    const selfRole = snapshot.activity.filter((b) => b.isSelf).map((b) => b.userName);
    const selfDb = snapshot.activity.filter((b) => b.isSelf).map((b) => b.database);
    const limited = [
      ...snapshot.roles
        .filter((r) => r.connLimit > 0 && !r.superuser)
        .map((r) => ({
          type: 'role' as const,
          name: r.name,
          limit: r.connLimit,
          now: r.backends,
          self: selfRole.filter((u) => u === r.name).length,
          count: (b: readonly { userName: string | null }[]) => b.filter((x) => x.userName === r.name).length,
        })),
      ...snapshot.databases
        .filter((d) => d.connLimit > 0)
        .map((d) => ({
          type: 'database' as const,
          name: d.name,
          limit: d.connLimit,
          now: d.backends,
          self: selfDb.filter((x) => x === d.name).length,
          count: (b: readonly { database: string | null }[]) => b.filter((x) => x.database === d.name).length,
        })),
    ];
    for (const l of limited) {
      if (l.now - l.self <= 0) continue;
      const counts = window && window.samples.length > 0 ? series.map((s) => l.count(s.backends)) : [l.now];
      const ratios = counts.map((c) => c / l.limit);
      const level: Severity | null = confirmedIn(ratios, t.limitCriticalRatio) ? 'critical' : confirmedIn(ratios, t.limitWarningRatio) ? 'warning' : null;
      if (!level) continue;
      const peak = Math.max(...counts);
      findings.push({
        severity: level,
        summary:
          `${l.type === 'role' ? 'Role' : 'Database'} ${l.name} has ${formatCount(l.now)} of its ` +
          `${formatCount(l.limit)} allowed connections (peak ${formatCount(peak)}); at the limit new logins ` +
          `fail with "too many connections".`,
        object: { type: l.type, name: l.name },
        identity: 'connection-limit',
        evidence: { connections: l.now, peakConnections: peak, connectionLimit: l.limit, limitRatio: roundRatio(peak / l.limit), sampleCount: counts.length },
        recommendation: {
          text:
            `Find what holds ${l.name}'s connections (pool sizes × instances, idle sessions) and reduce it, or ` +
            `raise its CONNECTION LIMIT if the server has headroom.`,
        },
        impact: { utilisationRatio: roundRatio(peak / l.limit) },
      });
    }

    // Application-side pools: pegged at their size and saturated (window only).
    if (window && n >= MIN_POOL_SAMPLES) {
      for (const pool of observePools(series)) {
        const steady = steadySize(pool.sizes);
        const pegged = steady.fraction >= t.poolPeggedFraction && steady.size >= t.minPoolConnections;
        const saturated = pool.sizes.filter((size, i) => size > 0 && (pool.busy[i] ?? 0) / size >= t.poolBusyFraction).length / n;
        if (!pegged || saturated < t.poolSaturatedFraction) continue;
        const waits = countBy(
          pool.last.filter((b) => b.state === 'active' && b.waitEventType !== null),
          (b) => b.waitEventType,
        );
        const app = pool.applicationName || '(no application_name)';
        findings.push({
          severity: 'warning',
          summary:
            `Pool ${app} (${pool.userName ?? '?'}@${pool.clientAddr ?? 'local'}) is pegged at ${steady.size} ` +
            `connections with ≥ ${formatPercent(t.poolBusyFraction)} of them busy in ${formatPercent(saturated)} ` +
            `of samples: its threads are likely queueing for a connection.`,
          object: { type: 'application', name: app },
          identity: JSON.stringify([pool.userName, pool.clientAddr]),
          evidence: {
            userName: pool.userName,
            clientAddr: pool.clientAddr,
            poolSizeConnections: Math.max(...pool.sizes),
            busyConnections: pool.busy[n - 1] ?? 0,
            peggedSampleFraction: roundRatio(steady.fraction),
            saturatedSampleFraction: roundRatio(saturated),
            sampleCount: n,
            activeWaitEvents: waits,
          },
          recommendation: {
            text:
              'Find what keeps the pool busy (slow statements, lock waits in activeWaitEvents, transactions held ' +
              'open across I/O) before enlarging it; a bigger pool only helps if the server has idle capacity.',
          },
          impact: { utilisationRatio: roundRatio(saturated) },
        });
      }
    }
    return findings;
  },
});
