import { setTimeout as sleep } from 'node:timers/promises';
import { deepFreeze } from '../snapshot/freeze.js';
import { buildWindow } from '../snapshot/window.js';
import type { Sample, Window } from '../snapshot/window-types.js';
import type { CollectWindow } from './api.js';
import { collectSnapshot, queryTextLength, textCacheFor } from './collect.js';
import { type CollectionContext, toIso, toNumber, versionAtLeast } from './context.js';
import { collectServerInfo } from './server-info.js';
import { withCollectionDeadline } from './deadline.js';
import { describeServerInfoError, isConnectionLost, unavailableUpFront } from './source-status.js';
import { collectActivity } from './sources/activity.js';
import { collectDatabases } from './sources/databases.js';
import { collectSequences } from './sources/sequences.js';
import { collectStatements } from './sources/statements.js';
import { collectTables } from './sources/tables.js';
import { sampleClockSql } from './sources/vacuum.js';
import { isAdvisorQuery } from './sql-marker.js';

/**
 * Light samples about every `intervalMs` for `durationMs` (statements counters with texts from the cache
 * only, activity, table counters, databases, next xid, pgss dealloc), then one full snapshot. Samples are
 * sequential and never pile up: a slow sample delays the next one. A light source that fails yields an
 * empty list in that sample (the final snapshot records why).
 */
export const collectWindow: CollectWindow = async (target, options) => {
  const deadline = target.deadlines?.collectionMs;
  if (deadline === undefined) return collectUnbounded(target, options);
  return withCollectionDeadline(options.durationMs + deadline, 'sampling', () => collectUnbounded(target, options));
};

const collectUnbounded: CollectWindow = async (target, options) => {
  const intervalMs = Math.max(100, options.intervalMs ?? 1000);
  const total = Math.max(1, Math.floor(options.durationMs / intervalMs)) + 1;
  const ctx = await collectServerInfo(target).catch((error: unknown) => {
    throw describeServerInfoError(error);
  });
  const samples: Sample[] = [];
  const started = performance.now();
  let firstAt: number | null = null;
  for (let i = 0; i < total; i++) {
    const due = started + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const sample = await collectSample(ctx, queryTextLength(options), firstAt);
    firstAt ??= Date.parse(sample.collectedAt);
    samples.push(sample);
    options.onSample?.(i + 1, total);
  }
  const snapshot = await collectSnapshot(target, options);
  const cache = textCacheFor(target);
  const built = buildWindow(samples);
  // Texts were fetched by the final snapshot; drop the advisor's own statements and fill the others.
  const statements = built.statements.map((d) => ({ ...d, query: d.query ?? cache.get(d.queryId) ?? null })).filter((d) => !isAdvisorQuery(d.query));
  const window: Window = { ...built, statements };
  return { snapshot, window: deepFreeze(window) };
};

async function collectSample(ctx: CollectionContext, maxQueryTextLength: number, firstAt: number | null): Promise<Sample> {
  const pgssInfo = versionAtLeast(ctx.capabilities.pgssVersion, '1.9') && ctx.capabilities.pgssLoaded ? ctx.pgssSchema : null;
  const [clock] = await ctx.target.query<{ collected_at: Date; next_xid: number | null; dealloc: number | null }>(sampleClockSql(pgssInfo));
  const collectedAt = toIso(clock?.collected_at) ?? new Date().toISOString();
  const safe = async <T>(body: () => Promise<T[]>): Promise<T[]> => {
    try {
      return await body();
    } catch (error) {
      // One light source failing costs that sample's list; a lost session ends the window.
      if (isConnectionLost(error)) throw describeServerInfoError(error);
      return [];
    }
  };
  const statements = unavailableUpFront('statements', ctx)
    ? []
    : await safe(async () => (await collectStatements(ctx, { cache: textCacheFor(ctx.target), fetchTexts: false, maxQueryTextLength })).statements);
  return {
    collectedAt,
    elapsedSeconds: firstAt === null ? 0 : Math.max(0, (Date.parse(collectedAt) - firstAt) / 1000),
    statements,
    activity: await safe(() => collectActivity(ctx)),
    tables: await safe(() => collectTables(ctx, { withSizes: false })),
    databases: await safe(() => collectDatabases(ctx)),
    sequences: await safe(async () => (await collectSequences(ctx)).sequences.map((q) => ({ schema: q.schema, name: q.name, lastValue: q.lastValue }))),
    nextXid: toNumber(clock?.next_xid),
    pgssDealloc: toNumber(clock?.dealloc),
  };
}
