import { deepFreeze } from '../snapshot/freeze.js';
import { quoteIdent } from '../sql/quote.js';
import {
  type BloatState,
  type LocksState,
  type RelationsState,
  type ReplicationState,
  type Settings,
  type Snapshot,
  SNAPSHOT_FORMAT_VERSION,
  type SourceName,
  type SequencesState,
  type SourceStatus,
  type VacuumState,
} from '../snapshot/types.js';
import type { CollectOptions, CollectSnapshot } from './api.js';
import type { CollectionContext } from './context.js';
import { withCollectionDeadline } from './deadline.js';
import { collectServerInfo } from './server-info.js';
import { describeServerInfoError, failedSourceStatus, isConnectionLost, unavailableUpFront } from './source-status.js';
import { collectActivity } from './sources/activity.js';
import { collectBloat } from './sources/bloat.js';
import { collectColumns } from './sources/columns.js';
import { collectConstraints } from './sources/constraints.js';
import { collectDatabases } from './sources/databases.js';
import { lockedNote } from './sources/common.js';
import { collectIndexes } from './sources/indexes.js';
import { collectLocks } from './sources/locks.js';
import { collectRoles } from './sources/roles.js';
import { collectRelations } from './sources/relations.js';
import { collectReplication } from './sources/replication.js';
import { collectSequences, sequencesNote } from './sources/sequences.js';
import { collectSettings } from './sources/settings.js';
import { collectStatements } from './sources/statements.js';
import { collectTables } from './sources/tables.js';
import { collectVacuum } from './sources/vacuum.js';
import { measureCacheFor } from './measure-cache.js';
import { perTarget } from './per-target.js';
import { TextCache } from './text-cache.js';

export const DEFAULT_MAX_QUERY_TEXT_LENGTH = 20_000;
export const DEFAULT_BLOAT_BUDGET_BYTES = 10 * 1024 ** 3;
/** Shortest text cap: the marker (right after the first keyword) must stay inside the text to be recognised. */
const MIN_QUERY_TEXT_LENGTH = 100;

export function queryTextLength(options: CollectOptions): number {
  return Math.max(MIN_QUERY_TEXT_LENGTH, Math.floor(options.maxQueryTextLength ?? DEFAULT_MAX_QUERY_TEXT_LENGTH));
}

/** The text cache of a target, so repeated collections (daemon, window) fetch each text once. */
export const textCacheFor = perTarget(() => new TextCache());

type Outcome<T> = { data: T; note?: string };

/**
 * One snapshot: server info (required, errors propagate), then every source in turn; a source that cannot
 * run is recorded `unavailable` (missing extension or privilege) or `failed` (timeout, error) with a hint, and
 * the rest is still collected. Bloat runs last (it reuses tables, indexes and columns). The result is
 * deep-frozen. On a Target from connectTarget the whole collection has a deadline (Target.deadlines).
 */
export const collectSnapshot: CollectSnapshot = async (target, options: CollectOptions = {}) => {
  const deadline = target.deadlines?.collectionMs;
  if (deadline === undefined) return collectUnbounded(target, options);
  return withCollectionDeadline(deadline, 'collecting statistics', () => collectUnbounded(target, options));
};

const collectUnbounded: CollectSnapshot = async (target, options: CollectOptions = {}) => {
  const started = performance.now();
  const ctx = await collectServerInfo(target).catch((error: unknown) => {
    throw describeServerInfoError(error);
  });
  const sources: Partial<Record<SourceName, SourceStatus>> = {};

  async function run<T>(name: SourceName, fallback: T, body: () => Promise<Outcome<T>>): Promise<T> {
    const upFront = unavailableUpFront(name, ctx);
    if (upFront) {
      sources[name] = upFront;
      return fallback;
    }
    try {
      const { data, note } = await body();
      sources[name] = note === undefined ? { status: 'ok' } : { status: 'ok', note };
      return data;
    } catch (error) {
      // A lost connection is not a per-source problem: end the collection so the caller backs off.
      if (isConnectionLost(error)) throw describeServerInfoError(error);
      sources[name] = failedSourceStatus(name, error, ctx);
      return fallback;
    }
  }
  const plain =
    <T>(p: (c: CollectionContext) => Promise<T>) =>
    async (): Promise<Outcome<T>> => ({ data: await p(ctx) });
  // Without pg_read_all_stats the views still answer, but hide other roles' rows or details.
  const hidden = (what: string): string | undefined =>
    ctx.capabilities.readAllStats ? undefined : `${what} of other roles are hidden from ${ctx.currentUser}: GRANT pg_monitor TO ${ctx.currentUser}`;
  const withNote =
    <T>(p: (c: CollectionContext) => Promise<T>, note: string | undefined) =>
    async (): Promise<Outcome<T>> =>
      note === undefined ? { data: await p(ctx) } : { data: await p(ctx), note };

  const settings = await run<Settings | null>('settings', null, plain(collectSettings));
  const statements = await run('statements', [], async () => {
    const r = await collectStatements(ctx, {
      cache: textCacheFor(target),
      fetchTexts: true,
      maxQueryTextLength: queryTextLength(options),
    });
    const note = [r.note, hidden('statements')].filter((n) => n !== undefined).join('; ');
    return note === '' ? { data: r.statements } : { data: r.statements, note };
  });
  const activity = await run('activity', [], withNote(collectActivity, hidden('query, state and xmin details of sessions')));
  const databases = await run('databases', [], plain(collectDatabases));
  const roles = await run('roles', [], plain(collectRoles));
  // Relations under DDL (an AccessExclusiveLock held or queued) are listed but not sized: counted in a note.
  const tables = await run('tables', [], async () => {
    const data = await collectTables(ctx);
    const note = lockedNote(
      'table(s)',
      data.filter((t) => t.locked).map((t) => `${t.schema}.${t.name}`),
    );
    return note === undefined ? { data } : { data, note };
  });
  const indexes = await run('indexes', [], async () => {
    const data = await collectIndexes(ctx);
    // A locked index (or one of a locked table) has definition '' and size null (see indexesSql).
    const note = lockedNote(
      'index(es)',
      data.filter((i) => i.definition === '').map((i) => `${i.schema}.${i.name}`),
    );
    return note === undefined ? { data } : { data, note };
  });
  const constraints = await run('constraints', [], plain(collectConstraints));
  const columns = await run('columns', [], async () => {
    const data = await collectColumns(ctx);
    const userTables = tables.filter((t) => t.kind !== 'p').length;
    if (data.length === 0 && userTables > 0 && !ctx.capabilities.superuser) {
      return {
        data,
        note:
          `pg_stats shows only columns ${ctx.currentUser} may SELECT; none are visible (GRANT SELECT ON ALL ` +
          `TABLES IN SCHEMA <schema> TO ${ctx.currentUser})`,
      };
    }
    return { data };
  });
  const relations = await run<RelationsState | null>('relations', null, plain(collectRelations));
  const sequences = await run<SequencesState | null>('sequences', null, async () => {
    const data = await collectSequences(ctx);
    const note = sequencesNote(data, ctx.currentUser, quoteIdent);
    return note === undefined ? { data } : { data, note };
  });
  const locks = await run<LocksState | null>('locks', null, withNote(collectLocks, hidden('state and transaction age of blocking sessions')));
  const replication = await run<ReplicationState | null>('replication', null, plain(collectReplication));
  const vacuum = await run<VacuumState | null>('vacuum', null, withNote(collectVacuum, hidden('vacuum progress and standby xmins')));
  const bloat = await run<BloatState | null>('bloat', null, async () => {
    const r = await collectBloat(ctx, {
      tables,
      indexes,
      columns,
      settings,
      budgetBytes: options.bloatMeasureBudgetBytes ?? DEFAULT_BLOAT_BUDGET_BYTES,
      cache: measureCacheFor(target),
      measureTtlMs: options.bloatMeasureTtlMs,
    });
    return r.note === undefined ? { data: r.bloat } : { data: r.bloat, note: r.note };
  });
  const tablesStatus = sources.tables;
  if (tablesStatus && tablesStatus.status !== 'ok' && sources.bloat?.status === 'ok') {
    sources.bloat = { status: tablesStatus.status, reason: `the tables source is ${tablesStatus.status}`, hint: tablesStatus.hint };
  }

  const snapshot: Snapshot = {
    meta: {
      formatVersion: SNAPSHOT_FORMAT_VERSION,
      collectedAt: ctx.collectedAt,
      serverVersionNum: ctx.serverVersionNum,
      serverVersion: ctx.serverVersion,
      database: ctx.database,
      currentUser: ctx.currentUser,
      searchPath: ctx.searchPath,
      capabilities: ctx.capabilities,
      pgssStatsReset: ctx.pgssStatsReset,
      pgssDealloc: ctx.pgssDealloc,
      sources,
      collectDurationMs: Math.round(performance.now() - started),
    },
    settings,
    statements,
    activity,
    databases,
    roles,
    tables,
    indexes,
    constraints,
    columns,
    vacuum,
    bloat,
    relations,
    sequences,
    locks,
    replication,
  };
  return deepFreeze(snapshot);
};
