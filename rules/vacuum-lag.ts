import { defineRule } from '../src/engine/define-rule.js';
import type { FindingDraft, Severity } from '../src/engine/types.js';
import { quoteQualified } from '../src/sql/quote.js';
import { autovacuumEnabledFor, booleanReloption, heapBytesOf, lastVacuumAgeSeconds, vacuumThresholdTuples } from './_lib/autovacuum.js';
import { formatCount, formatDuration, formatTimes, roundRatio } from './_lib/format.js';
import { describeHolder, holderAdvice, holderEvidence, oldestHorizonHolder } from './_lib/horizon.js';

type Cause = 'blocked' | 'disabled' | 'starved';

/** A holder whose age in seconds is unknown (replication slots) must hold at least this old an xmin (transactions). */
const UNKNOWN_AGE_HOLDER_MIN_XMIN_AGE = 1_000_000;

export default defineRule({
  id: 'vacuum-lag',
  title: 'Vacuum is not keeping up',
  category: 'vacuum',
  defaultSeverity: 'warning',
  requires: ['settings', 'tables', 'vacuum'],
  thresholds: {
    minDeadTuples: { default: 10_000, description: 'Tables with fewer dead tuples (n_dead_tup) are never reported.' },
    minTableBytes: { default: 1024 * 1024, description: 'Tables with a smaller heap (bytes) are never reported.' },
    lagRatio: { default: 2, description: 'Dead tuples as a multiple of the autovacuum trigger (ratio) for disabled or starved autovacuum.' },
    minStarvedSeconds: { default: 3600, description: 'Starved: the last vacuum is older than max(this, 10 × autovacuum_naptime) (seconds).' },
    recentVacuumSeconds: { default: 300, description: 'Blocked: a vacuum finished within max(this, 2 × autovacuum_naptime) (seconds) yet dead tuples remain.' },
    criticalHolderSeconds: { default: 3600, description: 'Blocked is critical when the horizon holder has held it this long (seconds).' },
    criticalHolderXminAge: { default: 100_000_000, description: 'Blocked is critical when the holder’s xmin is this old (transactions).' },
  },
  docs: {
    summary:
      'Finds tables whose dead tuples are piling up past the autovacuum trigger because vacuum is blocked ' +
      'by an old transaction, disabled, or never gets a worker.',
    why:
      'Dead tuples that are not removed turn into bloat, slow scans and index lookups, and keep the ' +
      'visibility map from marking pages all-visible (no index-only scans). When an old transaction, ' +
      'prepared transaction or replication slot holds back the xmin horizon, autovacuum runs again and ' +
      'again and removes nothing.',
    fix:
      'Blocked: end the transaction, prepared transaction or slot named in the finding and set ' +
      'idle_in_transaction_session_timeout. Disabled: re-enable autovacuum (ALTER TABLE … RESET ' +
      '(autovacuum_enabled)) or schedule VACUUM. Starved: all autovacuum workers are busy; raise ' +
      "autovacuum_max_workers or the cost limit (autovacuum_vacuum_cost_limit), lower the table's " +
      'autovacuum_vacuum_scale_factor, and run VACUUM (VERBOSE) on it now.',
    falsePositives:
      'The trigger is computed per table as autovacuum does (threshold + scale factor × reltuples with ' +
      'reloptions, PostgreSQL 18 max threshold); tables below it, under {minDeadTuples} dead tuples or ' +
      'under {minTableBytes} are ignored. Starved is reported only when every autovacuum worker is busy, ' +
      'because with a free worker a table over its trigger is picked up within one naptime (a fresh bulk ' +
      'change, not starvation). Tables whose dead tuples crossed the trigger during the sampling window ' +
      'are skipped as freshly modified. Blocked needs a vacuum that finished recently and a horizon holder ' +
      'older than that vacuum; a large n_dead_tup right after a VACUUM in the same session (a statistics ' +
      'flush race) has no holder and stays silent. The holder named is the oldest that holds back this ' +
      "database's tables: backends and prepared transactions of other databases do not (PostgreSQL 14+) and are " +
      'passed over; replication slots and standbys hold every database and count.',
  },
  evaluate({ snapshot, window, thresholds: t }) {
    const settings = snapshot.settings;
    if (!settings) return [];
    const findings: FindingDraft[] = [];
    const holder = oldestHorizonHolder(snapshot, snapshot.meta.database);
    const naptime = settings.autovacuumNaptimeSeconds;
    const recentSeconds = Math.max(t.recentVacuumSeconds, 2 * naptime);
    const starvedSeconds = Math.max(t.minStarvedSeconds, 10 * naptime);
    const workersBusy = (snapshot.vacuum?.autovacuumWorkers ?? 0) >= settings.autovacuumMaxWorkers;
    const firstSample = window?.samples[0];

    for (const table of snapshot.tables) {
      if (table.kind === 'p') continue;
      const threshold = vacuumThresholdTuples(table, settings);
      const heapBytes = heapBytesOf(table, settings);
      if (table.nDeadTup <= threshold || table.nDeadTup < t.minDeadTuples || heapBytes < t.minTableBytes) continue;
      const before = firstSample?.tables.find((s) => s.oid === table.oid);
      if (before && before.nDeadTup <= threshold) continue; // crossed the trigger during the window: fresh

      const lag = table.nDeadTup / Math.max(threshold, 1);
      const lastVacuum = lastVacuumAgeSeconds(table);
      const vacuumsInWindow = window?.tables.find((d) => d.oid === table.oid)?.vacuums ?? 0;
      const enabled = autovacuumEnabledFor(table, settings);
      const vacuumedRecently = vacuumsInWindow > 0 || (lastVacuum !== null && lastVacuum <= recentSeconds);
      // The holder must be older than the vacuum it is blamed for.
      const holderPredates =
        holder !== null &&
        (holder.ageSeconds === null ? holder.xminAge >= UNKNOWN_AGE_HOLDER_MIN_XMIN_AGE : lastVacuum === null || holder.ageSeconds >= lastVacuum);
      const persisted = !before || before.nDeadTup >= t.lagRatio * threshold;
      const disabledByReloption = booleanReloption(table, 'autovacuum_enabled') === false;
      // A vacuum running now answers "disabled" and "starved"; a blocked table's autovacuum loops, so it may well be running.
      const vacuumRunning = snapshot.vacuum?.progress.some((p) => p.schema === table.schema && p.table === table.name) ?? false;

      let cause: Cause | null = null;
      let severity: Severity = 'warning';
      if (vacuumedRecently && holder && holderPredates) {
        cause = 'blocked';
        if ((holder.ageSeconds ?? 0) >= t.criticalHolderSeconds || holder.xminAge >= t.criticalHolderXminAge) severity = 'critical';
      } else if (vacuumRunning) {
        cause = null;
      } else if (!enabled && lag >= t.lagRatio) {
        cause = 'disabled';
      } else if (enabled && workersBusy && persisted && lag >= t.lagRatio && (lastVacuum === null || lastVacuum >= starvedSeconds)) {
        cause = 'starved';
      }
      if (!cause) continue;

      const display = `${table.schema}.${table.name}`;
      const name = quoteQualified(table.schema, table.name);
      const dead = `${formatCount(table.nDeadTup)} dead tuples (${formatTimes(lag)}× the autovacuum trigger of ${formatCount(threshold)})`;
      const summary =
        cause === 'blocked' && holder
          ? `${display} keeps ${dead} although vacuum ran ` +
            `${lastVacuum === null ? 'during the window' : `${formatDuration(lastVacuum)} ago`}: the xmin ` +
            `horizon is held by ${describeHolder(holder)}.`
          : cause === 'disabled'
            ? `${display} has ${dead} and autovacuum is disabled for it.`
            : `${display} has ${dead}, no vacuum for ` +
              `${lastVacuum === null ? 'ever' : formatDuration(lastVacuum)}, and all ` +
              `${settings.autovacuumMaxWorkers} autovacuum workers are busy.`;
      const text =
        cause === 'blocked' && holder
          ? `${holderAdvice(holder)} Vacuum can then remove the dead tuples.`
          : cause === 'disabled'
            ? `Re-enable autovacuum for the table (or the autovacuum GUC), or schedule regular VACUUM runs; vacuum it now.`
            : `Give autovacuum more capacity (autovacuum_max_workers, autovacuum_vacuum_cost_limit), lower the ` +
              `table's autovacuum_vacuum_scale_factor, and vacuum it now.`;
      findings.push({
        severity,
        summary,
        object: { type: 'table', schema: table.schema, name: table.name },
        evidence: {
          cause,
          deadTuples: table.nDeadTup,
          reltuples: Math.max(0, table.reltuples),
          vacuumThresholdTuples: Math.round(threshold),
          lagRatio: roundRatio(lag),
          deadFraction: roundRatio(table.nDeadTup / (Math.max(0, table.reltuples) + table.nDeadTup)),
          heapBytes,
          lastVacuumAgeSeconds: lastVacuum,
          vacuumsInWindow,
          autovacuumEnabled: enabled,
          autovacuumWorkers: snapshot.vacuum?.autovacuumWorkers ?? 0,
          autovacuumMaxWorkers: settings.autovacuumMaxWorkers,
          ...(cause === 'blocked' ? holderEvidence(holder) : {}),
        },
        recommendation: {
          text,
          sql:
            cause === 'blocked'
              ? undefined
              : `${cause === 'disabled' && disabledByReloption ? `ALTER TABLE ${name} RESET (autovacuum_enabled);\n` : ''}VACUUM (VERBOSE, ANALYZE) ${name};`,
        },
        impact: { deadTuples: table.nDeadTup },
      });
    }
    return findings;
  },
});
