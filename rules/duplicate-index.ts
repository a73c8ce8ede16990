import { defineRule } from '../src/engine/define-rule.js';
import type { FindingDraft } from '../src/engine/types.js';
import type { IndexStat, Snapshot } from '../src/snapshot/types.js';
import { quoteQualified } from '../src/sql/quote.js';
import { formatBytes, formatCount } from './_lib/format.js';
import { parseIndexDefinition, type IndexDefinition } from '../src/analysis/index-definition.js';

type Kind = 'exact' | 'prefix';
interface Keeper {
  readonly keep: Candidate;
  readonly kind: Kind;
}

/** A valid index whose definition parsed, with what the comparison needs. */
interface Candidate {
  readonly index: IndexStat;
  readonly def: IndexDefinition;
  readonly keys: readonly string[];
  /**
   * Backs a primary key or another constraint that owns an index (unique; exclusion too, once the constraints
   * source lists them): never dropped, preferred as the one kept.
   */
  readonly backsConstraint: boolean;
  /** Columns an index-only scan can return: key columns and INCLUDE columns. */
  readonly storedColumns: ReadonlySet<string>;
}

function candidatesOf(snapshot: Snapshot): Candidate[] {
  // A constraint's index carries the constraint's name (renaming one renames the other). Foreign keys own no index.
  const constraintIndexes = new Set(snapshot.constraints.filter((c) => c.type !== 'f').map((c) => `${c.tableOid}/${c.name}`));
  const out: Candidate[] = [];
  for (const index of snapshot.indexes) {
    const def = index.isValid ? parseIndexDefinition(index.definition) : null; // '' when locked: not judged
    if (!def || def.method !== index.method) continue;
    out.push({
      index,
      def,
      keys: def.keys.map((k) => k.text),
      backsConstraint: index.isPrimary || constraintIndexes.has(`${index.tableOid}/${index.name}`),
      storedColumns: new Set([...index.columns.filter((c): c is string => c !== null), ...index.includeColumns]),
    });
  }
  return out;
}

const sameKeys = (a: Candidate, b: Candidate) => a.keys.length === b.keys.length && a.keys.every((k, i) => k === b.keys[i]);
const isKeyPrefix = (a: Candidate, b: Candidate) => a.keys.length <= b.keys.length && a.keys.every((k, i) => k === b.keys[i]);
const sameIncludes = (a: Candidate, b: Candidate) =>
  a.index.includeColumns.length === b.index.includeColumns.length && a.index.includeColumns.every((c) => b.index.includeColumns.includes(c));

/** `drop` may go while `keep` stays: it enforces nothing, or exactly the uniqueness `keep` enforces too. */
function canDrop(drop: Candidate, keep: Candidate): boolean {
  if (drop.backsConstraint) return false;
  return !drop.index.isUnique || (keep.index.isUnique && sameKeys(drop, keep) && drop.def.nullsNotDistinct === keep.def.nullsNotDistinct);
}

/**
 * Keep order among equals: the constraint's index, then the older (lower oid). Not scan counts: the
 * reported index (and so the finding's fingerprint) must not switch between samples as usage shifts, and
 * identical indexes serve the same queries whichever stays.
 */
function outranks(a: Candidate, b: Candidate): boolean {
  if (a.backsConstraint !== b.backsConstraint) return a.backsConstraint;
  return a.index.oid < b.index.oid;
}

/** Why `drop` is redundant next to `keep` (both on one table), or null when it is not. */
function redundancy(drop: Candidate, keep: Candidate): Kind | null {
  if (drop === keep || drop.def.method !== keep.def.method || drop.def.predicate !== keep.def.predicate) return null;
  if (!canDrop(drop, keep)) return null;
  if (sameKeys(drop, keep) && sameIncludes(drop, keep)) {
    // Exact duplicates: report one of the two, the one that ranks lower when either may go.
    return !canDrop(keep, drop) || outranks(keep, drop) ? 'exact' : null;
  }
  if (drop.def.method !== 'btree' || !isKeyPrefix(drop, keep)) return null;
  return drop.index.includeColumns.every((c) => keep.storedColumns.has(c)) ? 'prefix' : null;
}

export default defineRule({
  id: 'duplicate-index',
  title: 'Duplicate or redundant indexes',
  category: 'indexes',
  defaultSeverity: 'warning',
  requires: ['indexes', 'constraints'],
  thresholds: {},
  docs: {
    summary:
      "Finds indexes that another index on the same table makes unnecessary: exact duplicates, and btree indexes whose keys are a leading prefix of another's.",
    why:
      'Every index is written on every INSERT, on every UPDATE that is not HOT, and takes disk, cache and ' +
      'vacuum time; each extra index on a column also makes HOT updates of that column impossible. An ' +
      'index that another one already serves adds all of that cost and no query benefit. Duplicates ' +
      'usually come from ORMs or migrations adding an index next to a primary key or unique constraint ' +
      'that already has one.',
    fix:
      'Drop the reported index with DROP INDEX CONCURRENTLY (it does not block reads or writes, and cannot ' +
      'run inside a transaction block); the finding names the index that stays. On a partitioned table, ' +
      'where CONCURRENTLY is not supported, the statement is a plain DROP INDEX, which locks the table and ' +
      'its partitions. For a prefix-redundant index (info), the kept index serves the same lookups; the ' +
      'reported one is smaller, so lookups on its columns alone can be slightly faster with it; keep it ' +
      'only if that difference matters for a hot query.',
    falsePositives:
      'Silent for an index that enforces something the other does not: a primary key, the index of a ' +
      'unique or primary key constraint, and a unique index unless the other is unique on the same keys ' +
      'with the same NULLS treatment (unique (a) is never redundant next to (a, b); non-unique (a) is). ' +
      'Keys are compared element by element as the server prints them, so a different collation, operator ' +
      'class (text_pattern_ops), sort order or expression makes a different index, and so does a different ' +
      'WHERE predicate. Non-btree indexes are only reported as exact duplicates. Indexes of different ' +
      'tables are never compared; invalid indexes and indexes locked at collection time are neither ' +
      'reported nor kept, so an invalid index never makes a valid one redundant. Of two exact duplicates ' +
      "one is reported: the constraint's index stays, else the older one (lower oid) — never chosen by " +
      'scan counts, so the finding does not move between the two as usage shifts (the planner uses the ' +
      'kept twin the same way). Not visible in the snapshot, so check before dropping: an index attached ' +
      'to a partitioned index (DROP INDEX refuses it; drop the partitioned index instead), the index of an ' +
      'exclusion constraint (DROP INDEX refuses it), a unique index next to a DEFERRABLE unique constraint ' +
      '(INSERT … ON CONFLICT and foreign keys need the non-deferrable one), a replica-identity index ' +
      '(logical replication falls back to REPLICA IDENTITY NOTHING) and the CLUSTER index.',
  },
  evaluate({ snapshot }) {
    const byTable = new Map<number, Candidate[]>();
    for (const c of candidatesOf(snapshot)) byTable.set(c.index.tableOid, [...(byTable.get(c.index.tableOid) ?? []), c]);
    const partitioned = new Set(snapshot.tables.filter((t) => t.kind === 'p').map((t) => t.oid));
    const findings: FindingDraft[] = [];

    for (const group of byTable.values()) {
      const keepers = new Map<Candidate, Keeper[]>();
      for (const drop of group) {
        const found = group.flatMap((keep) => {
          const kind = redundancy(drop, keep);
          return kind ? [{ keep, kind }] : [];
        });
        if (found.length > 0) keepers.set(drop, found);
      }
      // Name an exact duplicate as the keeper first, then one that is not itself redundant, then the best ranked.
      const better = (a: Keeper, b: Keeper): boolean =>
        a.kind !== b.kind ? a.kind === 'exact' : keepers.has(a.keep) !== keepers.has(b.keep) ? !keepers.has(a.keep) : outranks(a.keep, b.keep);
      for (const [drop, options] of keepers) {
        const { keep, kind } = options.reduce((best, o) => (better(o, best) ? o : best));
        findings.push(buildFinding(drop, keep, kind, partitioned.has(drop.index.tableOid), snapshot));
      }
    }
    return findings;
  },
});

function buildFinding(drop: Candidate, keep: Candidate, kind: Kind, partitioned: boolean, snapshot: Snapshot): FindingDraft {
  const { index } = drop;
  const name = `${index.schema}.${index.name}`;
  const kept = `${keep.index.schema}.${keep.index.name}`;
  const size = index.sizeBytes === null ? '' : ` (${formatBytes(index.sizeBytes)})`;
  const referenced =
    index.isUnique &&
    snapshot.constraints.some(
      (c) =>
        c.type === 'f' &&
        c.refTableOid === index.tableOid &&
        c.refColumns.length === drop.keys.length &&
        c.refColumns.every((col) => index.columns.includes(col)),
    );
  const summary =
    kind === 'exact'
      ? `Index ${name}${size} on ${index.table} duplicates ${kept}: same method, keys, INCLUDE columns and predicate.`
      : `Index ${name}${size} on ${index.table} is covered by ${kept}, whose keys begin with all of its keys` +
        `${index.includeColumns.length > 0 ? ' and which stores its INCLUDE columns' : ''}.`;
  const text = [
    `Drop ${name}; ${kept} serves every query it serves${index.isUnique ? ' and enforces the same uniqueness' : ''}` +
      `${index.idxScan > 0 ? ` (its ${formatCount(index.idxScan)} scans will use ${kept})` : ''}.`,
    kind === 'prefix'
      ? `${name} is smaller, so lookups on its columns alone can be slightly faster with it; keep it only if that matters for a hot query.`
      : '',
    referenced
      ? `A foreign key references these columns and may depend on ${name}; if DROP INDEX refuses for that ` +
        `reason, ${keep.backsConstraint ? 'keep it' : `drop ${kept} instead`}.`
      : '',
    partitioned
      ? 'It is a partitioned index: DROP INDEX CONCURRENTLY is not supported for it, and a plain DROP INDEX ' +
        'locks the table and its partitions; run it in a quiet period.'
      : 'DROP INDEX CONCURRENTLY does not block reads or writes and cannot run inside a transaction block.',
  ]
    .filter((s) => s !== '')
    .join(' ');
  return {
    severity: kind === 'exact' ? 'warning' : 'info',
    summary,
    object: { type: 'index', schema: index.schema, name: index.name, table: index.table },
    evidence: {
      kind,
      keptIndex: keep.index.name,
      sizeBytes: index.sizeBytes,
      idxScanCount: index.idxScan,
      keptIndexSizeBytes: keep.index.sizeBytes,
      keptIndexIdxScanCount: keep.index.idxScan,
      definition: index.definition,
      keptDefinition: keep.index.definition,
    },
    recommendation: { text, sql: `DROP INDEX ${partitioned ? '' : 'CONCURRENTLY '}${quoteQualified(index.schema, index.name)};` },
    impact: { sizeBytes: index.sizeBytes ?? 0 },
  };
}
