import { defineRule } from '../src/engine/define-rule.js';
import type { FindingDraft } from '../src/engine/types.js';
import { quoteQualified } from '../src/sql/quote.js';
import { lastVacuumAgeSeconds } from './_lib/autovacuum.js';
import { BLOAT_THRESHOLD_SPECS, gradeBloat, MiB } from './_lib/bloat.js';
import { formatBytes, formatPercent, roundRatio } from './_lib/format.js';

export default defineRule({
  id: 'table-bloat',
  title: 'Table bloat',
  category: 'storage',
  defaultSeverity: 'warning',
  requires: ['bloat', 'tables'],
  thresholds: {
    minTableBytes: { default: 8 * MiB, description: 'Tables smaller than this (bytes) are never reported.' },
    ...BLOAT_THRESHOLD_SPECS,
    deadTupleQuietSeconds: {
      default: 300,
      description: 'Unvacuumed dead tuples count as waste in an estimate only when no vacuum finished within this many seconds.',
    },
  },
  docs: {
    summary: 'Finds tables whose heap holds much more space than their live rows need (dead tuples and free space beyond the fillfactor reserve).',
    why:
      'Bloated tables make every sequential scan, backup and replica rebuild read pages of nothing, push ' +
      'useful data out of the cache and grow storage without growing data. Bloat usually means vacuum ' +
      'could not keep up, or a one-off mass UPDATE/DELETE left space behind.',
    fix:
      'Fix the cause first (see vacuum-lag: long transactions, disabled or starved autovacuum). Then give ' +
      'the space back: pg_repack (online, needs the extension and a primary key or unique index) or VACUUM ' +
      'FULL (rewrites the table under an ACCESS EXCLUSIVE lock: reads and writes wait for the whole ' +
      'rewrite, so only in a maintenance window). A plain VACUUM makes the space reusable but rarely ' +
      'shrinks the file.',
    falsePositives:
      'Only numbers the collector measured with pgstattuple_approx, or estimated from fresh pg_stats, are ' +
      'used; tables without a measurement are never guessed at (the collector reports them as a ' +
      'diagnostic). Tables under {minTableBytes} are ignored and the fillfactor reserve is not waste. ' +
      'Unvacuumed dead tuples are added to an estimate only when no vacuum finished in the last ' +
      '{deadTupleQuietSeconds}, because a large n_dead_tup right after a VACUUM is either a statistics ' +
      'race or an xmin-horizon problem (reported by vacuum-lag). A table that is about to be refilled (a ' +
      'queue that is emptied and refilled) reuses its free space; snooze the finding if that is the design.',
  },
  evaluate({ snapshot, thresholds: t }) {
    const findings: FindingDraft[] = [];
    const tables = new Map(snapshot.tables.map((table) => [table.oid, table]));
    for (const bloat of snapshot.bloat?.tables ?? []) {
      const table = tables.get(bloat.oid);
      if (table?.locked || bloat.tableBytes < t.minTableBytes || bloat.tableBytes <= 0) continue;

      // Dead tuples an estimate cannot see (§3.3 step 1): only when no vacuum finished recently.
      let deadBytes = bloat.deadBytes;
      let deadBasis: 'measured' | 'n_dead_tup' | 'none' = bloat.method === 'pgstattuple_approx' ? 'measured' : 'none';
      if (bloat.method === 'estimate' && table && table.reltuples >= 0 && table.nDeadTup > 0) {
        const lastVacuum = lastVacuumAgeSeconds(table);
        if (lastVacuum === null || lastVacuum >= t.deadTupleQuietSeconds) {
          deadBytes = (table.nDeadTup / (table.reltuples + table.nDeadTup)) * bloat.tableBytes;
          deadBasis = 'n_dead_tup';
        }
      }
      const wasteBytes = Math.min(bloat.tableBytes, Math.max(bloat.wasteBytes, deadBytes));
      const ratio = wasteBytes / bloat.tableBytes;
      const severity = gradeBloat(wasteBytes, ratio, t);
      if (!severity) continue;

      const name = quoteQualified(bloat.schema, bloat.name);
      findings.push({
        severity,
        summary:
          `${bloat.schema}.${bloat.name} wastes ${formatBytes(wasteBytes)} of ` +
          `${formatBytes(bloat.tableBytes)} (${formatPercent(ratio)}, ${bloat.method === 'estimate' ? 'estimated' : 'measured'}).`,
        object: { type: 'table', schema: bloat.schema, name: bloat.name },
        evidence: {
          method: bloat.method,
          sizeBytes: bloat.tableBytes,
          wasteBytes: Math.round(wasteBytes),
          ratio: roundRatio(ratio),
          deadBytes: Math.round(deadBytes),
          freeBytes: bloat.freeBytes,
          deadBasis,
          fillfactorPercent: bloat.fillfactor,
          deadTuples: table?.nDeadTup ?? null,
          lastVacuumAgeSeconds: table ? lastVacuumAgeSeconds(table) : null,
        },
        recommendation: {
          // No `sql`: the only statement that shrinks the file in place (VACUUM FULL) blocks the table.
          text:
            `Find why space is not reused (long transactions, autovacuum settings; see vacuum-lag), then ` +
            `reclaim it online with pg_repack (pg_repack --table=${name}) or, in a maintenance window, VACUUM ` +
            `(FULL, ANALYZE) ${name}, which locks the table against reads and writes for the whole rewrite.`,
        },
        impact: { wasteBytes: Math.round(wasteBytes) },
      });
    }
    return findings;
  },
});
