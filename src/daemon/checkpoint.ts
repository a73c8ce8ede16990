/**
 * The sample checkpoint: a target's latest light sample, kept in the store next to the sample it belongs
 * to, so that a restarted daemon (or the replica that takes a target over) diffs its first sample against
 * it instead of starting with gauges only. Encoded as gzip'd JSON with column-wise statement and table
 * rows (about 20 bytes per statement compressed); query texts are left out (the store keeps them).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Backend, DatabaseStat } from '../snapshot/types.js';
import type { Sample, SampleSequence, SampleStatement, SampleTable } from '../snapshot/window-types.js';

export const CHECKPOINT_FORMAT = 1;

/** Which server and database a checkpoint was taken from; a different one is never diffed against. */
export interface CheckpointIdentity {
  readonly database: string;
  readonly serverVersionNum: number;
}

export interface DecodedCheckpoint {
  readonly identity: CheckpointIdentity;
  readonly sample: Sample;
}

const STATEMENT_KEYS = [
  'userId',
  'userName',
  'dbId',
  'queryId',
  'toplevel',
  'calls',
  'rows',
  'totalExecTimeMs',
  'sharedBlksHit',
  'sharedBlksRead',
  'statsSince',
] as const satisfies readonly (keyof SampleStatement)[];
const TABLE_KEYS = [
  'oid',
  'schema',
  'name',
  'nDeadTup',
  'seqScan',
  'seqTupRead',
  'idxScan',
  'nTupIns',
  'nTupUpd',
  'nTupDel',
  'nTupHotUpd',
  'vacuumCount',
  'autovacuumCount',
] as const satisfies readonly (keyof SampleTable)[];

interface Encoded {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly identity: CheckpointIdentity;
  readonly collectedAt: string;
  readonly nextXid: number | null;
  readonly pgssDealloc: number | null;
  readonly statementKeys: readonly string[];
  readonly statements: readonly (readonly unknown[])[];
  readonly tableKeys: readonly string[];
  readonly tables: readonly (readonly unknown[])[];
  readonly activity: readonly Backend[];
  readonly databases: readonly DatabaseStat[];
  /** [schema, name, lastValue] per readable sequence; absent in checkpoints from before the sequences source. */
  readonly sequences?: readonly (readonly [string, string, string | null])[];
}

export class CheckpointError extends Error {}

export function encodeCheckpoint(sample: Sample, identity: CheckpointIdentity): Buffer {
  const encoded: Encoded = {
    format: CHECKPOINT_FORMAT,
    identity,
    collectedAt: sample.collectedAt,
    nextXid: sample.nextXid,
    pgssDealloc: sample.pgssDealloc,
    statementKeys: STATEMENT_KEYS,
    statements: sample.statements.map((s) => STATEMENT_KEYS.map((k) => s[k])),
    tableKeys: TABLE_KEYS,
    tables: sample.tables.map((t) => TABLE_KEYS.map((k) => t[k])),
    activity: sample.activity,
    databases: sample.databases,
    ...(sample.sequences ? { sequences: sample.sequences.map((q) => [q.schema, q.name, q.lastValue] as const) } : {}),
  };
  return gzipSync(JSON.stringify(encoded));
}

/** Throws CheckpointError when the bytes are not a checkpoint this version can read. */
export function decodeCheckpoint(bytes: Uint8Array): DecodedCheckpoint {
  let raw: unknown;
  try {
    raw = JSON.parse(gunzipSync(bytes).toString('utf8'));
  } catch (error) {
    throw new CheckpointError(`unreadable checkpoint: ${(error as Error).message}`, { cause: error });
  }
  const e = raw as Partial<Encoded> | null;
  if (!e || typeof e !== 'object' || e.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(`checkpoint format ${String(e?.format)} is not ${CHECKPOINT_FORMAT}`);
  }
  if (
    typeof e.collectedAt !== 'string' ||
    Number.isNaN(Date.parse(e.collectedAt)) ||
    typeof e.identity?.database !== 'string' ||
    typeof e.identity.serverVersionNum !== 'number' ||
    !sameKeys(e.statementKeys, STATEMENT_KEYS) ||
    !sameKeys(e.tableKeys, TABLE_KEYS) ||
    !Array.isArray(e.statements) ||
    !Array.isArray(e.tables) ||
    !Array.isArray(e.activity) ||
    !Array.isArray(e.databases)
  ) {
    throw new CheckpointError('checkpoint is missing fields');
  }
  return {
    identity: { database: e.identity.database, serverVersionNum: e.identity.serverVersionNum },
    sample: {
      collectedAt: e.collectedAt,
      elapsedSeconds: 0,
      statements: e.statements.map((row) => ({ ...fromRow(row, STATEMENT_KEYS), query: null }) as SampleStatement),
      tables: e.tables.map((row) => fromRow(row, TABLE_KEYS) as SampleTable),
      activity: e.activity,
      databases: e.databases,
      nextXid: typeof e.nextXid === 'number' ? e.nextXid : null,
      pgssDealloc: typeof e.pgssDealloc === 'number' ? e.pgssDealloc : null,
      ...(Array.isArray(e.sequences) ? { sequences: e.sequences.map(fromSequenceRow) } : {}),
    },
  };
}

function fromSequenceRow(row: unknown): SampleSequence {
  if (!Array.isArray(row) || row.length !== 3 || typeof row[0] !== 'string' || typeof row[1] !== 'string') {
    throw new CheckpointError('checkpoint sequence row is malformed');
  }
  return { schema: row[0], name: row[1], lastValue: typeof row[2] === 'string' ? row[2] : null };
}

function sameKeys(actual: unknown, expected: readonly string[]): boolean {
  return Array.isArray(actual) && actual.length === expected.length && actual.every((k, i) => k === expected[i]);
}

function fromRow(row: unknown, keys: readonly string[]): Record<string, unknown> {
  if (!Array.isArray(row) || row.length !== keys.length) throw new CheckpointError('checkpoint row has the wrong width');
  return Object.fromEntries(keys.map((k, i) => [k, row[i]]));
}
