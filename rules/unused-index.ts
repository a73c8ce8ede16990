import { defineRule } from '../src/engine/define-rule.js';
import type { BlindSpot, FindingDraft, Thresholds } from '../src/engine/types.js';
import type { ConstraintStat, DatabaseStat, IndexStat, Snapshot, TableStat } from '../src/snapshot/types.js';
import { quoteQualified } from '../src/sql/quote.js';
import { formatBytes, formatCount, formatDuration } from './_lib/format.js';

const MiB = 1024 * 1024;
const DAY = 86_400;

const THRESHOLDS = {
  minObservedSeconds: {
    default: 14 * DAY,
    description:
      "Statistics must have counted at least this long (seconds since the database's statistics reset, or since the server start) before any index is judged.",
  },
  minIndexBytes: { default: MiB, description: 'Indexes smaller than this (bytes) are never reported.' },
  minTableScansCount: {
    default: 1000,
    description: 'Indexes of tables read fewer times than this (seq_scan + idx_scan) over the observed time are never reported.',
  },
  warningIndexBytes: { default: 100 * MiB, description: 'An unused index at least this large (bytes) is a warning when its table is write-heavy.' },
  warningTableWriteRows: {
    default: 1_000_000,
    description: 'Rows written to the table (inserted + updated + deleted) over the observed time from which it counts as write-heavy.',
  },
} as const;
type T = Thresholds<typeof THRESHOLDS>;

/** The current database's statistics age, when the snapshot has it. */
function observation(snapshot: Snapshot): { seconds: number; from: DatabaseStat['statsObservedFrom'] } | null {
  const db = snapshot.databases.find((d) => d.name === snapshot.meta.database);
  const seconds = db?.statsObservedSeconds;
  return typeof seconds === 'number' && Number.isFinite(seconds) ? { seconds: Math.max(0, seconds), from: db?.statsObservedFrom } : null;
}

/** Key columns `columns` lead the index (in any order), as the foreign key's lookups need. */
function leadsWith(index: IndexStat, columns: readonly string[]): boolean {
  if (columns.length === 0) return false;
  const leading = index.columns.slice(0, columns.length);
  return leading.length === columns.length && leading.every((c) => c !== null && columns.includes(c));
}

/** The index enforces something or serves a foreign key: never reported, whatever its scans. */
function isProtected(index: IndexStat, constraints: readonly ConstraintStat[]): boolean {
  if (index.isPrimary || index.isUnique || index.isExclusion === true) return true;
  return constraints.some(
    (c) =>
      (c.tableOid === index.tableOid && c.name === index.name) ||
      (c.type === 'f' && c.tableOid === index.tableOid && leadsWith(index, c.columns)) ||
      (c.type === 'f' && c.refTableOid === index.tableOid && leadsWith(index, c.refColumns)),
  );
}

interface Candidate {
  readonly index: IndexStat;
  readonly table: TableStat;
  readonly sizeBytes: number;
}

/** Indexes that look unused over `observedSeconds`, big enough and on tables read often enough to tell. */
function candidatesOf(snapshot: Snapshot, t: T, observedSeconds: number): Candidate[] {
  const tables = new Map(snapshot.tables.map((table) => [table.oid, table]));
  const out: Candidate[] = [];
  for (const index of snapshot.indexes) {
    const table = tables.get(index.tableOid);
    const sizeBytes = index.sizeBytes;
    if (!table || table.kind === 'p' || sizeBytes === null || sizeBytes < t.minIndexBytes) continue;
    if (!index.isValid || index.buildInProgress || index.dropInProgress || index.idxScan > 0) continue;
    // PostgreSQL 16+: a scan inside the observed time means it is used, whatever idx_scan says.
    const lastScan = index.lastIdxScanAgeSeconds;
    if (typeof lastScan === 'number' && lastScan < observedSeconds) continue;
    if (table.seqScan + table.idxScan < t.minTableScansCount) continue;
    if (isProtected(index, snapshot.constraints)) continue;
    out.push({ index, table, sizeBytes });
  }
  return out;
}

/** `collectedAt` minus `seconds`, as ISO; null when collectedAt does not parse. */
function isoBefore(collectedAt: string, seconds: number): string | null {
  const at = Date.parse(collectedAt);
  return Number.isFinite(at) ? new Date(at - seconds * 1000).toISOString() : null;
}

export default defineRule({
  id: 'unused-index',
  title: 'Unused index',
  category: 'indexes',
  defaultSeverity: 'info',
  requires: ['databases', 'tables', 'indexes', 'constraints'],
  thresholds: THRESHOLDS,
  docs: {
    summary: 'Finds indexes that no query has scanned since statistics started counting, on tables that are read, once that time is long enough to trust.',
    why:
      'Every index is written on every INSERT and on every UPDATE that is not HOT, takes disk, cache and WAL, ' +
      'and is scanned by every VACUUM of its table; each indexed column also rules out HOT updates of that ' +
      'column. An index no query uses pays all of that for nothing, and on a write-heavy table it is often ' +
      'the cheapest write throughput to win back.',
    fix:
      'First check every standby: idx_scan is counted per server, so an index only read-only replicas use ' +
      'looks unused on the primary (run the same query, or pg-advisor, on each replica). Then drop it with ' +
      'DROP INDEX CONCURRENTLY, which blocks neither reads nor writes and cannot run inside a transaction ' +
      'block; keep its definition (in the finding) to recreate it with CREATE INDEX CONCURRENTLY if a rare ' +
      'job turns out to need it.',
    falsePositives:
      "Scans are counted from the database's last statistics reset (pg_stat_database.stats_reset; resetting " +
      "a single table's counters moves it too) or, when never reset, from the server start — a lower bound, " +
      'as statistics survive a clean restart and are discarded after a crash; but a database created after ' +
      'the server started and never reset counts from the server start too, so a new database can look observed ' +
      'for longer than it has existed. Nothing is judged before ' +
      '{minObservedSeconds} have been counted: until then the rule reports itself degraded, with the date from ' +
      'which it can judge, when an index would otherwise be reported. Monthly or quarterly jobs can still fall ' +
      'outside a longer window. An index is reported only when idx_scan is 0 and, on PostgreSQL 16 and later, ' +
      'its last_idx_scan is empty or older than the counted time. Never reported: primary key, unique and ' +
      'exclusion indexes (they enforce something even when never scanned; this includes indexes that a ' +
      'foreign key references, which are unique), indexes named after a constraint of their table, indexes ' +
      "whose leading columns are a foreign key's referencing columns (in any order; dropping one makes " +
      'every delete of a parent row scan the child, see fk-without-index) or referenced columns, invalid ' +
      'indexes and indexes being built or dropped (left to invalid-index), indexes under {minIndexBytes}, ' +
      'indexes of partitioned tables (their partitions are judged one by one), and indexes of tables read ' +
      'fewer than {minTableScansCount} times (seq_scan + idx_scan) over the counted time, where no scan proves ' +
      'little. PostgreSQL records no creation time for an index, and the snapshot has no per-index ' +
      'statistics age: an index created recently, inside the counted time, can be reported before its first ' +
      'use, so check the migration history. Scans on standbys are invisible from the primary (each server ' +
      'keeps its own idx_scan). A finding is info, and a warning when the index is at least ' +
      '{warningIndexBytes} and its table had at least {warningTableWriteRows} rows written over the counted ' +
      'time. Not visible in the snapshot, so check before dropping: the index used as the CLUSTER index, ' +
      'planner hints (pg_hint_plan) naming it, and, for a partition, an index attached to a partitioned ' +
      'index (DROP INDEX refuses it: drop the partitioned index instead, if every partition leaves it unused).',
  },
  evaluate({ snapshot, thresholds: t }) {
    const observed = observation(snapshot);
    if (observed === null || observed.seconds < t.minObservedSeconds) return [];
    const since = isoBefore(snapshot.meta.collectedAt, observed.seconds);
    const partitions = new Set((snapshot.relations?.partitions ?? []).filter((p) => p.rootOid !== p.oid).map((p) => p.oid));
    return candidatesOf(snapshot, t, observed.seconds).map(({ index, table, sizeBytes }): FindingDraft => {
      const name = `${index.schema}.${index.name}`;
      const tableName = `${table.schema}.${table.name}`;
      const tableWrites = table.nTupIns + table.nTupUpd + table.nTupDel;
      const indexWrites = table.nTupIns + Math.max(0, table.nTupUpd - table.nTupHotUpd);
      const heavy = sizeBytes >= t.warningIndexBytes && tableWrites >= t.warningTableWriteRows;
      const counted = `${formatDuration(observed.seconds)}${since ? ` (since ${since.slice(0, 10)})` : ''}`;
      return {
        severity: heavy ? 'warning' : 'info',
        summary:
          `Index ${name} (${formatBytes(sizeBytes)}) on ${tableName} has not been scanned in ${counted}, while ` +
          `${tableName} was read ${formatCount(table.seqScan + table.idxScan)} times and had ` +
          `${formatCount(tableWrites)} rows written, each insert and non-HOT update also writing this index.`,
        object: { type: 'index', schema: index.schema, name: index.name, table: index.table },
        evidence: {
          sizeBytes,
          indexScans: index.idxScan,
          lastIdxScanAgeSeconds: index.lastIdxScanAgeSeconds ?? null,
          observedSeconds: Math.round(observed.seconds),
          observedSince: since,
          observedFrom: observed.from ?? null,
          tableScans: table.seqScan + table.idxScan,
          tableWrites,
          indexWrites,
          definition: index.definition,
          replicas: 'Scans on standbys are not visible here: each server keeps its own idx_scan.',
        },
        recommendation: {
          text:
            `Check that no standby scans ${name} (idx_scan is per server), then drop it; DROP INDEX CONCURRENTLY ` +
            'blocks neither reads nor writes and cannot run inside a transaction block. Keep the definition to ' +
            `recreate it if a rare job needs it: ${index.definition || '(not collected: the index was locked)'}` +
            (partitions.has(table.oid)
              ? ` ${tableName} is a partition: if ${name} is attached to a partitioned index, DROP INDEX refuses it; ` +
                'drop the partitioned index instead, only if every partition leaves it unused.'
              : ''),
          sql: `DROP INDEX CONCURRENTLY ${quoteQualified(index.schema, index.name)};`,
        },
        impact: { sizeBytes },
      };
    });
  },
  blindSpots({ snapshot, thresholds: t }) {
    const observed = observation(snapshot);
    if (observed !== null && observed.seconds >= t.minObservedSeconds) return [];
    // Silent when nothing would be reported anyway: judged over an infinite window, no index qualifies.
    const waiting = candidatesOf(snapshot, t, Number.POSITIVE_INFINITY).length;
    if (waiting === 0) return [];
    const indexes = `${waiting} index${waiting === 1 ? '' : 'es'} with no scan`;
    const hint = 'Nothing to grant: keep statistics counting (no pg_stat_reset) and run again later; threshold ' + 'minObservedSeconds sets the time required.';
    if (observed === null) {
      return [{ message: `${indexes} not judged: the snapshot does not say since when statistics of ${snapshot.meta.database} count`, hint }];
    }
    const from = observed.from === 'server_start' ? 'the server start (statistics never reset)' : 'the last statistics reset';
    const ready = isoBefore(snapshot.meta.collectedAt, observed.seconds - t.minObservedSeconds);
    return [
      {
        message:
          `${indexes} not judged yet: statistics of ${snapshot.meta.database} have counted ${formatDuration(observed.seconds)} since ${from}, ` +
          `fewer than ${formatDuration(t.minObservedSeconds)}; unused indexes can be judged from ${ready ?? 'later'} ` +
          `(in ${formatDuration(t.minObservedSeconds - observed.seconds)}).`,
        hint,
      },
    ];
  },
});
