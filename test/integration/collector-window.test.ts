import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectWindow, connectTarget, type Target } from '../../src/collector/index.js';
import type { Window } from '../../src/snapshot/window-types.js';
import type { Snapshot } from '../../src/snapshot/types.js';
import { createTestDatabase, runWorkload, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
let target: Target;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.admin.query(`create table items (id int primary key, n int not null);
    insert into items select g, g % 10 from generate_series(1, 1000) g; analyze items`);
  target = await connectTarget({ url: await db.createMonitorRole() });
});

afterAll(async () => {
  await target?.close();
  await db?.drop();
});

describe('collectWindow', () => {
  let result: { snapshot: Snapshot; window: Window };
  let resetAt = 0;

  beforeAll(async () => {
    const workload = runWorkload(
      db.adminUrl,
      async (client, i) => {
        await client.query('select n from items where id = $1', [1 + (i % 1000)]);
        if (i % 10 === 0) await client.query('update items set n = n + 1 where id = $1', [1 + (i % 1000)]);
      },
      { clients: 2, durationMs: 3600 },
    );
    let progress = 0;
    const windowPromise = collectWindow(target, {
      durationMs: 3000,
      intervalMs: 500,
      onSample: (index) => {
        progress = index;
      },
    });
    // The test resets pg_stat_statements between samples (the advisor itself never does) — only this
    // database's entries: test files run in parallel on one server.
    while (progress < 3) await new Promise((r) => setTimeout(r, 20));
    await db.admin.query('select pg_stat_statements_reset(0, (select oid from pg_database where datname = current_database()), 0)');
    resetAt = progress;
    result = await windowPromise;
    await workload;
  });

  it('samples about every interval and ends with a full snapshot', () => {
    const { window, snapshot } = result;
    expect(window.samples).toHaveLength(7);
    expect(window.durationSeconds).toBeGreaterThan(2.5);
    expect(window.durationSeconds).toBeLessThan(4.5);
    expect(snapshot.meta.sources.statements).toEqual({ status: 'ok' });
    expect(Object.isFrozen(window.statements)).toBe(true);
  });

  it('gives total deltas and per-interval series that are never negative, restarted at the reset', () => {
    const select = result.window.statements.find((s) => s.query?.includes('from items where id = $1'));
    expect(select, JSON.stringify(result.window.statements.map((s) => s.query))).toBeDefined();
    expect(select!.callsSeries).toHaveLength(6);
    expect(select!.callsSeries.every((c) => c >= 0)).toBe(true);
    expect(select!.rowsSeries.every((c) => c >= 0)).toBe(true);
    expect(select!.callsSeries.reduce((a, b) => a + b, 0)).toBe(select!.calls);
    expect(select!.calls).toBeGreaterThan(50);
    expect(select!.restarts).toBeGreaterThanOrEqual(1);
    expect(resetAt).toBeGreaterThanOrEqual(3);
    expect(select!.totalExecTimeMs).toBeGreaterThanOrEqual(0);
    for (const s of result.window.statements) {
      expect(s.calls, s.queryId).toBeGreaterThanOrEqual(0);
      expect(s.query ?? '').not.toContain('/* pg-advisor */');
    }
  });

  it('diffs table counters and measures the xid rate', () => {
    const items = result.window.tables.find((t) => t.name === 'items')!;
    expect(items.idxScan).toBeGreaterThan(50);
    expect(items.updates).toBeGreaterThan(5);
    expect(items.writes).toBeGreaterThanOrEqual(items.updates);
    expect(result.window.xidPerSecond).toBeGreaterThan(1);
    const samples = result.window.samples;
    expect(samples[1]!.elapsedSeconds).toBeGreaterThan(0.3);
    expect(samples.every((s) => s.nextXid !== null && s.pgssDealloc !== null)).toBe(true);
    expect(samples.every((s) => s.activity.some((b) => b.isSelf))).toBe(true);
    // Light samples read counters only; sizes come with the final snapshot.
    expect(samples.every((s) => s.tables.every((t) => (t as { heapBytes?: number | null }).heapBytes == null))).toBe(true);
    expect(result.snapshot.tables.find((t) => t.name === 'items')?.heapBytes).toBeGreaterThan(0);
  });
});
