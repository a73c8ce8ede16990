import { defineRule } from '../src/engine/define-rule.js';
import type { FindingDraft, Severity } from '../src/engine/types.js';
import type { IndexStat } from '../src/snapshot/types.js';
import { quoteQualified } from '../src/sql/quote.js';
import { formatBytes } from './_lib/format.js';

const MiB = 1024 * 1024;

/**
 * pg_get_indexdef output: CREATE [UNIQUE] INDEX <name> ON [ONLY] <table> USING … The name is one identifier,
 * quoted by the server when needed (a quoted one may hold spaces, quotes and " ON ").
 */
const INDEX_DEFINITION = /^CREATE (UNIQUE )?INDEX ("(?:[^"]|"")*"|[^\s"]+) ON (ONLY )?(.+)$/s;

interface ParsedDefinition {
  /** The CREATE INDEX CONCURRENTLY statement that builds the index again under its own name. */
  readonly createConcurrently: string;
  /** The definition without the index name, to compare indexes of one table. */
  readonly shape: string;
  /** ON ONLY: an index of a partitioned table. */
  readonly partitioned: boolean;
}

function parseDefinition(definition: string): ParsedDefinition | null {
  const m = INDEX_DEFINITION.exec(definition);
  if (!m) return null;
  const [, unique = '', name, only = '', rest] = m;
  return {
    createConcurrently: `CREATE ${unique}INDEX CONCURRENTLY ${name} ON ${only}${rest};`,
    shape: `${unique}${only}${rest}`,
    partitioned: only !== '',
  };
}

export default defineRule({
  id: 'invalid-index',
  title: 'Invalid index',
  category: 'indexes',
  defaultSeverity: 'warning',
  requires: ['indexes'],
  thresholds: {
    infoOnlyBelowTableBytes: {
      default: 1 * MiB,
      description:
        'An invalid index on a table whose heap is smaller than this (bytes) is info: at that size neither ' +
        'the missing index nor its upkeep matters. A unique index that writes still maintain stays a warning ' +
        '(it can reject inserts).',
    },
  },
  docs: {
    summary:
      'Finds indexes left invalid (pg_index.indisvalid = false), usually by a CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY that failed or was cancelled.',
    why:
      'The planner never uses an invalid index, so the queries it was built for still run without it. Once ' +
      'the build got far enough to mark it ready (indisready), every INSERT and non-HOT UPDATE still ' +
      'maintains it, which is pure write and WAL cost, and a unique one still checks new rows, so inserts ' +
      'can fail with duplicate-key errors against an index nobody can use. It also holds disk space and ' +
      'its name, so re-running the migration that created it fails with "already exists" (or, with IF NOT ' +
      'EXISTS, silently keeps the broken index).',
    fix:
      'Drop it without blocking writes and build it again: DROP INDEX CONCURRENTLY schema.index; then ' +
      'CREATE INDEX CONCURRENTLY with the same definition (the finding gives both). If a unique build ' +
      'failed on duplicate keys, remove the duplicates first or the new build fails the same way. On ' +
      'PostgreSQL 12+ REINDEX INDEX CONCURRENTLY schema.index rebuilds it in one step instead. None of ' +
      'these can run inside a transaction block. When a valid index with the same definition already ' +
      'exists (the _ccnew / _ccold leftovers of an interrupted REINDEX CONCURRENTLY), just drop the ' +
      'invalid copy. An invalid index of a partitioned table (CREATE INDEX ... ON ONLY) becomes valid once ' +
      'every partition has a matching index attached with ALTER INDEX ... ATTACH PARTITION.',
    falsePositives:
      'An index is also invalid while CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY is building it, ' +
      'and while DROP INDEX CONCURRENTLY waits to remove it; both can take hours behind a long ' +
      'transaction. The collector marks them (a build listed in pg_stat_progress_create_index for the ' +
      'index or, for an invalid index, for its table, since index_relid can be 0 early on and REINDEX ' +
      'CONCURRENTLY lists the old index rather than its new copy; a drop by the ShareUpdateExclusiveLock ' +
      'another session holds on the invalid index) and the rule stays silent on them. Without ' +
      "pg_read_all_stats (granted by pg_monitor) another role's build hides its table in " +
      "pg_stat_progress_create_index; the collector then takes the tables that build's backend holds in " +
      'ShareUpdateExclusiveLock. The table-level match means an old invalid index stays silent while an ' +
      'unrelated concurrent build runs on the same table; it is reported again once that build ends. An ' +
      'invalid index on a table whose heap is under {infoOnlyBelowTableBytes} is info (unless it is unique ' +
      "and ready, so it can still reject inserts), and so is a partitioned table's index that waits for " +
      'its partitions to be attached; an unknown table size counts as large. Indexes in pg_toast (an ' +
      'interrupted REINDEX TABLE CONCURRENTLY can leave invalid TOAST indexes) are not collected.',
  },
  evaluate({ snapshot, thresholds: t }) {
    const tables = new Map(snapshot.tables.map((table) => [table.oid, table]));
    const findings: FindingDraft[] = [];
    for (const index of snapshot.indexes) {
      if (index.isValid || index.buildInProgress || index.dropInProgress) continue;
      const table = tables.get(index.tableOid);
      const parsed = parseDefinition(index.definition);
      const partitioned = table ? table.kind === 'p' : (parsed?.partitioned ?? false);
      const twin = parsed && findValidTwin(snapshot.indexes, index, parsed.shape);
      const tableBytes = table?.heapBytes ?? null;
      // A unique index that writes maintain checks every new row against its incomplete contents.
      const rejectsInserts = index.isUnique && index.isReady;
      const tiny = tableBytes !== null && tableBytes < t.infoOnlyBelowTableBytes;
      const severity: Severity = partitioned || (tiny && !rejectsInserts) ? 'info' : 'warning';

      const name = `${index.schema}.${index.name}`;
      const cost = index.isReady
        ? `queries never use it, yet every write to ${index.table} maintains it${rejectsInserts ? ' and checks new rows against it for duplicates' : ''}`
        : 'neither queries nor writes use it';
      findings.push({
        severity,
        summary: partitioned
          ? `Index ${name} of partitioned table ${index.table} is invalid: not every partition has a matching index attached.`
          : `Index ${name} on ${index.table} is invalid (a failed or cancelled concurrent build): ${cost}` +
            `${index.sizeBytes ? `; it holds ${formatBytes(index.sizeBytes)}` : ''}.`,
        object: { type: 'index', schema: index.schema, name: index.name, table: index.table },
        evidence: {
          sizeBytes: index.sizeBytes,
          tableBytes,
          ready: index.isReady,
          unique: index.isUnique,
          partitioned,
          validDuplicate: twin?.name ?? null,
          method: index.method,
          definition: index.definition,
        },
        recommendation: recommend(index, parsed, twin ?? null, partitioned),
        impact: { sizeBytes: index.sizeBytes ?? 0 },
      });
    }
    return findings;
  },
});

/** A valid index of the same table with the same definition apart from its name. */
function findValidTwin(indexes: readonly IndexStat[], index: IndexStat, shape: string): IndexStat | undefined {
  return indexes.find(
    (other) => other.oid !== index.oid && other.tableOid === index.tableOid && other.isValid && parseDefinition(other.definition)?.shape === shape,
  );
}

function recommend(index: IndexStat, parsed: ParsedDefinition | null, twin: IndexStat | null, partitioned: boolean): FindingDraft['recommendation'] {
  const qualified = quoteQualified(index.schema, index.name);
  if (partitioned) {
    return {
      text:
        `Create the index on each partition of ${index.table} that lacks one (CREATE INDEX CONCURRENTLY on ` +
        `the partition), then ALTER INDEX ${qualified} ATTACH PARTITION <that index>; the parent index ` +
        `becomes valid once every partition has one attached. ` +
        `Or drop it with DROP INDEX ${qualified}; (not concurrently, which partitioned indexes refuse; it ` +
        `also drops the partitions' attached indexes and locks every partition while it runs).`,
    };
  }
  const drop = `DROP INDEX CONCURRENTLY ${qualified};`;
  if (twin) {
    return {
      text:
        `A valid index with the same definition, ${twin.name}, already exists: this is a leftover copy ` +
        `(such as the _ccnew or _ccold index of an interrupted REINDEX CONCURRENTLY). Drop it; nothing needs ` +
        `to be rebuilt. DROP INDEX CONCURRENTLY cannot run inside a transaction block.`,
      sql: drop,
    };
  }
  const duplicates = index.isUnique ? ' If the build failed on duplicate keys, remove the duplicates first, or the new build fails the same way.' : '';
  return {
    text:
      `Drop it without blocking writes, then build it again concurrently` +
      `${parsed ? '' : ' from its definition (pg_get_indexdef; it could not be read while the index was locked)'}.${duplicates}` +
      ` Alternatively (PostgreSQL 12+), REINDEX INDEX CONCURRENTLY ${qualified}; rebuilds it in place in ` +
      `one step. None of these can run inside a transaction block.`,
    sql: parsed ? `${drop}\n${parsed.createConcurrently}` : drop,
  };
}
