import { defineRule } from '../src/engine/define-rule.js';
import type { FindingDraft } from '../src/engine/types.js';
import type { TableStat } from '../src/snapshot/types.js';
import { quoteQualified } from '../src/sql/quote.js';
import { analyzeThresholdTuples, autovacuumEnabledFor, heapBytesOf, lastAnalyzeAgeSeconds } from './_lib/autovacuum.js';
import { formatBytes, formatCount, formatDuration, formatTimes, roundRatio } from './_lib/format.js';

type Cause = 'never-analyzed' | 'autovacuum-disabled' | 'lagging';

export default defineRule({
  id: 'stale-statistics',
  title: 'Planner statistics are stale',
  category: 'vacuum',
  defaultSeverity: 'warning',
  requires: ['settings', 'tables'],
  thresholds: {
    staleRatio: {
      default: 5,
      description:
        "Rows modified since the last ANALYZE (n_mod_since_analyze) as a multiple of the table's autoanalyze " +
        'trigger (ratio) from which its statistics count as stale.',
    },
    minTableBytes: { default: 8 * 1024 * 1024, description: 'Tables with a smaller heap (bytes) are never reported.' },
    minAnalyzeAgeSeconds: {
      default: 3600,
      description: 'A table analysed (manually or by autovacuum) less than this long ago (seconds) is not reported as stale.',
    },
  },
  docs: {
    summary:
      'Finds tables whose rows changed far beyond their autoanalyze trigger since the last ANALYZE, and ' +
      'large tables that were never analysed, so the planner estimates from statistics that no longer ' +
      'describe the data.',
    why:
      'The planner chooses join orders, join methods and indexes from pg_statistic (row counts, most ' +
      'common values, histograms). After a bulk load, a mass update or a purge, stale statistics turn ' +
      'index scans into sequential scans or nested loops over millions of rows: queries that were fast ' +
      'become slow at once, with no code change.',
    fix:
      'Run ANALYZE on the table now (it takes only a SHARE UPDATE EXCLUSIVE lock and samples a bounded ' +
      'number of rows). Make bulk jobs run ANALYZE after they load. Where autovacuum is disabled for the ' +
      'table, re-enable it (ALTER TABLE … RESET (autovacuum_enabled)); where it lags on a large, busy ' +
      "table, lower the table's autovacuum_analyze_scale_factor (e.g. 0.02) so it analyses sooner.",
    falsePositives:
      'The trigger is computed per table as autovacuum does it (autovacuum_analyze_threshold + ' +
      'autovacuum_analyze_scale_factor × reltuples, per-table reloptions over the GUCs); a table counts as ' +
      'stale only at {staleRatio} times its trigger and when its last analyze is more than {minAnalyzeAgeSeconds} old, so a table ' +
      'autovacuum is about to analyse stays silent. Tables under {minTableBytes} are ignored. With a window, a table ' +
      'that crossed into staleness during the window (a bulk change autovacuum has not had a naptime to ' +
      'see) is skipped. A table counts as never analysed only without any analyze timestamp or count and ' +
      'either reltuples = -1 or modifications beyond its trigger, so a statistics reset (which clears ' +
      'timestamps, not pg_statistic) alone does not make it fire. A load followed by ANALYZE in the same ' +
      'session before its statistics were flushed (about a second) leaves the load counted as ' +
      'modifications since that ANALYZE (measured on PostgreSQL 15–18): with autovacuum on, the next ' +
      'autoanalyze clears it well within the hour; on a table with autovacuum disabled it stays until the ' +
      'next ANALYZE, so such a finding may name a table whose statistics are in fact fresh. Partitioned ' +
      'parents are not covered: autovacuum never analyses them, run ANALYZE on the parent after large ' +
      'changes.',
  },
  evaluate({ snapshot, window, thresholds: t }) {
    const settings = snapshot.settings;
    if (!settings) return [];
    const findings: FindingDraft[] = [];
    for (const table of snapshot.tables) {
      if (table.kind === 'p') continue;
      const bytes = heapBytesOf(table, settings);
      if (bytes < t.minTableBytes) continue;
      const trigger = analyzeThresholdTuples(table, settings);
      if (trigger === null) continue;
      const lastAge = lastAnalyzeAgeSeconds(table);
      const never = lastAge === null && table.analyzeCount + table.autoanalyzeCount === 0 && (table.reltuples < 0 || table.nModSinceAnalyze > trigger);
      const ratio = table.nModSinceAnalyze / Math.max(1, trigger);
      const stale = lastAge !== null && lastAge >= t.minAnalyzeAgeSeconds && ratio >= t.staleRatio;
      if (!never && !stale) continue;
      const windowWrites = window?.tables.find((d) => d.oid === table.oid)?.writes ?? 0;
      if (stale && (table.nModSinceAnalyze - windowWrites) / Math.max(1, trigger) < t.staleRatio) continue; // crossed just now
      const autovacuum = autovacuumEnabledFor(table, settings);
      const cause: Cause = never ? 'never-analyzed' : autovacuum ? 'lagging' : 'autovacuum-disabled';
      const name = quoteQualified(table.schema, table.name);
      findings.push({
        summary: summarize(name, table, cause, ratio, lastAge, bytes),
        object: { type: 'table', schema: table.schema, name: table.name },
        evidence: {
          cause,
          nModSinceAnalyze: table.nModSinceAnalyze,
          analyzeTriggerRows: Math.round(trigger),
          staleRatio: roundRatio(ratio),
          reltuples: Math.max(0, table.reltuples),
          neverAnalyzed: never,
          lastAnalyzeAgeSeconds: lastAge,
          autovacuumEnabled: autovacuum,
          tableBytes: bytes,
        },
        recommendation: {
          text:
            `Run ANALYZE on ${name} now` +
            (cause === 'autovacuum-disabled'
              ? `; autovacuum is disabled for it, so re-enable it (ALTER TABLE ${name} RESET (autovacuum_enabled))` +
                ' or schedule ANALYZE after every bulk change'
              : cause === 'lagging'
                ? `; if autovacuum keeps falling behind on it, lower its trigger (ALTER TABLE ${name} SET (autovacuum_analyze_scale_factor = 0.02))`
                : ' and make the job that loads it run ANALYZE when it is done') +
            '.',
          sql: `ANALYZE ${name};`,
        },
        impact: { staleRatio: roundRatio(ratio) },
      });
    }
    return findings;
  },
});

function summarize(name: string, table: TableStat, cause: Cause, ratio: number, lastAge: number | null, bytes: number): string {
  if (cause === 'never-analyzed') {
    return (
      `${name} (${formatBytes(bytes)}) has never been analysed: the planner has no statistics on its ` +
      `${formatCount(Math.max(table.nModSinceAnalyze, table.reltuples, 0))} rows.`
    );
  }
  return (
    `${formatCount(table.nModSinceAnalyze)} rows of ${name} changed since its last ANALYZE ${formatDuration(lastAge ?? 0)} ago, ` +
    `${formatTimes(ratio)} times its autoanalyze trigger${cause === 'autovacuum-disabled' ? ' (autovacuum is disabled for it)' : ''}.`
  );
}
