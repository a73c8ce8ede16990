import { defineRule } from '../../src/engine/define-rule.js';
import type { EvidenceValue, FindingDraft, Severity } from '../../src/engine/types.js';
import type { SequenceStat } from '../../src/snapshot/types.js';
import { quoteIdent, quoteQualified } from '../../src/sql/quote.js';
import { formatCount, formatPercent, roundRatio } from '../_lib/format.js';
import { consumptionPerSecond, isIntegerType, sequenceUse, type SequenceUse } from './range.js';

const SECONDS_PER_DAY = 86_400;

export default defineRule({
  id: 'sequence-exhaustion',
  title: 'Sequence running out of values',
  category: 'storage',
  defaultSeverity: 'warning',
  requires: ['sequences'],
  thresholds: {
    warningFraction: {
      default: 0.75,
      description:
        'Warning when a sequence has used this fraction (0–1) of the values up to its binding limit (the ' +
        "sequence's bound or the range of the column it feeds, whichever is nearer).",
    },
    criticalFraction: { default: 0.9, description: 'Critical from this used fraction (0–1) on.' },
    mismatchInfoFraction: {
      default: 0.5,
      description:
        'Info when the column a sequence feeds is narrower than the sequence (a bigint sequence on an ' +
        "integer column) and this fraction (0–1) of the column's range is used.",
    },
  },
  docs: {
    summary:
      'Finds sequences (serial, identity and plain) that have used most of the values they can still hand ' +
      "out, measured against the nearer of the sequence's own bound and the range of the integer column " +
      'they feed.',
    why:
      'When a sequence reaches its limit, every INSERT that needs a new id fails ("nextval: reached ' +
      'maximum value of sequence" or "integer out of range") until the type is widened, and widening a ' +
      "large table's column rewrites it under an ACCESS EXCLUSIVE lock. A bigint sequence feeding an " +
      'integer column (every serial created before PostgreSQL 10, or a column declared int by an ORM) ' +
      'looks nearly empty but fails at 2,147,483,647.',
    fix:
      'Widen the column to bigint (ALTER TABLE … ALTER COLUMN … TYPE bigint; on a large table add a bigint ' +
      'column, backfill it in batches and swap it in instead, to avoid a long rewrite under lock) and the ' +
      'sequence with ALTER SEQUENCE … AS bigint. A sequence capped by its own MAXVALUE (or MINVALUE when ' +
      'descending) gets NO MAXVALUE / NO MINVALUE.',
    falsePositives:
      'Sequences that cycle are designed to wrap and are ignored, unless the column they feed runs out ' +
      'before the sequence wraps. Descending sequences are measured towards their minimum. Never-used ' +
      'sequences are skipped; a sequence whose column is not an integer type (numeric) is measured against ' +
      'the sequence alone. A sequence restarted at a high value on purpose (sharded id ranges) is reported ' +
      'like any other: snooze the finding or raise warningFraction. The 1,000 most used readable sequences ' +
      'are judged; the rest, less used, are only counted. The role needs SELECT or USAGE on a sequence to ' +
      'read its last value; sequences it cannot read are reported as a blind spot with the grant, never as ' +
      "healthy. With a window or the daemon's history the consumption rate gives daysLeft.",
  },
  evaluate({ snapshot, window, thresholds: t }) {
    const findings: FindingDraft[] = [];
    for (const seq of snapshot.sequences?.sequences ?? []) {
      const use = sequenceUse(seq);
      if (!use) continue;
      if (seq.cycle && !use.columnNarrower) continue; // wrapping is its design
      const severity: Severity | null =
        use.usedFraction >= t.criticalFraction
          ? 'critical'
          : use.usedFraction >= t.warningFraction
            ? 'warning'
            : use.columnNarrower && use.usedFraction >= t.mismatchInfoFraction
              ? 'info'
              : null;
      if (severity === null) continue;
      const rate = consumptionPerSecond(window, seq, use.descending);
      const daysLeft = rate === null ? null : Number(use.valuesLeft) / rate / SECONDS_PER_DAY;
      findings.push({
        severity,
        summary: summarize(seq, use, daysLeft),
        object: { type: 'sequence', schema: seq.schema, name: seq.name },
        evidence: {
          dataType: seq.dataType,
          lastValue: seq.lastValue,
          limitValue: use.limit.toString(),
          limitedBy: use.limitedBy,
          descending: use.descending,
          cycle: seq.cycle,
          usedFraction: roundRatio(use.usedFraction),
          callsLeft: Number(use.callsLeft),
          column: columnEvidence(seq),
          valuesPerSecond: rate,
          daysLeft: daysLeft === null ? null : Math.round(daysLeft * 10) / 10,
        },
        recommendation: recommend(seq, use),
        impact: { usedFraction: roundRatio(use.usedFraction) },
      });
    }
    return findings;
  },
  blindSpots({ snapshot }) {
    const state = snapshot.sequences;
    if (!state || state.unreadable.length === 0) return [];
    const count = state.unreadable.reduce((sum, u) => sum + u.count, 0);
    const role = quoteIdent(snapshot.meta.currentUser);
    return [
      {
        message:
          `${count} of ${state.total} sequences (schema ${state.unreadable.map((u) => u.schema).join(', ')}) are not readable by ` +
          `${snapshot.meta.currentUser}: their last value, and so how close they are to running out, is unknown`,
        hint: state.unreadable.map((u) => `GRANT SELECT ON ALL SEQUENCES IN SCHEMA ${quoteIdent(u.schema)} TO ${role};`).join(' '),
      },
    ];
  },
});

function columnEvidence(seq: SequenceStat): EvidenceValue {
  const c = seq.column;
  return c ? { schema: c.schema, table: c.table, column: c.name, columnType: c.type, identity: c.identity } : null;
}

function summarize(seq: SequenceStat, use: SequenceUse, daysLeft: number | null): string {
  const c = seq.column;
  const binding =
    use.limitedBy === 'column' && c
      ? ` (the ${c.type} column ${quoteQualified(c.schema, c.table)}.${quoteIdent(c.name)} binds before the ` +
        `${seq.dataType} sequence's own ${use.descending ? 'minimum' : 'maximum'})`
      : '';
  const left = daysLeft === null ? '' : `; at the current rate about ${formatCount(daysLeft)} days are left`;
  return (
    `Sequence ${quoteQualified(seq.schema, seq.name)} has used ${formatPercent(use.usedFraction)} of its values: ` +
    `last value ${seq.lastValue} of ${use.limit.toString()}${binding}${left}.`
  );
}

function recommend(seq: SequenceStat, use: SequenceUse): { text: string; sql?: string } {
  const statements: string[] = [];
  const c = seq.column;
  if (c && isIntegerType(c.type) && c.type !== 'bigint') {
    statements.push(`ALTER TABLE ${quoteQualified(c.schema, c.table)} ALTER COLUMN ${quoteIdent(c.name)} TYPE bigint;`);
  }
  const sequence = quoteQualified(seq.schema, seq.name);
  if (seq.dataType !== 'bigint') statements.push(`ALTER SEQUENCE ${sequence} AS bigint;`);
  else if (use.limitedBy === 'sequence' && !atTypeBound(seq, use))
    statements.push(`ALTER SEQUENCE ${sequence} ${use.descending ? 'NO MINVALUE' : 'NO MAXVALUE'};`);
  const rewrite = statements.some((s) => s.startsWith('ALTER TABLE'))
    ? ' Changing the column type rewrites the table under an ACCESS EXCLUSIVE lock: on a large table add a ' +
      'bigint column, backfill it in batches and swap it in instead, and widen every foreign key column ' +
      'that references it too.'
    : '';
  return {
    text:
      `Widen ` +
      `${sequence}${c ? ` and the column it feeds, ${quoteQualified(c.schema, c.table)}.${quoteIdent(c.name)},` : ''} before it runs out of values.${rewrite}`,
    sql: statements.length > 0 ? statements.join('\n') : undefined,
  };
}

/** The sequence already spans its whole type: only a new key scheme helps. */
function atTypeBound(seq: SequenceStat, use: SequenceUse): boolean {
  return use.limit === (use.descending ? -9223372036854775808n : 9223372036854775807n) && seq.dataType === 'bigint';
}
