import { defineRule } from '../src/engine/define-rule.js';
import type { FindingDraft, Severity } from '../src/engine/types.js';
import { quoteQualified } from '../src/sql/quote.js';
import { BLOAT_THRESHOLD_SPECS, gradeBloat, MiB } from './_lib/bloat.js';
import { formatBytes, formatPercent, roundRatio } from './_lib/format.js';

export default defineRule({
  id: 'index-bloat',
  title: 'Index bloat',
  category: 'indexes',
  defaultSeverity: 'warning',
  requires: ['bloat'],
  thresholds: {
    minIndexBytes: { default: 8 * MiB, description: 'Indexes smaller than this (bytes) are never reported.' },
    ...BLOAT_THRESHOLD_SPECS,
    // B-trees filled in random key order (UUIDs, emails) settle near ln 2 ≈ 69 % leaf density, a ratio of
    // about 0.23 at fillfactor 90 that page splits regrow after any rebuild: not worth a large-waste warning.
    largeWasteRatio: { default: 0.3, description: 'Minimum waste fraction (0–1) for the large-waste warning.' },
    infoOnlyBelowWasteBytes: {
      default: 10 * MiB,
      description: 'Indexes wasting less than this (bytes) are reported as info at most, whatever the ratio.',
    },
  },
  docs: {
    summary: 'Finds B-tree indexes whose pages are mostly empty, so the index is much larger than its entries need.',
    why:
      'A bloated index costs cache, I/O on every scan that touches it, WAL and backup volume, and slows ' +
      'every insert and update that has to maintain it. It happens after mass deletes or updates, ' +
      'random-order inserts, and whenever vacuum lagged.',
    fix:
      'Rebuild it without blocking writes: REINDEX INDEX CONCURRENTLY schema.index (PostgreSQL 12+; takes ' +
      'longer and needs the disk space of a second copy while it runs; cannot run inside a transaction ' +
      'block). If the index keeps bloating, fix the cause (vacuum-lag) or consider a lower fillfactor for ' +
      'hot update patterns.',
    falsePositives:
      'Only pgstatindex measurements (bloat = 1 − avg_leaf_density / fillfactor) and estimates the ' +
      'collector deems valid are used: estimates for indexes with many duplicate keys (deduplicated ' +
      'posting lists) are meaningless and the collector drops them; negative numbers never reach the rule. ' +
      'Indexes under {minIndexBytes} are ignored, and an index wasting less than {infoOnlyBelowWasteBytes} ' +
      'is at most info. B-trees filled in random key order (UUID or email keys) settle near 69 % leaf ' +
      'density (a ratio of about 0.23 that page splits regrow after a rebuild), so the large-waste warning ' +
      'needs a ratio of {largeWasteRatio:raw} for indexes, higher than for tables. Invalid indexes are ' +
      'left to the invalid-index rule.',
  },
  evaluate({ snapshot, thresholds: t }) {
    const findings: FindingDraft[] = [];
    const indexes = new Map(snapshot.indexes.map((index) => [index.oid, index]));
    const concurrently = snapshot.meta.serverVersionNum >= 120000;
    for (const bloat of snapshot.bloat?.indexes ?? []) {
      const index = indexes.get(bloat.oid);
      if (index && !index.isValid) continue;
      if (bloat.indexBytes < t.minIndexBytes || bloat.indexBytes <= 0) continue;
      const wasteBytes = Math.min(bloat.wasteBytes, bloat.indexBytes);
      const ratio = wasteBytes / bloat.indexBytes;
      let severity: Severity | null = gradeBloat(wasteBytes, ratio, t);
      if (!severity) continue;
      if (wasteBytes < t.infoOnlyBelowWasteBytes) severity = 'info';

      const name = quoteQualified(bloat.schema, bloat.name);
      findings.push({
        severity,
        summary:
          `Index ${bloat.schema}.${bloat.name} on ${bloat.table} wastes ${formatBytes(wasteBytes)} of ` +
          `${formatBytes(bloat.indexBytes)} (${formatPercent(ratio)}, ${bloat.method === 'estimate' ? 'estimated' : 'measured'}).`,
        object: { type: 'index', schema: bloat.schema, name: bloat.name, table: bloat.table },
        evidence: {
          method: bloat.method,
          sizeBytes: bloat.indexBytes,
          wasteBytes,
          ratio: roundRatio(ratio),
          avgLeafDensityPercent: bloat.avgLeafDensity,
          fillfactorPercent: bloat.fillfactor,
        },
        recommendation: {
          text: concurrently
            ? `Rebuild the index online with REINDEX INDEX CONCURRENTLY (needs free disk space for a second copy ` +
              `while it runs, and cannot run inside a transaction block).`
            : `Rebuild the index: before PostgreSQL 12, CREATE INDEX CONCURRENTLY a copy, then drop the old one and rename; plain REINDEX blocks writes.`,
          sql: concurrently ? `REINDEX INDEX CONCURRENTLY ${name};` : undefined,
        },
        impact: { wasteBytes },
      });
    }
    return findings;
  },
});
