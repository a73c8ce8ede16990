import { defineRule } from '../src/engine/define-rule.js';
import type { EvidenceValue, FindingDraft, FindingObject, Severity } from '../src/engine/types.js';
import { quoteQualified } from '../src/sql/quote.js';
import { effectiveFreezeMaxAge, effectiveMultixactFreezeMaxAge } from './_lib/autovacuum.js';
import { formatCount, formatDuration, formatTimes, roundRatio } from './_lib/format.js';
import { describeHolder, holderEvidence, oldestHorizonHolder } from './_lib/horizon.js';

/** Wrap point 2^31 and stop limit (wrap − 3M) from varsup.c `SetTransactionIdLimit` (multixacts alike). */
const WRAP_LIMIT = 2 ** 31;
const STOP_LIMIT = WRAP_LIMIT - 3_000_000;

interface Ages {
  readonly xidAge: number;
  readonly mxidAge: number;
  readonly freezeMaxAge: number;
  readonly mxidFreezeMaxAge: number;
  readonly wraparoundVacuumRunning: boolean;
}

export default defineRule({
  id: 'xid-wraparound',
  title: 'Transaction ID wraparound risk',
  category: 'vacuum',
  defaultSeverity: 'warning',
  requires: ['settings', 'databases', 'tables'],
  thresholds: {
    warningFreezeRatio: {
      default: 1.5,
      description: 'Warning when age / effective autovacuum_freeze_max_age reaches this ratio (anti-wraparound vacuum is not catching up).',
    },
    warningAgeXids: { default: 1_000_000_000, description: 'Warning at this age (transactions or multixacts) whatever the settings.' },
    criticalLeftXids: { default: 100_000_000, description: 'Critical when fewer than this many transactions (multixacts) are left before the stop limit.' },
  },
  docs: {
    summary:
      'Grades database and table transaction-ID and multixact ages against the real limits: the effective ' +
      'autovacuum_freeze_max_age, vacuum_failsafe_age and the stop limit 3 million before wraparound.',
    why:
      'When the oldest unfrozen transaction ID gets within 3 million of 2^31, PostgreSQL refuses to assign ' +
      'new transaction IDs: every write fails until a VACUUM has frozen the oldest tables, which can take ' +
      'hours on a large database. Anti-wraparound autovacuum normally prevents this; an old transaction, ' +
      'prepared transaction or replication slot, or vacuum that cannot keep up, lets the age grow.',
    fix:
      'Remove whatever holds back the xmin horizon (named in the finding), then VACUUM (FREEZE, VERBOSE) ' +
      'the oldest tables, largest age first (vacuumdb --all --freeze --min-xid-age=… does that). Give ' +
      'autovacuum more capacity if anti-wraparound vacuums cannot finish. For a table with a lowered ' +
      'autovacuum_freeze_max_age reloption, check the setting is intended.',
    falsePositives:
      'Ages are compared with the effective freeze max age (the smaller of the GUC and the table ' +
      'reloption), not with a fixed number: a table at 1–{warningFreezeRatio}× its freeze max age is ' +
      'normal while its anti-wraparound vacuum runs and is reported as info only when that vacuum is ' +
      'visible, otherwise not at all. Warnings need {warningFreezeRatio}× the freeze max age or an age of ' +
      '{warningAgeXids}; critical needs vacuum_failsafe_age or fewer than {criticalLeftXids} IDs to the ' +
      'stop limit. Partitioned parents (no storage) are skipped.',
  },
  evaluate({ snapshot, window, thresholds: t }) {
    const settings = snapshot.settings;
    if (!settings) return [];
    const progress = snapshot.vacuum?.progress ?? [];
    const findings: FindingDraft[] = [];

    const grade = (age: number, maxAge: number, failsafe: number, running: boolean): Severity | null => {
      const left = STOP_LIMIT - age;
      if (age >= failsafe || left < t.criticalLeftXids) return 'critical';
      if (age / maxAge >= t.warningFreezeRatio || age >= t.warningAgeXids) return 'warning';
      if (age / maxAge >= 1 && running) return 'info';
      return null;
    };

    // Each database's (non-shared) tables are held back only by its own transactions, slots and standbys.
    const judge = (object: FindingObject, label: string, ages: Ages, how: { text: string; sql?: string }, database: string): void => {
      const holder = oldestHorizonHolder(snapshot, database);
      const xid = grade(ages.xidAge, ages.freezeMaxAge, settings.vacuumFailsafeAge, ages.wraparoundVacuumRunning);
      const mxid = grade(ages.mxidAge, ages.mxidFreezeMaxAge, settings.vacuumMultixactFailsafeAge, ages.wraparoundVacuumRunning);
      const rank = (s: Severity | null): number => (s === null ? -1 : ['info', 'warning', 'critical'].indexOf(s));
      const severity = rank(mxid) > rank(xid) ? mxid : xid;
      if (!severity) return;
      const driver = rank(mxid) > rank(xid) ? 'multixact' : 'xid';
      const age = driver === 'xid' ? ages.xidAge : ages.mxidAge;
      const maxAge = driver === 'xid' ? ages.freezeMaxAge : ages.mxidFreezeMaxAge;
      const xidsLeft = Math.max(0, STOP_LIMIT - ages.xidAge);
      const rate = window?.xidPerSecond ?? null;
      const secondsToStopLimit = rate !== null && rate > 0 ? Math.round(xidsLeft / rate) : null;
      const blames = holder !== null && holder.xminAge >= maxAge;

      const evidence: Record<string, EvidenceValue> = {
        driver,
        xidAge: ages.xidAge,
        freezeMaxAge: ages.freezeMaxAge,
        ratio: roundRatio(ages.xidAge / ages.freezeMaxAge),
        xidsLeftToStopLimit: xidsLeft,
        failsafeAge: settings.vacuumFailsafeAge,
        mxidAge: ages.mxidAge,
        multixactFreezeMaxAge: ages.mxidFreezeMaxAge,
        mxidRatio: roundRatio(ages.mxidAge / ages.mxidFreezeMaxAge),
        mxidsLeftToStopLimit: Math.max(0, STOP_LIMIT - ages.mxidAge),
        wraparoundVacuumRunning: ages.wraparoundVacuumRunning,
        xidPerSecond: rate !== null && rate > 0 ? rate : null,
        secondsToStopLimit,
        ...holderEvidence(holder),
      };
      findings.push({
        severity,
        summary:
          `${label}: ${driver === 'xid' ? 'transaction ID' : 'multixact'} age ${formatCount(age)} is ` +
          `${formatTimes(age / maxAge)}× its freeze max age ${formatCount(maxAge)}` +
          `${driver === 'xid' ? `, ${formatCount(xidsLeft)} left before writes stop` : ''}` +
          `${secondsToStopLimit !== null && driver === 'xid' ? ` (~${formatDuration(secondsToStopLimit)} at the current rate)` : ''}` +
          `${blames && holder ? `; the horizon is held by ${describeHolder(holder)}` : ''}.`,
        object,
        evidence,
        recommendation: {
          text: `${blames && holder ? `First release the horizon held by ${holder.kind} ${holder.name}. ` : ''}${how.text}`,
          sql: how.sql,
        },
        impact: { xidAgeRatio: roundRatio(Math.max(ages.xidAge, ages.mxidAge) / WRAP_LIMIT) },
      });
    };

    for (const db of snapshot.databases) {
      judge(
        { type: 'database', name: db.name },
        `Database ${db.name}`,
        {
          xidAge: db.xidAge,
          mxidAge: db.mxidAge,
          freezeMaxAge: effectiveFreezeMaxAge(null, settings),
          mxidFreezeMaxAge: effectiveMultixactFreezeMaxAge(null, settings),
          wraparoundVacuumRunning: db.name === snapshot.meta.database && progress.some((p) => p.isWraparound),
        },
        {
          text:
            `Freeze its oldest tables now, largest age first (vacuumdb --dbname=${db.name} --freeze ` +
            `--min-xid-age=${effectiveFreezeMaxAge(null, settings)}), and make sure anti-wraparound autovacuum ` +
            `can finish.`,
        },
        db.name,
      );
    }
    for (const table of snapshot.tables) {
      if (table.kind === 'p') continue;
      const name = quoteQualified(table.schema, table.name);
      judge(
        { type: 'table', schema: table.schema, name: table.name },
        `Table ${table.schema}.${table.name}`,
        {
          xidAge: table.xidAge,
          mxidAge: table.mxidAge,
          freezeMaxAge: effectiveFreezeMaxAge(table, settings),
          mxidFreezeMaxAge: effectiveMultixactFreezeMaxAge(table, settings),
          wraparoundVacuumRunning: progress.some((p) => p.isWraparound && p.schema === table.schema && p.table === table.name),
        },
        {
          text: 'Freeze the table now and make sure its anti-wraparound autovacuum can finish (workers free, no horizon holder).',
          sql: `VACUUM (FREEZE, VERBOSE) ${name};`,
        },
        snapshot.meta.database,
      );
    }
    return findings;
  },
});
